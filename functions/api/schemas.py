"""API models: what crosses the wire (camelCase JSON, money as decimal strings + currency).

Kept apart from the domain's entities; ``api.convert`` turns domain results into them.
Input models forbid unknown fields, so a client cannot set what it does not own, and carry
the input rules a route would otherwise check by hand (a model validator answers 422 on
the field, or on ``body`` for a rule across fields).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from tally import identifiers

# Owners of figures that are not people; they have routes of their own (/organisation/...,
# /unallocated/...), so a user path never reaches them as a magic id.
RESERVED_OWNER_IDS = frozenset({"ORG", "UNALLOCATED"})


def _not_reserved(value: str) -> str:
    if value in RESERVED_OWNER_IDS:
        raise ValueError(
            "not a user id; the organisation's figures are under /api/billing/organisation "
            "and /api/billing/unallocated"
        )
    return value


UserId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@+-]+$"),
    AfterValidator(_not_reserved),
]
# A team's id (``tally.org.model.SLUG``): what a team's budget, summary and own resources name.
TeamId = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=40, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
    ),
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


def _plain(value: str) -> str:
    problem = identifiers.hidden_char_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _cost_center(value: str) -> str:
    problem = identifiers.cost_center_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _percent_decoded(value: object) -> object:
    return unquote(value) if isinstance(value, str) else value


def _currency(value: str) -> str:
    problem = identifiers.currency_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def check_resource_ref(resource_type: str | None, resource_id: str) -> str:
    """The resource id if it names a resource of that type (an input model's field validator
    on ``resource_id`` calls it with the already validated ``resource_type``)."""
    problem = identifiers.resource_id_problem(resource_type or "", resource_id)
    if problem:
        raise ValueError(problem)
    return resource_id


# Checked against its type (EC2 id, bucket, ARN per partition and service) by the model.
ResourceId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2048, strip_whitespace=True, pattern=r"^\S+$"),
    AfterValidator(_plain),
]
# No leading =, +, - or @: a spreadsheet would run it as a formula. (Exports, when they come,
# neutralise formulas in every text cell as well: values stored before this rule exist.)
CostCenter = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, strip_whitespace=True, pattern=r"^[\w .:/+-]+$"),
    AfterValidator(_cost_center),
]
# A cost center in a URL path: API Gateway (REST) passes the path still percent-encoded, so
# a code with a space or a plus ("RD 7", "EU+3") arrives as "RD%207"; decoded, then
# checked as in a body.
CostCenterInPath = Annotated[CostCenter, BeforeValidator(_percent_decoded)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_currency)]
# ``?currency=``: converted figures beside the originals (an unknown code is 422 on it).
CurrencyQuery = Annotated[
    Currency | None,
    Query(
        description="ISO 4217 code: add figures converted into it day by day, each at its "
        "day's rate (or the latest earlier one, flagged), beside the originals"
    ),
]
# Free text a user types to search or filter: no control or invisible characters.
SearchText = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_plain)]
# Money in: a decimal string ("120.50") or a JSON number; at most 2 decimals, never negative.
MoneyIn = Annotated[
    Decimal, Field(ge=0, le=Decimal("1000000000"), decimal_places=2, allow_inf_nan=False)
]
Percent = Annotated[Decimal, Field(gt=0, le=100, decimal_places=2, allow_inf_nan=False)]
Threshold = Annotated[int, Field(ge=0, le=100, strict=True)]
IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
# Years 2000-2999: no AWS bill is older, and no month arithmetic nears the calendar's end.
IsoMonth = Annotated[str, StringConstraints(pattern=r"^2\d{3}-(0[1-9]|1[0-2])$")]

# Query parameters several routes share, declared once so their limits cannot drift apart
# between the user's, the organisation's and the unallocated listings.
StartDate = Annotated[date | None, Query()]
EndDate = Annotated[date | None, Query()]
ServiceFilter = Annotated[SearchText | None, Query(min_length=1, max_length=128)]
LineSearch = Annotated[SearchText | None, Query(min_length=1, max_length=256)]
LineSort = Annotated[Literal["-cost", "cost", "-date", "date"], Query()]
PageLimit = Annotated[int, Query(ge=1, le=100)]
NextToken = Annotated[str | None, Query(max_length=4096)]
# ``?resourceId=``: one resource among a list's (an id or an ARN, as an assignment takes it).
ResourceIdQuery = Annotated[ResourceId | None, Query(min_length=1, max_length=2048)]


def _iso_day_text(value: object) -> object:
    # pydantic alone would also take a number (as Unix time) or a timestamp for a date.
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day_text)]


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )


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
    user_id: UserId | None = Field(
        default=None, description="the user the resource is assigned to; or teamId"
    )
    team_id: TeamId | None = Field(
        default=None,
        description="instead of userId: the team (or department) that owns the resource itself, "
        "beside its members' costs (assignments:write on the team)",
    )
    resource_type: ResourceType
    resource_id: ResourceId = Field(
        description="EC2: the instance id (i-...) or its ARN; S3: the bucket name or its ARN; "
        "RDS: the instance identifier or its ARN; Lambda: the function name or its ARN; any "
        "other type: an ARN (partition aws, aws-cn or aws-us-gov)"
    )
    cost_center: CostCenter | None = None
    share_pct: Percent = Decimal(100)
    effective_from: Day | None = Field(
        default=None,
        description="the first day (YYYY-MM-DD, UTC) the assignment is in force: today by "
        "default; up to 400 days back (those days follow it when next ingested) or 366 ahead",
    )

    @field_validator("resource_id")
    @classmethod
    def _resource_id_fits_type(cls, value: str, info: ValidationInfo) -> str:
        return check_resource_ref(info.data.get("resource_type"), value)

    @model_validator(mode="after")
    def _one_owner(self) -> AssignResourceIn:
        if (self.user_id is None) == (self.team_id is None):
            raise ValueError("give exactly one of userId and teamId")
        return self


class BudgetIn(_MoneyRejectsBool):
    user_id: UserId | None = Field(default=None, description="the user whose budget it is")
    team_id: TeamId | None = Field(
        default=None,
        description="instead of userId: the team (or department) whose budget it is, judged "
        "on the team's costs (its people once each, and its own resources)",
    )
    cost_center: CostCenter | None = Field(
        default=None,
        description="instead of userId: the cost center whose budget it is, judged on the "
        "costs of the teams that name it (their people once each, and their own resources); "
        "budgets:write at the organisation",
    )
    monthly_limit: MoneyIn
    alert_threshold: Threshold = 80
    currency: Currency = "USD"
    effective_from: IsoMonth | None = Field(
        default=None,
        description="the month (YYYY-MM) the budget takes effect: the current month by default; "
        "an earlier month backdates it (each month is judged by the terms in force then); a "
        "later month is refused",
    )

    @model_validator(mode="after")
    def _one_subject(self) -> BudgetIn:
        if sum(x is not None for x in (self.user_id, self.team_id, self.cost_center)) != 1:
            raise ValueError("give exactly one of userId, teamId and costCenter")
        return self


class BudgetUpdateIn(_MoneyRejectsBool):
    monthly_limit: MoneyIn | None = None
    alert_threshold: Threshold | None = None
    effective_from: IsoMonth | None = Field(
        default=None,
        description="the month (YYYY-MM) the changed terms take effect, replacing any change "
        "effective from then on; the current month by default, a later month is refused",
    )

    @model_validator(mode="after")
    def _changes_something(self) -> BudgetUpdateIn:
        if (
            self.monthly_limit is None
            and self.alert_threshold is None
            and self.effective_from is None
        ):
            raise ValueError("give monthlyLimit, alertThreshold, effectiveFrom or several")
        return self


# --- outputs ---------------------------------------------------------------------------

RESOURCE_NAME = (
    "what people call the resource, shown before its id: the source's ResourceName, else its "
    "Name tag, else derived from the id (bucket, function name, RDS identifier, or the EC2 "
    "instance id itself); never empty"
)


class Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)


class Money(Out):
    amount: str = Field(description='decimal string, e.g. "850.00"', examples=["850.00"])
    currency: str


class AssignmentOut(Out):
    assignment_id: str
    user_id: str = Field(description='the owner: a user id, or "team:<teamId>" for a team')
    team_id: str | None = Field(default=None, description="the owning team; null for a user")
    resource_type: str
    resource_id: str
    resource_name: str = Field(description=RESOURCE_NAME)
    cost_center: str | None
    share_pct: str
    assigned_by: str
    assigned_at: str
    effective_from: str = Field(description="YYYY-MM-DD: the first day in force")
    effective_to: str | None = Field(
        description="YYYY-MM-DD, exclusive: the day it ended (removed); null while not ended"
    )


class ResourceCostOut(Out):
    last_30_days: Money
    latest_daily: Money
    latest_day: str | None


class AssignedResourceOut(AssignmentOut):
    scheduled: bool = Field(
        description="true when the assignment starts after today (effectiveFrom): it is listed "
        "so it can be seen and removed, and carries no cost until then"
    )
    cost: ResourceCostOut | None = Field(
        description="the user's cost of the resource over the last 30 complete days (ending "
        "yesterday); null when none was recorded"
    )


class ResourceListOut(Out):
    metric: Literal["billed", "effective"] = Field(description="the cost each item's figures use")
    items: list[AssignedResourceOut]
    next_token: str | None


class BudgetTermsOut(Out):
    effective_from: str = Field(description="YYYY-MM: in force from this month on")
    monthly_limit: Money
    alert_threshold: int
    currency: str


class BudgetOut(Out):
    """The current terms, and the history of every change, oldest first."""

    budget_id: str
    user_id: str = Field(
        description='the subject: a user id, "team:<teamId>" for a team or '
        '"costcenter:<costCenter>" for a cost center'
    )
    team_id: str | None = Field(default=None, description="the budget's team; null for a user")
    cost_center: str | None = Field(
        default=None, description="the budget's cost center; null for a user or a team"
    )
    monthly_limit: Money
    alert_threshold: int
    currency: str
    effective_from: str = Field(description="YYYY-MM: the month the current terms took effect")
    history: list[BudgetTermsOut] = Field(
        description="every change with the month it took effect, oldest first; a month is "
        "judged by the latest change effective at or before it"
    )
    created_at: str
    updated_at: str
    version: int


class ServiceCost(Out):
    service: str
    cost: Money


class DailyCost(Out):
    date: str
    cost: Money


class RateUsedOut(Out):
    base: str
    quote: str
    rate: str = Field(description="1 base = rate quote, a decimal string")
    rate_date: str = Field(description="the day of the rate used (YYYY-MM-DD)")
    source: str = Field(
        description="`ecb`, `manual` (transfer pricing), `identity`, or how it was worked "
        "out: `ecb+inverse`, `ecb+cross` (through EUR), `manual+inverse`..."
    )
    fallback: bool = Field(
        description="true when the day had no rate of its own and the latest earlier one was used"
    )


class ConvertedDayOut(Out):
    date: str
    cost: Money
    rates: list[RateUsedOut] = Field(description="the rate of each billed currency that day")


class ConvertedOut(Out):
    """Figures converted into ``total.currency``, day by day, beside the originals."""

    total: Money = Field(description="the sum of the converted days, exactly")
    fallback: bool = Field(description="true when any day used an earlier day's rate")
    rates_used: list[RateUsedOut] = Field(description="each distinct rate once, in day order")
    daily: list[ConvertedDayOut] | None = Field(
        default=None, description="each day converted at its own rate (costs only)"
    )


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
    converted: ConvertedOut | None = Field(
        default=None,
        description="with `?currency=`: every billed currency converted day by day (null "
        "without it); the figures above stay as billed",
    )


class CostPerUnitOut(Out):
    amount: str = Field(description="decimal string: the line's cost over its usage quantity")
    currency: str
    unit: str = Field(description="the usage unit, as the source writes it (e.g. Hrs, GB-Mo)")


class CostLineOut(Out):
    date: str
    service: str
    resource_id: str | None
    resource_name: str | None = Field(
        description=RESOURCE_NAME + "; null exactly when resourceId is null"
    )
    charge_category: str = Field(description="Usage, Tax, Credit, Refund, Purchase, Adjustment")
    cost: Money = Field(description="in the configured metric (billed or effective)")
    billed_cost: Money
    effective_cost: Money
    usage_quantity: str
    usage_unit: str | None
    cost_per_unit: CostPerUnitOut | None = Field(
        description="cost (in the metric) per unit of usage, where it means something: a Usage "
        "line with a unit and a quantity above 0; null for tax, credits, purchases and the rest"
    )
    estimated: bool
    allocation: Literal["assignment", "tag", "unallocated", "organisation"] = Field(
        description="how the line reached its owner; `organisation` on the organisation's own "
        "lines (as billed, before allocation)"
    )
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
    resource_name: str = Field(description=RESOURCE_NAME)
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
        description=(
            "linear, weekday (where a backtest shows it better), mean (under two weeks of "
            "history: no trend) or none"
        )
    )
    as_of: str = Field(description="the last day of actual figures used")
    actual_to_date: Money
    month_end: Money
    month_end_lower80: Money
    month_end_upper80: Money
    month_end_lower95: Money
    month_end_upper95: Money
    expected_charges: Money = Field(
        description=(
            "part of monthEnd: recurring charges besides usage (a monthly tax or fee) not "
            "posted yet this month; the daily points and the intervals' width are usage"
        )
    )
    daily: list[ForecastPoint] = Field(description="the next 30 days")


class SummaryBudget(Out):
    """The budget in force in a month (a past month keeps its own terms)."""

    budget_id: str
    monthly_limit: Money
    alert_threshold: int
    version: int
    effective_from: str = Field(description="YYYY-MM: the month these terms took effect")


Status = Literal["under", "warning", "over"]


class BudgetJudgedInOut(Out):
    """A verdict made in the budget's currency on costs billed in another: the month's costs
    converted day by day, each day at its rate in force (as the budget alerts judge it)."""

    currency: str = Field(
        description="the budget's currency: status, percentUsed and remaining are in it"
    )
    spent: Money = Field(
        description="the month's costs converted into `currency`, the sum of "
        "the converted days exactly"
    )
    fallback: bool = Field(description="true when any day used an earlier day's rate")
    rates_used: list[RateUsedOut] = Field(description="each distinct rate once, in day order")


BUDGET_JUDGED_IN_DOC = (
    "set when the budget's currency is not the one billed and a rate exists for every day: "
    "the verdict is on the costs converted into the budget's currency; null when judged on "
    "the billed figures, or not judged (currencyMismatch without a rate: no verdict)"
)


class PreviousMonthOut(Out):
    """Last month's result, against the budget in force last month."""

    month: str
    total: Money
    budget: SummaryBudget | None
    status: Status | None = Field(description="null without a budget that month")
    percent_used: str | None
    remaining: Money | None
    final: bool = Field(
        description="false while its last day's costs may still arrive or any of its days is "
        "still estimated (AWS revises them)"
    )
    budget_judged_in: BudgetJudgedInOut | None = Field(
        default=None, description=BUDGET_JUDGED_IN_DOC
    )


