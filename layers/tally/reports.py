"""Cost reports, summaries and the admin's all-users view. All read roll-ups, never records:
a constant number of DynamoDB calls whatever the amount of data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from tally.access import require_admin, require_user_access
from tally.budgets import budget_status
from tally.errors import Invalid
from tally.identity import Caller
from tally.models import (
    ORG,
    UNALLOCATED,
    Budget,
    BudgetStatus,
    CostRecord,
    MonthlyRollup,
    Page,
    ResourceCost,
    UserProfile,
)
from tally.store import Stores
from tally.store.interfaces import PageKey

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
TOP_DRIVERS = 5


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def month_days(month: str) -> tuple[date, date]:
    """[first day, first day of next month)."""
    first = date.fromisoformat(f"{month}-01")
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, nxt


def pick_currency(rollups: list[MonthlyRollup], budget: Budget | None, default: str) -> str:
    """The currency a view is shown in: the budget's, else the default, else the one billed."""
    if budget is not None:
        return budget.currency
    seen = {c for r in rollups for c in r.sections}
    if default in seen or not seen:
        return default
    return sorted(seen)[0]


def _others(
    rollups: list[MonthlyRollup], shown: str, metric: str, days: set[str] | None = None
) -> list[Money]:
    """Totals billed in other currencies: shown beside, never added in."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for r in rollups:
        for cur, s in r.sections.items():
            if cur == shown:
                continue
            for d, a in s.daily.items():
                if days is None or d in days:
                    sums[cur] += a.metric(metric)
    return [Money(v, c) for c, v in sorted(sums.items())]


# --- costs over a date range -----------------------------------------------------------


@dataclass(frozen=True)
class CostReport:
    user_id: str
    start: date
    end: date  # inclusive
    currency: str
    metric: str
    total: Decimal
    by_service: list[tuple[str, Decimal]]
    daily: list[tuple[date, Decimal]]
    estimated: bool
    other_currencies: list[Money]


def resolve_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """Inclusive [start, end]; defaults to the last 30 days ending today."""
    if end is None:
        end = today if start is None else min(today, start + timedelta(days=DEFAULT_RANGE_DAYS - 1))
    if start is None:
        start = end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise Invalid.field("endDate", "endDate is before startDate")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise Invalid.field("endDate", f"a range covers at most {MAX_RANGE_DAYS} days")
    return start, end


def cost_report(
    caller: Caller,
    user_id: str,
    *,
    stores: Stores,
    start: date | None,
    end: date | None,
    today: date,
    metric: str,
    default_currency: str,
) -> CostReport:
    require_user_access(caller, user_id)
    start, end = resolve_range(start, end, today)
    rollups = stores.rollups.months(user_id, month_of(start), month_of(end))  # one Query
    currency = pick_currency(rollups, None, default_currency)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    wanted = {d.isoformat() for d in days}
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
                    services[svc] += a.metric(metric)
                    daily[d] += a.metric(metric)
    return CostReport(
        user_id=user_id,
        start=start,
        end=end,
        currency=currency,
        metric=metric,
        total=sum(daily.values(), Decimal(0)),
        by_service=sorted(services.items(), key=lambda kv: (-kv[1], kv[0])),
        daily=[(d, daily[d.isoformat()]) for d in days],
        estimated=estimated,
        other_currencies=_others(rollups, currency, metric, wanted),
    )


# --- summary ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    user_id: str
    month: str
    currency: str
    metric: str
    total: Decimal
    budget: Budget | None
    remaining: Decimal | None
    remaining_pct: Decimal | None
    percent_used: Decimal | None
    status: BudgetStatus | None
    top_drivers: list[ResourceCost]
    estimated: bool
    updated_at: object | None
    forecast: dict[str, object] | None
    restatements: list[dict[str, object]] = field(default_factory=list)
    other_currencies: list[Money] = field(default_factory=list)
    currency_mismatch: bool = False


def _forecast_for(rollup: MonthlyRollup | None, currency: str) -> dict[str, object] | None:
    found = (rollup.forecast or {}).get(currency) if rollup else None
    return found if isinstance(found, dict) else None


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def month_summary(
    caller: Caller,
    user_id: str,
    *,
    stores: Stores,
    today: date,
    metric: str,
    default_currency: str,
) -> Summary:
    """This month's figures against the budget: two GetItems, whatever the data."""
    require_user_access(caller, user_id)
    month = month_of(today)
    previous = month_of(today.replace(day=1) - timedelta(days=1))
    # One Query for this month and the last (whose late restatements the summary reports).
    both = {r.month: r for r in stores.rollups.months(user_id, previous, month)}
    rollup = both.get(month)
    budget = stores.budgets.get_for_user(user_id)
    rollups = [rollup] if rollup else []
    currency = pick_currency(rollups, budget, default_currency)
    section = rollup.section(currency) if rollup else None
    total = section.totals.metric(metric) if section else Decimal(0)
    # A budget in a currency the user is not billed in cannot be compared: say so, do not guess.
    mismatch = bool(budget and rollup and rollup.sections and section is None)
    remaining = remaining_pct = used = None
    status = None
    if budget is not None and not mismatch:
        remaining = budget.monthly_limit - total
        if budget.monthly_limit > 0:
            remaining_pct = _pct(remaining, budget.monthly_limit)
            used = _pct(total, budget.monthly_limit)
        status = budget_status(total, budget)
    drivers = sorted(
        section.top_resources if section else [],
        key=lambda r: (-r.amounts.metric(metric), r.resource_id),
    )[:TOP_DRIVERS]
    return Summary(
        user_id=user_id,
        month=month,
        currency=currency,
        metric=metric,
        total=total,
        budget=budget,
        remaining=remaining,
        remaining_pct=remaining_pct,
        percent_used=used,
        status=status,
        top_drivers=drivers,
        estimated=bool(rollup and rollup.estimated),
        updated_at=rollup.updated_at if rollup else None,
        forecast=_forecast_for(rollup, currency),
        restatements=[x for r in both.values() for x in r.restatements],
        other_currencies=_others(rollups, currency, metric),
        currency_mismatch=mismatch,
    )


