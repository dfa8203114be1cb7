"""Cost sources: where the whole organisation's daily cost lines come from.

A source reads every cost line of the organisation for the UTC days ``[start, end)`` (end
exclusive, like Cost Explorer's ``TimePeriod``) and yields source-neutral ``CostLine`` objects,
one per (day, service, resource, charge category, currency, owner tag, unit). Allocation to
users happens later, in memory, so a source never makes a request per user.

``fetch`` returns a ``CostFetch``: an iterator of lines that, once exhausted, also says which
days it covered and which of those are still estimated. The ingest replaces exactly the
``covered_days`` with the lines of those days: a day the source could not read (Cost
Explorer's ``DataUnavailableException``, a day outside every billing period of a FOCUS file)
is left as stored instead of being wiped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from tally.models import CostLine

__all__ = [
    "CostFetch",
    "CostSource",
    "CostSourceError",
    "FetchLog",
    "FetchNotFinished",
    "PaginationLoopError",
    "SourceFormatError",
    "iter_days",
]


class CostSourceError(Exception):
    """A source could not deliver a complete, trustworthy read; the ingest must not commit."""


class PaginationLoopError(CostSourceError):
    """The API handed back a page token it had already given: following it would loop."""


class SourceFormatError(CostSourceError):
    """The input is not in the format the source reads (missing column, bad number, ...)."""


class FetchNotFinished(CostSourceError):
    """Coverage was asked for before the fetch was exhausted: it would be partial."""


def iter_days(start: date, end: date) -> Iterator[date]:
    """Every UTC day in ``[start, end)``."""
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)


@dataclass
class FetchLog:
    """What a source records while it reads; ``CostFetch`` turns it into its read-only report."""

    start: date
    end: date
    returned_days: set[date] = field(default_factory=set)
    estimated_days: set[date] = field(default_factory=set)
    unavailable_days: set[date] = field(default_factory=set)
    requests: int = 0

    def returned(self, day: date, *, estimated: bool) -> None:
        if self.start <= day < self.end:
            self.returned_days.add(day)
            if estimated:
                self.estimated_days.add(day)

    def unavailable(self, start: date, end: date) -> None:
        self.unavailable_days.update(iter_days(max(start, self.start), min(end, self.end)))


class CostFetch(Iterator[CostLine]):
    """The lines of one read, plus (after exhaustion) which days it covered.

    Lines are produced lazily, so a large export is streamed rather than loaded. A failure
    raises out of iteration; callers treat a fetch that raised as not having happened.
    """

    def __init__(
        self,
        source_name: str,
        start: date,
        end: date,
        produce: Callable[[FetchLog], Iterable[CostLine]],
    ) -> None:
        if end <= start:
            raise ValueError(f"empty or reversed range: {start} .. {end}")
        self.source_name = source_name
        self.start = start
        self.end = end
        self._log = FetchLog(start, end)
        self._produce = produce
        self._lines: Iterator[CostLine] | None = None
        self._finished = False

    def __iter__(self) -> CostFetch:
        return self

    def __next__(self) -> CostLine:
        if self._lines is None:
            self._lines = iter(self._produce(self._log))
        while True:
            try:
                line = next(self._lines)
            except StopIteration:
                self._finished = True
                raise
            # A day found unavailable part-way through must not get fresh lines after the
            # fact; lines already handed out for it are excluded through covered_days.
            if line.day not in self._log.unavailable_days:
                return line

    @property
    def finished(self) -> bool:
        return self._finished

    def _require_finished(self) -> FetchLog:
        if not self._finished:
            raise FetchNotFinished("exhaust the fetch before reading its coverage")
        return self._log

    @property
    def covered_days(self) -> frozenset[date]:
        """Days read completely: the ingest replaces these, and only these."""
        log = self._require_finished()
        return frozenset(log.returned_days - log.unavailable_days)

    @property
    def estimated_days(self) -> frozenset[date]:
        """Covered days whose figures the provider may still restate."""
        log = self._require_finished()
        return frozenset(log.estimated_days & self.covered_days)

    @property
    def unavailable_days(self) -> frozenset[date]:
        """Days in the range the source had no data for yet (left as stored)."""
        return frozenset(self._require_finished().unavailable_days)

    @property
    def requests(self) -> int:
        """Billable API requests made (one per page); 0 for file sources."""
        return self._log.requests


class CostSource(Protocol):
    """Where cost lines come from: Cost Explorer or a FOCUS export."""

    source_name: str  # "cost-explorer" | "focus"

    def fetch(self, start: date, end: date) -> CostFetch:
        """Every line of the organisation for the UTC days ``[start, end)``."""
        ...
