"""Unsubscribe tokens: bound to a user and a purpose, expiring after 30 days, refused when
altered, and verified under rotated keys (literal keys, and keys from Secrets Manager on moto)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from tally import settings as settings_module
from tally.errors import Invalid
from tally.notify.factory import NotifySettings
from tally.notify.unsubscribe import PURPOSE, HmacUnsubscribeSigner
from tally.paging import PageKeys, encode_token

KEYS = PageKeys.of("unsubscribe-key-1")
SIGNED_AT = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def refused(signer: HmacUnsubscribeSigner, token: str, *, now: datetime = SIGNED_AT) -> Invalid:
    with pytest.raises(Invalid) as error:
        signer.verify(token, now=now)
    assert [e.field for e in error.value.errors] == ["token"]
    return error.value


def test_a_token_names_its_user_and_is_url_safe() -> None:
    signer = HmacUnsubscribeSigner(KEYS)
    token = signer.sign("u-alice", now=SIGNED_AT)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert signer.verify(token, now=SIGNED_AT) == "u-alice"
    assert signer.verify(signer.sign("u-bob", now=SIGNED_AT), now=SIGNED_AT) == "u-bob"


@pytest.mark.parametrize(
    ("signed", "last_valid", "first_expired"),
    [
        # 30 days, through a leap February: 31 January 2028 -> 1 March 2028.
        (
            datetime(2028, 1, 31, 12, tzinfo=UTC),
            datetime(2028, 3, 1, 11, 59, 59, tzinfo=UTC),
            datetime(2028, 3, 1, 12, tzinfo=UTC),
        ),
        # Across the year end.
        (
            datetime(2026, 12, 31, 23, tzinfo=UTC),
            datetime(2027, 1, 30, 22, 59, 59, tzinfo=UTC),
            datetime(2027, 1, 30, 23, tzinfo=UTC),
        ),
    ],
)
def test_a_token_expires_after_thirty_days(
    signed: datetime, last_valid: datetime, first_expired: datetime
) -> None:
    signer = HmacUnsubscribeSigner(KEYS)
    token = signer.sign("u-alice", now=signed)
    assert signer.verify(token, now=last_valid) == "u-alice"
    assert "expired" in refused(signer, token, now=first_expired).detail


def test_the_ttl_is_a_setting() -> None:
    signer = HmacUnsubscribeSigner(KEYS, ttl=timedelta(hours=1))
    token = signer.sign("u-alice", now=SIGNED_AT)
    refused(signer, token, now=SIGNED_AT + timedelta(hours=1))


def _flip(token: str, index: int) -> str:
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


@pytest.mark.parametrize("where", [0, 5, 21, 40, -3])
def test_an_altered_token_is_refused(where: int) -> None:
    signer = HmacUnsubscribeSigner(KEYS)
    token = signer.sign("u-alice", now=SIGNED_AT)
    refused(signer, _flip(token, where % len(token)))


@pytest.mark.parametrize("token", ["", "!!!", "abc", "A" * 200, "é"])
def test_a_malformed_token_is_refused(token: str) -> None:
    refused(HmacUnsubscribeSigner(KEYS), token)


def test_a_token_for_another_purpose_is_refused() -> None:
    signer = HmacUnsubscribeSigner(KEYS)
    # A page token signed with the same key: another scope, so another signature.
    page_token = encode_token({"u": "u-alice", "p": PURPOSE, "e": 2**40}, secret=KEYS, scope="x")
    assert page_token is not None
    refused(signer, page_token)
    # The right scope but a payload that is not an unsubscribe token.
    other = encode_token(
        {"u": "u-alice", "p": "delete-account", "e": 2**40}, secret=KEYS, scope=PURPOSE
    )
    assert other is not None
    refused(signer, other)
    no_expiry = encode_token({"u": "u-alice", "p": PURPOSE}, secret=KEYS, scope=PURPOSE)
    assert no_expiry is not None
    refused(signer, no_expiry)


def test_another_keys_tokens_are_refused_and_a_rotation_keeps_old_links_working() -> None:
    old = HmacUnsubscribeSigner(PageKeys.of("k1")).sign("u-alice", now=SIGNED_AT)
    refused(HmacUnsubscribeSigner(PageKeys.of("k2")), old)
    rotated = HmacUnsubscribeSigner(PageKeys.of("k2", "k1"))
    assert rotated.verify(old, now=SIGNED_AT) == "u-alice"
    new = rotated.sign("u-alice", now=SIGNED_AT)
    refused(HmacUnsubscribeSigner(PageKeys.of("k1")), new)


def test_a_naive_time_is_a_programming_error() -> None:
    signer = HmacUnsubscribeSigner(KEYS)
    with pytest.raises(ValueError, match="aware"):
        signer.sign("u-alice", now=datetime(2026, 11, 20, 6))
    with pytest.raises(ValueError, match="user id"):
        signer.sign("", now=SIGNED_AT)


@pytest.fixture
def secret_id() -> Iterator[str]:
    settings_module._secrets.cache_clear()
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(
            Name="unsubscribe-keys", SecretString=json.dumps({"current": "k1"})
        )["ARN"]
        yield str(arn)
    settings_module._secrets.cache_clear()


def test_keys_come_from_the_secret_and_rotate_without_a_deployment(
    secret_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "PAGE_KEYS_MAX_AGE", 0)  # every read has expired
    settings = NotifySettings("us-east-1", unsubscribe_secret_id=secret_id)
    signer = HmacUnsubscribeSigner(settings.unsubscribe_key_set)
    before = signer.sign("u-alice", now=SIGNED_AT)
    assert HmacUnsubscribeSigner(PageKeys.of("k1")).verify(before, now=SIGNED_AT) == "u-alice"

    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=secret_id, SecretString=json.dumps({"current": "k2", "previous": "k1"})
    )

    assert signer.verify(before, now=SIGNED_AT) == "u-alice"
    after = signer.sign("u-alice", now=SIGNED_AT)
    refused(HmacUnsubscribeSigner(PageKeys.of("k1")), after)


def test_a_secret_without_a_current_key_fails_loudly(secret_id: str) -> None:
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=secret_id, SecretString=json.dumps({"next": "k3"})
    )
    settings = NotifySettings("us-east-1", unsubscribe_secret_id=secret_id)
    with pytest.raises(settings_module.ConfigurationError, match="current"):
        settings.unsubscribe_key_set()
