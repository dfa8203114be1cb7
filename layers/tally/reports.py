"""Cost reports, summaries and the admin's all-users view. All read roll-ups, never records:
a constant number of DynamoDB calls whatever the amount of data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from tally.access import require_admin, require_owner_access, require_user_access
from tally.budgets import budget_for_month, budget_status
from tally.errors import Invalid
from tally.identity import Caller
from tally.models import (
    ORG,
    UNALLOCATED,
    Budget,
    BudgetStatus,
    BudgetTerms,
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


# The days a report may name. No AWS bill predates 2006; the far bound leaves the calendar's
# end (9999-12-31) unreachable by any arithmetic done on a range, a month or its neighbours.
FIRST_REPORT_DAY = date(2000, 1, 1)
LAST_REPORT_DAY = date(2999, 12, 31)


def resolve_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """Inclusive [start, end]; defaults to the last 30 complete days, ending yesterday (today
    never has data yet). With only ``start``, 30 days from it, cut at yesterday (but never
    before ``start``); with only ``end``, the 30 days up to it. Days outside
    FIRST_REPORT_DAY..LAST_REPORT_DAY are refused (422), so no date arithmetic overflows."""
    for name, day in (("startDate", start), ("endDate", end)):
        if day is not None and not FIRST_REPORT_DAY <= day <= LAST_REPORT_DAY:
            raise Invalid.field(
                name, f"a day from {FIRST_REPORT_DAY} to {LAST_REPORT_DAY}, as YYYY-MM-DD"
            )
    if end is None:
        yesterday = today - timedelta(days=1)
        end = (
            yesterday
            if start is None
            else max(start, min(yesterday, start + timedelta(days=DEFAULT_RANGE_DAYS - 1)))
        )
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
    require_owner_access(caller, user_id)
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


# --- the first days of a month ---------------------------------------------------------

# AWS delivers a day's costs about 24-48 hours after the day ends (Cost Explorer and the
# data exports alike), so a day's figures are expected two days later: the 1st's on the 3rd,
# when the daily import (00:00 UTC) reads them. Until then a new month has no figures, and
# "under budget at 0%" would be a guess, not a result.
COST_DELAY_DAYS = 2


def previous_month(month: str) -> str:
    return month_of(month_days(month)[0] - timedelta(days=1))


def has_costs(rollup: MonthlyRollup | None) -> bool:
    """Whether a month has cost figures: the ingest may store a roll-up that holds only the
    forecast (no sections) for a month whose costs have not arrived yet."""
    return rollup is not None and bool(rollup.sections)


def first_costs_expected(month: str, today: date) -> date | None:
    """When a month without figures should get its first (its 1st's costs, two days later).
    None once that day is past: nothing is late then, there simply were no costs."""
    expected = month_days(month)[0] + timedelta(days=COST_DELAY_DAYS)
    return expected if today <= expected else None


def month_is_final(month: str, rollup: MonthlyRollup | None, today: date) -> bool:
    """A month's figures are final once its last day's costs have had time to arrive and no
    day of it is still estimated (the ingest re-reads those until AWS settles them)."""
    last_day = month_days(month)[1] - timedelta(days=1)
    delivered = today >= last_day + timedelta(days=COST_DELAY_DAYS)
    return delivered and not (rollup and (rollup.estimated or rollup.estimated_days))


# --- summary ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthBudget:
    """The budget a month is judged by: the user's budget (its id and version, to edit it)
    with the terms in force that month (``budget_for_month``)."""

    budget_id: str
    version: int
    terms: BudgetTerms


def month_budget(budget: Budget | None, month: str) -> MonthBudget | None:
    terms = budget_for_month(budget, month)
    if budget is None or terms is None:
        return None
    return MonthBudget(budget.budget_id, budget.version, terms)


@dataclass(frozen=True)
class Verdict:
    remaining: Decimal | None = None
    remaining_pct: Decimal | None = None
    percent_used: Decimal | None = None
    status: BudgetStatus | None = None


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def judge(total: Decimal, terms: BudgetTerms) -> Verdict:
    remaining = terms.monthly_limit - total
    if terms.monthly_limit == 0:  # a zero budget has no share to speak of
        return Verdict(remaining, None, None, budget_status(total, terms))
    return Verdict(
        remaining,
        _pct(remaining, terms.monthly_limit),
        _pct(total, terms.monthly_limit),
        budget_status(total, terms),
    )


@dataclass(frozen=True)
class MonthResult:
    """A month's total against the budget in force during it (the previous month, shown
    beside this one while this one has no or few figures)."""

    month: str
    currency: str
    total: Decimal
    budget: MonthBudget | None
    status: BudgetStatus | None
    percent_used: Decimal | None
    remaining: Decimal | None
    final: bool  # false while its last day may still arrive or any day is estimated


@dataclass(frozen=True)
class Summary:
    user_id: str
    month: str
    today: date
    currency: str
    metric: str
    total: Decimal
    budget: MonthBudget | None  # the budget in force this month
    remaining: Decimal | None
    remaining_pct: Decimal | None
    percent_used: Decimal | None
    status: BudgetStatus | None
    top_drivers: list[ResourceCost]
    estimated: bool
    updated_at: object | None
    forecast: dict[str, object] | None
    no_costs_yet: bool = False
    first_costs_expected: date | None = None
    previous_month: MonthResult | None = None
    restatements: list[dict[str, object]] = field(default_factory=list)
    other_currencies: list[Money] = field(default_factory=list)
    currency_mismatch: bool = False


def _forecast_for(rollup: MonthlyRollup | None, currency: str) -> dict[str, object] | None:
    found = (rollup.forecast or {}).get(currency) if rollup else None
    return found if isinstance(found, dict) else None


def _month_result(
    month: str,
    rollup: MonthlyRollup | None,
    budget: Budget | None,
    *,
    today: date,
    metric: str,
    default_currency: str,
) -> MonthResult | None:
    in_force = month_budget(budget, month)
    if in_force is None and not has_costs(rollup):
        return None
    terms = in_force.terms if in_force else None
    rollups = [rollup] if rollup else []
    currency = pick_currency(rollups, terms, default_currency)
    # A budget in a currency the user was not billed in cannot be compared: show what was
    # billed, without a verdict.
    comparable = rollup is None or not rollup.sections or currency in rollup.sections
    if not comparable:
        currency = pick_currency(rollups, None, default_currency)
    section = rollup.section(currency) if rollup else None
    total = section.totals.metric(metric) if section else Decimal(0)
    verdict = judge(total, terms) if terms is not None and comparable else Verdict()
    return MonthResult(
        month=month,
        currency=currency,
        total=total,
        budget=in_force,
        status=verdict.status,
        percent_used=verdict.percent_used,
        remaining=verdict.remaining,
        final=month_is_final(month, rollup, today),
    )


def month_summary(
    caller: Caller,
    user_id: str,
    *,
    stores: Stores,
    today: date,
    metric: str,
    default_currency: str,
) -> Summary:
    """This month's figures against the budget in force this month, and last month's result
    against its own: one Query and one GetItem, whatever the data.

    Until this month's first costs arrive (``no_costs_yet``) there is no verdict: status,
    share used and remaining are None, and ``first_costs_expected`` says when to look again.
    """
    require_user_access(caller, user_id)
    month = month_of(today)
    previous = previous_month(month)
    # One Query for this month and the last (its result and late restatements are shown).
    both = {r.month: r for r in stores.rollups.months(user_id, previous, month)}
    rollup = both.get(month)
    stored = stores.budgets.get_for_user(user_id)  # its history holds every month's terms
    budget = month_budget(stored, month)
    terms = budget.terms if budget else None
    rollups = [rollup] if rollup else []
    currency = pick_currency(rollups, terms, default_currency)
    section = rollup.section(currency) if rollup else None
    total = section.totals.metric(metric) if section else Decimal(0)
    no_costs_yet = not has_costs(rollup)
    # A budget in a currency the user is not billed in cannot be compared: say so, do not guess.
    mismatch = bool(terms and not no_costs_yet and section is None)
    verdict = Verdict()
    if terms is not None and not mismatch and not no_costs_yet:
        verdict = judge(total, terms)
    drivers = sorted(
        section.top_resources if section else [],
        key=lambda r: (-r.amounts.metric(metric), r.resource_id),
    )[:TOP_DRIVERS]
    return Summary(
        user_id=user_id,
        month=month,
        today=today,
        currency=currency,
        metric=metric,
        total=total,
        budget=budget,
        remaining=verdict.remaining,
        remaining_pct=verdict.remaining_pct,
        percent_used=verdict.percent_used,
        status=verdict.status,
        top_drivers=drivers,
        estimated=bool(rollup and rollup.estimated),
        updated_at=rollup.updated_at if rollup else None,
        forecast=_forecast_for(rollup, currency),
        no_costs_yet=no_costs_yet,
        first_costs_expected=first_costs_expected(month, today) if no_costs_yet else None,
        previous_month=_month_result(
            previous,
            both.get(previous),
            stored,
            today=today,
            metric=metric,
            default_currency=default_currency,
        ),
        restatements=[x for r in both.values() for x in r.restatements],
        other_currencies=_others(rollups, currency, metric),
        currency_mismatch=mismatch,
    )


# --- all users (admin) -----------------------------------------------------------------


@dataclass(frozen=True)
class UserPreviousMonth:
    currency: str
    total: Decimal
    budget: BudgetTerms | None  # in force that month
    status: BudgetStatus | None


@dataclass(frozen=True)
class UserMonth:
    user: UserProfile
    currency: str
    total: Decimal
    budget: BudgetTerms | None  # in force in the month shown (a future month: as planned)
    status: BudgetStatus | None
    previous_month: UserPreviousMonth | None = None


@dataclass(frozen=True)
class OrgPreviousMonth:
    month: str
    currency: str
    org_total: Decimal
    unallocated: Decimal
    final: bool


TOP_UNOWNED = 5


@dataclass(frozen=True)
class Attribution:
    """How much of the month's cost has an owner, and the largest resources that have none."""

    coverage: Decimal | None  # percent of the organisation total that is owned; None: no costs
    owned: Decimal
    unallocated: Decimal
    top_unowned: list[ResourceCost]


