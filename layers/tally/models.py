"""Domain entities: plain frozen dataclasses, independent of the API and of DynamoDB."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from tally.identity import Role


@dataclass(frozen=True)
class UserProfile:
    user_id: str
    username: str
    email: str | None
    role: Role


@dataclass(frozen=True)
class Assignment:
    assignment_id: str
    user_id: str
    resource_type: str
    resource_id: str
    share_pct: Decimal
    cost_center: str | None
    assigned_by: str
    assigned_at: datetime


@dataclass(frozen=True)
class Budget:
    budget_id: str
    user_id: str
    monthly_limit: Decimal
    alert_threshold: int
    currency: str
    created_at: datetime
    updated_at: datetime
    version: int


class BudgetStatus(StrEnum):
    UNDER = "under"
    WARNING = "warning"
    OVER = "over"


@dataclass(frozen=True)
class CostLine:
    """One cost line as read from a source, before allocation (the whole organisation's)."""

    day: date
    service: str
    resource_id: str | None
    billed_cost: Decimal  # unblended; FOCUS BilledCost
    effective_cost: Decimal  # amortized; FOCUS EffectiveCost
    currency: str
    usage_quantity: Decimal = Decimal("0")
    usage_unit: str | None = None
    charge_category: str = "Usage"  # Usage | Purchase | Tax | Credit | Adjustment | Refund
    estimated: bool = False
    tags: dict[str, str] = field(default_factory=dict)


UNALLOCATED = "UNALLOCATED"


@dataclass(frozen=True)
class CostRecord:
    """A cost line allocated to one owner (a user id or ``UNALLOCATED``) for one UTC day."""

    owner: str
    day: date
    line_id: str
    service: str
    resource_id: str | None
    usage_quantity: Decimal
    usage_unit: str | None
    billed_cost: Decimal
    effective_cost: Decimal
    currency: str
    charge_category: str
    estimated: bool
    source: str
    fetched_at: datetime
    allocation: str  # assignment | tag | unallocated
    share_pct: Decimal = Decimal("100")

    @property
    def billing_period(self) -> str:
        return self.day.strftime("%Y-%m")


@dataclass(frozen=True)
class Amounts:
    billed: Decimal
    effective: Decimal

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(self.billed + other.billed, self.effective + other.effective)

    def metric(self, name: str) -> Decimal:
        return self.effective if name == "effective" else self.billed


ZERO_AMOUNTS = Amounts(Decimal("0"), Decimal("0"))


@dataclass(frozen=True)
class ResourceCost:
    resource_id: str
    service: str
    amounts: Amounts


@dataclass(frozen=True)
class RollupSection:
    """One currency's figures within a monthly roll-up (currencies are never summed together)."""

    totals: Amounts
    by_service: dict[str, Amounts]
    by_category: dict[str, Amounts]  # Usage, Tax, Credit, ...: kept apart, never netted away
    daily: dict[str, Amounts]  # ISO day -> amounts
    daily_by_service: dict[str, dict[str, Amounts]]
    top_resources: list[ResourceCost]


ORG = "ORG"


@dataclass(frozen=True)
class MonthlyRollup:
    """Everything a summary needs for one owner and month, in one item."""

    owner: str  # user id, ``ORG`` or ``UNALLOCATED``
    month: str  # YYYY-MM
    sections: dict[str, RollupSection]  # currency -> figures
    estimated: bool
    record_count: int
    updated_at: datetime
    forecast: dict[str, object] | None = None  # currency -> forecast, by the forecasting step
    # Changes to a closed month's total after it closed: [{at, currency, old, new}].
    restatements: list[dict[str, object]] = field(default_factory=list)
    # ISO days with any estimated figure: the ingest keeps re-reading them until final.
    estimated_days: list[str] = field(default_factory=list)

    def section(self, currency: str) -> RollupSection | None:
        return self.sections.get(currency)


@dataclass(frozen=True)
class AuditEntry:
    subject_user_id: str
    at: datetime
    actor: str
    action: str  # assignment.created | assignment.deleted | budget.created | budget.updated
    entity_id: str
    details: dict[str, str]


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_key: dict[str, object] | None