class SummaryOut(Out):
    user_id: str
    month: str
    period_start: str = Field(
        description="the month's first day (YYYY-MM-DD) under the organisation's billing "
        "periods (the 1st with calendar months)"
    )
    period_end: str = Field(description="the month's last day (YYYY-MM-DD)")
    today: str = Field(description="the business date (UTC, YYYY-MM-DD) the summary is for")
    metric: Literal["billed", "effective"]
    total: Money
    budget: SummaryBudget | None = Field(description="the budget in force this month")
    no_costs_yet: bool = Field(
        description="true while the month has no cost figures yet (the first days of a month: "
        "AWS delivers a day's costs 24-48 hours after it ends); status, percentUsed and "
        "remaining are then null, not 'under at 0%'"
    )
    first_costs_expected: str | None = Field(
        description="with noCostsYet: the day (YYYY-MM-DD) the first figures are expected, the "
        "3rd of the month; null once that day has passed (there were simply no costs)"
    )
    previous_month: PreviousMonthOut | None = Field(
        description="last month's result; null with neither costs nor a budget last month"
    )
    remaining: Money | None
    remaining_pct: str | None
    percent_used: str | None
    status: Status | None
    currency_mismatch: bool = Field(
        description="true when the budget is in a currency the month was not billed in: its "
        "figures cannot be compared as they stand (`budgetJudgedIn` says when the verdict was "
        "made by converting them; without it there is no verdict)"
    )
    budget_judged_in: BudgetJudgedInOut | None = Field(
        default=None, description=BUDGET_JUDGED_IN_DOC
    )
    top_drivers: list[DriverOut]
    estimated: bool
    last_updated: str | None
    forecast: ForecastOut | None
    restatements: list[RestatementOut]
    other_currencies: list[Money]
    converted: ConvertedOut | None = Field(
        default=None,
        description="with `?currency=`: the month's costs so far, every billed currency "
        "converted day by day (null without it); the figures above stay as billed",
    )