def attribution(
    org_total: Decimal, unowned: Decimal, top: list[ResourceCost], metric: str, *, costs: bool
) -> Attribution:
    """Owned is what the allocation gave to someone: the total less the unallocated roll-up.

    Coverage is None when there is nothing to divide (no costs, or credits that net the month
    to zero); only resources that cost something are worth an admin's click.
    """
    coverage = (
        ((org_total - unowned) / org_total * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if costs and org_total
        else None
    )
    ranked = sorted(
        (r for r in top if r.amounts.metric(metric) > 0),
        key=lambda r: (-r.amounts.metric(metric), r.resource_id),
    )
    return Attribution(coverage, org_total - unowned, unowned, ranked[:TOP_UNOWNED])


@dataclass(frozen=True)
class OrgMonth:
    month: str
    today: date
    currency: str
    metric: str
    users: Page[UserMonth]
    org_total: Decimal
    unallocated: Decimal
    estimated: bool
    no_costs_yet: bool = False
    first_costs_expected: date | None = None
    previous_month: OrgPreviousMonth | None = None
    attribution: Attribution = field(
        default_factory=lambda: Attribution(None, Decimal(0), Decimal(0), [])
    )


def all_users(
    caller: Caller,
    *,
    stores: Stores,
    month: str,
    today: date,
    limit: int,
    start_key: PageKey | None,
    metric: str,
    default_currency: str,
) -> OrgMonth:
    """One page of users with their month and the month before, each judged by the budget in
    force then: a directory Query and two BatchGets (roll-ups of both months in one).

    While the organisation has no figures for the month (``no_costs_yet``) no one is judged:
    statuses are None, and the previous month is there to look at instead.
    """
    require_admin(caller)
    page = stores.users.list(limit, start_key)
    ids = [u.user_id for u in page.items]
    previous = previous_month(month)
    rollups = stores.rollups.get_many_months([*ids, ORG, UNALLOCATED], [month, previous])
    stored = stores.budgets.get_many(ids)  # each item carries its history: both months' terms

    def figure(owner: str, m: str, currency: str) -> Decimal:
        r = rollups.get((owner, m))
        s = r.section(currency) if r else None
        return s.totals.metric(metric) if s else Decimal(0)

    def org_currency(m: str) -> str:
        org = rollups.get((ORG, m))
        return pick_currency([org] if org else [], None, default_currency)

    shown, before = org_currency(month), org_currency(previous)
    org_has_costs = has_costs(rollups.get((ORG, month)))
    org_had_costs = has_costs(rollups.get((ORG, previous)))

    def row(user: UserProfile) -> UserMonth:
        budget = stored.get(user.user_id)
        terms = budget_for_month(budget, month)
        currency = terms.currency if terms else shown
        spent = figure(user.user_id, month, currency)
        status = budget_status(spent, terms) if terms and org_has_costs else None
        last_terms = budget_for_month(budget, previous)
        last: UserPreviousMonth | None = None
        if last_terms is not None or has_costs(rollups.get((user.user_id, previous))):
            last_currency = last_terms.currency if last_terms else before
            last_spent = figure(user.user_id, previous, last_currency)
            last_status = (
                budget_status(last_spent, last_terms) if last_terms and org_had_costs else None
            )
            last = UserPreviousMonth(last_currency, last_spent, last_terms, last_status)
        return UserMonth(user, currency, spent, terms, status, last)

    org_rollup = rollups.get((ORG, month))
    org_total, unowned = figure(ORG, month, shown), figure(UNALLOCATED, month, shown)
    unowned_rollup = rollups.get((UNALLOCATED, month))
    unowned_section = unowned_rollup.section(shown) if unowned_rollup else None
    return OrgMonth(
        month=month,
        currency=shown,
        metric=metric,
        users=Page(items=[row(u) for u in page.items], next_key=page.next_key),
        org_total=org_total,
        unallocated=unowned,
        estimated=bool(org_rollup and org_rollup.estimated),
        attribution=attribution(
            org_total,
            unowned,
            unowned_section.top_resources if unowned_section else [],
            metric,
            costs=org_has_costs,
        ),
        today=today,
        no_costs_yet=not org_has_costs,
        first_costs_expected=None if org_has_costs else first_costs_expected(month, today),
        previous_month=OrgPreviousMonth(
            month=previous,
            currency=before,
            org_total=figure(ORG, previous, before),
            unallocated=figure(UNALLOCATED, previous, before),
            final=month_is_final(previous, rollups.get((ORG, previous)), today),
        )
        if org_had_costs
        else None,
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
    require_owner_access(caller, user_id)
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
