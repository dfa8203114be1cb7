"""Billing periods and days: the one place period ("month") arithmetic lives.

A period is named ``YYYY-MM`` (a budget period, a roll-up's key, ``?month=`` in the API) and
covers the half-open range of days ``[first, following)``, so a period's days never overlap
the next one's. Which days a name covers is the organisation's **period definition**
(``PeriodDefinition``, the ``period`` section of the billing settings, issue 17):

- ``calendar`` (the default): ``2026-11`` is November.
- ``monthly`` from day N (1-28): ``2026-11`` is 2026-11-N to 2026-12-(N-1); the period is
  named by the month it starts in.
- ``4-4-5``, ``4-5-4`` and ``5-4-4``: a fiscal year of 52 weeks (53 when the calendar needs
  it) in four quarters of three periods of 4, 4 and 5 weeks (or 4-5-4, 5-4-4). The fiscal year
  named Y begins on the ``weekStart`` weekday nearest to ``fiscalYearStart`` (MM-DD) of
  calendar year Y (never more than three days away), so it ends the day before the next one
  begins and no day is in two years; a 53-week year gives its extra week to its last period.
  Its periods are named by the months they stand for: with ``fiscalYearStart`` 04-01, period 1
  of fiscal year 2026 is ``2026-04`` and period 10 is ``2027-01``.

Every name ``YYYY-MM`` is a period under every definition, consecutive names are consecutive
periods, and every day is in exactly one: so budgets, alert ledgers and invoice numbers keyed by
the name carry over a change of definition unchanged (the rule in docs/decision_log.md), and
switching back gives the original periods exactly.

The definition in force is ambient, like the clock: each function's entry point puts the
stored one in force for its invocation (``tally.periods.in_force``), read on first use; code
outside any (the demo's seeding, most tests) computes calendar months. ``using`` pins one
(tests, the recompute). The dashboard's ``src/calendar.js`` mirrors
these functions and is tested against the same edges.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

CALENDAR = "calendar"
MONTHLY = "monthly"
FISCAL_PATTERNS: dict[str, tuple[int, int, int]] = {
    "4-4-5": (4, 4, 5),
    "4-5-4": (4, 5, 4),
    "5-4-4": (5, 4, 4),
}
KINDS = (CALENDAR, MONTHLY, *FISCAL_PATTERNS)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_START_DAY = 28  # every month has a 28th: a period never starts on a day a month lacks

_LABEL = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_MONTH_DAY = re.compile(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")


@dataclass(frozen=True)
class PeriodDefinition:
    """How the organisation's days fall into named periods (see the module's docstring)."""

    kind: str = CALENDAR
    start_day: int = 1  # ``monthly``: the day of the month a period starts on
    fiscal_year_start: str = "01-01"  # fiscal kinds: MM-DD the fiscal year starts nearest to
    week_start: str = "monday"  # fiscal kinds: the weekday every fiscal week starts on

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if not 1 <= self.start_day <= MAX_START_DAY:
            raise ValueError(f"startDay must be from 1 to {MAX_START_DAY}")
        if not _MONTH_DAY.fullmatch(self.fiscal_year_start) or self.fiscal_year_start == "02-29":
            raise ValueError("fiscalYearStart must be MM-DD, a day every year has")
        month, day = (int(p) for p in self.fiscal_year_start.split("-"))
        date(2027, month, day)  # ValueError for 04-31 and the like
        if self.week_start not in WEEKDAYS:
            raise ValueError(f"weekStart must be one of {', '.join(WEEKDAYS)}")

    @property
    def is_calendar(self) -> bool:
        return self.kind == CALENDAR or (self.kind == MONTHLY and self.start_day == 1)

    def normalised(self) -> PeriodDefinition:
        """The same periods with the settings that do not apply to the kind at their
        defaults, so two definitions that give the same periods compare equal."""
        if self.is_calendar:
            return PeriodDefinition()
        if self.kind == MONTHLY:
            return PeriodDefinition(MONTHLY, start_day=self.start_day)
        return PeriodDefinition(
            self.kind, fiscal_year_start=self.fiscal_year_start, week_start=self.week_start
        )


CALENDAR_MONTHS = PeriodDefinition()

# The definition in force: a definition, or a reader that gives it on first use (the stored
# one, read at most once per activation). A ContextVar, so each thread (one Lambda container
# of the local stack each) has its own.
_active: ContextVar[PeriodDefinition | _Lazy] = ContextVar("tally_periods", default=CALENDAR_MONTHS)


class _Lazy:
    def __init__(self, read: Callable[[], PeriodDefinition]) -> None:
        self._read = read
        self._value: PeriodDefinition | None = None

    def get(self) -> PeriodDefinition:
        if self._value is None:
            self._value = self._read()
        return self._value


def definition() -> PeriodDefinition:
    """The period definition in force."""
    active = _active.get()
    return active.get() if isinstance(active, _Lazy) else active


@contextmanager
def in_force(source: PeriodDefinition | Callable[[], PeriodDefinition]) -> Iterator[None]:
    """``source`` in force for the block (an invocation), then what was before: a definition,
    or a reader called on the block's first period computation (so a request that never needs
    one reads none), at most once."""
    token = _active.set(source if isinstance(source, PeriodDefinition) else _Lazy(source))
    try:
        yield
    finally:
        _active.reset(token)


@contextmanager
def using(periods: PeriodDefinition) -> Iterator[PeriodDefinition]:
    """``periods`` in force for the block, then what was in force before."""
    token = _active.set(periods)
    try:
        yield periods
    finally:
        _active.reset(token)


# -- the definitions' arithmetic ------------------------------------------------------------


def _calendar_first(label: str) -> date:
    return date(int(label[:4]), int(label[5:7]), 1)


def _shift(label: str, months: int) -> str:
    index = int(label[:4]) * 12 + int(label[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@lru_cache(maxsize=512)
def fiscal_year_start(periods: PeriodDefinition, year: int) -> date:
    """The first day of fiscal year ``year``: the week-start weekday nearest its nominal
    start (MM-DD of ``year``)."""
    month, day = (int(p) for p in periods.fiscal_year_start.split("-"))
    nominal = date(year, month, day)
    offset = (nominal.weekday() - WEEKDAYS.index(periods.week_start)) % 7
    return nominal - timedelta(days=offset) if offset <= 3 else nominal + timedelta(7 - offset)


@lru_cache(maxsize=512)
def _fiscal_periods(periods: PeriodDefinition, year: int) -> tuple[tuple[str, date, date], ...]:
    """Fiscal year ``year``'s twelve periods: (name, first day, following day)."""
    start = fiscal_year_start(periods, year)
    year_end = fiscal_year_start(periods, year + 1)
    pattern = FISCAL_PATTERNS[periods.kind] * 4
    first_label = f"{year:04d}-{periods.fiscal_year_start[:2]}"
    out: list[tuple[str, date, date]] = []
    first = start
    for index, weeks in enumerate(pattern):
        following = year_end if index == 11 else first + timedelta(weeks=weeks)
        out.append((_shift(first_label, index), first, following))
        first = following
    return tuple(out)


