"""The CSV file of an export, streamed: rows go through a small text buffer that is flushed to
the sink as UTF-8 every ``FLUSH_BYTES``, so memory stays flat whatever the file's size.

- "costs": one row per cost record of the owner, in date order, read a month at a time;
- "all-users": one row per owner and service for the range, from the monthly roll-ups of every
  owner, read a page at a time from the roll-ups' by-month index (the months of the range are
  merged in owner order, so an owner's months meet without holding every owner), then the
  unallocated costs, then a ``TOTAL`` row per currency.

Text cells a spreadsheet would run as a formula (leading ``=``, ``+``, ``-``, ``@``, tab or
carriage return) get a leading single quote (OWASP's CSV injection advice); amounts are written
as plain exact decimals, so a credit stays ``-12.50`` and parses as the number it is.
"""

from __future__ import annotations

import csv
import heapq
import io
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from tally.calendar import days, first_day, last_day, months_between
from tally.exports.request import ALL_USERS, ExportRequest
from tally.models import (
    ORG,
    UNALLOCATED,
    ZERO_AMOUNTS,
    Amounts,
    CostRecord,
    Metric,
    MonthlyRollup,
    UserProfile,
)
from tally.names import display_name
from tally.reports.periods import month_is_final

if TYPE_CHECKING:
    from tally.store import Stores

TITLE = "# Tally cost export"
COST_COLUMNS = [
    "date",
    "service",
    "resource_id",
    "resource_name",
    "charge_category",
    "usage_quantity",
    "usage_unit",
    "billed_cost",
    "effective_cost",
    "currency",
    "share_pct",
    "allocation",
    "estimated",
]
ALL_USERS_COLUMNS = [
    "user_id",
    "username",
    "email",
    "service",
    "billed_cost",
    "effective_cost",
    "currency",
]
TOTAL = "TOTAL"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FLUSH_BYTES = 64 * 1024  # a write to the sink is about this size, never the whole file
ROLLUP_PAGE = 50  # roll-ups carry every day of a month: a page stays well under 1 MB
USER_BATCH = 100  # one BatchGetItem of profiles


class BinarySink(Protocol):
    def write(self, data: bytes, /) -> object: ...


