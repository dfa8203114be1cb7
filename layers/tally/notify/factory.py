"""The real channels, from the environment. boto3 clients are created on first use, so a
function that only validates webhook URLs or verifies unsubscribe tokens never loads SES."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from tally import settings as shared_settings
from tally.notify.ports import Channels
from tally.paging import PageKeys
from tally.settings import ConfigurationError

Channel = Literal["email", "admin_topic", "webhooks", "secrets", "unsubscribe"]
ALL_CHANNELS: tuple[Channel, ...] = ("email", "admin_topic", "webhooks", "secrets", "unsubscribe")

_TRUE, _FALSE = frozenset({"1", "true", "yes"}), frozenset({"", "0", "false", "no"})


@dataclass(frozen=True)
class NotifySettings:
    """What the channels need. Every channel is optional here (the API uses two of them);
    ``require`` makes a function fail at cold start when one it uses is not configured."""

    region: str
    sender_email: str | None = None  # verified SES identity: "Tally <alerts@example.com>"
    configuration_set: str | None = None  # SES configuration set (bounce/complaint events)
    admin_topic_arn: str | None = None
    webhook_key_id: str | None = None  # KMS key id, ARN or alias sealing webhook URLs
    unsubscribe_secret_id: str | None = None  # Secrets Manager: {"current": ..., "previous": ...}
    unsubscribe_keys: PageKeys | None = None  # a literal key (tests, benchmarks)
    webhook_allow_loopback: bool = False  # the local stack's own webhook receiver only
    aws_endpoint_url: str | None = None  # the local stack's emulator

    variables: ClassVar[tuple[str, ...]] = (
        "AWS_REGION",
        "TALLY_SENDER_EMAIL",
        "TALLY_SES_CONFIGURATION_SET",
        "TALLY_ADMIN_TOPIC_ARN",
        "TALLY_WEBHOOK_KEY_ID",
        "TALLY_UNSUBSCRIBE_SECRET_ID",
        "TALLY_UNSUBSCRIBE_SECRET",
        "TALLY_WEBHOOK_ALLOW_LOOPBACK",
        "TALLY_AWS_ENDPOINT_URL",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str | None] | None = None) -> NotifySettings:
        """Parsed from ``env`` (default ``os.environ``); a malformed value raises
        ``ConfigurationError`` naming its variable."""
        source = os.environ if env is None else env

        def value(name: str) -> str | None:
            return (source.get(name) or "").strip() or None

        region = value("AWS_REGION")
        if not region:
            raise ConfigurationError("environment variable AWS_REGION is required")
        sender = value("TALLY_SENDER_EMAIL")
        if sender and not re.search(r"[^@\s<]+@[^@\s>]+\.[^@\s>]+", sender):
            raise ConfigurationError("TALLY_SENDER_EMAIL is not an email address")
        topic = value("TALLY_ADMIN_TOPIC_ARN")
        if topic and not re.fullmatch(r"arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+", topic):
            raise ConfigurationError("TALLY_ADMIN_TOPIC_ARN is not an SNS topic ARN")
        loopback = (value("TALLY_WEBHOOK_ALLOW_LOOPBACK") or "").lower()
        if loopback not in _TRUE | _FALSE:
            raise ConfigurationError("TALLY_WEBHOOK_ALLOW_LOOPBACK must be true or false")
        literal = value("TALLY_UNSUBSCRIBE_SECRET")
        return cls(
            region=region,
            sender_email=sender,
            configuration_set=value("TALLY_SES_CONFIGURATION_SET"),
            admin_topic_arn=topic,
            webhook_key_id=value("TALLY_WEBHOOK_KEY_ID"),
            unsubscribe_secret_id=value("TALLY_UNSUBSCRIBE_SECRET_ID"),
            unsubscribe_keys=PageKeys.of(literal) if literal else None,
            webhook_allow_loopback=loopback in _TRUE,
            aws_endpoint_url=value("TALLY_AWS_ENDPOINT_URL"),
        )

    def missing(self, *channels: Channel) -> list[str]:
        """The variables the given channels (default: all) still need."""
        needs: dict[Channel, tuple[str, bool]] = {
            "email": ("TALLY_SENDER_EMAIL", bool(self.sender_email)),
            "admin_topic": ("TALLY_ADMIN_TOPIC_ARN", bool(self.admin_topic_arn)),
            "webhooks": ("", True),
            "secrets": ("TALLY_WEBHOOK_KEY_ID", bool(self.webhook_key_id)),
            "unsubscribe": (
                "TALLY_UNSUBSCRIBE_SECRET_ID",
                bool(self.unsubscribe_secret_id or self.unsubscribe_keys),
            ),
        }
        return [needs[c][0] for c in channels or ALL_CHANNELS if not needs[c][1]]

    def require(self, *channels: Channel) -> NotifySettings:
        """Itself, or ``ConfigurationError`` naming every missing variable."""
        missing = self.missing(*channels)
        if missing:
            raise ConfigurationError(f"environment variables required: {', '.join(missing)}")
        return self

    def unsubscribe_key_set(self) -> PageKeys:
        """The unsubscribe keys: the literal, or the secret's, re-read every
        ``PAGE_KEYS_MAX_AGE`` seconds so a rotation reaches warm functions."""
        if self.unsubscribe_keys is not None:
            return self.unsubscribe_keys
        if not self.unsubscribe_secret_id:
            raise ConfigurationError("TALLY_UNSUBSCRIBE_SECRET_ID is required")
        # The page-token keys' provider and cache lifetime: one Secrets Manager client.
        secret = shared_settings._secrets(self.region, self.aws_endpoint_url).get(
            self.unsubscribe_secret_id,
            max_age=shared_settings.PAGE_KEYS_MAX_AGE,
            transform="json",
        )
        if not isinstance(secret, dict):
            raise ConfigurationError("the unsubscribe secret must be a JSON object")
        try:
            return PageKeys.from_secret(secret)
        except ValueError as error:
            raise ConfigurationError(f"the unsubscribe secret: {error}") from None


class _LazyClient:
    """A boto3 client made on first use (importing boto3 costs a cold start ~0.3 s)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


