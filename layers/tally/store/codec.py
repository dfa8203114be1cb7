"""Roll-up sections to and from plain JSON-able dicts (Decimals kept exact)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tally.models import Amounts, ResourceCost, RollupSection


def _amounts(a: Amounts) -> list[Decimal]:
    return [a.billed, a.effective]


def _from_amounts(v: list[Any]) -> Amounts:
    return Amounts(Decimal(v[0]), Decimal(v[1]))


def section_to_doc(s: RollupSection) -> dict[str, Any]:
    return {
        "totals": _amounts(s.totals),
        "by_service": {k: _amounts(v) for k, v in s.by_service.items()},
        "by_category": {k: _amounts(v) for k, v in s.by_category.items()},
        "daily": {k: _amounts(v) for k, v in s.daily.items()},
        "daily_by_service": {
            d: {k: _amounts(v) for k, v in per.items()} for d, per in s.daily_by_service.items()
        },
        "top_resources": [
            {"resource_id": r.resource_id, "service": r.service, "amounts": _amounts(r.amounts)}
            for r in s.top_resources
        ],
        "daily_by_category": {
            d: {k: _amounts(v) for k, v in per.items()} for d, per in s.daily_by_category.items()
        },
    }


def section_from_doc(d: dict[str, Any]) -> RollupSection:
    return RollupSection(
        totals=_from_amounts(d["totals"]),
        by_service={k: _from_amounts(v) for k, v in d["by_service"].items()},
        by_category={k: _from_amounts(v) for k, v in d["by_category"].items()},
        daily={k: _from_amounts(v) for k, v in d["daily"].items()},
        daily_by_service={
            day: {k: _from_amounts(v) for k, v in per.items()}
            for day, per in d["daily_by_service"].items()
        },
        top_resources=[
            ResourceCost(r["resource_id"], r["service"], _from_amounts(r["amounts"]))
            for r in d["top_resources"]
        ],
        # Absent from items written before the per-day split existed.
        daily_by_category={
            day: {k: _from_amounts(v) for k, v in per.items()}
            for day, per in d.get("daily_by_category", {}).items()
        },
    )
