"""The alerts function's settings: the shared ones (``tally.settings``) plus where its messages
go and how a run is paced.

Read through ``AlertsSettings.load()``: parsed on the first invocation of a container and kept
(``tally.settings.FunctionSettings``); a missing or bad value fails the invocation with a
``ConfigurationError`` naming the variable, before any message is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar, cast

from tally.alerts.levels import FORECAST_BOUNDS, ForecastBound
from tally.settings import ConfigurationError, Environment, FunctionSettings

if TYPE_CHECKING:
    from tally.alerts.evaluate import AlertSettings
    from tally.notify import NotifySettings

SENDER_EMAIL = "TALLY_SENDER_EMAIL"
SES_CONFIGURATION_SET = "TALLY_SES_CONFIGURATION_SET"
ADMIN_TOPIC_ARN = "TALLY_ADMIN_TOPIC_ARN"
DASHBOARD_URL = "TALLY_DASHBOARD_URL"
API_URL = "TALLY_API_URL"
ALERT_EMAIL_CAP = "TALLY_ALERT_EMAIL_CAP"
ALERT_GRACE_DAYS = "TALLY_ALERT_GRACE_DAYS"
FORECAST_BOUND = "TALLY_FORECAST_BOUND"
WEBHOOK_KEY_ID = "TALLY_WEBHOOK_KEY_ID"
UNSUBSCRIBE_SECRET_ID = "TALLY_UNSUBSCRIBE_SECRET_ID"  # noqa: S105 - a variable's name
WEBHOOK_ALLOW_LOOPBACK = "TALLY_WEBHOOK_ALLOW_LOOPBACK"
ALERTS_QUEUE_URL = "TALLY_ALERTS_QUEUE_URL"
FANOUT_MIN_USERS = "TALLY_ALERTS_FANOUT_MIN_USERS"
ANOMALY_MIN_IMPACT = "TALLY_ANOMALY_MIN_IMPACT"
ANOMALY_LOOKBACK_DAYS = "TALLY_ANOMALY_LOOKBACK_DAYS"

DEFAULT_EMAIL_CAP = 500
DEFAULT_FANOUT_MIN_USERS = 200
DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8080/"
DEFAULT_API_URL = "http://127.0.0.1:8080/api"
DEFAULT_ANOMALY_MIN_IMPACT = "10.00"
DEFAULT_ANOMALY_LOOKBACK_DAYS = 14


def _whole(env: Environment, name: str, default: int, *, least: int) -> int:
    raw = env[name] or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = least - 1
    if value < least:
        raise ConfigurationError(f"{name} must be a whole number, at least {least}: {raw!r}")
    return value


def _amount(env: Environment, name: str, default: str) -> Decimal:
    raw = (env[name] or default).strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise ConfigurationError(f"{name} must be an amount, at least 0: {raw!r}")
    return value


def _flag(env: Environment, name: str) -> bool:
    raw = (env[name] or "false").strip().lower()
    if raw not in ("true", "false"):
        raise ConfigurationError(f"{name} must be true or false: {raw!r}")
    return raw == "true"


def _url(env: Environment, name: str, default: str) -> str:
    value = (env[name] or default).strip()
    if not value.startswith(("https://", "http://")):
        raise ConfigurationError(f"{name} must be an http(s) URL: {value!r}")
    return value


@dataclass(frozen=True)
class AlertsSettings(FunctionSettings):
    # SES sends from this verified identity. Required: an alerts function that cannot email
    # should fail at its first invocation, not defer every alert in silence.
    sender_email: str = ""
    # The SES configuration set whose event destination reports bounces and complaints.
    configuration_set: str | None = None
    # Where "exceeded" goes for the admins. Required, for the same reason.
    admin_topic_arn: str = ""
    # Links in messages; the unsubscribe link is f"{api_url}/unsubscribe?token=...".
    dashboard_url: str = DEFAULT_DASHBOARD_URL
    api_url: str = DEFAULT_API_URL
    # Emails a run may send (however many invocations it fans out to); the rest wait.
    email_cap: int = DEFAULT_EMAIL_CAP
    # Days threshold and exceeded may wait for estimated figures to settle.
    grace_days: int = 0
    forecast_bound: ForecastBound = "point"
    # The KMS key that seals webhook URLs and the secret with the unsubscribe signing keys
    # (required: a user's webhook or digest must not fail on a missing setting mid-run).
    webhook_key_id: str = ""
    unsubscribe_secret_id: str = ""
    # The local stack's own webhook receiver listens on 127.0.0.1; never set in AWS.
    webhook_allow_loopback: bool = False
    # The fan-out queue; None: every run is evaluated in the invocation that planned it.
    queue_url: str | None = None
    # From this many candidate users on, a run fans out through the queue.
    fanout_min_users: int = DEFAULT_FANOUT_MIN_USERS
    # Anomalies: the least excess over the usual that is told (in the costs' currency), and
    # how many days back each run judges (a first run after a long ingest finds recent ones).
    anomaly_min_impact: Decimal = Decimal(DEFAULT_ANOMALY_MIN_IMPACT)
    anomaly_lookback_days: int = DEFAULT_ANOMALY_LOOKBACK_DAYS

    variables: ClassVar[tuple[str, ...]] = (
        SENDER_EMAIL,
        SES_CONFIGURATION_SET,
        ADMIN_TOPIC_ARN,
        DASHBOARD_URL,
        API_URL,
        ALERT_EMAIL_CAP,
        ALERT_GRACE_DAYS,
        FORECAST_BOUND,
        WEBHOOK_KEY_ID,
        UNSUBSCRIBE_SECRET_ID,
        WEBHOOK_ALLOW_LOOPBACK,
        ALERTS_QUEUE_URL,
        FANOUT_MIN_USERS,
        ANOMALY_MIN_IMPACT,
        ANOMALY_LOOKBACK_DAYS,
    )

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        sender = (env[SENDER_EMAIL] or "").strip()
        if "@" not in sender:
            raise ConfigurationError(f"environment variable {SENDER_EMAIL} is required")
        topic = (env[ADMIN_TOPIC_ARN] or "").strip()
        if not topic.startswith("arn:"):
            raise ConfigurationError(f"environment variable {ADMIN_TOPIC_ARN} is required")
        for name in (WEBHOOK_KEY_ID, UNSUBSCRIBE_SECRET_ID):
            if not env[name]:
                raise ConfigurationError(f"environment variable {name} is required")
        bound = env[FORECAST_BOUND] or "point"
        if bound not in FORECAST_BOUNDS:
            raise ConfigurationError(
                f"{FORECAST_BOUND} must be one of {', '.join(FORECAST_BOUNDS)}"
            )
        return {
            "sender_email": sender,
            "configuration_set": env[SES_CONFIGURATION_SET] or None,
            "admin_topic_arn": topic,
            "dashboard_url": _url(env, DASHBOARD_URL, DEFAULT_DASHBOARD_URL),
            "api_url": _url(env, API_URL, DEFAULT_API_URL).rstrip("/"),
            "email_cap": _whole(env, ALERT_EMAIL_CAP, DEFAULT_EMAIL_CAP, least=1),
            "grace_days": _whole(env, ALERT_GRACE_DAYS, 0, least=0),
            "forecast_bound": cast(ForecastBound, bound),
            "webhook_key_id": env[WEBHOOK_KEY_ID],
            "unsubscribe_secret_id": env[UNSUBSCRIBE_SECRET_ID],
            "webhook_allow_loopback": _flag(env, WEBHOOK_ALLOW_LOOPBACK),
            "queue_url": env[ALERTS_QUEUE_URL] or None,
            "fanout_min_users": _whole(env, FANOUT_MIN_USERS, DEFAULT_FANOUT_MIN_USERS, least=1),
            "anomaly_min_impact": _amount(env, ANOMALY_MIN_IMPACT, DEFAULT_ANOMALY_MIN_IMPACT),
            "anomaly_lookback_days": _whole(
                env, ANOMALY_LOOKBACK_DAYS, DEFAULT_ANOMALY_LOOKBACK_DAYS, least=1
            ),
        }

    def notify_settings(self) -> NotifySettings:
        """What the channels are built from (``tally.notify.aws_channels``)."""
        from tally.notify import NotifySettings

        return NotifySettings(
            region=self.region,
            sender_email=self.sender_email,
            configuration_set=self.configuration_set,
            admin_topic_arn=self.admin_topic_arn,
            webhook_key_id=self.webhook_key_id,
            unsubscribe_secret_id=self.unsubscribe_secret_id,
            webhook_allow_loopback=self.webhook_allow_loopback,
            aws_endpoint_url=self.aws_endpoint_url,
        )

    def alert_settings(self) -> AlertSettings:
        """What the evaluation is told (``tally.alerts.evaluate.AlertSettings``)."""
        from tally.alerts.evaluate import AlertSettings
        from tally.alerts.levels import AlertRules
        from tally.anomalies.model import AnomalyRules
        from tally.models import Metric

        return AlertSettings(
            rules=AlertRules(forecast_bound=self.forecast_bound, grace_days=self.grace_days),
            metric=Metric(self.budget_metric),
            email_cap=self.email_cap,
            dashboard_url=self.dashboard_url,
            api_url=self.api_url,
            anomalies=AnomalyRules(
                min_impact=self.anomaly_min_impact,
                lookback_days=self.anomaly_lookback_days,
                metric=Metric(self.budget_metric),
            ),
        )
