"""In-memory channels for tests and benchmarks: they record what would have gone out and can
be told to fail, so the evaluation's retry and deferral paths run without AWS."""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tally.notify.ports import (
    Channels,
    ChatMessage,
    OutgoingEmail,
    SendFailed,
    WebhookRefused,
)
from tally.notify.unsubscribe import HmacUnsubscribeSigner
from tally.paging import PageKeys


@dataclass
class MemoryEmailSender:
    """``sent`` holds (message id, email) in sending order. ``failing`` addresses fail every
    time (retryable); ``fail_next`` makes only the next send to an address fail."""

    sent: list[tuple[str, OutgoingEmail]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    _next_failures: dict[str, list[bool]] = field(default_factory=dict)
    _count: int = 0

    def fail_next(self, to: str, retryable: bool = True) -> None:
        self._next_failures.setdefault(to, []).append(retryable)

    def send(self, email: OutgoingEmail) -> str:
        queued = self._next_failures.get(email.to)
        if queued:
            retryable = queued.pop(0)
            raise SendFailed(f"simulated failure sending to {email.to}", retryable=retryable)
        if email.to in self.failing:
            raise SendFailed(f"simulated throttling sending to {email.to}", retryable=True)
        self._count += 1
        message_id = f"memory-email-{self._count:06d}"
        self.sent.append((message_id, email))
        return message_id

    def to(self, address: str) -> list[OutgoingEmail]:
        """What went to ``address``, in order."""
        return [email for _, email in self.sent if email.to == address]


@dataclass(frozen=True)
class PublishedMessage:
    message_id: str
    subject: str
    message: str
    attributes: Mapping[str, str]


@dataclass
class MemoryAdminTopic:
    published: list[PublishedMessage] = field(default_factory=list)
    _next_failures: list[bool] = field(default_factory=list)

    def fail_next(self, retryable: bool = True) -> None:
        self._next_failures.append(retryable)

    def publish(self, *, subject: str, message: str, attributes: Mapping[str, str]) -> str:
        if self._next_failures:
            raise SendFailed("simulated SNS failure", retryable=self._next_failures.pop(0))
        message_id = f"memory-sns-{len(self.published) + 1:06d}"
        self.published.append(PublishedMessage(message_id, subject, message, dict(attributes)))
        return message_id


@dataclass
class MemoryWebhookPoster:
    """``posted`` holds (url, message). ``refused`` URLs raise ``WebhookRefused``;
    ``fail_next`` makes the next post to a URL fail with ``SendFailed``."""

    posted: list[tuple[str, ChatMessage]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    _next_failures: dict[str, list[bool]] = field(default_factory=dict)

    def fail_next(self, url: str, retryable: bool = True) -> None:
        self._next_failures.setdefault(url, []).append(retryable)

    def post(self, url: str, message: ChatMessage) -> None:
        if url in self.refused:
            raise WebhookRefused("the webhook URL points at a private address")
        queued = self._next_failures.get(url)
        if queued:
            raise SendFailed("simulated webhook failure", retryable=queued.pop(0))
        self.posted.append((url, message))


class MemorySecretBox:
    """Reversible, not secret: the ciphertext names the user it was sealed for, and opening
    it for anyone else fails as KMS does when the encryption context differs."""

    _PREFIX = "memory-sealed:"

    def seal(self, plaintext: str, *, user_id: str) -> str:
        body = json.dumps({"u": user_id, "p": plaintext}).encode()
        return self._PREFIX + base64.urlsafe_b64encode(body).decode()

    def open(self, ciphertext: str, *, user_id: str) -> str:
        if not ciphertext.startswith(self._PREFIX):
            raise ValueError("not a sealed secret")
        value = json.loads(base64.urlsafe_b64decode(ciphertext[len(self._PREFIX) :]))
        if value["u"] != user_id:
            raise ValueError("the secret was sealed for another user")
        return str(value["p"])


def static_resolver(
    answers: Mapping[str, Sequence[str]],
) -> Callable[..., list[tuple[Any, ...]]]:
    """A ``socket.getaddrinfo`` stand-in for webhook tests: host name -> its addresses; an
    unknown name fails as DNS does."""

    def resolve(host: str, port: int, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        result: list[tuple[Any, ...]] = []
        for address in answers[host]:
            if ipaddress.ip_address(address.split("%")[0]).version == 6:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return result

    return resolve


def memory_unsubscribe_signer() -> HmacUnsubscribeSigner:
    return HmacUnsubscribeSigner(PageKeys.of("memory-unsubscribe-key"))


def memory_channels() -> Channels:
    return Channels(
        email=MemoryEmailSender(),
        admin_topic=MemoryAdminTopic(),
        webhooks=MemoryWebhookPoster(),
        secrets=MemorySecretBox(),
        unsubscribe=memory_unsubscribe_signer(),
    )
