"""The caller's webhook (checked, sealed, shown as a hint, tested) and email suppression in
their preferences, and the digest's one-click unsubscribe: domain only, in-memory stores and
channels, a fake DNS resolver (no test reaches the network)."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tally import preferences, unsubscribe
from tally.errors import Conflict, Invalid
from tally.models import DigestCadence, EmailSuppression, Preferences
from tally.notify.memory import MemorySecretBox, MemoryWebhookPoster, memory_unsubscribe_signer
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ALICE, BOB, profile

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SLACK = "https://hooks.slack.com/services/T000/B000/secretx9Qa"
TEAMS = "https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def/ghi"

DNS = {
    "hooks.slack.com": ["52.10.20.30"],
    "contoso.webhook.office.com": ["40.90.1.2"],
    "chat.example.com": ["93.184.216.34"],
    "intranet.example.com": ["10.1.2.3"],
    "metadata.example.com": ["169.254.169.254"],
    "rebind.example.com": ["93.184.216.34", "127.0.0.1"],
    "v6.example.com": ["::1"],
}


def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    try:
        addresses = DNS[host] if host in DNS else [str(__import__("ipaddress").ip_address(host))]
    except ValueError:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
    return [
        (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
        for a in addresses
    ]


@pytest.fixture
def stores() -> Stores:
    s = memory_stores()
    for c in (ALICE, BOB):
        s.users.put(profile(c))
    return s


@pytest.fixture
def box() -> MemorySecretBox:
    return MemorySecretBox()


def guard(box: MemorySecretBox, *, allow_loopback: bool = False) -> preferences.WebhookGuard:
    return preferences.WebhookGuard(secrets=box, allow_loopback=allow_loopback, resolve=resolve)


def set_url(stores: Stores, box: MemorySecretBox, url: str, **kw: Any) -> Preferences:
    return preferences.update_preferences(
        View(ALICE, stores, TODAY),
        preferences.PreferenceChanges(webhook_url=url),
        webhooks=guard(box, **kw),
        clock=lambda: NOW,
    ).preferences


class TestWebhookUrl:
    def test_stored_sealed_for_the_user_with_a_hint(
        self, stores: Stores, box: MemorySecretBox
    ) -> None:
        saved = set_url(stores, box, SLACK)
        hook = saved.webhook
        assert hook is not None
        assert SLACK not in hook.ciphertext and "secret" not in hook.hint
        assert hook.hint.startswith("https://hooks.slack.com/") and hook.hint.endswith("x9Qa")
        assert hook.flavour == "slack"
        assert box.open(hook.ciphertext, user_id="u-alice") == SLACK
        with pytest.raises(ValueError):  # bound to alice: bob's item could not use it
            box.open(hook.ciphertext, user_id="u-bob")
        assert stores.preferences.get("u-alice") == saved

    def test_teams_flavour_and_replacement(self, stores: Stores, box: MemorySecretBox) -> None:
        set_url(stores, box, SLACK)
        saved = set_url(stores, box, TEAMS)
        assert saved.webhook is not None and saved.webhook.flavour == "teams"
        assert box.open(saved.webhook.ciphertext, user_id="u-alice") == TEAMS

    @pytest.mark.parametrize(
        "url",
        [
            "http://hooks.slack.com/services/T000/B000/x",  # not https
            "https://127.0.0.1/hook",
            "https://10.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://intranet.example.com/hook",  # a public name for a private address
            "https://metadata.example.com/hook",
            "https://rebind.example.com/hook",  # one private address among public ones
            "https://v6.example.com/hook",
            "https://user:pass@chat.example.com/hook",
            "https://no-such-host.invalid/hook",
            "ftp://chat.example.com/hook",
        ],
    )
    def test_refused_422_on_webhook_url_and_nothing_saved(
        self, stores: Stores, box: MemorySecretBox, url: str
    ) -> None:
        with pytest.raises(Invalid) as refused:
            set_url(stores, box, url)
        assert [e.field for e in refused.value.errors] == ["webhookUrl"]
        assert refused.value.detail
        assert stores.preferences.get("u-alice") is None

    def test_loopback_only_where_allowed(self, stores: Stores, box: MemorySecretBox) -> None:
        saved = set_url(stores, box, "http://127.0.0.1:9911/hook", allow_loopback=True)
        assert saved.webhook is not None
        with pytest.raises(Invalid):  # private networks stay refused on the local stack too
            set_url(stores, box, "https://10.0.0.1/hook", allow_loopback=True)

    def test_removed(self, stores: Stores, box: MemorySecretBox) -> None:
        set_url(stores, box, SLACK)
        removed = preferences.update_preferences(
            View(ALICE, stores, TODAY), preferences.PreferenceChanges(remove_webhook=True)
        )
        assert removed.preferences.webhook is None
        stored = stores.preferences.get("u-alice")
        assert stored is not None and stored.webhook is None

    def test_a_refused_url_leaves_the_budget_threshold_alone(
        self, stores: Stores, box: MemorySecretBox
    ) -> None:
        from decimal import Decimal

        from tally import budgets

        view = View(ALICE, stores, TODAY)
        budgets.create_budget(view, budgets.BudgetRequest("u-alice", Decimal(100)))
        with pytest.raises(Invalid):
            preferences.update_preferences(
                view,
                preferences.PreferenceChanges(alert_threshold=50, webhook_url="https://10.0.0.1/"),
                webhooks=guard(box),
            )
        assert preferences.get_preferences(view).alert_threshold == 80


class TestWebhookTest:
    def test_posts_a_test_message_to_the_callers_url(
        self, stores: Stores, box: MemorySecretBox
    ) -> None:
        set_url(stores, box, SLACK)
        poster = MemoryWebhookPoster()
        preferences.send_test_webhook(
            View(ALICE, stores, TODAY), secrets=box, poster=poster, link="https://tally.test/"
        )
        [(url, message)] = poster.posted
        assert url == SLACK and message.level == "test" and message.link == "https://tally.test/"

    def test_without_a_webhook_is_a_conflict(self, stores: Stores, box: MemorySecretBox) -> None:
        set_url(stores, box, SLACK)  # alice's, not bob's
        poster = MemoryWebhookPoster()
        with pytest.raises(Conflict):
            preferences.send_test_webhook(View(BOB, stores, TODAY), secrets=box, poster=poster)
        assert poster.posted == []

    def test_refused_or_failed_delivery_is_422_with_the_reason(
        self, stores: Stores, box: MemorySecretBox
    ) -> None:
        set_url(stores, box, SLACK)
        view = View(ALICE, stores, TODAY)
        poster = MemoryWebhookPoster()
        poster.fail_next(SLACK, retryable=False)
        with pytest.raises(Invalid) as failed:
            preferences.send_test_webhook(view, secrets=box, poster=poster)
        assert failed.value.errors[0].field == "webhookUrl"
        assert "simulated webhook failure" in failed.value.detail
        poster.refused.add(SLACK)
        with pytest.raises(Invalid) as refused:
            preferences.send_test_webhook(view, secrets=box, poster=poster)
        assert refused.value.errors[0].field == "webhookUrl"
        assert poster.posted == []


class TestEmailSuppression:
    def test_email_alerts_on_does_not_lift_it_resume_does(self, stores: Stores) -> None:
        stopped = EmailSuppression("alice@example.com", "bounce", NOW)
        stores.preferences.set_suppression("u-alice", stopped, at=NOW)
        view = View(ALICE, stores, TODAY)
        on = preferences.update_preferences(view, preferences.PreferenceChanges(email_alerts=True))
        assert on.preferences.email_suppressed == stopped
        resumed = preferences.update_preferences(
            view, preferences.PreferenceChanges(resume_email=True), clock=lambda: NOW
        )
        assert resumed.preferences.email_suppressed is None
        assert resumed.preferences.email_alerts is True

    def test_covers_only_that_address(self) -> None:
        stopped = EmailSuppression("Alice@Example.com", "complaint", NOW)
        assert stopped.covers("alice@example.com")
        assert not stopped.covers("alice@new.example.com")
        assert not stopped.covers(None)


class TestUnsubscribe:
    def test_turns_the_tokens_users_digest_off_once(self, stores: Stores) -> None:
        signer = memory_unsubscribe_signer()
        stores.preferences.put(Preferences("u-alice", digest=DigestCadence.WEEKLY))
        stores.preferences.put(Preferences("u-bob", digest=DigestCadence.DAILY))
        token = signer.sign("u-alice", now=NOW)
        saved = unsubscribe.unsubscribe_digest(stores, signer, token, now=NOW)
        assert saved.digest is DigestCadence.OFF and saved.version == 2
        again = unsubscribe.unsubscribe_digest(stores, signer, token, now=NOW)
        assert again == saved  # nothing written the second time
        bob = stores.preferences.get("u-bob")
        assert bob is not None and bob.digest is DigestCadence.DAILY

    def test_a_user_who_never_saved_preferences_is_not_written(self, stores: Stores) -> None:
        signer = memory_unsubscribe_signer()
        token = signer.sign("u-bob", now=NOW)
        assert unsubscribe.unsubscribe_digest(stores, signer, token, now=NOW).digest == "off"
        assert stores.preferences.get("u-bob") is None

    def test_retries_a_save_that_raced_it(self, stores: Stores) -> None:
        signer = memory_unsubscribe_signer()
        read = stores.preferences.put(Preferences("u-alice", digest=DigestCadence.DAILY))
        real_put = stores.preferences.put
        raced: list[Preferences] = []

        def racing_put(p: Preferences) -> Preferences:
            if not raced:  # the user's own save lands between the read and this write
                raced.append(real_put(replace(read, email_alerts=False)))
            return real_put(p)

        stores.preferences.put = racing_put  # type: ignore[method-assign,assignment]
        saved = unsubscribe.unsubscribe_digest(
            stores, signer, signer.sign("u-alice", now=NOW), now=NOW
        )
        assert (saved.digest, saved.email_alerts, saved.version) == ("off", False, 3)

    @pytest.mark.parametrize(
        "tamper",
        [
            lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
            lambda t: "x" + t,
            lambda t: "",
        ],
    )
    def test_altered_token_is_refused_on_token(self, stores: Stores, tamper: Any) -> None:
        signer = memory_unsubscribe_signer()
        stores.preferences.put(Preferences("u-alice", digest=DigestCadence.DAILY))
        with pytest.raises(Invalid) as refused:
            unsubscribe.unsubscribe_digest(
                stores, signer, tamper(signer.sign("u-alice", now=NOW)), now=NOW
            )
        assert [e.field for e in refused.value.errors] == ["token"]
        assert "u-alice" not in refused.value.detail
        assert stores.preferences.get("u-alice").digest is DigestCadence.DAILY  # type: ignore[union-attr]

    def test_expired_token_is_refused(self, stores: Stores) -> None:
        signer = memory_unsubscribe_signer()
        token = signer.sign("u-alice", now=NOW)
        unsubscribe.check_token(signer, token, now=NOW + timedelta(days=29))
        with pytest.raises(Invalid) as refused:
            unsubscribe.check_token(signer, token, now=NOW + timedelta(days=30, seconds=1))
        assert "expired" in refused.value.detail