def _fiscal_year_of(periods: PeriodDefinition, day: date) -> int:
    # A year named Y may begin in Y-1 (a start near 1 January) or cover most of Y+1 (a start
    # near 31 December): step to the one that holds the day.
    year = day.year
    while day < fiscal_year_start(periods, year):
        year -= 1
    while day >= fiscal_year_start(periods, year + 1):
        year += 1
    return year


def _fiscal_year_of_label(periods: PeriodDefinition, label: str) -> int:
    start_month = int(periods.fiscal_year_start[:2])
    year, month = int(label[:4]), int(label[5:7])
    return year if month >= start_month else year - 1


def _period_range(label: str) -> tuple[date, date]:
    periods = definition()
    if periods.is_calendar:
        first = _calendar_first(label)
        return first, _calendar_first(_shift(label, 1))
    if periods.kind == MONTHLY:
        first = _calendar_first(label).replace(day=periods.start_day)
        return first, _calendar_first(_shift(label, 1)).replace(day=periods.start_day)
    for name, first, following in _fiscal_periods(periods, _fiscal_year_of_label(periods, label)):
        if name == label:
            return first, following
    raise AssertionError(f"no fiscal period named {label}")  # pragma: no cover


# -- the API every other module uses --------------------------------------------------------


def check(label: str) -> str:
    """``label`` if it names a period (``YYYY-MM``); ``ValueError`` otherwise."""
    if not _LABEL.fullmatch(label):
        raise ValueError(f"{label!r} is not a period (YYYY-MM)")
    return label