# --- all users (admin) -----------------------------------------------------------------


@dataclass(frozen=True)
class UserMonth:
    user: UserProfile
    currency: str
    total: Decimal
    budget: Budget | None
    status: BudgetStatus | None


@dataclass(frozen=True)
class OrgMonth:
    month: str
    currency: str
    metric: str
    users: Page[UserMonth]
    org_total: Decimal
    unallocated: Decimal
    estimated: bool


def all_users(
    caller: Caller,
    *,
    stores: Stores,
    month: str,
    limit: int,
    start_key: PageKey | None,
    metric: str,
    default_currency: str,
) -> OrgMonth:
    """One page of users with their month: a directory Query and two BatchGets."""
    require_admin(caller)
    page = stores.users.list(limit, start_key)
    ids = [u.user_id for u in page.items]
    rollups = stores.rollups.get_many([*ids, ORG, UNALLOCATED], month)
    budgets = stores.budgets.get_many(ids)
    org_rollup = rollups.get(ORG)
    org_currency = pick_currency([org_rollup] if org_rollup else [], None, default_currency)

    def figure(owner: str, currency: str) -> Decimal:
        r = rollups.get(owner)
        s = r.section(currency) if r else None
        return s.totals.metric(metric) if s else Decimal(0)

    rows = []
    for user in page.items:
        budget = budgets.get(user.user_id)
        currency = budget.currency if budget else org_currency
        spent = figure(user.user_id, currency)
        rows.append(
            UserMonth(
                user, currency, spent, budget, budget_status(spent, budget) if budget else None
            )
        )
    return OrgMonth(
        month=month,
        currency=org_currency,
        metric=metric,
        users=Page(items=rows, next_key=page.next_key),
        org_total=figure(ORG, org_currency),
        unallocated=figure(UNALLOCATED, org_currency),
        estimated=bool(org_rollup and org_rollup.estimated),
    )


# --- cost lines (the details table) ------------------------------------------------------

MAX_LINES_RANGE_DAYS = 92
LINE_SORTS = ("-cost", "cost", "-date", "date")


@dataclass(frozen=True)
class CostLinesPage:
    user_id: str
    start: date
    end: date  # inclusive
    metric: str
    lines: list[CostRecord]
    total_count: int
    services: list[str]  # every service in the range, for the filter
    next_offset: int | None


def cost_lines(
    caller: Caller,
    user_id: str,
    *,
    stores: Stores,
    start: date | None,
    end: date | None,
    today: date,
    metric: str,
    service: str | None = None,
    search: str | None = None,
    sort: str = "-cost",
    limit: int = 50,
    offset: int = 0,
) -> CostLinesPage:
    """A user's daily cost lines in a range (at most 92 days), filtered, sorted, paged.

    Sorting by cost needs every line of the range, so the range is bounded; it is read with
    Queries on the user's partition (never a Scan) and ordered here."""
    require_user_access(caller, user_id)
    start, end = resolve_range(start, end, today)
    if (end - start).days + 1 > MAX_LINES_RANGE_DAYS:
        raise Invalid.field("endDate", f"cost lines cover at most {MAX_LINES_RANGE_DAYS} days")
    if sort not in LINE_SORTS:
        raise Invalid.field("sort", f"sort is one of {', '.join(LINE_SORTS)}")
    records = stores.costs.for_owner(user_id, start, end + timedelta(days=1))
    services = sorted({r.service for r in records})
    if service:
        records = [r for r in records if r.service == service]
    if search:
        needle = search.strip().lower()
        records = [
            r
            for r in records
            if needle in (r.resource_id or "").lower() or needle in r.service.lower()
        ]

    def amount(r: CostRecord) -> Decimal:
        return r.effective_cost if metric == "effective" else r.billed_cost

    key = {
        "-cost": lambda r: (-amount(r), r.day, r.line_id),
        "cost": lambda r: (amount(r), r.day, r.line_id),
        "-date": lambda r: (-r.day.toordinal(), -amount(r), r.line_id),
        "date": lambda r: (r.day, -amount(r), r.line_id),
    }[sort]
    records.sort(key=key)  # type: ignore[arg-type]
    page = records[offset : offset + limit]
    more = offset + limit < len(records)
    return CostLinesPage(
        user_id, start, end, metric, page, len(records), services, offset + limit if more else None
    )
