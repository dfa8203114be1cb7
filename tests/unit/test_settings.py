"""Each function's settings: its own variables parsed once, a missing or bad one named in a
``ConfigurationError``, the defaults when unset, and the shared settings carried along."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from alerts.settings import AlertsSettings
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
        "webhook_key_id": None,
        "webhook_allow_loopback": False,
        "unsubscribe_secret_id": None,
        "reports_per_hour": 10,
        "reports_burst": 5,
    }


def test_api_reports_limit_settings() -> None:
    parsed = ApiSettings.parse(
        own(
            ApiSettings,
            TALLY_APP_CLIENT_IDS="web",
            TALLY_REPORTS_PER_HOUR="30",
            TALLY_REPORTS_BURST=" 2 ",
        )
    )
    assert (parsed["reports_per_hour"], parsed["reports_burst"]) == (30, 2)
    for name in ("TALLY_REPORTS_PER_HOUR", "TALLY_REPORTS_BURST"):
        for bad in ("0", "-3", "ten", "1.5"):
            with pytest.raises(ConfigurationError, match=name):
                ApiSettings.parse(own(ApiSettings, TALLY_APP_CLIENT_IDS="web", **{name: bad}))


def test_api_webhook_and_unsubscribe_settings() -> None:
    parsed = ApiSettings.parse(
        own(
            ApiSettings,
            TALLY_APP_CLIENT_IDS="web",
            TALLY_WEBHOOK_KEY_ID="arn:aws:kms:us-east-1:123456789012:key/k",
            TALLY_WEBHOOK_ALLOW_LOOPBACK="TRUE",
            TALLY_UNSUBSCRIBE_SECRET_ID="arn:aws:secretsmanager:us-east-1:123456789012:secret:u",
        )
    )
    assert parsed["webhook_key_id"] == "arn:aws:kms:us-east-1:123456789012:key/k"
    assert parsed["webhook_allow_loopback"] is True
    assert parsed["unsubscribe_secret_id"].endswith(":secret:u")
    with pytest.raises(ConfigurationError, match="TALLY_WEBHOOK_ALLOW_LOOPBACK"):
        ApiSettings.parse(
            own(ApiSettings, TALLY_APP_CLIENT_IDS="web", TALLY_WEBHOOK_ALLOW_LOOPBACK="yes")
        )


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
        "ingest_queue_url": None,
        "ingest_work_bucket": None,
        "athena_database": None,
        "athena_table": None,
        "athena_workgroup": None,
        "athena_output": None,
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
            TALLY_INGEST_QUEUE_URL="https://sqs/batches",
            TALLY_INGEST_WORK_BUCKET="work",
            TALLY_ATHENA_DATABASE="db",
            TALLY_ATHENA_TABLE="focus",
            TALLY_ATHENA_WORKGROUP="tally",
            TALLY_ATHENA_OUTPUT="s3://results/tally/",
        )
    )
    assert parsed == {
        "cost_source": "focus",
        "export_bucket": "exports",
        "export_prefix": "focus/",
        "restatement_days": 5,
        "user_pool_id": "us-east-1_pool",
        "event_bus_name": "tally",
        "ingest_queue_url": "https://sqs/batches",
        "ingest_work_bucket": "work",
        "athena_database": "db",
        "athena_table": "focus",
        "athena_workgroup": "tally",
        "athena_output": "s3://results/tally/",
    }


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"TALLY_COST_SOURCE": "bigquery"}, "TALLY_COST_SOURCE"),
        ({"TALLY_COST_SOURCE": "athena"}, "TALLY_ATHENA_DATABASE"),
        ({"TALLY_INGEST_QUEUE_URL": "https://sqs/batches"}, "TALLY_INGEST_WORK_BUCKET"),
        ({"TALLY_COST_SOURCE": "focus"}, "TALLY_EXPORT_BUCKET"),
        ({"TALLY_RESTATEMENT_DAYS": "three"}, "TALLY_RESTATEMENT_DAYS"),
        ({"TALLY_RESTATEMENT_DAYS": "0"}, "TALLY_RESTATEMENT_DAYS"),
        ({"TALLY_RESTATEMENT_DAYS": "-2"}, "TALLY_RESTATEMENT_DAYS"),
    ],
)
def test_ingest_refuses_a_bad_value_by_name(values: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        IngestSettings.parse(own(IngestSettings, **values))


# -- the alerts -----------------------------------------------------------------------------

ALERTS_REQUIRED = {
    "TALLY_SENDER_EMAIL": "Tally <alerts@example.com>",
    "TALLY_ADMIN_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:tally-admin-alerts",
    "TALLY_WEBHOOK_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/k",
    "TALLY_UNSUBSCRIBE_SECRET_ID": "unsubscribe-keys",
}


def test_alerts_defaults_with_only_the_required() -> None:
    parsed = AlertsSettings.parse(own(AlertsSettings, **ALERTS_REQUIRED))
    assert parsed == {
        "sender_email": "Tally <alerts@example.com>",
        "configuration_set": None,
        "admin_topic_arn": ALERTS_REQUIRED["TALLY_ADMIN_TOPIC_ARN"],
        "dashboard_url": "http://127.0.0.1:8080/",
        "api_url": "http://127.0.0.1:8080/api",
        "email_cap": 500,
        "grace_days": 0,
        "forecast_bound": "point",
        "webhook_key_id": ALERTS_REQUIRED["TALLY_WEBHOOK_KEY_ID"],
        "unsubscribe_secret_id": "unsubscribe-keys",
        "webhook_allow_loopback": False,
        "queue_url": None,
        "fanout_min_users": 200,
        "anomaly_min_impact": Decimal("10.00"),
        "anomaly_lookback_days": 14,
    }


def test_alerts_read_every_variable(shared: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        **ALERTS_REQUIRED,
        "TALLY_SES_CONFIGURATION_SET": "tally-alerts",
        "TALLY_DASHBOARD_URL": "https://tally.example.org/",
        "TALLY_API_URL": "https://api.example.org/prod/api/",
        "TALLY_ALERT_EMAIL_CAP": "40",
        "TALLY_ALERT_GRACE_DAYS": "2",
        "TALLY_FORECAST_BOUND": "lower80",
        "TALLY_WEBHOOK_ALLOW_LOOPBACK": "true",
        "TALLY_ALERTS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/fan-out",
        "TALLY_ALERTS_FANOUT_MIN_USERS": "50",
        "TALLY_ANOMALY_MIN_IMPACT": "25.50",
        "TALLY_ANOMALY_LOOKBACK_DAYS": "30",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = AlertsSettings.load()
    assert settings.api_url == "https://api.example.org/prod/api"  # links append "/unsubscribe"
    assert (settings.queue_url, settings.fanout_min_users) == (
        values["TALLY_ALERTS_QUEUE_URL"],
        50,
    )
    evaluation = settings.alert_settings()
    assert (evaluation.email_cap, evaluation.rules.grace_days) == (40, 2)
    assert evaluation.rules.forecast_bound == "lower80"
    assert evaluation.metric.value == shared.budget_metric
    assert evaluation.dashboard_url == "https://tally.example.org/"
    assert evaluation.anomalies is not None
    assert (evaluation.anomalies.min_impact, evaluation.anomalies.lookback_days) == (
        Decimal("25.50"),
        30,
    )
    assert evaluation.anomalies.metric == evaluation.metric
    channels = settings.notify_settings()
    assert channels.configuration_set == "tally-alerts"
    assert channels.webhook_allow_loopback is True
    assert channels.unsubscribe_secret_id == "unsubscribe-keys"
    assert channels.region == shared.region


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"TALLY_SENDER_EMAIL": ""}, "TALLY_SENDER_EMAIL"),
        ({"TALLY_SENDER_EMAIL": "alerts"}, "TALLY_SENDER_EMAIL"),
        ({"TALLY_ADMIN_TOPIC_ARN": ""}, "TALLY_ADMIN_TOPIC_ARN"),
        ({"TALLY_WEBHOOK_KEY_ID": ""}, "TALLY_WEBHOOK_KEY_ID"),
        ({"TALLY_UNSUBSCRIBE_SECRET_ID": ""}, "TALLY_UNSUBSCRIBE_SECRET_ID"),
        ({"TALLY_ALERT_EMAIL_CAP": "0"}, "TALLY_ALERT_EMAIL_CAP"),
        ({"TALLY_ALERT_EMAIL_CAP": "many"}, "TALLY_ALERT_EMAIL_CAP"),
        ({"TALLY_ALERT_GRACE_DAYS": "-1"}, "TALLY_ALERT_GRACE_DAYS"),
        ({"TALLY_FORECAST_BOUND": "upper80"}, "TALLY_FORECAST_BOUND"),
        ({"TALLY_WEBHOOK_ALLOW_LOOPBACK": "maybe"}, "TALLY_WEBHOOK_ALLOW_LOOPBACK"),
        ({"TALLY_ALERTS_FANOUT_MIN_USERS": "0"}, "TALLY_ALERTS_FANOUT_MIN_USERS"),
        ({"TALLY_DASHBOARD_URL": "tally.example.org"}, "TALLY_DASHBOARD_URL"),
        ({"TALLY_API_URL": "ftp://api"}, "TALLY_API_URL"),
        ({"TALLY_ANOMALY_MIN_IMPACT": "-1"}, "TALLY_ANOMALY_MIN_IMPACT"),
        ({"TALLY_ANOMALY_MIN_IMPACT": "ten"}, "TALLY_ANOMALY_MIN_IMPACT"),
        ({"TALLY_ANOMALY_LOOKBACK_DAYS": "0"}, "TALLY_ANOMALY_LOOKBACK_DAYS"),
    ],
)
def test_alerts_refuse_a_bad_value_by_name(values: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        AlertsSettings.parse(own(AlertsSettings, **{**ALERTS_REQUIRED, **values}))
