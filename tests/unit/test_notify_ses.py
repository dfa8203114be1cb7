"""SES email sender: the raw MIME message as moto's SES store receives it, the request's tags and
configuration set (botocore's Stubber: moto ignores both), and how SES errors map to SendFailed."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ConnectTimeoutError
from botocore.stub import ANY, Stubber

from tally.email.model import RenderedEmail
from tally.notify.ports import OutgoingEmail, SendFailed
from tally.notify.ses import SesEmailSender, email_tags, mime_message

SENDER = "Tally <alerts@tally.example.com>"
UNSUBSCRIBE = "https://api.tally.example.com/api/unsubscribe?token=" + "x9Qa-" * 30
DIGEST = RenderedEmail(
    subject="Your daily AWS spend — Überblick",
    html="<html><body><p style='color:#333'>Spent <b>$1,234.50</b> · Grüße</p>"
    + "<span style='margin:0'>x</span>" * 80
    + "</body></html>",
    text="Spent $1,234.50 · Grüße\n",
    headers={
        "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
)
TAGS = {"userId": "u-alice", "kind": "digest", "period": "2026-11-30"}


def outgoing(rendered: RenderedEmail = DIGEST, to: str = "alice@example.com") -> OutgoingEmail:
    return OutgoingEmail(to=to, rendered=rendered, tags=TAGS)


@pytest.fixture
def ses(aws: Any) -> Iterator[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    client = boto3.client("sesv2", region_name="us-east-1")
    client.create_email_identity(EmailIdentity="tally.example.com")
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    backend.sent_messages.clear()
    yield client
    backend.sent_messages.clear()


def sent_messages() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_the_email_lands_in_moto_as_a_multipart_message_with_its_headers(ses: Any) -> None:
    sender = SesEmailSender(ses, sender=SENDER, configuration_set="tally-email")

    message_id = sender.send(outgoing())

    [stored] = sent_messages()
    assert stored.id == message_id
    assert "alice@example.com" in stored.destinations
    parsed = email.message_from_string(stored.raw_data, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["From"] == SENDER and parsed["To"] == "alice@example.com"
    assert parsed["Subject"] == DIGEST.subject
    # Verbatim, not RFC 2047-encoded or folded: mail providers read it as a URL.
    assert f"List-Unsubscribe: <{UNSUBSCRIBE}>" in stored.raw_data.splitlines()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in stored.raw_data.splitlines()
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None and text.get_content() == DIGEST.text
    assert html is not None and html.get_content() == DIGEST.html + "\n"
    assert text.get_content_charset() == "utf-8"


def test_no_line_of_the_message_exceeds_smtp_limits_however_long_the_html() -> None:
    raw = mime_message(outgoing(), sender=SENDER)
    assert max(len(line) for line in raw.split(b"\n")) <= 998
    assert len(DIGEST.html) > 2000  # the inlined HTML is one long line
    raw.decode("ascii")  # quoted-printable: nothing 8-bit left for a relay to mangle


def test_an_unverified_sender_is_a_permanent_failure(ses: Any) -> None:
    sender = SesEmailSender(ses, sender="alerts@unverified.example.net")
    with pytest.raises(SendFailed) as failure:
        sender.send(outgoing())
    assert failure.value.retryable is False
    assert "MessageRejected" in failure.value.reason
    assert sent_messages() == []


@pytest.mark.parametrize("name", ["Bcc", "from", "Subject"])
def test_rendered_headers_may_not_override_the_envelope(name: str) -> None:
    rendered = RenderedEmail("s", "<p>h</p>", "t", {name: "mallory@example.com"})
    with pytest.raises(SendFailed, match=f"may not set the {name} header") as failure:
        mime_message(outgoing(rendered), sender=SENDER)
    assert failure.value.retryable is False


def test_a_line_break_in_a_header_or_address_is_refused() -> None:
    rendered = RenderedEmail("s", "<p>h</p>", "t", {"List-Id": "x\r\nBcc: mallory@example.com"})
    with pytest.raises(SendFailed, match="line break"):
        mime_message(outgoing(rendered), sender=SENDER)
    with pytest.raises(SendFailed, match="line break"):
        mime_message(outgoing(to="a@example.com\nBcc: m@example.com"), sender=SENDER)


def test_tags_keep_only_the_characters_ses_allows() -> None:
    assert email_tags(
        {"userId": "u-alice", "period": "2026-W48", "level": "restated#USD#2026-11-20", "x y": ""}
    ) == [
        {"Name": "userId", "Value": "u-alice"},
        {"Name": "period", "Value": "2026-W48"},
        {"Name": "level", "Value": "restated_USD_2026-11-20"},
    ]
    assert email_tags({"userId": "ü" * 300}) == [{"Name": "userId", "Value": "_" * 256}]


def test_the_request_carries_tags_and_the_configuration_set() -> None:
    client = boto3.client("sesv2", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "send_email",
            {"MessageId": "m-1"},
            {
                "FromEmailAddress": SENDER,
                "Destination": {"ToAddresses": ["alice@example.com"]},
                "Content": {"Raw": {"Data": ANY}},
                "EmailTags": [
                    {"Name": "userId", "Value": "u-alice"},
                    {"Name": "kind", "Value": "digest"},
                    {"Name": "period", "Value": "2026-11-30"},
                ],
                "ConfigurationSetName": "tally-email",
            },
        )
        sender = SesEmailSender(client, sender=SENDER, configuration_set="tally-email")
        assert sender.send(outgoing()) == "m-1"
        stub.assert_no_pending_responses()


def test_without_a_configuration_set_the_request_names_none() -> None:
    client = boto3.client("sesv2", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "send_email",
            {"MessageId": "m-2"},
            {
                "FromEmailAddress": SENDER,
                "Destination": {"ToAddresses": ["alice@example.com"]},
                "Content": {"Raw": {"Data": ANY}},
                "EmailTags": ANY,
            },
        )
        assert SesEmailSender(client, sender=SENDER).send(outgoing()) == "m-2"


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("TooManyRequestsException", 429, True),
        ("Throttling", 400, True),
        ("LimitExceededException", 400, True),
        ("InternalFailure", 500, True),
        ("SomethingNew", 503, True),
        ("MessageRejected", 400, False),
        ("MailFromDomainNotVerifiedException", 400, False),
        ("AccountSuspendedException", 400, False),
        ("BadRequestException", 400, False),
        ("NotFoundException", 404, False),
    ],
)
def test_ses_errors_map_to_retryable_or_permanent(code: str, status: int, retryable: bool) -> None:
    client = boto3.client("sesv2", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("send_email", code, "no", http_status_code=status)
        with pytest.raises(SendFailed) as failure:
            SesEmailSender(client, sender=SENDER).send(outgoing())
    assert failure.value.retryable is retryable
    assert code in failure.value.reason


def test_a_network_error_is_retryable() -> None:
    class Unreachable:
        def send_email(self, **_: Any) -> Any:
            raise ConnectTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")

    with pytest.raises(SendFailed) as failure:
        SesEmailSender(Unreachable(), sender=SENDER).send(outgoing())
    assert failure.value.retryable is True