class UserPreviousMonthOut(Out):
    total: Money
    budget: Money | None = Field(description="the limit in force that month")
    status: Status | None


class UserRowOut(Out):
    user_id: str
    username: str
    email: str | None
    role: Literal["admin", "user"]
    total: Money
    budget: Money | None = Field(
        description="the limit in force in the month (a future month: the current one, as planned)"
    )
    alert_threshold: int | None
    status: Status | None = Field(description="null without a budget or while noCostsYet")
    previous_month: UserPreviousMonthOut | None = Field(
        description="the month before, by its own budget; null with neither costs nor budget"
    )
    converted: ConvertedOut | None = Field(
        default=None, description="with `?currency=`: the month converted day by day"
    )


class OrgPreviousMonthOut(Out):
    month: str
    organisation_total: Money
    unallocated: Money
    final: bool = Field(
        description="false while its last day's costs may still arrive or any day is estimated"
    )


class UnownedResourceOut(Out):
    resource_id: str
    resource_name: str = Field(description=RESOURCE_NAME)
    service: str
    cost: Money


class AttributionOut(Out):
    coverage: str | None = Field(
        description="percent (one decimal) of the organisation's month total that has an "
        "owner (assignment or owner tag); null when the month has no costs",
        examples=["93.4"],
    )
    owned: Money
    unallocated: Money
    top_unowned: list[UnownedResourceOut] = Field(
        description="the month's largest resources no one owns (up to 5), most costly first"
    )


class AllUsersOut(Out):
    month: str
    today: str = Field(description="the business date (UTC, YYYY-MM-DD)")
    metric: Literal["billed", "effective"]
    organisation_total: Money
    unallocated: Money
    estimated: bool
    no_costs_yet: bool = Field(
        description="true while the organisation has no cost figures for the month; every "
        "status is then null"
    )
    first_costs_expected: str | None = Field(
        description="with noCostsYet: the day (YYYY-MM-DD) the month's first figures are "
        "expected (its 3rd); null once that day has passed"
    )
    previous_month: OrgPreviousMonthOut | None = Field(
        description="the organisation's month before; null when it has no costs"
    )
    attribution: AttributionOut = Field(
        description="the share of the month's cost that has an owner, and the largest unowned "
        "resources"
    )
    users: list[UserRowOut]
    next_token: str | None
    converted_organisation_total: ConvertedOut | None = Field(
        default=None, description="with `?currency=`: the organisation's month converted"
    )
    converted_unallocated: ConvertedOut | None = Field(
        default=None, description="with `?currency=`: the unallocated month converted"
    )


class GrantedPermissionOut(Out):
    permission: str = Field(
        description="a permission (policies/roles.json)", examples=["costs:read"]
    )
    scope: str = Field(
        description="where it holds: org, team:<teamId> (the team, the teams under it and their "
        "members) or self (the caller's own data)",
        examples=["org"],
    )


class HeldRoleOut(Out):
    role_id: str = Field(examples=["team-manager"])
    scope: str = Field(description="org, team:<teamId> or self", examples=["team:payments"])
    via: Literal["direct", "default", "team", "manager"] = Field(
        description="given to the caller (direct), the default of someone with no roles set "
        "(default), through a team they belong to (team), or by managing a team (manager)"
    )
    team_id: str | None = Field(
        default=None, description="the team that gives it (via team or manager)"
    )


class PermissionsOut(Out):
    view_all_users: bool = Field(
        description="every user's and the organisation's figures, and the user directory "
        "(the All users page)"
    )
    manage_assignments: bool = Field(
        description="assign any resource to anyone; without it, asking for a resource that "
        "is not one's own makes a claim"
    )
    decide_any_claim: bool = Field(
        description="approve or reject any pending claim, not only claims of one's own resources"
    )
    granted: list[GrantedPermissionOut] = Field(
        default_factory=list,
        description="every permission the caller holds and where, as the policies decide it "
        "(the self-service ones included, at self): clients show or hide what they offer by these",
    )
    roles: list[HeldRoleOut] = Field(
        default_factory=list, description="the roles that give them, and how the caller holds each"
    )


class LimitsOut(Out):
    cost_lines_max_days: int = Field(
        description="the longest range, in days, GET .../cost-lines answers"
    )
    costs_max_days: int = Field(description="the longest range, in days, GET .../costs answers")


class ResourceTypeOut(Out):
    key: str = Field(description="the resourceType of an assignment or a claim", examples=["ec2"])
    name: str = Field(description="what people call one", examples=["EC2 instance"])
    service_names: list[str] = Field(
        description="the services (Cost Explorer SERVICE, FOCUS ServiceName), lower-cased, whose "
        "costs are this type's",
        examples=[["amazonec2"]],
    )


class MeOut(Out):
    user_id: str
    username: str
    email: str | None
    role: Literal["admin", "user"]
    groups: list[str]
    today: str = Field(
        description="the business date (UTC) the system runs on; clients take 'today' from "
        "here, never from their own clock"
    )
    budget_metric: Literal["billed", "effective"] = Field(
        description="the cost every figure and budget uses: effective (amortized, the default) "
        "or billed (unblended)"
    )
    mfa_setup_required: bool = Field(
        default=False,
        description="true for a member of the admins group who has not turned on two-step "
        "sign-in (TOTP) where the deployment requires it of admins: until they do, the API "
        "treats them as a user (role 'user')",
    )
    permissions: PermissionsOut = Field(
        description="what the caller may do, from their role: clients show or hide what they "
        "offer by these, never by group names (the API checks every request itself)"
    )
    limits: LimitsOut = Field(description="bounds the API puts on requests, for clients' forms")
    resource_types: list[ResourceTypeOut] = Field(
        description="the resource types known by name; any other service's resource is "
        "assigned by its ARN"
    )
    payment_provider: Literal["stripe"] | None = Field(
        default=None,
        description="the payment provider invoices are issued to (POST "
        "/api/invoices/{invoiceId}/payment), or null when payments are not configured: clients "
        "offer 'Issue for payment' only when it is set (and the caller holds payments:issue)",
    )


# --- claims ----------------------------------------------------------------------------


def _plain_text(value: str) -> str:
    # Shown to approvers and in e-mails later: no control or invisible format characters.
    import unicodedata

    if any(unicodedata.category(c) in ("Cc", "Cf") and c not in "\n" for c in value):
        raise ValueError("control and invisible characters are not allowed")
    return value


