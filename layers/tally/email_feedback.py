"""SES feedback: a permanent bounce or a complaint stops email to that address, and the user
hears of it in the app.

SES publishes its events (configuration set event destination, through SNS) as JSON:
``eventType`` "Bounce" (``bounce.bounceType`` "Permanent" | "Transient" | "Undetermined",
``bounce.bouncedRecipients[].emailAddress``) or "Complaint"
(``complaint.complainedRecipients[].emailAddress``), with the message's tags under
``mail.tags`` as lists (``{"userId": ["u-1"], ...}``). Identity notifications say
``notificationType`` instead of ``eventType``; both are read.

Only a permanent bounce or a complaint suppresses: a transient bounce (a full mailbox, a
server down) is SES's to retry. The address must be the user's current email: a bounce of an
address the user has since replaced stops nothing. Recording the same event twice (SNS
delivers at least once) changes nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tally.models import EmailSuppression, Notification
from tally.store import Stores

BOUNCE = "bounce"
COMPLAINT = "complaint"
NOTIFICATION_KIND = "email-stopped"
SETTINGS_LINK = "#/settings"


def _event_type(event: Mapping[str, Any]) -> str:
    return str(event.get("eventType") or event.get("notificationType") or "")


def _reason(event: Mapping[str, Any]) -> str | None:
    kind = _event_type(event)
    if kind == "Bounce":
        bounce = event.get("bounce") or {}
        return BOUNCE if bounce.get("bounceType") == "Permanent" else None
    if kind == "Complaint":
        return COMPLAINT
    return None


def _recipients(event: Mapping[str, Any], reason: str) -> list[str]:
    part, key = (
        ("bounce", "bouncedRecipients")
        if reason == BOUNCE
        else (
            "complaint",
            "complainedRecipients",
        )
    )
    listed = (event.get(part) or {}).get(key) or []
    return [
        str(r["emailAddress"]) for r in listed if isinstance(r, Mapping) and r.get("emailAddress")
    ]


def _user_id(event: Mapping[str, Any]) -> str | None:
    tags = (event.get("mail") or {}).get("tags") or {}
    value = tags.get("userId")
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value else None


def _message(address: str, reason: str) -> tuple[str, str]:
    title = f"We stopped emailing you at {address}"
    if reason == BOUNCE:
        why = "your mail server refused our last message as undeliverable"
    else:
        why = "our last message was reported as spam from your mailbox"
    body = (
        f"We stopped emailing you at {address}: {why}. Your alerts still appear here. Once "
        "your mailbox is fixed, turn email back on in Settings."
    )
    return title, body


def record(stores: Stores, ses_event: Mapping[str, Any], *, now: datetime) -> bool:
    """Apply one SES event: whether it stopped email now (False: ignored, or already
    stopped for that address)."""
    reason = _reason(ses_event)
    user_id = _user_id(ses_event)
    if reason is None or user_id is None:
        return False
    profile = stores.users.get(user_id)
    if profile is None or not profile.email:
        return False
    suppression = EmailSuppression(address=profile.email, reason=reason, at=now)
    if not any(suppression.covers(a) for a in _recipients(ses_event, reason)):
        return False
    preferences = stores.preferences.get(user_id)
    stopped = preferences.email_suppressed if preferences is not None else None
    if stopped is not None and stopped.covers(profile.email):
        return False
    # The notification first, keyed by the SES message: if the suppression's write fails, the
    # retried event finds the notification there and writes only the suppression.
    raw_id = str((ses_event.get("mail") or {}).get("messageId") or f"{now:%Y%m%dT%H%M%S}")
    message_id = re.sub(r"[^A-Za-z0-9._-]", "-", raw_id)[:200]
    title, body = _message(profile.email, reason)
    stores.notifications.add(
        Notification(
            notification_id=f"{NOTIFICATION_KIND}#{message_id}",
            user_id=user_id,
            kind=NOTIFICATION_KIND,
            title=title,
            body=body,
            link=SETTINGS_LINK,
            created_at=now,
        )
    )
    stores.preferences.set_suppression(user_id, suppression, at=now)
    return True
