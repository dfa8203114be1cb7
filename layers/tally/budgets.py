"""Monthly budgets: one budget per user with the history of its terms, optimistic locking on
update.

Budgets in time: each change takes effect from a month (``effective_from``, YYYY-MM; the
current month unless backdated), and a month is judged by the terms in force during it
(``budget_for_month``), so raising a budget today does not rewrite last month's verdict.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from tally.access import allows, require
from tally.authz import Target
from tally.calendar import month_of
from tally.clock import Clock, utc_now
from tally.errors import Conflict, Invalid, NotFound
from tally.identity import Caller
from tally.models import AuditEntry, Budget, BudgetStatus, BudgetTerms
from tally.org.costs import cost_center_subject, team_subject
from tally.users import UserSource, require_known_user
from tally.view import View

DEFAULT_THRESHOLD = 80
EFFECTIVE_FROM_FIELD = "effectiveFrom"
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class BudgetRequest:
    user_id: str | None  # a user's budget, or (None) that of ``team_id`` or ``cost_center``
    monthly_limit: Decimal
    alert_threshold: int = DEFAULT_THRESHOLD
    currency: str = "USD"
    effective_from: str | None = None  # YYYY-MM; default: the current month
    team_id: str | None = None
    cost_center: str | None = None


@dataclass(frozen=True)
class BudgetChanges:
    monthly_limit: Decimal | None = None
    alert_threshold: int | None = None
    effective_from: str | None = None  # YYYY-MM; default: the current month


def budget_for_month(budget: Budget | None, month: str) -> BudgetTerms | None:
    """The terms in force in ``month`` (YYYY-MM): the latest change effective at or before it.

    None before the first change (there was no budget then). A month after the last change,
    a future one included, gets the current terms: what is planned for it today.
    """
    if budget is None:
        return None
    in_force = None
    for terms in budget.changes:  # oldest first
        if terms.effective_from > month:
            break
        in_force = terms
    return in_force


def _effective_month(requested: str | None, today: date) -> str:
    """The month a change takes effect: the one asked for (this month or earlier), else this
    month. Later months are refused: the current terms are always the latest change."""
    current = month_of(today)
    if requested is None:
        return current
    if not MONTH.fullmatch(requested) or requested < "0001-01":
        raise Invalid.field(EFFECTIVE_FROM_FIELD, "effectiveFrom is a month, YYYY-MM")
    if requested > current:
        raise Invalid.field(
            EFFECTIVE_FROM_FIELD, f"effectiveFrom cannot be later than the current month {current}"
        )
    return requested


def _audit(caller: Caller, budget: Budget, action: str, at: datetime) -> AuditEntry:
    return AuditEntry(
        subject_user_id=budget.user_id,
        at=at,
        actor=caller.user_id,
        action=action,
        entity_id=budget.budget_id,
        details={
            "monthlyLimit": str(budget.monthly_limit),
            "alertThreshold": str(budget.alert_threshold),
            "currency": budget.currency,
            "effectiveFrom": budget.effective_from,
        },
    )


def create_budget(
    view: View,
    request: BudgetRequest,
    *,
    user_source: UserSource | None = None,
    clock: Clock = utc_now,
) -> Budget:
    """Create ``request.user_id``'s budget, in force from ``request.effective_from`` (default:
    the view's month). ``clock`` stamps the record; the view's ``today`` decides the month."""
    caller, stores = view.caller, view.stores
    subjects = [request.user_id, request.team_id, request.cost_center]
    if sum(s is not None for s in subjects) != 1:
        raise Invalid.field("userId", "give exactly one of userId, teamId and costCenter")
    if request.team_id is not None:
        owner = team_subject(view, "budgets:write", request.team_id)
    elif request.cost_center is not None:
        owner = cost_center_subject(view, "budgets:write", request.cost_center)
    else:
        assert request.user_id is not None
        require(caller, "budgets:write", Target.user(request.user_id))
        require_known_user(request.user_id, stores.users, user_source)
        owner = request.user_id
    now = clock()
    terms = BudgetTerms(
        effective_from=_effective_month(request.effective_from, view.today),
        monthly_limit=request.monthly_limit,
        alert_threshold=request.alert_threshold,
        currency=request.currency,
    )
    budget = Budget(
        budget_id=str(uuid.uuid4()),
        user_id=owner,
        monthly_limit=terms.monthly_limit,
        alert_threshold=terms.alert_threshold,
        currency=terms.currency,
        created_at=now,
        updated_at=now,
        version=0,
        history=(terms,),
    )
    stores.budgets.create(budget, _audit(caller, budget, "budget.created", now))
    return replace(budget, version=1)


def get_team_budget(view: View, team_id: str) -> Budget:
    budget = view.stores.budgets.get_for_user(team_subject(view, "budgets:read", team_id))
    if budget is None:
        raise NotFound("this team has no budget yet")
    return budget


def get_cost_center_budget(view: View, code: str) -> Budget:
    budget = view.stores.budgets.get_for_user(cost_center_subject(view, "budgets:read", code))
    if budget is None:
        raise NotFound("this cost center has no budget yet")
    return budget


def get_budget(view: View, user_id: str) -> Budget:
    require(view.caller, "budgets:read", Target.owner(user_id))
    budget = view.stores.budgets.get_for_user(user_id)
    if budget is None:
        raise NotFound("this user has no budget yet")
    return budget


def update_budget(
    view: View,
    budget_id: str,
    changes: BudgetChanges,
    *,
    expected_version: int | None = None,
    clock: Clock = utc_now,
) -> Budget:
    """Apply ``changes`` from their effective month on (default: the view's month); with
    ``expected_version`` (If-Match) a stale client gets a conflict even when its write would
    not race anyone.

    The new terms are the current ones with the given fields changed. They hold from the
    effective month on: a change effective from M replaces every change effective at or
    after M (there is one set of terms per month), and months before M keep theirs.
    """
    caller, stores = view.caller, view.stores
    user_id = stores.budgets.user_of(budget_id)
    # Target.owner: a team's budget (user_id "team:<id>") is decided on the team, a cost
    # center's ("costcenter:<code>") at the organisation.
    if user_id is None or not allows(caller, "budgets:write", Target.owner(user_id)):
        raise NotFound("no such budget")
    current = stores.budgets.get_for_user(user_id)
    if current is None or current.budget_id != budget_id:
        raise NotFound("no such budget")
    if expected_version is not None and expected_version != current.version:
        raise Conflict("the budget was changed since you read it; reload and retry")
    now = clock()
    terms = BudgetTerms(
        effective_from=_effective_month(changes.effective_from, view.today),
        monthly_limit=current.monthly_limit
        if changes.monthly_limit is None
        else changes.monthly_limit,
        alert_threshold=current.alert_threshold
        if changes.alert_threshold is None
        else changes.alert_threshold,
        currency=current.currency,
    )
    earlier = tuple(t for t in current.changes if t.effective_from < terms.effective_from)
    updated = replace(
        current,
        monthly_limit=terms.monthly_limit,
        alert_threshold=terms.alert_threshold,
        updated_at=now,
        history=(*earlier, terms),
    )
    return stores.budgets.update(updated, _audit(caller, updated, "budget.updated", now))


def budget_status(spent: Decimal, budget: Budget | BudgetTerms) -> BudgetStatus:
    """under / warning (at or above the threshold) / over (at or above the limit).

    A zero budget means "alert on any spend": any positive spend is over.
    """
    if budget.monthly_limit == 0:
        return BudgetStatus.OVER if spent > 0 else BudgetStatus.UNDER
    if spent >= budget.monthly_limit:
        return BudgetStatus.OVER
    if spent * 100 >= budget.monthly_limit * budget.alert_threshold:
        return BudgetStatus.WARNING
    return BudgetStatus.UNDER
