"""Shared fixtures: fake AWS credentials for every test, moto-backed tables, callers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from tally.identity import Caller, Role
from tally.models import UserProfile
from tally.settings import Settings
from tally.tables import ADMIN_GROUP, ALL_TABLES, USER_GROUP, create_table_request

pytest_plugins = ["tests.harness"]

TEST_SECRET = "test-page-token-secret"
PINNED_TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _clean_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach real AWS or depend on the developer's shell."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "TALLY_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # No test runs on the wall clock's date: code that asks the one clock gets this day.
    monkeypatch.setenv("TALLY_TODAY", PINNED_TODAY.isoformat())


def table_env(prefix: str = "tally-test") -> dict[str, str]:
    env = {spec.env_var: spec.local_name(prefix) for spec in ALL_TABLES}
    env.update({"AWS_REGION": "us-east-1", "TALLY_PAGE_TOKEN_SECRET": TEST_SECRET})
    env["TALLY_APP_CLIENT_IDS"] = "test-client"  # the ``aud`` of tests/api/events.py
    return env


def create_tables(client: object, prefix: str = "tally-test") -> None:
    for spec in ALL_TABLES:
        client.create_table(**create_table_request(spec, spec.local_name(prefix)))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def moto_module() -> Iterator[None]:
    """One in-process moto per test module (run with xdist's --dist loadfile, so a module's
    emulator never meets another module's local-stack server in the same worker)."""
    from moto import mock_aws

    with (
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        with mock_aws():
            yield


@pytest.fixture
def aws(moto_module: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Every table, created empty for this test; the environment the handlers read."""
    import boto3

    from tally.settings import get_settings

    for k, v in table_env().items():
        monkeypatch.setenv(k, v)
    client = boto3.client("dynamodb", region_name="us-east-1")
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
    create_tables(client)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def dynamo_stores(aws: Settings):  # type: ignore[no-untyped-def]
    from tally.store import dynamodb_stores

    return dynamodb_stores(aws)


ALICE = Caller("u-alice", "alice", "alice@example.com", frozenset({USER_GROUP}))
BOB = Caller("u-bob", "bob", "bob@example.com", frozenset({USER_GROUP}))
ADMIN = Caller("u-admin", "admin", "admin@example.com", frozenset({ADMIN_GROUP}))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def profile(c: Caller) -> UserProfile:
    return UserProfile(c.user_id, c.username, c.email, Role.ADMIN if c.is_admin else Role.USER)
