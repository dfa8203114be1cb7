"""Monthly roll-ups: recomputed whole from the stored records, so a retry rewrites the same."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from tally.models import (
    ZERO_AMOUNTS,
    Amounts,
    CostRecord,
    MonthlyRollup,
    ResourceCost,
    RollupSection,
)

TOP_RESOURCES = 20


class _SectionBuilder:
    """Accumulates amounts by service, category, day (also per service and per category) and
    resource for one currency."""

    def __init__(self) -> None:
        self.totals = ZERO_AMOUNTS
        self.by_service: dict[str, Amounts] = defaultdict(lambda: ZERO_AMOUNTS)
        self.by_category: dict[str, Amounts] = defaultdict(lambda: ZERO_AMOUNTS)
        self.daily: dict[str, Amounts] = defaultdict(lambda: ZERO_AMOUNTS)
        self.daily_by_service: dict[str, dict[str, Amounts]] = defaultdict(
            lambda: defaultdict(lambda: ZERO_AMOUNTS)
        )
        self.daily_by_category: dict[str, dict[str, Amounts]] = defaultdict(
            lambda: defaultdict(lambda: ZERO_AMOUNTS)
        )
        self.resources: dict[tuple[str, str], Amounts] = defaultdict(lambda: ZERO_AMOUNTS)

    def add_record(self, r: CostRecord) -> None:
        a = Amounts(r.billed_cost, r.effective_cost)
        d = r.day.isoformat()
        self.totals += a
        self.by_service[r.service] += a
        self.by_category[r.charge_category] += a
        self.daily[d] += a
        self.daily_by_service[d][r.service] += a
        self.daily_by_category[d][r.charge_category] += a
        if r.resource_id:
            self.resources[(r.resource_id, r.service)] += a

    def build(self) -> RollupSection:
        return RollupSection(
            totals=self.totals,
            by_service=dict(self.by_service),
            by_category=dict(self.by_category),
            daily=dict(self.daily),
            daily_by_service={d: dict(v) for d, v in self.daily_by_service.items()},
            top_resources=top_resources(self.resources.items()),
            daily_by_category={d: dict(v) for d, v in self.daily_by_category.items()},
        )


def compute_rollup(
    owner: str, month: str, records: Iterable[CostRecord], *, now: datetime
) -> MonthlyRollup:
    per_currency: dict[str, _SectionBuilder] = defaultdict(_SectionBuilder)
    count = 0
    estimated_days: set[str] = set()
    for r in records:
        per_currency[r.currency].add_record(r)
        count += 1
        if r.estimated:
            estimated_days.add(r.day.isoformat())
    return MonthlyRollup(
        owner=owner,
        month=month,
        sections={c: b.build() for c, b in sorted(per_currency.items())},
        estimated=bool(estimated_days),
        record_count=count,
        updated_at=now,
        estimated_days=sorted(estimated_days),
    )


class SectionSum:
    """The sum of several owners' sections of one currency and month: every additive figure
    (totals, by service, by category, per day). The organisation's roll-up is this sum over
    every owner (allocated + unallocated == the organisation's, to the cent); its top resources
    are not a sum of top lists, so they are given to ``build``."""

    def __init__(self) -> None:
        self._b = _SectionBuilder()

    def add(self, s: RollupSection) -> None:
        b = self._b
        b.totals += s.totals
        for k, a in s.by_service.items():
            b.by_service[k] += a
        for k, a in s.by_category.items():
            b.by_category[k] += a
        for d, a in s.daily.items():
            b.daily[d] += a
        for d, per in s.daily_by_service.items():
            for k, a in per.items():
                b.daily_by_service[d][k] += a
        for d, per in s.daily_by_category.items():
            for k, a in per.items():
                b.daily_by_category[d][k] += a

    def build(self, top_resources: list[ResourceCost]) -> RollupSection:
        return replace(self._b.build(), top_resources=top_resources)


def top_resources(amounts: Iterable[tuple[tuple[str, str], Amounts]]) -> list[ResourceCost]:
    """The roll-up's top resources of (resource id, service) -> amounts: most billed first,
    ties by id, as ``compute_rollup`` orders them."""
    top = sorted(amounts, key=lambda kv: (-kv[1].billed, kv[0]))
    return [ResourceCost(rid, svc, a) for (rid, svc), a in top[:TOP_RESOURCES]]
