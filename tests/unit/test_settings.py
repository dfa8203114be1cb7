"""Each function's settings: its own variables parsed once, a missing or bad one named in a
``ConfigurationError``, the defaults when unset, and the shared settings carried along."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.settings import ApiSettings
from ingest.settings import IngestSettings
from tally.settings import ConfigurationError, FunctionSettings, Settings, get_settings
from tests.conftest import table_env


def own(cls: type[FunctionSettings], **values: str) -> dict[str, str | None]:
    """What ``parse`` is given: every variable of ``cls``, None where unset."""
    return {name: values.get(name) for name in cls.variables}


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for name, value in table_env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


# -- the API --------------------------------------------------------------------------------


def test_api_defaults_with_only_the_app_clients() -> None:
    parsed = ApiSettings.parse(own(ApiSettings, TALLY_APP_CLIENT_IDS=" web , cli,"))
    assert parsed == {
        "app_client_ids": frozenset({"web", "cli"}),
        "user_pool_id": None,
        "require_admin_mfa": False,
        "dashboard_origin": None,
    }


@pytest.mark.parametrize("value", [None, "", " , "])
def test_api_without_app_clients_names_the_variable(value: str | None) -> None:
    env = own(ApiSettings)
    env["TALLY_APP_CLIENT_IDS"] = value
    with pytest.raises(ConfigurationError, match="TALLY_APP_CLIENT_IDS is required"):
        ApiSettings.parse(env)


def test_api_admin_mfa_is_true_or_false_and_needs_the_pool() -> None:
    with pytest.raises(ConfigurationError, match="TALLY_REQUIRE_ADMIN_MFA"):
        ApiSettings.parse(
            own(ApiSettings, TALLY_APP_CLIENT_IDS="web", TALLY_REQUIRE_ADMIN_MFA="yes please")
        )
    with pytest.raises(
        ConfigurationError, match="TALLY_REQUIRE_ADMIN_MFA needs TALLY_USER_POOL_ID"
    ):
        ApiSettings.parse(
            own(ApiSettings, TALLY_APP_CLIENT_IDS="web", TALLY_REQUIRE_ADMIN_MFA="true")
        )
    parsed = ApiSettings.parse(
        own(
            ApiSettings,
            TALLY_APP_CLIENT_IDS="web",
            TALLY_REQUIRE_ADMIN_MFA="TRUE",
            TALLY_USER_POOL_ID="us-east-1_pool",
            TALLY_DASHBOARD_ORIGIN="https://tally.example.org",
        )
    )
    assert parsed["require_admin_mfa"] is True
    assert parsed["user_pool_id"] == "us-east-1_pool"
    assert parsed["dashboard_origin"] == "https://tally.example.org"


def test_api_settings_carry_the_shared_ones(
    shared: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_BUDGET_METRIC", "billed")
    get_settings.cache_clear()
    loaded = ApiSettings.load()
    assert isinstance(loaded, Settings)
    assert loaded.table_names == shared.table_names
    assert loaded.budget_metric == "billed"
    assert loaded.app_client_ids == frozenset({"test-client"})


# -- loaded once, read again only when the environment changed -----------------------------


def test_load_parses_once_and_again_when_a_variable_changes(
    shared: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ApiSettings.load()
    assert ApiSettings.load() is first
    monkeypatch.setenv("TALLY_APP_CLIENT_IDS", "another")  # as a test or the local stack does
    assert ApiSettings.load().app_client_ids == frozenset({"another"})
    monkeypatch.delenv("TALLY_APP_CLIENT_IDS")
    with pytest.raises(ConfigurationError, match="TALLY_APP_CLIENT_IDS"):
        ApiSettings.load()


def test_load_follows_the_shared_settings(
    shared: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert IngestSettings.load().default_currency == "USD"
    monkeypatch.setenv("TALLY_DEFAULT_CURRENCY", "EUR")
    assert IngestSettings.load().default_currency == "USD"  # the shared settings are kept...
    get_settings.cache_clear()
    assert IngestSettings.load().default_currency == "EUR"  # ...until they are read again


def test_a_missing_shared_variable_is_named_too(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("TALLY_APP_CLIENT_IDS", "web")
    with pytest.raises(
        ConfigurationError, match=r"environment variable TALLY_TABLE_\w+ is required"
    ):
        ApiSettings.from_env()
    get_settings.cache_clear()


# -- the ingest -----------------------------------------------------------------------------


def test_ingest_defaults() -> None:
    assert IngestSettings.parse(own(IngestSettings)) == {
        "cost_source": "cost-explorer",
        "export_bucket": None,
        "export_prefix": "",
        "restatement_days": 3,
        "user_pool_id": None,
        "event_bus_name": None,
    }


def test_ingest_reads_every_variable() -> None:
    parsed = IngestSettings.parse(
        own(
            IngestSettings,
            TALLY_COST_SOURCE="focus",
            TALLY_EXPORT_BUCKET="exports",
            TALLY_EXPORT_PREFIX="focus/",
            TALLY_RESTATEMENT_DAYS="5",
            TALLY_USER_POOL_ID="us-east-1_pool",
            TALLY_EVENT_BUS_NAME="tally",
        )
    )
    assert parsed == {
        "cost_source": "focus",
        "export_bucket": "exports",
        "export_prefix": "focus/",
        "restatement_days": 5,
        "user_pool_id": "us-east-1_pool",
        "event_bus_name": "tally",
    }


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"TALLY_COST_SOURCE": "athena"}, "TALLY_COST_SOURCE"),
        ({"TALLY_COST_SOURCE": "focus"}, "TALLY_EXPORT_BUCKET"),
        ({"TALLY_RESTATEMENT_DAYS": "three"}, "TALLY_RESTATEMENT_DAYS"),
        ({"TALLY_RESTATEMENT_DAYS": "0"}, "TALLY_RESTATEMENT_DAYS"),
        ({"TALLY_RESTATEMENT_DAYS": "-2"}, "TALLY_RESTATEMENT_DAYS"),
    ],
)
def test_ingest_refuses_a_bad_value_by_name(values: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        IngestSettings.parse(own(IngestSettings, **values))
