"""Issue 9, finding 6: a deployed API reads the page-token keys from Secrets Manager (moto),
named by its environment, and takes a rotated key without a deployment."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tally import settings as settings_module
from tally.paging import PageKeys, decode_token, encode_token
from tally.settings import ConfigurationError, Settings
from tally.tables import ALL_TABLES

TABLES = {"users": "t"}


@pytest.fixture
def secret_id() -> Iterator[str]:
    settings_module._secrets.cache_clear()  # a new container: nothing cached
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="page-keys", SecretString=json.dumps({"current": "k1"}))
        yield str(arn["ARN"])
    settings_module._secrets.cache_clear()


def _settings(secret_id: str | None) -> Settings:
    return Settings("us-east-1", TABLES, None, page_token_secret_id=secret_id)


def _rotate(secret_id: str, value: dict[str, str]) -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))


def test_the_keys_come_from_the_secret(secret_id: str) -> None:
    assert _settings(secret_id).page_token_secret == PageKeys.of("k1")


def test_the_keys_are_cached_not_read_per_request(secret_id: str) -> None:
    cfg = _settings(secret_id)
    assert cfg.page_token_secret == PageKeys.of("k1")
    _rotate(secret_id, {"current": "k2", "previous": "k1"})
    assert cfg.page_token_secret == PageKeys.of("k1")


def test_a_rotation_reaches_a_warm_function_once_the_cache_expires(
    secret_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "PAGE_KEYS_MAX_AGE", 0)  # each read has expired
    cfg = _settings(secret_id)
    before = encode_token({"k": 1}, secret=cfg.page_token_secret, scope="s")
    _rotate(secret_id, {"current": "k2", "previous": "k1"})
    rotated = cfg.page_token_secret
    assert rotated == PageKeys.of("k2", "k1")
    # A listing begun before the rotation pages on; new tokens carry the new key.
    assert decode_token(before, secret=rotated, scope="s") == {"k": 1}
    after = encode_token({"k": 2}, secret=rotated, scope="s")
    assert decode_token(after, secret=PageKeys.of("k2"), scope="s") == {"k": 2}


def test_the_environment_may_hold_the_keys_instead() -> None:
    cfg = Settings("us-east-1", TABLES, PageKeys.of("local"))
    assert cfg.page_token_secret == PageKeys.of("local")


def test_paging_without_a_key_fails_loudly() -> None:
    with pytest.raises(ConfigurationError):
        _settings(None).page_token_secret


def test_a_secret_without_a_current_key_fails_loudly(secret_id: str) -> None:
    _rotate(secret_id, {"previous": "k1"})
    with pytest.raises(ConfigurationError):
        _settings(secret_id).page_token_secret


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # What CDK gives the API function: the secret's ARN, never a key.
    for spec in ALL_TABLES:
        monkeypatch.setenv(spec.env_var, spec.key)
    monkeypatch.setenv("TALLY_PAGE_TOKEN_SECRET_ID", "arn:aws:secretsmanager:x")
    cfg = Settings.from_env()
    assert cfg.page_token_keys is None and cfg.page_token_secret_id == "arn:aws:secretsmanager:x"