ClaimNote = Annotated[
    str, StringConstraints(max_length=500, strip_whitespace=True), AfterValidator(_plain_text)
]


class ClaimIn(_MoneyRejectsBool):
    resource_type: ResourceType
    resource_id: ResourceId
    share_pct: Percent = Decimal(100)
    note: ClaimNote | None = Field(
        default=None, description="why the claimant should own it, for the approver"
    )

    @field_validator("resource_id")
    @classmethod
    def _resource_id_fits_type(cls, value: str, info: ValidationInfo) -> str:
        return check_resource_ref(info.data.get("resource_type"), value)

    @field_validator("note")
    @classmethod
    def _blank_note_is_none(cls, value: str | None) -> str | None:
        return value or None


class ClaimOut(Out):
    claim_id: str
    status: Literal["pending", "approved", "rejected"]
    resource_type: str
    resource_id: str
    resource_name: str = Field(description=RESOURCE_NAME)
    share_pct: str
    note: str | None
    claimant_id: str
    claimant_name: str | None = Field(
        description="the claimant's user name, so whoever decides knows who asks (null: the "
        "user is no longer in Tally)"
    )
    approver_ids: list[str] = Field(
        description="who may decide it besides admins: the resource's owners when it was made "
        "(empty: an admin decides)"
    )
    created_at: str
    decided_at: str | None
    decided_by: str | None
    assignment_id: str | None = Field(
        description="the claimant's assignment once approved (in force from the approval's day)"
    )


class ClaimListOut(Out):
    view: Literal["mine", "to-approve"]
    items: list[ClaimOut]
    next_token: str | None


# --- notifications and preferences ------------------------------------------------------


class NotificationOut(Out):
    id: str = Field(description="stable per notification: what the read and unread routes take")
    kind: str = Field(
        description="what it is about: threshold, exceeded, forecast, restatement, "
        "admin-exceeded, claim, ..."
    )
    title: str
    body: str
    link: str | None = Field(description='the dashboard page it is about, e.g. "#/budget"')
    created_at: str
    read: bool
    read_at: str | None


class NotificationListOut(Out):
    items: list[NotificationOut] = Field(description="the caller's notifications, newest first")
    unread_count: int = Field(description="how many of all the caller's notifications are unread")
    next_token: str | None


class ReadAllOut(Out):
    updated: int = Field(description="how many notifications this marked read")
    unread_count: int


Digest = Literal["off", "daily", "weekly"]


# Slack's and Teams' incoming webhook URLs are well under this; longer is not a webhook.
MAX_WEBHOOK_URL = 2048
WebhookUrl = Annotated[
    str,
    Field(strict=True),
    StringConstraints(min_length=1, max_length=MAX_WEBHOOK_URL),
    AfterValidator(_plain),
]


class PreferencesIn(ApiModel):
    email_alerts: Annotated[bool, Field(strict=True)] | None = Field(
        default=None, description="send budget alerts by email"
    )
    digest: Digest | None = Field(default=None, description="the cost digest email's cadence")
    alert_threshold: Threshold | None = Field(
        default=None,
        description="percent of the monthly limit that alerts: your budget's threshold, changed "
        "from the current month on (a budget change, in its history); needs a budget",
    )
    webhook_url: WebhookUrl | None = Field(
        default=None,
        description="a Slack or Teams incoming webhook (https, a public host) that receives your "
        "alerts; null removes it. Stored encrypted and never shown again in full",
    )
    display_currency: Currency | None = Field(
        default=None,
        description="the currency my figures are shown in (ISO 4217); null: the "
        "organisation's display currency",
    )
    email_suppressed: None = Field(
        default=None,
        description="null: email me again. After a permanent bounce or a spam complaint Tally "
        "stops emailing that address until you say your mailbox is fixed",
    )

    @field_validator("email_suppressed", mode="before")
    @classmethod
    def _only_null(cls, value: object) -> object:
        if value is not None:
            raise ValueError("only null, to have email sent again once your mailbox is fixed")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> PreferencesIn:
        given = {"webhook_url", "email_suppressed", "display_currency"} & self.model_fields_set
        if (
            self.email_alerts is None
            and self.digest is None
            and self.alert_threshold is None
            and not given
        ):
            raise ValueError(
                "give emailAlerts, digest, alertThreshold, webhookUrl, emailSuppressed, "
                "displayCurrency or several"
            )
        return self

    @property
    def removes_webhook(self) -> bool:
        return "webhook_url" in self.model_fields_set and self.webhook_url is None

    @property
    def resumes_email(self) -> bool:
        return "email_suppressed" in self.model_fields_set

    @property
    def clears_display_currency(self) -> bool:
        return "display_currency" in self.model_fields_set and self.display_currency is None


class WebhookOut(Out):
    hint: str = Field(
        description="enough to recognise it, never the URL: scheme, host and its last four "
        'characters, e.g. "https://hooks.slack.com/…/x9Qa"'
    )
    flavour: str = Field(description="the message format used: slack, teams or generic")


class EmailSuppressedOut(Out):
    reason: Literal["bounce", "complaint"] = Field(
        description="bounce: the mail server refused the address for good; complaint: a message "
        "was reported as spam"
    )
    since: str
    address: str = Field(description="the address Tally stopped emailing")


class PreferencesOut(Out):
    email_alerts: bool
    digest: Digest
    alert_threshold: int | None = Field(
        description="your budget's threshold in force this month; null without a budget"
    )
    webhook: WebhookOut | None = Field(description="your chat webhook; null without one")
    email_suppressed: EmailSuppressedOut | None = Field(
        description="set while Tally has stopped emailing you (a bounce or a complaint); alerts "
        "still appear in the app. Send emailSuppressed: null to resume"
    )
    display_currency: str | None = Field(
        default=None,
        description="the currency my figures are shown in; null: the organisation's "
        "(GET /api/settings/billing)",
    )
    updated_at: str | None = Field(description="null while the defaults hold")
    version: str = Field(description="the ETag's value: send it back in If-Match to change them")


class UnsubscribeOut(Out):
    digest: Digest = Field(description="the digest's cadence now: off")


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


# --- exports and invoices (issue 12: reports function, routes/exports.py) -------------------

ExportKind = Literal["costs", "all-users", "chargeback"]
ChargebackGroupBy = Literal["team", "department", "costCenter"]
# A chargeback unit: a team id, a cost center, "(none)" (teams without a department or cost
# center) or "(no team)".
ChargebackUnitId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[\w .:/()+-]+$"),
    AfterValidator(_plain),
]
JobState = Literal["pending", "ready", "failed"]
# A job's id (a UUID the API made); anything else matches no job.
JobId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
# Whose costs an export holds: a user, or (admins only, as the costs routes) the
# organisation's "ORG" or the "UNALLOCATED" figures.
ExportOwnerId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@+-]+$")
]
ResourceFilter = Annotated[
    str, StringConstraints(min_length=1, max_length=2048, pattern=r"^\S+$"), AfterValidator(_plain)
]
ServiceName = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(_plain)
]


class ExportIn(ApiModel):
    kind: ExportKind = Field(
        description="costs: one row per cost line of a user (default: you); all-users (admins): "
        "one row per user and service, with the unallocated costs and a TOTAL row; "
        "chargeback: a month's chargeback per unit (month and groupBy; csv or pdf)"
    )
    start_date: Day | None = Field(
        default=None,
        description="costs and all-users (required): first day (YYYY-MM-DD, UTC), inclusive",
    )
    end_date: Day | None = Field(
        default=None,
        description="costs and all-users (required): last day, inclusive; at most 366 days "
        "after startDate, not after yesterday",
    )
    month: IsoMonth | None = Field(default=None, description="chargeback (required): YYYY-MM")
    group_by: ChargebackGroupBy | None = Field(
        default=None, description="chargeback (required): team, department or costCenter"
    )
    format: Literal["csv", "pdf"] | None = Field(
        default=None, description="chargeback: csv (default) or pdf (a statement per unit)"
    )
    unit: ChargebackUnitId | None = Field(
        default=None,
        description="chargeback: one unit only (a team id, or a cost center); default every unit",
    )
    user_id: ExportOwnerId | None = Field(
        default=None,
        description="costs only: whose lines (default: you; another user's needs admin, as do "
        "ORG and UNALLOCATED)",
    )
    service: ServiceName | None = None
    resource_id: ResourceFilter | None = None
    search: SearchText | None = None


