"""Shared fixtures: fake AWS credentials for every test, moto-backed tables, callers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

# The emulator's corrections (infra/local/aws.py) hold for every test's moto, in-process or
# served: among them, CloudWatch Logs judges an event's age by the pinned business clock.
import infra.local.aws  # noqa: F401
from tally.identity import Caller, Role
from tally.models import UserProfile
from tally.settings import Settings
from tally.tables import ADMIN_GROUP, ALL_TABLES, USER_GROUP, create_table_request

pytest_plugins = ["tests.harness"]


def _read_botocore_models_once() -> None:
    """botocore parses its service models (megabytes of JSON each) once per Session, and the
    tests make a Session per test (each test starts the handler cold, as a new Lambda
    container does): parsed once per process, an API test's setup and calls lose about a
    second. The files do not change while the tests run, and what botocore does to a loaded
    model (merging the SDK's extras) does the same again on the same dict."""
    import botocore.loaders

    original = botocore.loaders.JSONFileLoader.load_file
    parsed: dict[str, object] = {}

    def load_file(self: object, file_path: str) -> object:
        if file_path not in parsed:
            parsed[file_path] = original(self, file_path)  # type: ignore[arg-type]
        return parsed[file_path]

    botocore.loaders.JSONFileLoader.load_file = load_file  # type: ignore[method-assign]

    # Each Session's loader also lists botocore's data folders (hundreds of services) to check
    # a service name, once per loader: with a Session per test that listing was a third of an
    # API test's time (cProfile of tests/api/test_authorization_matrix.py). Listed once per
    # process, by search paths and type, as the folders do not change.
    listed: dict[tuple[tuple[str, ...], str], object] = {}
    list_services = botocore.loaders.Loader.list_available_services

    def list_available_services(self: botocore.loaders.Loader, type_name: str) -> object:
        key = (tuple(self.search_paths), type_name)
        if key not in listed:
            listed[key] = list_services(self, type_name)
        return listed[key]

    botocore.loaders.Loader.list_available_services = list_available_services  # type: ignore[method-assign,assignment]


_read_botocore_models_once()


# Folders whose tests share one xdist worker under ``--dist loadgroup`` (``make test``): their
# session fixtures are costly and start once per worker that runs any of them (the browser
# tests' demo stack and Chromium; the infra tests' three CDK synths). The first match wins.
# The browser tests are two groups, each on its worker with a stack and a Chromium of its own:
# as one they were the suite's longest stretch (32 of its 35 minutes, the other worker idle
# for the last part). The second group: about half of the time, by `--durations`.
SECOND_BROWSER_GROUP = (
    "test_screen_states.py",
    "test_keyboard_walk.py",
    "test_notifications.py",
    "test_reports_screens.py",
    "test_resource_page.py",
    "test_resource_names.py",
    "test_ownership.py",
    "test_chargeback.py",
    "test_commitments.py",
    "test_currencies.py",
    "test_tax.py",
    "test_invoice_templates.py",
    "test_mfa.py",
)
ONE_WORKER_FOLDERS = {
    **{f"tests/browser/{name}": "browser-2" for name in SECOND_BROWSER_GROUP},
    "tests/browser/": "browser",
    "tests/infra/": "infra",
}


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """With ``--dist loadgroup``: the tests of a folder in ``ONE_WORKER_FOLDERS`` go to one
    worker together, and any other test goes with its file, as with ``--dist loadfile`` (so a
    module's fixtures, its moto or its local stack, are set up once).

    By path, not by ``xdist_group`` marks: xdist 3.8 names a marked test's group by setting
    ``item._nodeid``, which pytest 9 no longer reads, so its own loadgroup hands every test
    out alone, to either worker, marked or not."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FolderOrFile(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path: str = super()._split_scope(nodeid)
            return next((g for f, g in ONE_WORKER_FOLDERS.items() if path.startswith(f)), path)

    return FolderOrFile(config, log)  # type: ignore[arg-type]


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
    """One in-process moto per test module (a file's tests run together on one xdist worker,
    see ``pytest_xdist_make_scheduler``, so a module's emulator never meets another module's
    local-stack server in the same worker)."""
    from moto import mock_aws

    with (
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        with mock_aws():
            yield


def _emptied_in_place() -> bool:
    """Empty the tables inside this module's moto, when they are exactly the specs' tables:
    every test starts from empty tables either way, and clearing moto's item maps costs
    microseconds where deleting and creating eleven tables through boto3 cost a third of a
    second, on each of the suite's ~1,000 tests that use them (most of an API test's setup)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables
    if set(tables) != {spec.local_name("tally-test") for spec in ALL_TABLES}:
        return False  # the module's first test, or one that made a table of its own
    for table in tables.values():
        table.items.clear()
    return True


@pytest.fixture
def aws(moto_module: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Every table, created empty for this test; the environment the handlers read."""
    import boto3

    from tally.settings import get_settings

    for k, v in table_env().items():
        monkeypatch.setenv(k, v)
    client = boto3.client("dynamodb", region_name="us-east-1")
    if not _emptied_in_place():
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
