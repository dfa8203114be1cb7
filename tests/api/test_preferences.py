"""Preferences through the handler: defaults, changes, the threshold kept on the budget, and
optimistic locking across both."""

from __future__ import annotations

import pytest

from tests.api.conftest import FakeChannels
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api, World


def test_defaults_with_the_budgets_threshold(api: Api, world: World) -> None:
    reply = api.call("GET", "/api/preferences", ALICE)
    assert reply.status == 200
    assert reply.body == {
        "emailAlerts": True,
        "digest": "off",
        "alertThreshold": 80,
        "webhook": None,
        "emailSuppressed": None,
        "displayCurrency": None,
        "updatedAt": None,
        "version": "0.1",
    }
    assert reply.headers["ETag"] == '"0.1"'
    assert reply.headers["Cache-Control"] == "private, no-cache"


def test_without_a_budget_there_is_no_threshold(api: Api, world: World) -> None:
    assert api.call("GET", "/api/preferences", BOB).body["alertThreshold"] is None
    reply = api.call("PUT", "/api/preferences", BOB, body={"alertThreshold": 70, "digest": "daily"})
    assert reply.status == 422
    assert [e["field"] for e in reply.problem["errors"]] == ["alertThreshold"]
    assert "create a budget" in reply.problem["errors"][0]["message"]
    # Refused whole: the digest was not saved either.
    assert api.call("GET", "/api/preferences", BOB).body["digest"] == "off"


def test_update_keeps_the_fields_not_given(api: Api, world: World) -> None:
    reply = api.call("PUT", "/api/preferences", ALICE, body={"digest": "weekly"})
    assert reply.status == 200
    assert (reply.body["digest"], reply.body["emailAlerts"]) == ("weekly", True)
    assert reply.body["updatedAt"] is not None
    assert reply.headers["ETag"] == '"1.1"'
    reply = api.call("PUT", "/api/preferences", ALICE, body={"emailAlerts": False})
    assert (reply.body["digest"], reply.body["emailAlerts"]) == ("weekly", False)
    got = api.call("GET", "/api/preferences", ALICE).body
    assert (got["digest"], got["emailAlerts"], got["version"]) == ("weekly", False, "2.1")
    # Someone else's preferences are untouched: the admin's are the admin's own.
    assert api.call("GET", "/api/preferences", ADMIN).body["digest"] == "off"


def test_threshold_change_is_a_budget_change(api: Api, world: World) -> None:
    reply = api.call("PUT", "/api/preferences", ALICE, body={"alertThreshold": 90})
    assert reply.status == 200
    assert (reply.body["alertThreshold"], reply.body["version"]) == (90, "0.2")
    budget = api.call("GET", "/api/billing/budgets/u-alice", ALICE).body
    assert (budget["alertThreshold"], budget["version"]) == (90, 2)
    assert budget["monthlyLimit"]["amount"] == "100.00"
    audit = api.stores.audit.list_for_user("u-alice", 10).items
    assert [e.action for e in audit].count("budget.updated") == 1
    # The same threshold again changes nothing on the budget.
    api.call("PUT", "/api/preferences", ALICE, body={"alertThreshold": 90})
    assert api.call("GET", "/api/billing/budgets/u-alice", ALICE).body["version"] == 2
    # And a change on the budget screen shows here.
    api.call("PUT", f"/api/billing/budgets/{world.budget_id}", ALICE, body={"alertThreshold": 60})
    assert api.call("GET", "/api/preferences", ALICE).body["alertThreshold"] == 60


def test_stale_if_match_is_a_conflict(api: Api, world: World) -> None:
    first = api.call(
        "PUT", "/api/preferences", ALICE, body={"digest": "daily"}, headers={"If-Match": '"0.1"'}
    )
    second = api.call(
        "PUT", "/api/preferences", ALICE, body={"digest": "weekly"}, headers={"If-Match": '"0.1"'}
    )
    assert (first.status, second.status) == (200, 409)
    assert api.call("GET", "/api/preferences", ALICE).body["digest"] == "daily"


def test_a_budget_change_since_the_read_is_a_conflict(api: Api, world: World) -> None:
    etag = api.call("GET", "/api/preferences", ALICE).headers["ETag"]
    api.call("PUT", f"/api/billing/budgets/{world.budget_id}", ALICE, body={"alertThreshold": 60})
    stale = api.call(
        "PUT", "/api/preferences", ALICE, body={"alertThreshold": 95}, headers={"If-Match": etag}
    )
    assert stale.status == 409
    assert api.call("GET", "/api/billing/budgets/u-alice", ALICE).body["alertThreshold"] == 60


SLACK = "https://hooks.slack.com/services/T000/B000/secretx9Qa"