TaxTreatment = Literal["standard", "zero-rated", "exempt"]


class TaxRateRowOut(Out):
    name: str
    jurisdiction: str
    rate: str = Field(description="percent; 0 for zero-rated and exempt rows")
    treatment: TaxTreatment
    reason: str | None
    base: Money = Field(description="the taxable amount at this rate, in minor units")
    tax: Money
    first_day: date | None = Field(description="the first day of supply the row covers")
    last_day: date | None


class TaxBreakdownOut(Out):
    currency: str
    rows: list[TaxRateRowOut] = Field(description="one per rate (a rate change: one each)")
    net: Money
    tax: Money
    gross: Money = Field(description="net + tax")
    untaxed: Money = Field(description="the part of the net on days no rule applied")
    mode: Literal["add", "replace"]
    rounding: Literal["line", "total"]


class ChargebackUnitOut(Out):
    unit_id: str = Field(
        description='a team id, a cost center, "(none)" (teams without a department or cost '
        'center) or "(no team)"'
    )
    name: str
    kind: Literal["team", "department", "costCenter", "none", "noTeam"]
    parent_id: str | None
    cost_center: str | None
    people: int = Field(description="distinct people whose costs (or a share) the unit carries")
    allocated: list[Money] = Field(
        description="per currency (in `currencies` order): its people's and its own resources' "
        "costs from sole assignments and owner tags"
    )
    shared: list[Money] = Field(description="per currency: what came through split assignments")
    unallocated: list[Money] = Field(
        description="per currency: its part of the unallocated cost (proportional rule)"
    )
    total: list[Money]
    tax: list[TaxBreakdownOut] = Field(
        default_factory=list,
        description="per currency where a tax rule applies to the unit (none: empty): the "
        "tax per rate on its total, and net, tax and gross (docs/user-guide.md, Tax)",
    )


class ChargebackOut(Out):
    month: str
    group_by: ChargebackGroupBy
    metric: Literal["billed", "effective"]
    currencies: list[str] = Field(description="every amount list follows this order")
    rule: Literal["proportional", "separate"] = Field(
        description="how the unallocated cost is treated (TALLY_CHARGEBACK_UNALLOCATED)"
    )
    units: list[ChargebackUnitOut]
    no_team: ChargebackUnitOut = Field(description="people in no team")
    unallocated: list[Money] = Field(
        description="per currency: what no unit carries (all of it with the separate rule)"
    )
    organisation_total: list[Money] = Field(
        description="per currency: the units' totals + noTeam + unallocated, to the cent"
    )
    final: bool = Field(description="false while AWS may still revise the month")


class InvoiceIn(ApiModel):
    user_id: UserId | None = Field(
        default=None, description="whose invoice (default: you when costCenter is not given)"
    )
    cost_center: CostCenter | None = Field(
        default=None, description="a cost centre's invoice instead of a user's (admins only)"
    )
    month: IsoMonth = Field(description="the billing month, YYYY-MM; not a future month")
    email: bool = Field(
        default=False,
        strict=True,
        description="also email the PDF (to the invoiced user; a cost centre's to you)",
    )

    @model_validator(mode="after")
    def _one_subject(self) -> InvoiceIn:
        if self.user_id is not None and self.cost_center is not None:
            raise ValueError("give userId or costCenter, not both")
        return self


class ExportCreatedOut(Out):
    export_id: str
    status: JobState
    kind: ExportKind
    created_at: str


class ExportOut(Out):
    export_id: str
    kind: ExportKind
    status: JobState
    created_at: str
    url: str | None = Field(
        default=None,
        description="when ready: a pre-signed download link of the CSV, made for this request",
    )
    expires_at: str | None = Field(default=None, description="when the link stops working")
    rows: int | None = Field(default=None, description="data rows in the file, when ready")
    error: str | None = Field(default=None, description="why it failed, when failed")


class InvoiceCreatedOut(Out):
    invoice_id: str
    status: JobState
    created_at: str


class InvoiceTaxOut(Out):
    currency: str
    net: Money
    tax: Money
    gross: Money = Field(description="net + tax")


PaymentState = Literal["issued", "paid", "void"]


class InvoicePaymentOut(Out):
    invoice_id: str
    currency: str = Field(description="a provider's invoice has one currency")
    provider: Literal["stripe"]
    reference: str = Field(description="the provider's id of the invoice (Stripe: in_...)")
    status: PaymentState
    updated_at: str
    url: str | None = Field(default=None, description="where the invoice is paid, if any")


class InvoiceOut(Out):
    invoice_id: str
    status: JobState
    created_at: str
    url: str | None = Field(
        default=None, description="when ready: a pre-signed download link of the PDF"
    )
    expires_at: str | None = None
    invoice_number: str | None = Field(
        default=None, description="stable for a user and month; a revision suffix after a change"
    )
    provisional: bool | None = Field(
        default=None, description="true while the month's costs can still change"
    )
    emailed: bool | None = None
    template_id: str | None = Field(
        default=None,
        description="the invoice template it was rendered with (none: the plain layout)",
    )
    template_version: int | None = Field(
        default=None, description="that template's version, kept for re-renders"
    )
    error: str | None = None
    tax: list[InvoiceTaxOut] = Field(
        default_factory=list,
        description="when ready and a tax rule applied: net, tax and gross per currency (the "
        "PDF has the breakdown per rate); empty without tax",
    )
    payments: list[InvoicePaymentOut] = Field(
        default_factory=list,
        description="its payment at the provider, one per currency, once issued "
        "(POST /api/invoices/{invoiceId}/payment); the status follows the provider's webhook",
    )


# --- month over month (H4: reports/changes) ----------------------------------------------

StepKind = Literal[
    "restatement", "removed", "new", "usage", "rate", "changed", "credits", "refunds", "other"
]


class ServiceChangeOut(Out):
    service: str
    current: str = Field(description="decimal string: the month (to date), in `currency`")
    previous_same_days: str = Field(
        description="decimal string: the previous month over the same day numbers"
    )
    previous: str = Field(description="decimal string: all of the previous month")
    change: str = Field(description="decimal string: current - previousSameDays")
    change_pct: str | None = Field(
        description="decimal string, percent of |previousSameDays|; null when it is 0"
    )


class WaterfallStepOut(Out):
    kind: StepKind
    label: str = Field(description='the resource id, "<service> (no resource)", or a summary')
    amount: str = Field(description="decimal string, in `currency`; negative lowers the bill")
    service: str | None = Field(default=None, description="null for summary steps")
    resource_id: str | None = Field(default=None, description="null without a resource")
    resource_name: str | None = Field(
        default=None, description=RESOURCE_NAME + "; null without a resource"
    )


class WaterfallOut(Out):
    start: str = Field(description="decimal string: the previous month as first reported")
    end: str = Field(description="decimal string: equals currentTotal")
    steps: list[WaterfallStepOut] = Field(
        description="in the order of `kind` above; they add up exactly to end - start"
    )


class MonthOverMonthOut(Out):
    user_id: str
    month: str = Field(description="YYYY-MM")
    previous_month: str = Field(description="YYYY-MM")
    currency: str = Field(description="every amount's currency (others are not added in)")
    metric: Literal["billed", "effective"]
    estimated: bool
    days_compared: int = Field(
        description="days of `month` compared: all of a past month; of the current month, "
        "up to the last day with costs (at most yesterday)"
    )
    current_total: str
    previous_same_days_total: str
    previous_total: str
    services: list[ServiceChangeOut]
    waterfall: WaterfallOut