def month_of(day: date) -> str:
    """The name of the period holding ``day``."""
    periods = definition()
    if periods.is_calendar:
        return day.strftime("%Y-%m")
    if periods.kind == MONTHLY:
        label = day.strftime("%Y-%m")
        return label if day.day >= periods.start_day else _shift(label, -1)
    for name, first, following in _fiscal_periods(periods, _fiscal_year_of(periods, day)):
        if first <= day < following:
            return name
    raise AssertionError(f"{day} is in no fiscal period")  # pragma: no cover


def first_day(month: str) -> date:
    """The first day of period ``month``; ``ValueError`` if it names no period."""
    return _period_range(check(month))[0]


def month_days(month: str) -> tuple[date, date]:
    """``[first day, first day of the next period)`` of period ``month``."""
    return _period_range(check(month))


def month_bounds(day: date) -> tuple[date, date]:
    """``[first day, first day of the next period)`` of the period holding ``day``."""
    return _period_range(month_of(day))


def following_first(day: date) -> date:
    """The first day of the period after ``day``'s."""
    return month_bounds(day)[1]


def last_day(month: str) -> date:
    """The last day of period ``month``."""
    return month_days(month)[1] - timedelta(days=1)


def days_in_month(month: str) -> int:
    first, following = month_days(month)
    return (following - first).days


def previous_month(month: str) -> str:
    return _shift(check(month), -1)


def next_month(month: str) -> str:
    return _shift(check(month), 1)


def previous_month_start(day: date) -> date:
    """The first day of the period before ``day``'s."""
    return first_day(previous_month(month_of(day)))


def days(start: date, end: date) -> Iterator[date]:
    """Each day of ``[start, end)``."""
    for offset in range((end - start).days):
        yield start + timedelta(days=offset)


def months_between(start: date, end: date) -> list[str]:
    """The periods that hold a day of ``[start, end)``, oldest first."""
    if end <= start:
        return []
    months: list[str] = []
    label = month_of(start)
    while first_day(label) < end:
        months.append(label)
        label = next_month(label)
    return months


# English whatever the machine's locale (``strftime("%B")`` follows LC_TIME).
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def period_name(month: str) -> str:
    """``November 2026`` for ``2026-11`` with calendar months; with any other definition the
    name says its days too, ``November 2026 (26 Oct to 22 Nov 2026)``, since a period named for
    a month need not start in it."""
    name = f"{MONTH_NAMES[int(check(month)[5:7]) - 1]} {month[:4]}"
    if is_calendar_month():
        return name
    first, following = month_days(month)
    last = following - timedelta(days=1)

    def short(day: date) -> str:
        return f"{day.day} {MONTH_NAMES[day.month - 1][:3]}"

    start = short(first) if first.year == last.year else f"{short(first)} {first.year}"
    return f"{name} ({start} \N{EN DASH} {short(last)} {last.year})"


def is_calendar_month() -> bool:
    """Whether the periods in force are calendar months (so a period is AWS's month)."""
    return definition().is_calendar