def neutralise(cell: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def _amount(value: Decimal) -> str:
    # Fixed-point, never an exponent: "1E+1" is not what a spreadsheet user expects to read.
    return format(value, "f")


class _CsvStream:
    """csv rows into a small text buffer, flushed to ``out`` as UTF-8 when it fills."""

    def __init__(self, out: BinarySink, flush_bytes: int) -> None:
        self._out = out
        self._flush_bytes = flush_bytes
        self._buffer = io.StringIO()
        self._buffer.write("\ufeff")  # the BOM: spreadsheets then read the file as UTF-8
        self._writer = csv.writer(self._buffer)

    def row(self, cells: Iterable[str]) -> None:
        self._writer.writerow(cells)
        if self._buffer.tell() >= self._flush_bytes:
            self.flush()

    def text_row(self, *cells: str) -> None:
        self.row(neutralise(c) for c in cells)

    def flush(self) -> None:
        data = self._buffer.getvalue()
        if data:
            self._out.write(data.encode("utf-8"))
        self._buffer.seek(0)
        self._buffer.truncate()


def write_export(
    stores: Stores,
    request: ExportRequest,
    out: BinarySink,
    *,
    metric: Metric,
    today: date,
    now: datetime,
    flush_bytes: int = FLUSH_BYTES,
) -> int:
    """Write the export of a validated ``request`` (``validate_export``) to ``out``; the number
    of data rows written (not the metadata, header or ``TOTAL`` rows).

    The file states its range, filters, currencies, metric, when it was made and whether every
    month it touches is final; the format is in docs/user-guide.md."""
    months = months_between(request.start, request.end + timedelta(days=1))
    org = stores.rollups.get_many_months([ORG], months)
    final = all(month_is_final(m, org.get((ORG, m)), today) for m in months)
    wanted = {d.isoformat() for d in days(request.start, request.end + timedelta(days=1))}
    if request.kind == ALL_USERS:
        described: Iterable[MonthlyRollup] = org.values()
    else:
        described = stores.rollups.months(_owner(request), months[0], months[-1])
    currencies = sorted(
        {cur for r in described for cur, s in r.sections.items() if wanted & s.daily.keys()}
    )

    stream = _CsvStream(out, flush_bytes)
    stream.text_row(TITLE)
    stream.text_row("# range", request.start.isoformat(), request.end.isoformat())
    stream.text_row("# filters", _filters(request))
    stream.text_row("# currency", ";".join(currencies))
    stream.text_row("# metric", metric.value)
    stream.text_row("# generated at", now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    stream.text_row("# status", "final" if final else "provisional")
    stream.row([])
    if request.kind == ALL_USERS:
        rows = _all_users(stores, request, stream, months, wanted)
    else:
        rows = _costs(stores, request, stream, months)
    stream.flush()
    return rows


def _owner(request: ExportRequest) -> str:
    if request.user_id is None:
        raise ValueError("a costs export names its owner: validate_export sets it")
    return request.user_id


def _filters(request: ExportRequest) -> str:
    named = (
        ("userId", None if request.kind == ALL_USERS else request.user_id),
        ("service", request.service),
        ("resourceId", request.resource_id),
        ("search", request.search),
    )
    return ";".join(f"{name}={value}" for name, value in named if value is not None)


# --- costs ----------------------------------------------------------------------------------


def _costs(stores: Stores, request: ExportRequest, stream: _CsvStream, months: list[str]) -> int:
    owner = _owner(request)
    needle = request.search.strip().lower() if request.search else None
    stream.row(COST_COLUMNS)
    rows = 0
    for month in months:
        # One month of records at a time: a year of a busy owner never sits in memory whole.
        start = max(request.start, first_day(month))
        end = min(request.end, last_day(month))
        for r in stores.costs.for_owner(owner, start, end + timedelta(days=1)):
            if _selected(r, request, needle):
                stream.row(_cost_row(r))
                rows += 1
    return rows


def _selected(r: CostRecord, request: ExportRequest, needle: str | None) -> bool:
    if request.service and r.service != request.service:
        return False
    if request.resource_id and r.resource_id != request.resource_id:
        return False
    # As the cost lines table searches (tally.reports.lines).
    return (
        not needle
        or needle in (r.resource_id or "").lower()
        or needle in (r.resource_name or "").lower()
        or needle in r.service.lower()
    )


def _cost_row(r: CostRecord) -> list[str]:
    return [
        r.day.isoformat(),
        neutralise(r.service),
        neutralise(r.resource_id or ""),
        neutralise(display_name(r.resource_id, r.resource_name) if r.resource_id else ""),
        neutralise(r.charge_category),
        _amount(r.usage_quantity),
        neutralise(r.usage_unit or ""),
        _amount(r.billed_cost),
        _amount(r.effective_cost),
        neutralise(r.currency),
        _amount(r.share_pct),
        neutralise(r.allocation),
        "true" if r.estimated else "false",
    ]


# --- all users ------------------------------------------------------------------------------

Figures = dict[tuple[str, str], Amounts]  # (service, currency) -> amounts over the range


def _month_rollups(stores: Stores, month: str) -> Iterator[MonthlyRollup]:
    """Every owner's roll-up of ``month``, page after page, in owner order."""
    key = None
    while True:
        page = stores.rollups.of_month_page(month, limit=ROLLUP_PAGE, start_key=key)
        yield from page.items
        key = page.next_key
        if not key:
            return


def _owners(stores: Stores, months: list[str]) -> Iterator[tuple[str, list[MonthlyRollup]]]:
    """(owner, its roll-ups of ``months``), owner after owner: each month's index is in owner
    order, so merging them meets an owner's months together with one page per month held."""
    merged = heapq.merge(*(_month_rollups(stores, m) for m in months), key=lambda r: r.owner)
    for owner, rollups in itertools.groupby(merged, key=lambda r: r.owner):
        yield owner, list(rollups)


def _figures(rollups: list[MonthlyRollup], wanted: set[str], service: str | None) -> Figures:
    # Two plain sums rather than Amounts additions: this loop runs for every owner, day and
    # service of the range.
    billed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    effective: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for rollup in rollups:
        for currency, section in rollup.sections.items():
            for day, per_service in section.daily_by_service.items():
                if day not in wanted:
                    continue
                for svc, amounts in per_service.items():
                    if service is None or svc == service:
                        billed[(svc, currency)] += amounts.billed
                        effective[(svc, currency)] += amounts.effective
    return {key: Amounts(billed[key], effective[key]) for key in billed}


def _all_users(
    stores: Stores,
    request: ExportRequest,
    stream: _CsvStream,
    months: list[str],
    wanted: set[str],
) -> int:
    stream.row(ALL_USERS_COLUMNS)
    totals: dict[str, Amounts] = defaultdict(lambda: ZERO_AMOUNTS)
    rows = 0

    def write(owner: str, profile: UserProfile | None, figures: Figures) -> None:
        nonlocal rows
        for (svc, currency), amounts in sorted(figures.items()):
            stream.row(
                [
                    neutralise(owner),
                    neutralise(profile.username if profile else ""),
                    neutralise((profile.email or "") if profile else ""),
                    neutralise(svc),
                    _amount(amounts.billed),
                    _amount(amounts.effective),
                    neutralise(currency),
                ]
            )
            totals[currency] += amounts
            rows += 1

    unallocated: Figures = {}
    # ORG is the sum of the others (allocated + unallocated == the total): never a row.
    people = ((o, r) for o, r in _owners(stores, months) if o != ORG)
    while batch := list(itertools.islice(people, USER_BATCH)):
        profiles = stores.users.get_many([o for o, _ in batch if o != UNALLOCATED])
        for owner, rollups in batch:
            figures = _figures(rollups, wanted, request.service)
            if owner == UNALLOCATED:
                unallocated = figures  # last, after the people: one owner, held until then
            else:
                write(owner, profiles.get(owner), figures)
    write(UNALLOCATED, None, unallocated)
    for currency, amounts in sorted(totals.items()):
        stream.row(
            [
                TOTAL,
                "",
                "",
                "",
                _amount(amounts.billed),
                _amount(amounts.effective),
                neutralise(currency),
            ]
        )
    return rows
