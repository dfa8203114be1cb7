"""The admin's month of the organisation: a page of users, each with their month and the month
before judged by the budget in force then, the organisation's total, what nobody owns and how
much of the cost has an owner. Read from roll-ups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from tally.access import require
from tally.authz import Target
from tally.budgets import budget_for_month, budget_status
from tally.calendar import first_day, last_day, previous_month
from tally.models import (
    ORG,
    UNALLOCATED,
    BudgetStatus,
    BudgetTerms,
    Metric,
    Page,
    ResourceCost,
    UserProfile,
)
from tally.rates import ConvertedSet, Converter
from tally.reports.currency import daily_by_currency, pick_currency
from tally.reports.periods import first_costs_expected, has_costs, month_is_final
from tally.store import PageKey
from tally.view import View

TOP_UNOWNED = 5


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


@dataclass(frozen=True)
class Attribution:
    """How much of the month's cost has an owner, and the largest resources that have none."""

    coverage: Decimal | None  # percent of the organisation total that is owned; None: no costs
    owned: Decimal
    unallocated: Decimal
    top_unowned: list[ResourceCost]


def attribution(
    org_total: Decimal, unowned: Decimal, top: list[ResourceCost], metric: Metric, *, costs: bool
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
        (r for r in top if r.amounts.amount(metric) > 0),
        key=lambda r: (-r.amounts.amount(metric), r.resource_id),
    )
    return Attribution(coverage, org_total - unowned, unowned, ranked[:TOP_UNOWNED])


@dataclass(frozen=True)
class OrgMonth:
    month: str
    today: date
    currency: str
    metric: Metric
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
    converted: dict[str, ConvertedSet] = field(default_factory=dict)  # by owner, with a quote


def all_users(
    view: View, *, month: str, limit: int, start_key: PageKey | None, quote: str | None = None
) -> OrgMonth:
    """One page of users with their month and the month before, each judged by the budget in
    force then: a directory Query and two BatchGets (roll-ups of both months in one).

    While the organisation has no figures for the month (``no_costs_yet``) no one is judged:
    statuses are None, and the previous month is there to look at instead.
    """
    for action in ("users:read", "costs:read"):
        require(view.caller, action, Target.org())
    stores, today, metric = view.stores, view.today, view.metric
    page = stores.users.list(limit, start_key)
    ids = [u.user_id for u in page.items]
    previous = previous_month(month)
    rollups = stores.rollups.get_many_months([*ids, ORG, UNALLOCATED], [month, previous])
    stored = stores.budgets.get_many(ids)  # each item carries its history: both months' terms

    def figure(owner: str, m: str, currency: str) -> Decimal:
        r = rollups.get((owner, m))
        s = r.section(currency) if r else None
        return s.totals.amount(metric) if s else Decimal(0)

    def org_currency(m: str) -> str:
        org = rollups.get((ORG, m))
        return pick_currency([org] if org else [], None, view.currency)

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

    converted: dict[str, ConvertedSet] = {}
    if quote is not None:
        converter = Converter(view.stores.rates, quote, first_day(month), last_day(month))
        for owner in [*ids, ORG, UNALLOCATED]:
            r = rollups.get((owner, month))
            converted[owner] = converter.convert_all(daily_by_currency([r] if r else [], metric))
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
        converted=converted,
    )