def _client(settings: NotifySettings, service: str) -> _LazyClient:
    def make() -> Any:
        import boto3
        from botocore.config import Config

        # Standard retries back off on throttling; short timeouts keep one slow call from
        # eating the function's time (what fails is retried next run).
        config = Config(
            retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10
        )
        return boto3.client(
            service,
            region_name=settings.region,
            endpoint_url=settings.aws_endpoint_url,
            config=config,
        )

    return _LazyClient(make)


class _Unconfigured:
    """Stands in for a channel whose variable is unset: any use names it."""

    def __init__(self, variable: str) -> None:
        self._variable = variable

    def _fail(self, *_: Any, **__: Any) -> Any:
        raise ConfigurationError(f"environment variable {self._variable} is required")

    send = publish = post = seal = open = sign = verify = _fail


def aws_channels(settings: NotifySettings) -> Channels:
    """SES, SNS, HTTPS webhooks, KMS and HMAC unsubscribe tokens. A channel whose variable
    is unset raises ``ConfigurationError`` when used (see ``NotifySettings.require``)."""
    from tally.notify.secrets import KmsSecretBox
    from tally.notify.ses import SesEmailSender
    from tally.notify.sns import SnsAdminTopic
    from tally.notify.unsubscribe import HmacUnsubscribeSigner
    from tally.notify.webhooks import HttpWebhookPoster

    def unconfigured(channel: Channel) -> Any:
        return _Unconfigured(settings.missing(channel)[0])

    return Channels(
        email=(
            SesEmailSender(
                _client(settings, "sesv2"),
                sender=settings.sender_email,
                configuration_set=settings.configuration_set,
            )
            if settings.sender_email
            else unconfigured("email")
        ),
        admin_topic=(
            SnsAdminTopic(_client(settings, "sns"), settings.admin_topic_arn)
            if settings.admin_topic_arn
            else unconfigured("admin_topic")
        ),
        webhooks=HttpWebhookPoster(allow_loopback=settings.webhook_allow_loopback),
        secrets=(
            KmsSecretBox(_client(settings, "kms"), settings.webhook_key_id)
            if settings.webhook_key_id
            else unconfigured("secrets")
        ),
        unsubscribe=(
            HmacUnsubscribeSigner(settings.unsubscribe_key_set)
            if not settings.missing("unsubscribe")
            else unconfigured("unsubscribe")
        ),
    )
