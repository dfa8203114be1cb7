"""Fixtures of the API tests beyond the shared harness (tests/harness.py)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

import pytest

from tally.notify.memory import MemorySecretBox, MemoryWebhookPoster, memory_unsubscribe_signer
from tally.notify.unsubscribe import HmacUnsubscribeSigner

# What the fake DNS answers: no API test reaches the network.
DNS = {
    "hooks.slack.com": ["52.10.20.30"],
    "chat.example.com": ["93.184.216.34"],
    "intranet.example.com": ["10.1.2.3"],
}


def fake_resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    try:
        addresses = DNS.get(host) or [str(ipaddress.ip_address(host))]
    except ValueError:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
    return [
        (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
        for a in addresses
    ]


@dataclass
class FakeChannels:
    secrets: MemorySecretBox
    poster: MemoryWebhookPoster
    signer: HmacUnsubscribeSigner


@pytest.fixture
def fake_channels(monkeypatch: pytest.MonkeyPatch) -> FakeChannels:
    """The API's channels (api.channels) as in-memory fakes, with a fake DNS."""
    from api import channels
    from tally.preferences import WebhookGuard

    fakes = FakeChannels(MemorySecretBox(), MemoryWebhookPoster(), memory_unsubscribe_signer())
    monkeypatch.setattr(channels, "secret_box", lambda: fakes.secrets)
    monkeypatch.setattr(channels, "webhook_poster", lambda: fakes.poster)
    monkeypatch.setattr(channels, "unsubscribe_signer", lambda: fakes.signer)
    monkeypatch.setattr(
        channels,
        "webhook_guard",
        lambda: WebhookGuard(secrets=fakes.secrets, resolve=fake_resolve),
    )
    return fakes
