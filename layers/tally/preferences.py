"""A user's notification preferences: email alerts on or off, the digest cadence, and the
alert threshold.

The threshold is kept in one place, the caller's budget: it is read from the terms in force
this month and changed through ``tally.budgets.update_budget``, so the budget's history and
audit rules apply to it as to any budget change. Preferences are the caller's own: admins do
not read or change anyone else's.

The version a client sends back (If-Match) covers both halves, ``"<preferences>.<budget>"``:
a threshold changed on the budget screen since the read is a conflict here too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tally import budgets
from tally.calendar import month_of
from tally.clock import Clock, utc_now
from tally.errors import Conflict, Invalid
from tally.models import Budget, DigestCadence, Preferences
from tally.view import View

ALERT_THRESHOLD_FIELD = "alertThreshold"


@dataclass(frozen=True)
class PreferenceChanges:
    """The fields to change; None leaves one as it is."""

    email_alerts: bool | None = None
    digest: DigestCadence | None = None
    alert_threshold: int | None = None


@dataclass(frozen=True)
class UserPreferences:
    preferences: Preferences
    alert_threshold: int | None  # the budget's, in force this month; None without a budget
    budget_version: int | None  # None without a budget

    @property
    def version(self) -> str:
        """What If-Match must carry to change them: both halves' versions."""
        return f"{self.preferences.version}.{self.budget_version or 0}"


def _read(view: View) -> tuple[Preferences, Budget | None, UserPreferences]:
    user_id = view.caller.user_id
    stored = view.stores.preferences.get(user_id)
    preferences = stored if stored is not None else Preferences(user_id=user_id)
    budget = view.stores.budgets.get_for_user(user_id)
    terms = budgets.budget_for_month(budget, month_of(view.today))
    return (
        preferences,
        budget,
        UserPreferences(
            preferences=preferences,
            alert_threshold=terms.alert_threshold if terms is not None else None,
            budget_version=budget.version if budget is not None else None,
        ),
    )


def get_preferences(view: View) -> UserPreferences:
    """The caller's preferences (the defaults when none are stored) and their threshold."""
    return _read(view)[2]


def update_preferences(
    view: View,
    changes: PreferenceChanges,
    *,
    expected_version: str | None = None,
    clock: Clock = utc_now,
) -> UserPreferences:
    """Change the caller's preferences; with ``expected_version`` (If-Match) a stale client
    gets a conflict. A threshold change is a budget change from this month on; without a
    budget there is no threshold to change (422 on ``alertThreshold``).

    The two halves are written one after the other, the budget first: a conflict on the
    second leaves the first applied, and the client's retry (same values) is harmless."""
    preferences, budget, current = _read(view)
    if expected_version is not None and expected_version != current.version:
        raise Conflict("your preferences were changed since you read them; reload and retry")
    if changes.alert_threshold is not None and changes.alert_threshold != current.alert_threshold:
        if budget is None:
            raise Invalid.field(
                ALERT_THRESHOLD_FIELD,
                "the alert threshold is part of your budget: create a budget first",
            )
        budgets.update_budget(
            view,
            budget.budget_id,
            budgets.BudgetChanges(alert_threshold=changes.alert_threshold),
            expected_version=budget.version,
            clock=clock,
        )
    if changes.email_alerts is not None or changes.digest is not None:
        view.stores.preferences.put(
            replace(
                preferences,
                email_alerts=preferences.email_alerts
                if changes.email_alerts is None
                else changes.email_alerts,
                digest=preferences.digest if changes.digest is None else changes.digest,
                updated_at=clock(),
            )
        )
    return get_preferences(view)