# --- savings recommendations (issue 12) -------------------------------------------------

RecommendationKind = Literal[
    "idle-ec2",
    "idle-rds",
    "unattached-ebs",
    "unassociated-eip",
    "idle-lambda",
    "gp2-to-gp3",
    "previous-generation",
    "old-snapshot",
    "s3-no-lifecycle",
]


class RecommendationOut(Out):
    recommendation_id: str = Field(description="stable for the same rule, resource and owner")
    user_id: str | None = Field(description="its owner; null for a resource nobody owns")
    kind: RecommendationKind
    resource_id: str
    resource_name: str = Field(description=RESOURCE_NAME)
    resource_type: str = Field(
        description="ec2 | ebs-volume | elastic-ip | ebs-snapshot | rds | lambda | s3"
    )
    service: str
    title: str
    detail: str = Field(description="what to do, and how the saving is estimated")
    monthly_saving: str = Field(
        description="decimal string: the owner's share of the estimated monthly saving"
    )
    currency: str
    evidence: dict[str, str] = Field(description="what the rule saw, and the price's basis")
    detected_at: str = Field(description="when a refresh first found it")


class RecommendationListOut(Out):
    currency: str = Field(description="the organisation's default currency")
    total_monthly_saving: str = Field(
        description="the items in `currency` added up; items in another currency are listed "
        "but never converted into it"
    )
    items: list[RecommendationOut] = Field(description="ranked by saving, highest first")


# --- anomalies (issue 12, H5) ----------------------------------------------------------

AnomalyStatusName = Literal["open", "acknowledged", "resolved"]


class AnomalyStatusIn(ApiModel):
    status: Literal["acknowledged", "resolved"] = Field(
        description="acknowledged: seen, expected or being handled; resolved: over"
    )


class AnomalyOut(Out):
    anomaly_id: str = Field(description="safe in a URL path as it is")
    user_id: str
    day: str = Field(description="YYYY-MM-DD: the episode's first anomalous day")
    service: str
    resource_id: str | None = Field(
        description="the resource behind most of the excess; null: lines without a resource"
    )
    resource_name: str | None = Field(
        default=None, description=RESOURCE_NAME + "; null without a resource"
    )
    usage_unit: str | None = Field(description="the root cause's usage unit that day, if any")
    expected: str = Field(description="decimal string: what the days were expected to cost")
    actual: str = Field(description="decimal string: what they cost")
    impact: str = Field(description="decimal string: actual - expected")
    currency: str
    score: float = Field(description="how unusual: the excess in robust standard deviations")
    status: AnomalyStatusName
    detected_at: str
    updated_at: str


class AnomalyListOut(Out):
    items: list[AnomalyOut]
    next_token: str | None = None


# --- team costs (issue 13) ---------------------------------------------------------------


class TeamMemberCostOut(Out):
    user_id: str
    username: str | None = Field(description="null for someone no longer in the directory")
    amount: Money = Field(description="the person's month, counted once in the team")


class TeamSummaryOut(SummaryOut):
    """The user summary's figures for a team (``userId`` is ``team:<teamId>``), judged by the
    team's budget, with whose costs they are."""

    team_id: str
    team_name: str
    members: list[TeamMemberCostOut] = Field(
        description="every person of the team and of the teams under it, once each, highest "
        "amount first; their amounts plus teamResources make the total"
    )
    team_resources: Money = Field(
        description="the resources assigned to the team and the teams under it themselves"
    )
    resources: list[AssignmentOut] = Field(
        description="the resources assigned to this team itself, not ended (at most 100; "
        "those of the teams under it are on their own summaries)"
    )


class CostCenterTeamOut(Out):
    team_id: str
    name: str


class CostCenterSummaryOut(SummaryOut):
    """The user summary's figures for a cost center (``userId`` is
    ``costcenter:<costCenter>``), judged by its budget, with whose costs they are."""

    cost_center: str
    name: str = Field(description='how messages name it: "Cost center <costCenter>"')
    teams: list[CostCenterTeamOut] = Field(
        description="the teams that name this cost center (not the teams under them), by id"
    )
    members: list[TeamMemberCostOut] = Field(
        description="every person of those teams, once each, highest amount first; their "
        "amounts plus teamResources make the total"
    )
    team_resources: Money = Field(description="the resources assigned to those teams themselves")


# --- roles, teams, people's roles, effective access, the audit log (issue 13, H2) -----------

# A custom role's id (``tally.org.model.SLUG``, as a team's): in URLs and Cedar entity ids.
RoleId = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=40, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
    ),
]
OrgName = Annotated[str, StringConstraints(min_length=1, max_length=80), AfterValidator(_plain)]
RoleDescription = Annotated[str, StringConstraints(max_length=500), AfterValidator(_plain)]
# A permission's name; which ones exist is the domain's check (422 on "permissions").
PermissionName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# "org", "self" or "team:<teamId>"; parsed by the domain (422 on "roles.N.scope").
ScopeKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
AuditSubject = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=134,
        pattern=r"^[A-Za-z0-9_.@+:-]+$",
        description='a user id, "team:<teamId>" or "role:<roleId>": that subject\'s entries only',
    ),
]


class GrantIn(ApiModel):
    role_id: RoleId = Field(examples=["finance"])
    scope: ScopeKey = Field(
        description="org, self or team:<teamId> (the team, the teams under it and their people)",
        examples=["org"],
    )


class GrantOut(Out):
    role_id: str
    scope: str


class RoleIn(ApiModel):
    role_id: RoleId | None = Field(
        default=None, description="the new role's id; made from the name when not given"
    )
    name: OrgName
    description: RoleDescription = ""
    permissions: list[PermissionName] = Field(
        max_length=64, description="grantable permissions (GET /api/roles lists them)"
    )


class RoleUpdateIn(ApiModel):
    name: OrgName
    description: RoleDescription = ""
    permissions: list[PermissionName] = Field(max_length=64)


class RoleOut(Out):
    role_id: str
    name: str
    description: str
    permissions: list[str]
    builtin: bool = Field(description="built-in roles cannot be changed or deleted")
    version: int = Field(description="0 for a built-in role; also the ETag")


class PermissionOut(Out):
    id: str = Field(examples=["costs:read"])
    description: str
    read_only: bool


class RoleListOut(Out):
    items: list[RoleOut] = Field(description="the built-in roles, then the custom ones by name")
    permissions: list[PermissionOut] = Field(description="every grantable permission")


class TeamIn(ApiModel):
    team_id: TeamId | None = Field(
        default=None, description="the new team's id; made from the name when not given"
    )
    name: OrgName
    kind: Literal["department", "team"] = "team"
    parent_id: TeamId | None = Field(default=None, description="the team or department above")
    cost_center: CostCenter | None = None
    members: list[UserId] = Field(default_factory=list, max_length=5000)
    managers: list[UserId] = Field(
        default_factory=list,
        max_length=100,
        description="they hold team-manager on the team and the teams under it",
    )
    roles: list[GrantIn] = Field(
        default_factory=list, max_length=50, description="roles every member holds"
    )


class TeamUpdateIn(ApiModel):
    name: OrgName
    kind: Literal["department", "team"] = "team"
    parent_id: TeamId | None = None
    cost_center: CostCenter | None = None
    members: list[UserId] = Field(default_factory=list, max_length=5000)
    managers: list[UserId] = Field(default_factory=list, max_length=100)
    roles: list[GrantIn] = Field(default_factory=list, max_length=50)


class TeamOut(Out):
    team_id: str
    name: str
    kind: Literal["department", "team"]
    parent_id: str | None
    cost_center: str | None
    members: list[str]
    managers: list[str]
    roles: list[GrantOut]
    source: str = Field(description="tally (the API or dashboard) or cognito (a synced group)")
    version: int
    display_currency: str | None = Field(
        default=None,
        description="the currency the team's figures are shown in (ISO 4217); null: the "
        "organisation's display currency",
    )


