"""Which days a report covers, and how far a month's figures can be trusted yet: the date
range rules and the delay with which AWS delivers costs."""

from __future__ import annotations

from datetime import date, timedelta

from tally.calendar import first_day, last_day
from tally.errors import Invalid
from tally.models import MonthlyRollup

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30

# The days a report may name. No AWS bill predates 2006; the far bound leaves the calendar's
# end (9999-12-31) unreachable by any arithmetic done on a range, a month or its neighbours.
FIRST_REPORT_DAY = date(2000, 1, 1)
LAST_REPORT_DAY = date(2999, 12, 31)

# AWS delivers a day's costs about 24-48 hours after the day ends (Cost Explorer and the
# data exports alike), so a day's figures are expected two days later: the 1st's on the 3rd,
# when the daily import (00:00 UTC) reads them. Until then a new month has no figures, and
# "under budget at 0%" would be a guess, not a result.
COST_DELAY_DAYS = 2


def resolve_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """Inclusive [start, end]; defaults to the last 30 complete days, ending yesterday (today
    never has data yet). With only ``start``, 30 days from it, cut at yesterday (but never
    before ``start``); with only ``end``, the 30 days up to it. Days outside
    FIRST_REPORT_DAY..LAST_REPORT_DAY are refused (422), so no date arithmetic overflows."""
    for name, day in (("startDate", start), ("endDate", end)):
        if day is not None and not FIRST_REPORT_DAY <= day <= LAST_REPORT_DAY:
            raise Invalid.field(
                name, f"a day from {FIRST_REPORT_DAY} to {LAST_REPORT_DAY}, as YYYY-MM-DD"
            )
    if end is None:
        yesterday = today - timedelta(days=1)
        end = (
            yesterday
            if start is None
            else max(start, min(yesterday, start + timedelta(days=DEFAULT_RANGE_DAYS - 1)))
        )
    if start is None:
        start = end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise Invalid.field("endDate", "endDate is before startDate")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise Invalid.field("endDate", f"a range covers at most {MAX_RANGE_DAYS} days")
    return start, end


def has_costs(rollup: MonthlyRollup | None) -> bool:
    """Whether a month has cost figures: the ingest may store a roll-up that holds only the
    forecast (no sections) for a month whose costs have not arrived yet."""
    return rollup is not None and bool(rollup.sections)


def first_costs_expected(month: str, today: date) -> date | None:
    """When a month without figures should get its first (its 1st's costs, two days later).
    None once that day is past: nothing is late then, there simply were no costs."""
    expected = first_day(month) + timedelta(days=COST_DELAY_DAYS)
    return expected if today <= expected else None


def month_is_final(month: str, rollup: MonthlyRollup | None, today: date) -> bool:
    """A month's figures are final once its last day's costs have had time to arrive and no
    day of it is still estimated (the ingest re-reads those until AWS settles them)."""
    delivered = today >= last_day(month) + timedelta(days=COST_DELAY_DAYS)
    return delivered and not (rollup and (rollup.estimated or rollup.estimated_days))
