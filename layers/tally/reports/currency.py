"""The currency a view is shown in, and the totals billed in the others.

Currencies are never added together: a view picks one, and what was billed in any other is
shown beside it (``other_currencies``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tally.models import Budget, BudgetTerms, Metric, MonthlyRollup


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


def pick_currency(
    rollups: list[MonthlyRollup], budget: Budget | BudgetTerms | None, default: str
) -> str:
    """The currency a view is shown in: the budget's, else the default, else the one billed."""
    if budget is not None:
        return budget.currency
    seen = {c for r in rollups for c in r.sections}
    if default in seen or not seen:
        return default
    return sorted(seen)[0]


def other_currencies(
    rollups: list[MonthlyRollup], shown: str, metric: Metric, days: set[str] | None = None
) -> list[Money]:
    """Totals billed in other currencies than ``shown`` (on ``days``, ISO, if given): shown
    beside, never added in."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for r in rollups:
        for cur, s in r.sections.items():
            if cur == shown:
                continue
            for d, a in s.daily.items():
                if days is None or d in days:
                    sums[cur] += a.amount(metric)
    return [Money(v, c) for c, v in sorted(sums.items())]


def daily_by_currency(
    rollups: list[MonthlyRollup], metric: Metric, days: set[str] | None = None
) -> dict[str, dict[date, Decimal]]:
    """Every billed currency's daily totals (on ``days``, ISO, if given), from the roll-ups'
    daily figures: what a per-day conversion reads, with no read of the records."""
    out: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for r in rollups:
        for cur, s in r.sections.items():
            for d, a in s.daily.items():
                if days is None or d in days:
                    day = date.fromisoformat(d)
                    out[cur][day] = out[cur].get(day, Decimal(0)) + a.amount(metric)
    return dict(out)