def test_webhook_is_set_shown_as_a_hint_and_removed(
    api: Api, world: World, fake_channels: FakeChannels
) -> None:
    reply = api.call("PUT", "/api/preferences", ALICE, body={"webhookUrl": SLACK})
    assert reply.status == 200, reply.body
    assert reply.body["webhook"] == {
        "hint": "https://hooks.slack.com/…/x9Qa",
        "flavour": "slack",
    }
    read = api.call("GET", "/api/preferences", ALICE)
    assert read.body["webhook"] == reply.body["webhook"]
    # Never the URL, in any reply or in the stored item.
    assert "secret" not in str(read.body) and "services" not in str(read.body)
    stored = api.stores.preferences.get("u-alice")
    assert stored is not None and stored.webhook is not None
    assert SLACK not in stored.webhook.ciphertext
    assert fake_channels.secrets.open(stored.webhook.ciphertext, user_id="u-alice") == SLACK
    # The other fields stay; null removes the webhook.
    kept = api.call("PUT", "/api/preferences", ALICE, body={"digest": "daily"}).body
    assert kept["webhook"] is not None
    removed = api.call("PUT", "/api/preferences", ALICE, body={"webhookUrl": None})
    assert (removed.status, removed.body["webhook"], removed.body["digest"]) == (200, None, "daily")


def test_a_webhook_on_a_private_host_is_refused(
    api: Api, world: World, fake_channels: FakeChannels
) -> None:
    reply = api.call(
        "PUT",
        "/api/preferences",
        ALICE,
        body={"webhookUrl": "https://intranet.example.com/hook", "digest": "daily"},
    )
    assert reply.status == 422
    assert [e["field"] for e in reply.problem["errors"]] == ["webhookUrl"]
    assert "10.1.2.3" not in reply.problem["detail"] or "private" in reply.problem["detail"]
    assert api.stores.preferences.get("u-alice") is None  # refused whole


def test_webhook_test_message(api: Api, world: World, fake_channels: FakeChannels) -> None:
    none_yet = api.call("POST", "/api/preferences/webhook/test", ALICE)
    assert none_yet.status == 409
    api.call("PUT", "/api/preferences", ALICE, body={"webhookUrl": SLACK})
    sent = api.call("POST", "/api/preferences/webhook/test", ALICE)
    assert (sent.status, sent.body) == (204, None)
    [(url, message)] = fake_channels.poster.posted
    assert (url, message.level) == (SLACK, "test")
    # Bob has no webhook: alice's is not his to test.
    assert api.call("POST", "/api/preferences/webhook/test", BOB).status == 409
    fake_channels.poster.fail_next(SLACK, retryable=True)
    failed = api.call("POST", "/api/preferences/webhook/test", ALICE)
    assert failed.status == 422
    assert failed.problem["errors"][0]["field"] == "webhookUrl"
    assert "simulated webhook failure" in failed.problem["detail"]


def test_email_suppression_is_shown_and_lifted_by_the_user(api: Api, world: World) -> None:
    from datetime import UTC, datetime

    from tally.models import EmailSuppression

    at = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    api.stores.preferences.set_suppression(
        "u-alice", EmailSuppression("alice@example.com", "bounce", at), at=at
    )
    got = api.call("GET", "/api/preferences", ALICE).body
    assert got["emailSuppressed"] == {
        "reason": "bounce",
        "since": "2026-11-19T08:00:00+00:00",
        "address": "alice@example.com",
    }
    # Email alerts on is the user's wish; it does not say the mailbox is fixed.
    still = api.call("PUT", "/api/preferences", ALICE, body={"emailAlerts": True}).body
    assert still["emailSuppressed"] is not None
    resumed = api.call("PUT", "/api/preferences", ALICE, body={"emailSuppressed": None})
    assert (resumed.status, resumed.body["emailSuppressed"]) == (200, None)


def test_webhook_urls_are_sealed_with_the_kms_key(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without fakes: TALLY_WEBHOOK_KEY_ID's KMS key (moto) seals the URL for the user."""
    import base64

    import boto3

    from api import channels

    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key(Description="tally webhooks")["KeyMetadata"]["Arn"]
    monkeypatch.setenv("TALLY_WEBHOOK_KEY_ID", key)
    channels._kms_box.cache_clear()
    url = "https://93.184.216.34/hooks/x9Qa"  # an address literal: no DNS in tests
    reply = api.call("PUT", "/api/preferences", ALICE, body={"webhookUrl": url})
    channels._kms_box.cache_clear()
    assert reply.status == 200, reply.body
    assert reply.body["webhook"]["flavour"] == "generic"
    stored = api.stores.preferences.get("u-alice")
    assert stored is not None and stored.webhook is not None
    assert url not in stored.webhook.ciphertext
    blob = base64.b64decode(stored.webhook.ciphertext)
    opened = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"userId": "u-alice"})
    assert opened["Plaintext"].decode() == url


def test_without_the_kms_key_a_webhook_fails_loudly_and_the_rest_works(
    api: Api, world: World
) -> None:
    reply = api.call("PUT", "/api/preferences", ALICE, body={"webhookUrl": SLACK})
    assert reply.status == 500  # a deployment without TALLY_WEBHOOK_KEY_ID: logged
    assert api.call("PUT", "/api/preferences", ALICE, body={"digest": "daily"}).status == 200
