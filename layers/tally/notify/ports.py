"""What the alerts need from the outside world, as small interfaces.

The evaluation codes against these; ``memory.py`` has fakes for tests and the AWS adapters
(SES, SNS, KMS, HTTPS webhooks, HMAC tokens) live beside them. No module here imports boto3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from tally.email.model import RenderedEmail


class SendFailed(Exception):
    """A message did not go out. ``retryable``: worth trying again next run (throttling, a
    5xx, a timeout); otherwise the message itself or the account is at fault."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class WebhookRefused(Exception):
    """The webhook URL is not allowed: not https, userinfo, a private, loopback or link-local
    address after DNS resolution, or a redirect. The message says which, for a 422."""

    field: ClassVar[str] = "webhookUrl"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email (an invoice's PDF)."""

    filename: str
    content_type: str  # "application/pdf"
    data: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    rendered: RenderedEmail
    tags: Mapping[str, str]  # SES EmailTags: {"userId": ..., "kind": ..., "period": ...}
    attachments: tuple[Attachment, ...] = ()


class EmailSender(Protocol):
    def send(self, email: OutgoingEmail) -> str:
        """Sends it; returns the SES message id. Raises ``SendFailed``."""
        ...


class AdminTopic(Protocol):
    def publish(self, *, subject: str, message: str, attributes: Mapping[str, str]) -> str:
        """Publishes to the admins' SNS topic; ``attributes`` (level, userId, period) become
        String message attributes so subscribers can filter. Returns the SNS message id."""
        ...


@dataclass(frozen=True)
class ChatMessage:
    title: str
    text: str
    link: str | None
    level: str  # "threshold" | "exceeded" | "forecast" | "digest" | "test" | ...


class WebhookPoster(Protocol):
    def post(self, url: str, message: ChatMessage) -> None:
        """Delivers it to a Slack/Teams-compatible incoming webhook. Raises
        ``WebhookRefused`` (the URL is not allowed) or ``SendFailed``."""
        ...


class SecretBox(Protocol):
    """Webhook URLs at rest: sealed for one user (KMS, encryption context userId)."""

    def seal(self, plaintext: str, *, user_id: str) -> str: ...

    def open(self, ciphertext: str, *, user_id: str) -> str:
        """The plaintext; ``ValueError`` when ``ciphertext`` was not sealed for ``user_id``
        (or is not a ciphertext), ``SendFailed`` (retryable) when KMS throttles."""
        ...


class UnsubscribeSigner(Protocol):
    def sign(self, user_id: str, *, now: datetime) -> str:
        """A url-safe token that unsubscribes ``user_id`` from digests; expires in 30 days."""
        ...

    def verify(self, token: str, *, now: datetime) -> str:
        """The token's user id; raises ``Invalid.field("token", ...)`` when it was altered,
        has expired or is not an unsubscribe token."""
        ...


@dataclass
class Channels:
    email: EmailSender
    admin_topic: AdminTopic
    webhooks: WebhookPoster
    secrets: SecretBox
    unsubscribe: UnsubscribeSigner