class TeamDisplayCurrencyIn(ApiModel):
    display_currency: Currency | None = Field(
        description="an ISO 4217 code (three capitals); null: back to the organisation's"
    )


class TeamListOut(Out):
    items: list[TeamOut]


class UserRolesIn(ApiModel):
    roles: list[GrantIn] = Field(max_length=50, description="the person's roles, replaced whole")


class UserRolesOut(Out):
    user_id: str
    roles: list[GrantOut]
    explicit: bool = Field(
        description="false: never set, so these are the defaults (admin at the organisation "
        "for the admins group, member of self for everyone else)"
    )
    version: int = Field(description="also the ETag")


class AccessRoleOut(HeldRoleOut):
    deleted: bool = Field(
        default=False, description="the role was deleted: the grant stays and gives nothing"
    )


class AccessPermissionOut(Out):
    permission: str
    scope: str = Field(description="org, team:<teamId> or self")
    granted_by: list[HeldRoleOut] = Field(
        description="the roles whose policies allow it (empty for what everyone may do on "
        "their own data)"
    )


class AccessOut(Out):
    user_id: str
    roles: list[AccessRoleOut]
    permissions: list[AccessPermissionOut]


class AuditEntryOut(Out):
    at: str = Field(description="ISO 8601, UTC")
    actor: str = Field(description="who made the change (a user id)")
    action: str = Field(examples=["roles.assigned", "team.updated", "budget.created"])
    subject: str = Field(description='a user id, "team:<teamId>" or "role:<roleId>"')
    entity_id: str
    details: dict[str, str] = Field(
        description="for role and team changes: before and after, each a JSON text (null: "
        "did not exist)"
    )


class AuditListOut(Out):
    items: list[AuditEntryOut] = Field(description="newest first")
    next_token: str | None = None


class HealthOut(Out):
    status: Literal["ok"] = Field(description="always ok: the function answered")
    version: str = Field(description="the deployed code's version (dev on the local stack)")


# --- the estate's read views (issue 15) ---------------------------------------------------


class EstateDayCostOut(Out):
    day: str = Field(description="YYYY-MM-DD")
    cost: Money


class EstateCostOut(Out):
    """A resource's Tally cost: its own cost lines, in one currency and the configured metric."""

    metric: str = Field(description="effective (amortized) or billed (unblended)")
    last30_days: Money = Field(description="the last 30 complete days (ending yesterday)")
    previous30_days: Money = Field(description="the 30 days before those: the trend's base")
    month_to_date: Money
    trend_pct: str | None = Field(
        description="change of the last 30 days on the 30 before, percent; null without a base"
    )
    daily: list[EstateDayCostOut] = Field(description="each of the last 30 days, oldest first")
    usage: dict[str, str] = Field(description="usage unit -> quantity over the last 30 days")


class EstateOwnerOut(Out):
    user_id: str = Field(description='a user id, or "team:<teamId>"')
    share_pct: str


class EstateOwnershipOut(Out):
    unowned: bool
    owners: list[EstateOwnerOut]
    actions: list[Literal["claim", "assign"]] = Field(
        description="what the caller may do about an unowned resource: claim it "
        "(POST /api/billing/claims) or assign it (POST /api/billing/assign-resource)"
    )


class EstateFindingOut(Out):
    code: str = Field(description="stable: e.g. lambda.erroring, iam.console-without-mfa")
    severity: Literal["high", "medium", "low"]
    resource: str
    message: str


class LambdaMetricsOut(Out):
    start: str
    end: str
    invocations: int
    errors: int


class LambdaFunctionOut(Out):
    name: str
    arn: str
    region: str
    runtime: str | None
    architecture: str
    memory_mb: int
    timeout_seconds: int
    last_modified: str
    reserved_concurrency: int | None
    tags: dict[str, str]
    ownership: EstateOwnershipOut
    cost: EstateCostOut
    cost_per_million_invocations: Money | None = Field(
        description="the last 30 days' daily cost over the cached metrics' daily invocations"
    )
    metrics: LambdaMetricsOut | None = Field(
        description="the inventory's cached totals (the last 7 days); null before it read them"
    )
    findings: list[EstateFindingOut]
    read_at: str = Field(description="when the inventory read it (ISO 8601): the view's 'as of'")
    range: LambdaRangeOut | None = Field(
        default=None,
        description="with ?start=&end= on the detail only: the metrics over that range "
        "(invocations, errors, throttles, duration p50/p95/p99, concurrent executions), its "
        "daily cost, alarms and recent errors",
    )


class LambdaListOut(Out):
    region: str
    read_at: str | None = Field(description="the oldest read among the items: 'as of'")
    metrics_read_at: str | None
    scope: Literal["organisation", "own"] = Field(
        description="organisation: every function; own: only the caller's"
    )
    items: list[LambdaFunctionOut]


class NetworkCostOut(Out):
    nat_gateway_hours: EstateCostOut
    nat_gateway_data_processed: EstateCostOut
    public_ipv4: EstateCostOut
    endpoints: EstateCostOut
    data_transfer: EstateCostOut


class NetworkSavingOut(Out):
    code: str = Field(
        description="network.idle-nat-gateway | network.unattached-eip | "
        "network.s3-gateway-endpoint"
    )
    resource: str
    message: str
    monthly_saving: Money | None


class NetworkOut(Out):
    region: str
    read_at: str | None
    vpcs: list[dict[str, Any]]
    subnets: list[dict[str, Any]] = Field(
        description="each with `public` (a route to an internet gateway in its route table)"
    )
    route_tables: list[dict[str, Any]]
    internet_gateways: list[dict[str, Any]]
    nat_gateways: list[dict[str, Any]]
    endpoints: list[dict[str, Any]]
    peerings: list[dict[str, Any]]
    addresses: list[dict[str, Any]]
    security_groups: list[dict[str, Any]]
    findings: list[EstateFindingOut] = Field(
        description="rules open to 0.0.0.0/0 or ::/0 on SSH, RDP and database ports"
    )
    cost: NetworkCostOut
    savings: list[NetworkSavingOut]


class IamAccessKeyOut(Out):
    key_id: str
    status: str
    created: str
    age_days: int
    last_used: str | None


class IamUserOut(Out):
    name: str
    arn: str
    path: str
    created: str
    console_access: bool
    mfa_enabled: bool
    password_last_used: str | None
    access_keys: list[IamAccessKeyOut]
    groups: list[str]
    attached_policies: list[str]
    inline_policies: list[str]
    tags: dict[str, str]
    tally_user_id: str | None = Field(
        description="the Tally user it is: the one an admin mapped it to, else the one its "
        "owner tag names; null when neither names anybody known"
    )
    linked_by: Literal["admin", "tag"] | None = Field(
        description="how `tallyUserId` was found: an admin's mapping (which wins) or the "
        "owner tag; null when it is nobody's"
    )
    findings: list[EstateFindingOut]
    read_at: str


class IamGroupOut(Out):
    name: str
    path: str
    policies: list[str] = Field(description="the names of its attached managed policies")
    inline_policies: list[str]


class IamUserListOut(Out):
    read_at: str | None
    items: list[IamUserOut]
    groups: list[IamGroupOut] = Field(
        description="every IAM group of the account, as the inventory last read them (the "
        "choices of iam:AddUserToGroup)"
    )


class IamLinkIn(ApiModel):
    user_id: UserId = Field(description="the Tally user (directory id) the IAM user is")


class MetricPointOut(Out):
    at: str = Field(description="the datapoint's period start (ISO 8601, UTC)")
    value: float


