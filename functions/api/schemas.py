"""API models: what crosses the wire (camelCase JSON, money as decimal strings + currency).

Kept apart from the domain's entities; conversion happens in the routes' ``*_out`` helpers.
Input models forbid unknown fields, so a client cannot set what it does not own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic.alias_generators import to_camel

UserId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@+-]+$")
]
ResourceType = Annotated[
    str,
    StringConstraints(
        min_length=2,
        max_length=40,
        to_lower=True,
        strip_whitespace=True,
        pattern=r"^[a-z0-9][a-z0-9-]+$",
    ),
]
ResourceId = Annotated[
    str, StringConstraints(min_length=1, max_length=2048, strip_whitespace=True, pattern=r"^\S+$")
]
CostCenter = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, strip_whitespace=True, pattern=r"^[\w .:/+-]+$"),
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# Money in: a decimal string ("120.50") or a JSON number; at most 2 decimals, never negative.
MoneyIn = Annotated[
    Decimal, Field(ge=0, le=Decimal("1000000000"), decimal_places=2, allow_inf_nan=False)
]
Percent = Annotated[Decimal, Field(gt=0, le=100, decimal_places=2, allow_inf_nan=False)]
Threshold = Annotated[int, Field(ge=0, le=100, strict=True)]
IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
IsoMonth = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class _MoneyRejectsBool(ApiModel):
    @field_validator("*", mode="before")
    @classmethod
    def _no_bool(cls, value: object) -> object:
        # JSON true would otherwise pass as 1 for a number field.
        if isinstance(value, bool):
            raise ValueError("a boolean is not a number")
        return value


# --- inputs ----------------------------------------------------------------------------


class AssignResourceIn(_MoneyRejectsBool):
    user_id: UserId
    resource_type: ResourceType
    resource_id: ResourceId
    cost_center: CostCenter | None = None
    share_pct: Percent = Decimal(100)


class BudgetIn(_MoneyRejectsBool):
    user_id: UserId
    monthly_limit: MoneyIn
    alert_threshold: Threshold = 80
    currency: Currency = "USD"


class BudgetUpdateIn(_MoneyRejectsBool):
    monthly_limit: MoneyIn | None = None
    alert_threshold: Threshold | None = None


# --- outputs ---------------------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Money(Out):
    amount: str = Field(description='decimal string, e.g. "850.00"', examples=["850.00"])
    currency: str


class AssignmentOut(Out):
    assignment_id: str
    user_id: str
    resource_type: str
    resource_id: str
    cost_center: str | None
    share_pct: str
    assigned_by: str
    assigned_at: str


class ResourceCostOut(Out):
    last_30_days: Money
    latest_daily: Money
    latest_day: str | None


class AssignedResourceOut(AssignmentOut):
    cost: ResourceCostOut | None = Field(description="null when no cost was recorded in 30 days")


class ResourceListOut(Out):
    items: list[AssignedResourceOut]
    next_token: str | None


class BudgetOut(Out):
    budget_id: str
    user_id: str
    monthly_limit: Money
    alert_threshold: int
    currency: str
    created_at: str
    updated_at: str
    version: int


class ServiceCost(Out):
    service: str
    cost: Money


class DailyCost(Out):
    date: str
    cost: Money


class CostsOut(Out):
    user_id: str
    start_date: str
    end_date: str = Field(description="inclusive")
    metric: Literal["billed", "effective"]
    total: Money
    by_service: list[ServiceCost]
    daily: list[DailyCost]
    estimated: bool
    other_currencies: list[Money]


class CostLineOut(Out):
    date: str
    service: str
    resource_id: str | None
    charge_category: str = Field(description="Usage, Tax, Credit, Refund, Purchase, Adjustment")
    cost: Money = Field(description="in the configured metric (billed or effective)")
    billed_cost: Money
    effective_cost: Money
    usage_quantity: str
    usage_unit: str | None
    estimated: bool
    allocation: Literal["assignment", "tag", "unallocated"]
    share_pct: str


class CostLinesOut(Out):
    user_id: str
    start_date: str
    end_date: str = Field(description="inclusive")
    metric: Literal["billed", "effective"]
    total_count: int = Field(description="lines matching the filters, on every page")
    services: list[str] = Field(description="every service in the range, for a filter")
    lines: list[CostLineOut]
    next_token: str | None


class DriverOut(Out):
    resource_id: str
    service: str
    cost: Money


class RestatementOut(Out):
    month: str
    at: str
    previous: Money
    current: Money


class ForecastPoint(Out):
    date: str
    expected: Money
    lower80: Money
    upper80: Money
    lower95: Money
    upper95: Money


class ForecastOut(Out):
    """ "At this rate you will spend X this month", with 80% and 95% prediction intervals."""

    method: str = Field(
        description="linear, weekday (where a backtest shows it better), mean or none"
    )
    as_of: str = Field(description="the last day of actual figures used")
    actual_to_date: Money
    month_end: Money
    month_end_lower80: Money
    month_end_upper80: Money
    month_end_lower95: Money
    month_end_upper95: Money
    daily: list[ForecastPoint] = Field(description="the next 30 days")


class SummaryBudget(Out):
    budget_id: str
    monthly_limit: Money
    alert_threshold: int
    version: int


class SummaryOut(Out):
    user_id: str
    month: str
    metric: Literal["billed", "effective"]
    total: Money
    budget: SummaryBudget | None
    remaining: Money | None
    remaining_pct: str | None
    percent_used: str | None
    status: Literal["under", "warning", "over"] | None
    currency_mismatch: bool
    top_drivers: list[DriverOut]
    estimated: bool
    last_updated: str | None
    forecast: ForecastOut | None
    restatements: list[RestatementOut]
    other_currencies: list[Money]


class UserRowOut(Out):
    user_id: str
    username: str
    email: str | None
    role: Literal["admin", "user"]
    total: Money
    budget: Money | None
    alert_threshold: int | None
    status: Literal["under", "warning", "over"] | None


class AllUsersOut(Out):
    month: str
    metric: Literal["billed", "effective"]
    organisation_total: Money
    unallocated: Money
    estimated: bool
    users: list[UserRowOut]
    next_token: str | None


class MeOut(Out):
    user_id: str
    username: str
    email: str | None
    role: Literal["admin", "user"]
    groups: list[str]


class FieldErrorOut(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldErrorOut] | None = None
