"""The digest's one-click unsubscribe (RFC 8058) through the handler: public, authorised by
the link's signed token alone; GET asks, POST does it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from tally.clock import utc_now
from tally.models import DigestCadence, Preferences
from tests.api.conftest import FakeChannels
from tests.conftest import BOB
from tests.harness import Api

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BROWSER = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


def url(token: str) -> str:
    return f"/api/unsubscribe?token={quote(token, safe='')}"


def page(method: str, target: str, **kw: Any) -> dict[str, Any]:
    """The raw proxy response (the harness's ``Api.call`` reads JSON bodies only)."""
    from api.handler import lambda_handler
    from tests.api.events import rest_event
    from tests.harness import LambdaContext

    headers = {**BROWSER, **kw.pop("headers", {})}
    out: dict[str, Any] = lambda_handler(
        rest_event(method, target, headers=headers, **kw), LambdaContext()
    )
    out["headers"] = {
        **(out.get("headers") or {}),
        **{k: v[-1] for k, v in (out.get("multiValueHeaders") or {}).items()},
    }
    return out


@pytest.fixture
def subscribed(api: Api) -> None:
    api.stores.preferences.put(Preferences("u-alice", digest=DigestCadence.WEEKLY))
    api.stores.preferences.put(Preferences("u-bob", digest=DigestCadence.DAILY))


def digest(api: Api, user: str) -> str:
    prefs = api.stores.preferences.get(user)
    return prefs.digest.value if prefs else "off"


def test_get_asks_and_changes_nothing(
    api: Api, subscribed: None, fake_channels: FakeChannels
) -> None:
    token = fake_channels.signer.sign("u-alice", now=utc_now())
    reply = page("GET", url(token))
    assert reply["statusCode"] == 200
    assert reply["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in reply["headers"]["Content-Security-Policy"]
    assert reply["headers"]["Cache-Control"] == "no-store"
    assert '<form method="post">' in reply["body"] and "One-Click" in reply["body"]
    assert token not in reply["body"]  # the form posts to its own URL; the page repeats nothing
    assert digest(api, "u-alice") == "weekly"


def test_one_click_post_turns_only_that_users_digest_off(
    api: Api, subscribed: None, fake_channels: FakeChannels
) -> None:
    token = fake_channels.signer.sign("u-alice", now=utc_now())
    # A mail client's one-click: no identity, a form body, no Accept.
    reply = api.call("POST", url(token), None, raw_body="List-Unsubscribe=One-Click", headers=FORM)
    assert (reply.status, reply.body) == (200, {"digest": "off"})
    assert (digest(api, "u-alice"), digest(api, "u-bob")) == ("off", "daily")
    # Again: the same answer, nothing written.
    version = api.stores.preferences.get("u-alice").version  # type: ignore[union-attr]
    again = api.call("POST", url(token), None, raw_body="List-Unsubscribe=One-Click", headers=FORM)
    assert (again.status, again.body) == (200, {"digest": "off"})
    assert api.stores.preferences.get("u-alice").version == version  # type: ignore[union-attr]


def test_the_pages_button_posts_back_and_gets_a_page(
    api: Api, subscribed: None, fake_channels: FakeChannels
) -> None:
    token = fake_channels.signer.sign("u-alice", now=utc_now())
    done = page("POST", url(token), raw_body="List-Unsubscribe=One-Click", headers=FORM)
    assert done["statusCode"] == 200 and "You are unsubscribed" in done["body"]
    assert digest(api, "u-alice") == "off"


def test_signed_in_as_someone_else_changes_only_the_tokens_user(
    api: Api, subscribed: None, fake_channels: FakeChannels
) -> None:
    token = fake_channels.signer.sign("u-alice", now=utc_now())
    assert api.call("POST", url(token), BOB).status == 200
    assert (digest(api, "u-alice"), digest(api, "u-bob")) == ("off", "daily")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_altered_or_expired_links_are_refused_without_telling_whose(
    api: Api, subscribed: None, fake_channels: FakeChannels, method: str
) -> None:
    now = utc_now()
    good = fake_channels.signer.sign("u-alice", now=now)
    expired = fake_channels.signer.sign("u-alice", now=now - timedelta(days=31))
    altered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    for token in (altered, expired, "not-a-token"):
        reply = api.call(method, url(token), None)
        assert reply.status == 422, (token, reply.body)
        assert [e["field"] for e in reply.problem["errors"]] == ["token"]
        assert "alice" not in json.dumps(reply.body)
        # A person following the link gets a page saying so, with the same status.
        shown = page(method, url(token))
        assert shown["statusCode"] == 422 and "This link does not work" in shown["body"]
        assert "alice" not in shown["body"]
    assert digest(api, "u-alice") == "weekly"


def test_no_token_is_422_on_token(api: Api, fake_channels: FakeChannels) -> None:
    for method in ("GET", "POST"):
        reply = api.call(method, "/api/unsubscribe", None)
        assert reply.status == 422
        assert [e["field"] for e in reply.problem["errors"]] == ["token"]


def test_only_the_unsubscribe_path_is_public(api: Api, fake_channels: FakeChannels) -> None:
    for method, path in [
        ("GET", "/api/preferences"),
        ("PUT", "/api/preferences"),
        ("POST", "/api/preferences/webhook/test"),
        ("GET", "/api/notifications"),
    ]:
        assert api.call(method, path, None, body={"digest": "off"}).status == 401


def test_keys_come_from_the_secret(
    api: Api, subscribed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without fakes: the signer reads its keys from TALLY_UNSUBSCRIBE_SECRET_ID (moto), the
    secret the alerts function signs with."""
    import boto3

    from api import channels
    from tally.notify.unsubscribe import HmacUnsubscribeSigner
    from tally.paging import PageKeys

    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="tally-test-unsubscribe-keys", SecretString=json.dumps({"current": "k" * 64})
    )["ARN"]
    monkeypatch.setenv("TALLY_UNSUBSCRIBE_SECRET_ID", arn)
    channels.unsubscribe_signer.cache_clear()
    channels._secrets_provider.cache_clear()
    try:
        token = HmacUnsubscribeSigner(PageKeys.of("k" * 64)).sign("u-alice", now=utc_now())
        assert api.call("POST", url(token), None).status == 200
        assert digest(api, "u-alice") == "off"
        forged = HmacUnsubscribeSigner(PageKeys.of("other")).sign("u-bob", now=utc_now())
        assert api.call("POST", url(forged), None).status == 422
    finally:
        channels.unsubscribe_signer.cache_clear()
        channels._secrets_provider.cache_clear()
