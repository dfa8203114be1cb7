"""Monthly roll-ups: recomputed whole from the stored records, so a retry rewrites the same."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from tally.models import (
    Amounts,
    CostRecord,
    MonthlyRollup,
    ResourceCost,
    RollupSection,
)

TOP_RESOURCES = 20


# A running sum of billed and effective amounts: [billed, effective], added to in place.
# ``Amounts`` is frozen, so adding two makes a third; a month's roll-up adds each record seven
# times, and the objects made were most of an ingest worker's time (``make bench``).
_Sum = list[Decimal]


def _sum() -> _Sum:
    return [_ZERO, _ZERO]


def _add(into: _Sum, billed: Decimal, effective: Decimal) -> None:
    into[0] += billed
    into[1] += effective


def _amounts(s: _Sum) -> Amounts:
    return Amounts(s[0], s[1])


def _by(sums: dict[str, _Sum]) -> dict[str, Amounts]:
    return {k: Amounts(s[0], s[1]) for k, s in sums.items()}


_ZERO = Decimal("0")


class _SectionBuilder:
    """Accumulates amounts by service, category, day (also per service and per category) and
    resource for one currency."""

    def __init__(self) -> None:
        self.totals = _sum()
        self.by_service: dict[str, _Sum] = defaultdict(_sum)
        self.by_category: dict[str, _Sum] = defaultdict(_sum)
        self.daily: dict[str, _Sum] = defaultdict(_sum)
        self.daily_by_service: dict[str, dict[str, _Sum]] = defaultdict(lambda: defaultdict(_sum))
        self.daily_by_category: dict[str, dict[str, _Sum]] = defaultdict(lambda: defaultdict(_sum))
        self.resources: dict[tuple[str, str], _Sum] = defaultdict(_sum)
        self.names: dict[str, str] = {}  # resource id -> the name its records carry

    def add_record(self, r: CostRecord) -> None:
        if r.resource_id and r.resource_name:
            self.names[r.resource_id] = r.resource_name
        self.add(
            r.day.isoformat(),
            r.service,
            r.charge_category,
            r.resource_id,
            r.billed_cost,
            r.effective_cost,
        )

    def add(
        self,
        day: str,
        service: str,
        category: str,
        resource_id: str | None,
        billed: Decimal,
        effective: Decimal,
    ) -> None:
        _add(self.totals, billed, effective)
        _add(self.by_service[service], billed, effective)
        _add(self.by_category[category], billed, effective)
        _add(self.daily[day], billed, effective)
        _add(self.daily_by_service[day][service], billed, effective)
        _add(self.daily_by_category[day][category], billed, effective)
        if resource_id:
            _add(self.resources[(resource_id, service)], billed, effective)

    def add_amounts(self, into: _Sum, a: Amounts) -> None:
        _add(into, a.billed, a.effective)

    def build(self) -> RollupSection:
        return RollupSection(
            totals=_amounts(self.totals),
            by_service=_by(self.by_service),
            by_category=_by(self.by_category),
            daily=_by(self.daily),
            daily_by_service={d: _by(v) for d, v in self.daily_by_service.items()},
            top_resources=top_resources(
                ((k, _amounts(s)) for k, s in self.resources.items()), self.names
            ),
            daily_by_category={d: _by(v) for d, v in self.daily_by_category.items()},
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
        b.add_amounts(b.totals, s.totals)
        for k, a in s.by_service.items():
            b.add_amounts(b.by_service[k], a)
        for k, a in s.by_category.items():
            b.add_amounts(b.by_category[k], a)
        for d, a in s.daily.items():
            b.add_amounts(b.daily[d], a)
        for d, per in s.daily_by_service.items():
            for k, a in per.items():
                b.add_amounts(b.daily_by_service[d][k], a)
        for d, per in s.daily_by_category.items():
            for k, a in per.items():
                b.add_amounts(b.daily_by_category[d][k], a)

    def build(self, top_resources: list[ResourceCost]) -> RollupSection:
        return replace(self._b.build(), top_resources=top_resources)


def top_resources(
    amounts: Iterable[tuple[tuple[str, str], Amounts]], names: Mapping[str, str] | None = None
) -> list[ResourceCost]:
    """The roll-up's top resources of (resource id, service) -> amounts: most billed first,
    ties by id, as ``compute_rollup`` orders them; each with its name from ``names``."""
    top = sorted(amounts, key=lambda kv: (-kv[1].billed, kv[0]))
    known = names or {}
    return [ResourceCost(rid, svc, a, known.get(rid)) for (rid, svc), a in top[:TOP_RESOURCES]]
