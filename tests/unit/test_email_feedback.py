"""SES bounces and complaints stop email to that address and tell the user in the app: the
event samples are shaped as SES publishes them (configuration set event destination to SNS,
docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tally import email_feedback
from tally.models import EmailSuppression, Preferences
from tally.store import Stores, memory_stores
from tests.conftest import ALICE, BOB, profile

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

MAIL: dict[str, Any] = {
    "timestamp": "2026-11-20T09:29:58.000Z",
    "source": "Tally <alerts@tally.example.com>",
    "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/tally.example.com",
    "sendingAccountId": "123456789012",
    "messageId": "0100019357a1b2c3-4d5e6f70-1234-4abc-9def-0123456789ab-000000",
    "destination": ["alice@example.com"],
    "headersTruncated": False,
    "commonHeaders": {
        "from": ["Tally <alerts@tally.example.com>"],
        "to": ["alice@example.com"],
        "subject": "You have used 85% of your November AWS budget",
    },
    "tags": {
        "ses:configuration-set": ["tally-alerts"],
        "ses:source-ip": ["192.0.2.0"],
        "ses:from-domain": ["tally.example.com"],
        "ses:caller-identity": ["tally-alerts-function"],
        "userId": ["u-alice"],
        "kind": ["threshold"],
        "period": ["2026-11"],
    },
}

PERMANENT_BOUNCE: dict[str, Any] = {
    "eventType": "Bounce",
    "bounce": {
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [
            {
                "emailAddress": "alice@example.com",
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown",
            }
        ],
        "timestamp": "2026-11-20T09:30:00.000Z",
        "feedbackId": "0100019357a1b2c3-11111111-2222-3333-4444-555555555555-000000",
        "reportingMTA": "dsn; mta.example.com",
    },
    "mail": MAIL,
}

TRANSIENT_BOUNCE: dict[str, Any] = {
    **PERMANENT_BOUNCE,
    "bounce": {
        **PERMANENT_BOUNCE["bounce"],
        "bounceType": "Transient",
        "bounceSubType": "MailboxFull",
    },
}

COMPLAINT: dict[str, Any] = {
    "eventType": "Complaint",
    "complaint": {
        "complainedRecipients": [{"emailAddress": "alice@example.com"}],
        "timestamp": "2026-11-20T09:31:00.000Z",
        "feedbackId": "0100019357a1b2c3-66666666-7777-8888-9999-000000000000-000000",
        "userAgent": "Mozilla/5.0",
        "complaintFeedbackType": "abuse",
        "arrivalDate": "2026-11-20T09:30:59.000Z",
    },
    "mail": MAIL,
}


@pytest.fixture
def stores() -> Stores:
    s = memory_stores()
    for c in (ALICE, BOB):
        s.users.put(profile(c))
    return s


def notes(stores: Stores, user: str = "u-alice") -> list[Any]:
    return stores.notifications.list(user, limit=100, start_key=None).items


def test_a_permanent_bounce_stops_email_and_says_so(stores: Stores) -> None:
    stores.preferences.put(Preferences("u-alice", email_alerts=True))
    assert email_feedback.record(stores, PERMANENT_BOUNCE, now=NOW) is True
    prefs = stores.preferences.get("u-alice")
    assert prefs is not None
    assert prefs.email_suppressed == EmailSuppression("alice@example.com", "bounce", NOW)
    assert prefs.email_alerts is True  # the user's wish stays; the suppression is a fact
    [note] = notes(stores)
    assert note.title == "We stopped emailing you at alice@example.com"
    assert note.body.startswith("We stopped emailing you at alice@example.com: ")
    assert (note.kind, note.link, note.read) == ("email-stopped", "#/settings", False)
    assert notes(stores, "u-bob") == []


def test_a_complaint_stops_email_too(stores: Stores) -> None:
    assert email_feedback.record(stores, COMPLAINT, now=NOW) is True
    prefs = stores.preferences.get("u-alice")
    assert prefs is not None and prefs.email_suppressed is not None
    assert prefs.email_suppressed.reason == "complaint"
    assert "spam" in notes(stores)[0].body


def test_the_same_event_twice_changes_nothing_more(stores: Stores) -> None:
    email_feedback.record(stores, PERMANENT_BOUNCE, now=NOW)
    first = stores.preferences.get("u-alice")
    assert email_feedback.record(stores, PERMANENT_BOUNCE, now=NOW + timedelta(minutes=5)) is False
    assert email_feedback.record(stores, COMPLAINT, now=NOW + timedelta(minutes=6)) is False
    assert stores.preferences.get("u-alice") == first
    assert len(notes(stores)) == 1


def test_a_retry_after_a_failed_suppression_write_completes_it(stores: Stores) -> None:
    real = stores.preferences.set_suppression

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("DynamoDB is having a moment")

    stores.preferences.set_suppression = failing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        email_feedback.record(stores, PERMANENT_BOUNCE, now=NOW)
    stores.preferences.set_suppression = real  # type: ignore[method-assign]
    assert email_feedback.record(stores, PERMANENT_BOUNCE, now=NOW) is True
    assert len(notes(stores)) == 1
    assert stores.preferences.get("u-alice").email_suppressed is not None  # type: ignore[union-attr]


def _with(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(event)
    for path, value in changes.items():
        node = out
        *parents, last = path.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    return out


@pytest.mark.parametrize(
    "event",
    [
        TRANSIENT_BOUNCE,  # SES retries those itself
        _with(PERMANENT_BOUNCE, bounce__bounceType="Undetermined"),
        # an address the user has since replaced: their current one is fine
        _with(
            PERMANENT_BOUNCE,
            bounce__bouncedRecipients=[{"emailAddress": "alice@old.example.com"}],
        ),
        _with(COMPLAINT, complaint__complainedRecipients=[]),
        _with(PERMANENT_BOUNCE, mail__tags={"kind": ["threshold"]}),  # no user
        _with(PERMANENT_BOUNCE, mail__tags={"userId": ["u-nobody"]}),  # unknown user
        _with(PERMANENT_BOUNCE, mail__tags={"userId": []}),
        {**PERMANENT_BOUNCE, "eventType": "Delivery"},
        {"eventType": "Bounce"},
        {},
    ],
)
def test_what_stops_nothing(stores: Stores, event: dict[str, Any]) -> None:
    assert email_feedback.record(stores, event, now=NOW) is False
    assert stores.preferences.get("u-alice") is None
    assert notes(stores) == []


def test_identity_notifications_and_case_differences_are_read_too(stores: Stores) -> None:
    """SES identity notifications say notificationType; mail servers may change case."""
    event = _with(
        {**PERMANENT_BOUNCE, "notificationType": "Bounce"},
        bounce__bouncedRecipients=[{"emailAddress": "Alice@Example.COM"}],
        mail__tags={"userId": "u-alice"},
    )
    del event["eventType"]
    assert email_feedback.record(stores, event, now=NOW) is True


def test_only_the_tagged_user_is_suppressed(stores: Stores) -> None:
    """The bounced address must be the tagged user's own: bob's tag on alice's address (or a
    message to several recipients) never stops bob's email."""
    event = _with(PERMANENT_BOUNCE, mail__tags={"userId": ["u-bob"]})
    assert email_feedback.record(stores, event, now=NOW) is False
    assert stores.preferences.get("u-bob") is None


def test_a_suppression_lifted_by_the_user_can_be_set_again(stores: Stores) -> None:
    email_feedback.record(stores, PERMANENT_BOUNCE, now=NOW)
    stores.preferences.set_suppression("u-alice", None, at=NOW)
    later = _with(PERMANENT_BOUNCE, mail__messageId="0100-later-000000")
    assert email_feedback.record(stores, later, now=NOW + timedelta(days=2)) is True
    assert len(notes(stores)) == 2
