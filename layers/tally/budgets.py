"""Monthly budgets: one active budget per user, optimistic locking on update."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

from tally.access import may_see, require_user_access
from tally.clock import Clock, utc_now
from tally.errors import Conflict, NotFound
from tally.identity import Caller
from tally.models import AuditEntry, Budget, BudgetStatus
from tally.store import Stores
from tally.users import UserSource, require_known_user

DEFAULT_THRESHOLD = 80


@dataclass(frozen=True)
class BudgetRequest:
    user_id: str
    monthly_limit: Decimal
    alert_threshold: int = DEFAULT_THRESHOLD
    currency: str = "USD"


@dataclass(frozen=True)
class BudgetChanges:
    monthly_limit: Decimal | None = None
    alert_threshold: int | None = None


def _audit(caller: Caller, budget: Budget, action: str, at) -> AuditEntry:  # type: ignore[no-untyped-def]
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
        },
    )


def create_budget(
    caller: Caller,
    request: BudgetRequest,
    *,
    stores: Stores,
    user_source: UserSource | None = None,
    clock: Clock = utc_now,
) -> Budget:
    require_user_access(caller, request.user_id)
    require_known_user(request.user_id, stores.users, user_source)
    now = clock()
    budget = Budget(
        budget_id=str(uuid.uuid4()),
        user_id=request.user_id,
        monthly_limit=request.monthly_limit,
        alert_threshold=request.alert_threshold,
        currency=request.currency,
        created_at=now,
        updated_at=now,
        version=0,
    )
    stores.budgets.create(budget, _audit(caller, budget, "budget.created", now))
    return replace(budget, version=1)


def get_budget(caller: Caller, user_id: str, *, stores: Stores) -> Budget:
    require_user_access(caller, user_id)
    budget = stores.budgets.get_for_user(user_id)
    if budget is None:
        raise NotFound("this user has no budget yet")
    return budget


def update_budget(
    caller: Caller,
    budget_id: str,
    changes: BudgetChanges,
    *,
    stores: Stores,
    expected_version: int | None = None,
    clock: Clock = utc_now,
) -> Budget:
    """Apply ``changes``; with ``expected_version`` (If-Match) a stale client gets a conflict
    even when its write would not race anyone."""
    user_id = stores.budgets.user_of(budget_id)
    if user_id is None or not may_see(caller, user_id):
        raise NotFound("no such budget")
    current = stores.budgets.get_for_user(user_id)
    if current is None or current.budget_id != budget_id:
        raise NotFound("no such budget")
    if expected_version is not None and expected_version != current.version:
        raise Conflict("the budget was changed since you read it; reload and retry")
    now = clock()
    updated = replace(
        current,
        monthly_limit=current.monthly_limit
        if changes.monthly_limit is None
        else changes.monthly_limit,
        alert_threshold=current.alert_threshold
        if changes.alert_threshold is None
        else changes.alert_threshold,
        updated_at=now,
    )
    return stores.budgets.update(updated, _audit(caller, updated, "budget.updated", now))


def budget_status(spent: Decimal, budget: Budget) -> BudgetStatus:
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
