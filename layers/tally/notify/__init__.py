"""Channels the alerts speak through: email (SES), the admin topic (SNS), chat webhooks,
sealed webhook URLs (KMS) and signed unsubscribe links. ``ports`` names what the domain needs,
``memory`` fakes it, ``aws_channels`` builds the real ones (boto3 clients created lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tally.notify.ports import (
    AdminTopic,
    Channels,
    ChatMessage,
    EmailSender,
    OutgoingEmail,
    SecretBox,
    SendFailed,
    UnsubscribeSigner,
    WebhookPoster,
    WebhookRefused,
)

if TYPE_CHECKING:
    from tally.notify.factory import NotifySettings, aws_channels

__all__ = [
    "AdminTopic",
    "Channels",
    "ChatMessage",
    "EmailSender",
    "NotifySettings",
    "OutgoingEmail",
    "SecretBox",
    "SendFailed",
    "UnsubscribeSigner",
    "WebhookPoster",
    "WebhookRefused",
    "aws_channels",
]


def __getattr__(name: str) -> Any:
    # The factory pulls in the AWS adapters; importing the ports (the API does, on its request
    # path) should not.
    if name in ("NotifySettings", "aws_channels"):
        from tally.notify import factory

        return getattr(factory, name)
    raise AttributeError(name)
