"""An owner's costs over a date range, day by day and by service, read from the monthly
roll-ups: one Query whatever the number of records."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from tally.access import require
from tally.authz import Target
from tally.calendar import days, month_of
from tally.models import Metric
from tally.rates import ConvertedSet, Converter
from tally.reports.currency import Money, daily_by_currency, other_currencies, pick_currency
from tally.reports.periods import resolve_range
from tally.view import View


@dataclass(frozen=True)
class CostReport:
    user_id: str
    start: date
    end: date  # inclusive
    currency: str
    metric: Metric
    total: Decimal
    by_service: list[tuple[str, Decimal]]
    daily: list[tuple[date, Decimal]]
    estimated: bool
    other_currencies: list[Money]
    # With ``quote``: every billed currency converted day by day, beside the originals.
    converted: ConvertedSet | None = None


def cost_report(
    view: View, user_id: str, *, start: date | None, end: date | None, quote: str | None = None
) -> CostReport:
    """``user_id``'s costs (or the organisation's, or the unallocated ones: admins only) from
    ``start`` to ``end`` inclusive (``resolve_range``'s defaults and bounds), every day of the
    range listed, zero when nothing was spent. With ``quote``, also every billed currency
    converted into it day by day (``tally.rates``), from the same roll-ups' daily figures."""
    require(view.caller, "costs:read", Target.owner(user_id))
    start, end = resolve_range(start, end, view.today)
    metric = view.metric
    rollups = view.stores.rollups.months(user_id, month_of(start), month_of(end))  # one Query
    currency = pick_currency(rollups, None, view.currency)
    range_days = list(days(start, end + timedelta(days=1)))
    wanted = {d.isoformat() for d in range_days}
    daily: dict[str, Decimal] = {d: Decimal(0) for d in wanted}
    services: dict[str, Decimal] = defaultdict(Decimal)
    estimated = False
    for r in rollups:
        section = r.section(currency)
        if section is None:
            continue
        estimated |= r.estimated
        for d, per_service in section.daily_by_service.items():
            if d in wanted:
                for svc, a in per_service.items():
                    services[svc] += a.amount(metric)
                    daily[d] += a.amount(metric)
    return CostReport(
        user_id=user_id,
        start=start,
        end=end,
        currency=currency,
        metric=metric,
        total=sum(daily.values(), Decimal(0)),
        by_service=sorted(services.items(), key=lambda kv: (-kv[1], kv[0])),
        daily=[(d, daily[d.isoformat()]) for d in range_days],
        estimated=estimated,
        other_currencies=other_currencies(rollups, currency, metric, wanted),
        converted=Converter(view.stores.rates, quote, start, end).convert_all(
            daily_by_currency(rollups, metric, wanted)
        )
        if quote is not None
        else None,
    )