class MetricSeriesOut(Out):
    id: str = Field(description="stable per panel: e.g. cpu, invocations, durationP99")
    metric: str = Field(description="CloudWatch's metric name")
    stat: str = Field(description="Average, Sum, Maximum, Minimum, or a percentile (p99)")
    unit: str = Field(description="CloudWatch's unit: Percent, Bytes, Count, Milliseconds...")
    points: list[MetricPointOut] = Field(description="oldest first; periods without data left out")


class MetricAlarmOut(Out):
    name: str
    state: str = Field(description="OK, ALARM or INSUFFICIENT_DATA")
    metric: str
    namespace: str
    stat: str | None
    comparison: str
    threshold: float | None
    state_updated: str | None


class EstateDayUsageOut(Out):
    day: str = Field(description="YYYY-MM-DD")
    quantity: str = Field(description="decimal string: the day's usage in `unit`")
    unit: str = Field(description="the usage unit, as the source writes it (Hrs, GB-Mo, ...)")


class PanelResourceOut(Out):
    arn: str
    type: Literal["ec2", "rds", "lambda", "s3"]
    name: str = Field(description="instance id, DB identifier, function name or bucket")
    region: str


class MetricsPanelOut(Out):
    """One owned resource's metrics, its daily Tally cost on the same axis, and its alarms."""

    resource: PanelResourceOut
    start: str = Field(description="the range, widened to whole periods (ISO 8601)")
    end: str
    period_seconds: int = Field(description="seconds per datapoint, chosen from the range")
    scope: Literal["organisation", "own"] = Field(
        description="organisation: the resource's whole cost; own: the caller's share"
    )
    series: list[MetricSeriesOut]
    daily_cost: list[EstateDayCostOut] = Field(
        description="each day of the range up to yesterday, oldest first (zero included)"
    )
    alarms: list[MetricAlarmOut] = Field(description="the CloudWatch alarms on the resource")
    read_at: str = Field(description="when CloudWatch was asked (answers are kept a minute)")
    daily_usage: list[EstateDayUsageOut] = Field(
        default_factory=list,
        description="the resource's usage beside dailyCost, from the same cost lines (in the "
        "same scope): one item per day and unit of its Usage lines, days without usage left out",
    )


class LogErrorOut(Out):
    at: str
    log_stream: str
    message: str = Field(description="the log line (its first 2,000 characters)")


class LambdaRangeOut(MetricsPanelOut):
    """A function's detail over the asked range: the Lambda panel and its recent errors."""

    recent_errors: list[LogErrorOut] = Field(
        description="newest first, at most 20: error lines of the function's log group over "
        "the range's last day (one FilterLogEvents reading its first 100 matches)"
    )
    errors_since: str = Field(description="the start of the window searched for errors")
    errors_truncated: bool = Field(description="more error lines matched than are shown")


# --- exchange rates and billing settings (issue 17) --------------------------------------

# A rate in: a decimal string or number, more than 0, at most 10 decimals.
RateValue = Annotated[
    Decimal, Field(gt=0, le=Decimal("1000000"), decimal_places=10, allow_inf_nan=False)
]


class RateIn(_MoneyRejectsBool):
    day: date = Field(alias="date", description="the day the rate is for (YYYY-MM-DD)")
    base: Currency
    quote: Currency
    rate: RateValue = Field(description='1 base = rate quote, e.g. "0.9234"')
    note: SearchText | None = Field(default=None, description="why (shown in the audit log)")


class RateOut(Out):
    date: str
    base: str
    quote: str
    rate: str
    source: str = Field(description="`ecb`, `manual` (transfer pricing) or another feed")
    entered_by: str | None = Field(description="who entered a manual rate")
    entered_at: str | None
    note: str | None


class RatesOut(Out):
    in_force: RateUsedOut | None = Field(
        default=None,
        description="with `date`, `base` and `quote`: the rate in force that day and where it "
        "came from (null without `date`)",
    )
    items: list[RateOut] = Field(description="stored rates, newest day first")
    next_token: str | None


class CurrencySectionIn(ApiModel):
    billing_currency: Currency | None = Field(
        default=None, description="the currency the organisation is billed and invoiced in"
    )
    display_currency: Currency | None = Field(
        default=None, description="the currency figures are shown in by default"
    )


class TaxSectionIn(ApiModel):
    """The tax settings as a section of the billing settings (the same values as
    ``PUT /api/tax-rules/settings``, which also needs tax:write)."""

    mode: Literal["add", "replace"] | None = Field(
        default=None,
        description="add: AWS's own tax lines stay and Tally's tax is added on the other "
        "lines; replace: AWS's tax lines leave the invoice where a rule applies",
    )
    rounding: Literal["line", "total"] | None = Field(
        default=None, description="half up, per invoice line or once per rate on its total"
    )
    version: int | None = Field(
        default=None,
        ge=0,
        description="the tax settings' version you read: a newer change is refused (409)",
    )


class PeriodSectionIn(ApiModel):
    """The organisation's billing periods (tally.calendar). A period keeps its name
    ``YYYY-MM`` under every definition; the definition says which days it covers."""

    kind: Literal["calendar", "monthly", "4-4-5", "4-5-4", "5-4-4"] | None = Field(
        default=None,
        description="calendar: calendar months; monthly: months from day `startDay`, named by "
        "the month they start in; 4-4-5, 4-5-4, 5-4-4: fiscal years of 52 or 53 weeks in "
        "quarters of 4, 4 and 5 weeks (in that order), from `fiscalYearStart`",
    )
    start_day: int | None = Field(
        default=None, ge=1, le=28, description="monthly: the day of the month a period starts"
    )
    fiscal_year_start: str | None = Field(
        default=None,
        pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        description="fiscal kinds, MM-DD (not 02-29): fiscal year Y starts on the `weekStart` "
        "weekday nearest to this day of year Y; a 53-week year's extra week is its last "
        "period's",
    )
    week_start: (
        Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] | None
    ) = Field(default=None, description="fiscal kinds: the weekday every fiscal week starts on")


class BillingSettingsIn(ApiModel):
    """Give the sections to change; within one, the fields to change."""

    currency: CurrencySectionIn | None = None
    tax: TaxSectionIn | None = None
    period: PeriodSectionIn | None = None


class CurrencySectionOut(Out):
    billing_currency: str
    display_currency: str = Field(description="the billing currency unless set")
    updated_at: str | None = Field(description="null: the defaults, never saved")
    updated_by: str | None


class TaxSettingsOut(Out):
    """The tax settings (tally.tax): at /api/tax-rules/settings and as the billing
    settings' ``tax`` section."""

    mode: Literal["add", "replace"]
    rounding: Literal["line", "total"]
    rounding_method: Literal["half-up"] = "half-up"
    version: int = Field(description="0 until saved; send it back as If-Match")
    updated_at: datetime | None
    updated_by: str | None


class PeriodNowOut(Out):
    month: str = Field(description="today's period, YYYY-MM")
    start: str = Field(description="its first day")
    end: str = Field(description="its last day")


class PeriodRecomputeOut(Out):
    """The recompute a change of definition started (a job of the reports function)."""

    job_id: str
    status: Literal["pending", "ready", "failed"]
    requested_at: str
    finished_at: str | None
    owners: int | None = Field(description="whose roll-ups were rebuilt, once ready")
    periods: int | None = Field(description="how many periods hold figures, once ready")
    error: str | None


class PeriodSectionOut(Out):
    kind: Literal["calendar", "monthly", "4-4-5", "4-5-4", "5-4-4"]
    start_day: int
    fiscal_year_start: str
    week_start: str
    current: PeriodNowOut
    updated_at: str | None = Field(description="null: the defaults, never saved")
    updated_by: str | None
    recompute: PeriodRecomputeOut | None = Field(
        description="the recompute of the last change; null before any change"
    )


class BillingSettingsOut(Out):
    currency: CurrencySectionOut
    tax: TaxSettingsOut
    period: PeriodSectionOut
