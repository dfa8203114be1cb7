"""The preference store contract, run against DynamoDB (moto) and the in-memory fake alike
(the ``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tally.errors import Conflict
from tally.models import DigestCadence, EmailSuppression, Preferences, StoredWebhook
from tally.store import Stores
from tests.conftest import NOW

LATER = NOW + timedelta(hours=3)


class TestPreferences:
    def test_none_until_saved(self, stores: Stores) -> None:
        assert stores.preferences.get("u-alice") is None

    def test_saved_and_read_back_versioned(self, stores: Stores) -> None:
        wanted = Preferences(
            "u-alice", email_alerts=False, digest=DigestCadence.WEEKLY, updated_at=NOW
        )
        saved = stores.preferences.put(wanted)
        assert saved == replace(wanted, version=1)
        got = stores.preferences.get("u-alice")
        assert got == saved and got.digest is DigestCadence.WEEKLY and got.email_alerts is False
        again = stores.preferences.put(replace(got, digest=DigestCadence.DAILY))
        assert again.version == 2
        assert stores.preferences.get("u-alice") == again
        assert stores.preferences.get("u-bob") is None

    def test_a_stale_version_conflicts(self, stores: Stores) -> None:
        read = stores.preferences.put(Preferences("u-alice"))
        stores.preferences.put(replace(read, digest=DigestCadence.DAILY))
        with pytest.raises(Conflict):
            stores.preferences.put(replace(read, email_alerts=False))
        final = stores.preferences.get("u-alice")
        assert final is not None and final.version == 2 and final.email_alerts is True
        assert final.digest is DigestCadence.DAILY

    def test_a_first_save_conflicts_when_someone_saved_first(self, stores: Stores) -> None:
        stores.preferences.put(Preferences("u-alice", digest=DigestCadence.DAILY))
        with pytest.raises(Conflict):
            stores.preferences.put(Preferences("u-alice", email_alerts=False))
        with pytest.raises(Conflict):  # a version never stored
            stores.preferences.put(Preferences("u-bob", version=3))
        got = stores.preferences.get("u-alice")
        assert got is not None and got.digest is DigestCadence.DAILY and got.email_alerts
        assert stores.preferences.get("u-bob") is None


class TestWebhookAndSuppression:
    def test_webhook_and_suppression_round_trip(self, stores: Stores) -> None:
        hook = StoredWebhook("sealed:abc", "https://hooks.slack.com/…/x9Qa", "slack")
        stopped = EmailSuppression("alice@example.com", "bounce", NOW)
        saved = stores.preferences.put(
            Preferences("u-alice", webhook=hook, email_suppressed=stopped)
        )
        assert stores.preferences.get("u-alice") == saved
        # Removing the webhook removes it; the suppression stays.
        cleared = stores.preferences.put(replace(saved, webhook=None))
        got = stores.preferences.get("u-alice")
        assert got == cleared and got.webhook is None and got.email_suppressed == stopped

    def test_set_suppression_creates_the_item_with_the_defaults(self, stores: Stores) -> None:
        stopped = EmailSuppression("bob@example.com", "complaint", NOW)
        stores.preferences.set_suppression("u-bob", stopped, at=NOW)
        assert stores.preferences.get("u-bob") == Preferences(
            "u-bob", updated_at=NOW, version=1, email_suppressed=stopped
        )

    def test_set_suppression_keeps_the_rest_and_bumps_the_version(self, stores: Stores) -> None:
        hook = StoredWebhook("sealed:abc", "https://example.com/…/abcd", "generic")
        read = stores.preferences.put(
            Preferences("u-alice", email_alerts=False, digest=DigestCadence.DAILY, webhook=hook)
        )
        stopped = EmailSuppression("alice@example.com", "bounce", LATER)
        stores.preferences.set_suppression("u-alice", stopped, at=LATER)
        got = stores.preferences.get("u-alice")
        assert got == replace(read, email_suppressed=stopped, updated_at=LATER, version=2)
        # A save based on the read before the suppression cannot silently undo it.
        with pytest.raises(Conflict):
            stores.preferences.put(replace(read, digest=DigestCadence.WEEKLY))
        stores.preferences.set_suppression("u-alice", None, at=LATER)
        lifted = stores.preferences.get("u-alice")
        assert lifted is not None and lifted.email_suppressed is None and lifted.version == 3
        assert (lifted.webhook, lifted.digest) == (hook, DigestCadence.DAILY)


class TestSubscribers:
    def test_listed_by_cadence_and_never_when_off(self, stores: Stores) -> None:
        p = stores.preferences
        p.put(Preferences("u-carol", digest=DigestCadence.DAILY))
        p.put(Preferences("u-alice", digest=DigestCadence.DAILY))
        p.put(Preferences("u-bob", digest=DigestCadence.WEEKLY))
        p.put(Preferences("u-dan"))
        p.set_suppression("u-erin", EmailSuppression("e@example.com", "bounce", NOW), at=NOW)
        assert p.subscribers(DigestCadence.DAILY) == ["u-alice", "u-carol"]
        assert p.subscribers(DigestCadence.WEEKLY) == ["u-bob"]
        # Moving between cadences and to off moves the user in the index.
        carol = p.get("u-carol")
        assert carol is not None
        p.put(replace(carol, digest=DigestCadence.WEEKLY))
        bob = p.get("u-bob")
        assert bob is not None
        p.put(replace(bob, digest=DigestCadence.OFF))
        assert p.subscribers(DigestCadence.DAILY) == ["u-alice"]
        assert p.subscribers(DigestCadence.WEEKLY) == ["u-carol"]
        # A suppression set by SES feedback does not list or unlist anyone.
        p.set_suppression("u-alice", EmailSuppression("a@example.com", "bounce", NOW), at=NOW)
        assert p.subscribers(DigestCadence.DAILY) == ["u-alice"]

    def test_off_is_not_a_cadence_to_list(self, stores: Stores) -> None:
        with pytest.raises(ValueError):
            stores.preferences.subscribers(DigestCadence.OFF)
