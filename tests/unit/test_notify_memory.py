"""The in-memory channels the evaluation's tests run on: they record and fail as told."""

from __future__ import annotations

import socket

import pytest

from tally.email.model import RenderedEmail
from tally.notify.memory import (
    MemoryAdminTopic,
    MemoryEmailSender,
    MemoryWebhookPoster,
    static_resolver,
)
from tally.notify.ports import ChatMessage, OutgoingEmail, SendFailed, WebhookRefused

RENDERED = RenderedEmail("s", "<p>h</p>", "t", {})


def email(to: str) -> OutgoingEmail:
    return OutgoingEmail(to, RENDERED, {"userId": "u"})


def test_the_email_sender_records_and_fails_as_told() -> None:
    sender = MemoryEmailSender()
    sender.fail_next("bob@example.com", retryable=False)
    sender.failing.add("carol@example.com")

    first = sender.send(email("alice@example.com"))
    with pytest.raises(SendFailed) as once:
        sender.send(email("bob@example.com"))
    second = sender.send(email("bob@example.com"))  # only the next one failed
    for _ in range(2):
        with pytest.raises(SendFailed) as always:
            sender.send(email("carol@example.com"))

    assert once.value.retryable is False and always.value.retryable is True
    assert first != second
    assert [(mid, e.to) for mid, e in sender.sent] == [
        (first, "alice@example.com"),
        (second, "bob@example.com"),
    ]
    assert sender.to("bob@example.com") == [email("bob@example.com")]


def test_the_topic_and_the_poster_record_and_fail_as_told() -> None:
    topic = MemoryAdminTopic()
    topic.fail_next()
    with pytest.raises(SendFailed):
        topic.publish(subject="s", message="m", attributes={"level": "exceeded"})
    topic.publish(subject="s", message="m", attributes={"level": "exceeded"})
    assert [p.attributes for p in topic.published] == [{"level": "exceeded"}]

    poster = MemoryWebhookPoster(refused={"https://inside.example.com/x"})
    message = ChatMessage("t", "x", None, "test")
    with pytest.raises(WebhookRefused):
        poster.post("https://inside.example.com/x", message)
    poster.fail_next("https://hooks.slack.com/x", retryable=True)
    with pytest.raises(SendFailed):
        poster.post("https://hooks.slack.com/x", message)
    poster.post("https://hooks.slack.com/x", message)
    assert poster.posted == [("https://hooks.slack.com/x", message)]


def test_the_static_resolver_answers_like_getaddrinfo() -> None:
    resolve = static_resolver({"h.example.com": ["93.184.215.14", "2606:2800::1"]})
    answers = resolve("h.example.com", 443, type=socket.SOCK_STREAM)
    assert [(a[0], a[4][:2]) for a in answers] == [
        (socket.AF_INET, ("93.184.215.14", 443)),
        (socket.AF_INET6, ("2606:2800::1", 443)),
    ]
    with pytest.raises(socket.gaierror):
        resolve("nowhere.example.com", 443)
