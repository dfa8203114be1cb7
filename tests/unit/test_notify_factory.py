"""The channels from the environment: parsing, what a function must configure, the real
adapters wired to moto, and boto3 kept off the API's import path."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from tally.email.model import RenderedEmail
from tally.notify import OutgoingEmail, aws_channels
from tally.notify.factory import NotifySettings
from tally.paging import PageKeys
from tally.settings import ConfigurationError

TOPIC = "arn:aws:sns:us-east-1:123456789012:tally-admin-alerts"
FULL = {
    "AWS_REGION": "us-east-1",
    "TALLY_SENDER_EMAIL": "Tally <alerts@tally.example.com>",
    "TALLY_SES_CONFIGURATION_SET": "tally-email",
    "TALLY_ADMIN_TOPIC_ARN": TOPIC,
    "TALLY_WEBHOOK_KEY_ID": "alias/tally-webhooks",
    "TALLY_UNSUBSCRIBE_SECRET_ID": "tally/unsubscribe-keys",
    "TALLY_WEBHOOK_ALLOW_LOOPBACK": "true",
    "TALLY_AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
}


def test_every_variable_is_read() -> None:
    settings = NotifySettings.from_env(FULL)
    assert settings == NotifySettings(
        region="us-east-1",
        sender_email="Tally <alerts@tally.example.com>",
        configuration_set="tally-email",
        admin_topic_arn=TOPIC,
        webhook_key_id="alias/tally-webhooks",
        unsubscribe_secret_id="tally/unsubscribe-keys",
        webhook_allow_loopback=True,
        aws_endpoint_url="http://127.0.0.1:5000",
    )
    assert set(FULL) <= set(NotifySettings.variables)
    assert settings.missing() == []


def test_a_literal_unsubscribe_key_and_the_defaults() -> None:
    settings = NotifySettings.from_env({"AWS_REGION": "eu-west-1", "TALLY_UNSUBSCRIBE_SECRET": "k"})
    assert settings.unsubscribe_keys == PageKeys.of("k")
    assert settings.webhook_allow_loopback is False
    assert settings.missing() == [
        "TALLY_SENDER_EMAIL",
        "TALLY_ADMIN_TOPIC_ARN",
        "TALLY_WEBHOOK_KEY_ID",
    ]
    assert settings.require("unsubscribe", "webhooks") is settings
    with pytest.raises(ConfigurationError, match="TALLY_SENDER_EMAIL, TALLY_WEBHOOK_KEY_ID"):
        settings.require("email", "secrets")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AWS_REGION", "", "AWS_REGION is required"),
        ("TALLY_SENDER_EMAIL", "alerts", "TALLY_SENDER_EMAIL"),
        ("TALLY_ADMIN_TOPIC_ARN", "tally-admin-alerts", "TALLY_ADMIN_TOPIC_ARN"),
        ("TALLY_WEBHOOK_ALLOW_LOOPBACK", "maybe", "TALLY_WEBHOOK_ALLOW_LOOPBACK"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        NotifySettings.from_env({**FULL, name: value})


def test_an_unconfigured_channel_fails_when_used_naming_its_variable() -> None:
    channels = aws_channels(NotifySettings("us-east-1"))
    with pytest.raises(ConfigurationError, match="TALLY_SENDER_EMAIL"):
        channels.email.send(OutgoingEmail("a@example.com", RenderedEmail("s", "h", "t", {}), {}))
    with pytest.raises(ConfigurationError, match="TALLY_ADMIN_TOPIC_ARN"):
        channels.admin_topic.publish(subject="s", message="m", attributes={})
    with pytest.raises(ConfigurationError, match="TALLY_WEBHOOK_KEY_ID"):
        channels.secrets.seal("x", user_id="u")
    with pytest.raises(ConfigurationError, match="TALLY_UNSUBSCRIBE_SECRET_ID"):
        channels.unsubscribe.sign("u", now=datetime(2026, 11, 20, tzinfo=UTC))


def test_the_local_endpoint_reaches_every_client() -> None:
    channels = aws_channels(NotifySettings.from_env(FULL))
    endpoints = [
        channels.email._client.meta.endpoint_url,  # type: ignore[attr-defined]
        channels.admin_topic._client.meta.endpoint_url,  # type: ignore[attr-defined]
        channels.secrets._client.meta.endpoint_url,  # type: ignore[attr-defined]
    ]
    assert endpoints == ["http://127.0.0.1:5000"] * 3
    assert channels.webhooks.allow_loopback is True  # type: ignore[attr-defined]


def test_the_real_channels_work_end_to_end_on_moto(aws: Any) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    boto3.client("sesv2", region_name="us-east-1").create_email_identity(
        EmailIdentity="tally.example.com"
    )
    topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="tally-admin")
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
    channels = aws_channels(
        NotifySettings(
            "us-east-1",
            sender_email="alerts@tally.example.com",
            admin_topic_arn=topic["TopicArn"],
            webhook_key_id=key,
            unsubscribe_keys=PageKeys.of("k"),
        )
    )
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    before = len(backend.sent_messages)

    message_id = channels.email.send(
        OutgoingEmail("ada@example.com", RenderedEmail("Hi", "<p>Hi</p>", "Hi", {}), {"k": "v"})
    )
    assert backend.sent_messages[before].id == message_id
    assert channels.admin_topic.publish(subject="s", message="m", attributes={"level": "exceeded"})
    sealed = channels.secrets.seal("https://hooks.slack.com/x", user_id="u-ada")
    assert channels.secrets.open(sealed, user_id="u-ada") == "https://hooks.slack.com/x"
    now = datetime(2026, 11, 20, tzinfo=UTC)
    assert channels.unsubscribe.verify(channels.unsubscribe.sign("u-ada", now=now), now=now)


def test_the_api_path_imports_no_boto3() -> None:
    # The API validates webhook URLs and verifies unsubscribe tokens on its request path; and
    # building the channels must not load boto3 before one is used.
    code = (
        "import sys\n"
        "import tally.notify, tally.notify.memory, tally.notify.unsubscribe\n"
        "from tally.notify.webhooks import validate_webhook_url\n"
        "from tally.notify import aws_channels, NotifySettings\n"
        "aws_channels(NotifySettings('us-east-1', sender_email='a@example.com',"
        " admin_topic_arn='arn:aws:sns:us-east-1:123456789012:t', webhook_key_id='k'))\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules,"
        " sorted(m for m in sys.modules if m.startswith('boto'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(Path(__file__).parents[2] / "layers")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
