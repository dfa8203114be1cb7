"""Pricing a resource from its own recent cost lines.

A resource's monthly cost is the daily average of its cost lines over the days that carry
one in the last 30 complete days (ending yesterday), times 30.4 (365 / 12). Averaging over
the days with lines, rather than over 30, keeps a resource created 10 days ago at its real
rate; days on which it cost nothing at all are rare for the resources the rules judge.
Each owner's records hold their share already, so an owner's price is their share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from tally.models import CostRecord, Metric
from tally.resources import line_match_key

if TYPE_CHECKING:
    from tally.store.costs import CostStore

PRICE_WINDOW_DAYS = 30
DAYS_PER_MONTH = Decimal("30.4")


@dataclass(frozen=True)
class MonthlyCost:
    amount: Decimal
    currency: str
    days: int  # days with cost lines
    daily: Decimal


def monthly_cost(records: Iterable[CostRecord], metric: Metric) -> MonthlyCost | None:
    """The monthly cost of one resource's records; None without any. Lines in several
    currencies (rare) are priced in the one with the most days."""
    by_currency: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in records:
        by_currency[r.currency][r.day] += r.amount(metric)
    if not by_currency:
        return None
    currency, days = max(by_currency.items(), key=lambda kv: (len(kv[1]), kv[0]))
    daily = sum(days.values(), Decimal(0)) / len(days)
    return MonthlyCost(daily * DAYS_PER_MONTH, currency, len(days), daily)


class CostLines:
    """Each owner's records of the last 30 days, read once per owner, grouped by resource."""

    def __init__(self, costs: CostStore, *, today: date) -> None:
        self._costs = costs
        self._start = today - timedelta(days=PRICE_WINDOW_DAYS)
        self._end = today
        self._owners: dict[str, dict[str, list[CostRecord]]] = {}

    def of(self, owner: str, match_key: str) -> list[CostRecord]:
        if owner not in self._owners:
            grouped: dict[str, list[CostRecord]] = defaultdict(list)
            for r in self._costs.for_owner(owner, self._start, self._end):
                if r.resource_id:
                    grouped[line_match_key(r.service, r.resource_id)].append(r)
            self._owners[owner] = grouped
        return self._owners[owner].get(match_key, [])
