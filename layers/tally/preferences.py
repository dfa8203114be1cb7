"""A user's notification preferences: email alerts on or off, the digest cadence, and the
alert threshold.

The threshold is kept in one place, the caller's budget: it is read from the terms in force
this month and changed through ``tally.budgets.update_budget``, so the budget's history and
audit rules apply to it as to any budget change. Preferences are the caller's own: admins do
not read or change anyone else's.

The version a client sends back (If-Match) covers both halves, ``"<preferences>.<budget>"``:
a threshold changed on the budget screen since the read is a conflict here too.

A chat webhook URL is checked (https, a public host after DNS: ``tally.notify.webhooks``),
sealed for the user (``SecretBox``, KMS in AWS) and stored with a hint; nothing reads it back
in clear but the code that posts to it. An email suppression (a permanent bounce or a
complaint, ``tally.email_feedback``) is lifted only by the user asking for email again
(``resume_email``): the address had failed, and only its owner knows it is fixed. Turning
email alerts on does not lift it; a changed email address is not covered by it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from tally import budgets
from tally.calendar import month_of
from tally.clock import Clock, utc_now
from tally.errors import Conflict, Invalid
from tally.models import Budget, DigestCadence, Preferences, StoredWebhook
from tally.notify.ports import ChatMessage, SecretBox, SendFailed, WebhookPoster, WebhookRefused
from tally.view import View

ALERT_THRESHOLD_FIELD = "alertThreshold"
WEBHOOK_FIELD = "webhookUrl"

Resolver = Callable[..., Any]  # socket.getaddrinfo's shape


@dataclass(frozen=True)
class WebhookGuard:
    """What setting a webhook URL needs: where it is sealed, and how its host is checked
    (``allow_loopback`` only for the local stack's own receiver)."""

    secrets: SecretBox
    allow_loopback: bool = False
    resolve: Resolver = socket.getaddrinfo


@dataclass(frozen=True)
class PreferenceChanges:
    """The fields to change; None leaves one as it is."""

    email_alerts: bool | None = None
    digest: DigestCadence | None = None
    alert_threshold: int | None = None
    webhook_url: str | None = None  # set this chat webhook (checked, then sealed)
    remove_webhook: bool = False
    resume_email: bool = False  # lift the email suppression: the user fixed their mailbox
    display_currency: str | None = None  # show my figures in this currency
    clear_display_currency: bool = False  # back to the organisation's display currency

    @property
    def touches_preferences(self) -> bool:
        return (
            self.email_alerts is not None
            or self.digest is not None
            or self.webhook_url is not None
            or self.remove_webhook
            or self.resume_email
            or self.display_currency is not None
            or self.clear_display_currency
        )


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


def _webhook(url: str, user_id: str, guard: WebhookGuard | None) -> StoredWebhook:
    if guard is None:
        raise ValueError("setting a webhook needs a WebhookGuard")
    from tally.notify.webhooks import flavour_of, hint_of, validate_webhook_url

    try:
        checked = validate_webhook_url(
            url, allow_loopback=guard.allow_loopback, resolve=guard.resolve
        )
    except WebhookRefused as error:
        raise Invalid.field(WEBHOOK_FIELD, error.reason) from None
    return StoredWebhook(
        ciphertext=guard.secrets.seal(checked, user_id=user_id),
        hint=hint_of(checked),
        flavour=flavour_of(checked),
    )


def update_preferences(
    view: View,
    changes: PreferenceChanges,
    *,
    expected_version: str | None = None,
    clock: Clock = utc_now,
    webhooks: WebhookGuard | None = None,
) -> UserPreferences:
    """Change the caller's preferences; with ``expected_version`` (If-Match) a stale client
    gets a conflict. A threshold change is a budget change from this month on; without a
    budget there is no threshold to change (422 on ``alertThreshold``). A webhook URL that is
    not allowed is 422 on ``webhookUrl``, before anything is written.

    The two halves are written one after the other, the budget first: a conflict on the
    second leaves the first applied, and the client's retry (same values) is harmless."""
    preferences, budget, current = _read(view)
    if expected_version is not None and expected_version != current.version:
        raise Conflict("your preferences were changed since you read them; reload and retry")
    if changes.webhook_url is not None and changes.remove_webhook:
        raise Invalid.field(WEBHOOK_FIELD, "set a webhook or remove it, not both")
    webhook = preferences.webhook
    if changes.remove_webhook:
        webhook = None
    elif changes.webhook_url is not None:
        webhook = _webhook(changes.webhook_url, view.caller.user_id, webhooks)
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
    if changes.touches_preferences:
        view.stores.preferences.put(
            replace(
                preferences,
                email_alerts=preferences.email_alerts
                if changes.email_alerts is None
                else changes.email_alerts,
                digest=preferences.digest if changes.digest is None else changes.digest,
                webhook=webhook,
                email_suppressed=None if changes.resume_email else preferences.email_suppressed,
                display_currency=None
                if changes.clear_display_currency
                else changes.display_currency or preferences.display_currency,
                updated_at=clock(),
            )
        )
    return get_preferences(view)


TEST_MESSAGE = ChatMessage(
    title="Tally is connected",
    text="This is a test message from Tally. Budget alerts will arrive here.",
    link=None,
    level="test",
)


def send_test_webhook(
    view: View, *, secrets: SecretBox, poster: WebhookPoster, link: str | None = None
) -> None:
    """Post a sample message to the caller's webhook. No webhook set: a conflict (409); a
    refused URL or a failed delivery: 422 on ``webhookUrl`` with the reason (the failure is
    the webhook's, not ours, so never a 5xx)."""
    stored = view.stores.preferences.get(view.caller.user_id)
    if stored is None or stored.webhook is None:
        raise Conflict("you have no webhook to test: set webhookUrl first")
    url = secrets.open(stored.webhook.ciphertext, user_id=view.caller.user_id)
    try:
        poster.post(url, replace(TEST_MESSAGE, link=link))
    except WebhookRefused as error:
        raise Invalid.field(WEBHOOK_FIELD, error.reason) from None
    except SendFailed as error:
        raise Invalid.field(
            WEBHOOK_FIELD, f"the webhook did not take the test message: {error.reason}"
        ) from None
