"""The cost lines of an owner (the details table): the one read model that reads the cost
records themselves, not the roll-ups, because sorting by cost needs every line of the range.
The range is therefore bounded (``MAX_LINES_RANGE_DAYS``) and read with Queries on the
owner's partition, never a Scan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tally.access import require
from tally.authz import Target
from tally.errors import Invalid
from tally.models import CostRecord, Metric
from tally.reports.periods import resolve_range
from tally.view import View

MAX_LINES_RANGE_DAYS = 92
LINE_SORTS = ("-cost", "cost", "-date", "date")


@dataclass(frozen=True)
class CostLinesPage:
    user_id: str
    start: date
    end: date  # inclusive
    metric: Metric
    lines: list[CostRecord]
    total_count: int
    services: list[str]  # every service in the range, for the filter
    next_offset: int | None


def cost_lines(
    view: View,
    user_id: str,
    *,
    start: date | None,
    end: date | None,
    service: str | None = None,
    search: str | None = None,
    sort: str = "-cost",
    limit: int = 50,
    offset: int = 0,
) -> CostLinesPage:
    """A user's daily cost lines in a range (at most 92 days), filtered, sorted, paged.

    Sorting by cost needs every line of the range, so the range is bounded; it is read with
    Queries on the user's partition (never a Scan) and ordered here."""
    require(view.caller, "costs:read", Target.owner(user_id))
    start, end = resolve_range(start, end, view.today)
    if (end - start).days + 1 > MAX_LINES_RANGE_DAYS:
        raise Invalid.field("endDate", f"cost lines cover at most {MAX_LINES_RANGE_DAYS} days")
    if sort not in LINE_SORTS:
        raise Invalid.field("sort", f"sort is one of {', '.join(LINE_SORTS)}")
    metric = view.metric
    records = view.stores.costs.for_owner(user_id, start, end + timedelta(days=1))
    services = sorted({r.service for r in records})
    if service:
        records = [r for r in records if r.service == service]
    if search:
        needle = search.strip().lower()
        records = [
            r
            for r in records
            # A name is searched as well as the id: people look for "web-1", not "i-0abc".
            if needle in (r.resource_id or "").lower()
            or needle in (r.resource_name or "").lower()
            or needle in r.service.lower()
        ]

    key = {
        "-cost": lambda r: (-r.amount(metric), r.day, r.line_id),
        "cost": lambda r: (r.amount(metric), r.day, r.line_id),
        "-date": lambda r: (-r.day.toordinal(), -r.amount(metric), r.line_id),
        "date": lambda r: (r.day, -r.amount(metric), r.line_id),
    }[sort]
    records.sort(key=key)  # type: ignore[arg-type]
    page = records[offset : offset + limit]
    more = offset + limit < len(records)
    return CostLinesPage(
        user_id, start, end, metric, page, len(records), services, offset + limit if more else None
    )
