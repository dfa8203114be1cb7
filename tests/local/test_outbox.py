"""The outbox page and ``/outbox.json``: emails as SES (v2, raw MIME) took them, messages on the
admin topic, and the local webhook receiver, over real HTTP against moto's server."""

from __future__ import annotations

import json
import uuid

from infra.local.aws import LocalAws
from infra.local.gateway import LocalGateway
from tally.email.model import RenderedEmail
from tally.notify.ports import OutgoingEmail
from tally.notify.ses import SesEmailSender
from tally.notify.sns import SnsAdminTopic
from tests.local.conftest import call

UNSUBSCRIBE = "http://127.0.0.1:8080/api/unsubscribe?token=abc"


def send_digest(aws: LocalAws, marker: str) -> str:
    """A digest as the alerts function sends it: multipart, with the one-click headers."""
    sender = SesEmailSender(
        aws.client("sesv2"), sender=aws.sender_email, configuration_set=aws.ses_configuration_set
    )
    rendered = RenderedEmail(
        subject=f"Your daily AWS spend {marker}",
        html=f"<html><body><h1>Spend {marker}</h1><script>alert(1)</script></body></html>",
        text=f"Spend {marker}\nYesterday: $12.00 <not html>",
        headers={
            "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    return sender.send(
        OutgoingEmail(to="alice@example.com", rendered=rendered, tags={"userId": "u-alice"})
    )


def test_an_email_shows_its_headers_html_and_text_parts(
    gateway: LocalGateway, local_aws: LocalAws
) -> None:
    marker = uuid.uuid4().hex[:8]
    message_id = send_digest(local_aws, marker)

    listing = call(gateway.url, "GET", "/outbox.json").json()
    page = call(gateway.url, "GET", "/outbox").body.decode()

    [sent] = [e for e in listing["emails"] if e["message_id"] == message_id]
    assert sent["subject"] == f"Your daily AWS spend {marker}"
    assert sent["to"] == ["alice@example.com"]
    assert sent["source"] == local_aws.sender_email
    assert sent["headers"]["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert sent["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"<h1>Spend {marker}</h1>" in sent["html"]
    assert sent["text"].startswith(f"Spend {marker}\nYesterday: $12.00")
    assert sent["body"] == sent["text"]
    # The HTML part only inside a sandboxed frame, escaped into srcdoc; the text part escaped.
    assert f"<h1>Spend {marker}" not in page
    assert "<script>alert(1)</script>" not in page
    assert 'sandbox=""' in page and "srcdoc=" in page
    assert "Yesterday: $12.00 &lt;not html&gt;" in page
    assert f"&lt;{UNSUBSCRIBE}&gt;" in page
    assert "href='http://127.0.0.1:8080/api/unsubscribe?token=abc'" in page


def test_an_attachment_is_listed_with_its_name_type_and_size(
    gateway: LocalGateway, local_aws: LocalAws
) -> None:
    from tally.notify.ports import Attachment

    marker = uuid.uuid4().hex[:8]
    sender = SesEmailSender(
        local_aws.client("sesv2"),
        sender=local_aws.sender_email,
        configuration_set=local_aws.ses_configuration_set,
    )
    pdf = b"%PDF-1.7 " + marker.encode() * 100
    message_id = sender.send(
        OutgoingEmail(
            to="alice@example.com",
            rendered=RenderedEmail(
                subject=f"Invoice {marker}", html="<p>hi</p>", text="hi", headers={}
            ),
            tags={"userId": "u-alice"},
            attachments=(Attachment("INV-1.pdf", "application/pdf", pdf),),
        )
    )

    listing = call(gateway.url, "GET", "/outbox.json").json()
    page = call(gateway.url, "GET", "/outbox").body.decode()

    [sent] = [e for e in listing["emails"] if e["message_id"] == message_id]
    assert sent["attachments"] == [
        {"filename": "INV-1.pdf", "contentType": "application/pdf", "bytes": len(pdf)}
    ]
    assert sent["text"].strip() == "hi"  # the body is still the message's, not the attachment
    assert f"INV-1.pdf (application/pdf, {len(pdf):,} bytes)" in page


def test_admin_topic_messages_show_their_attributes(
    gateway: LocalGateway, local_aws: LocalAws
) -> None:
    marker = uuid.uuid4().hex[:8]
    topic = SnsAdminTopic(local_aws.client("sns"), local_aws.admin_topic_arn)
    message_id = topic.publish(
        subject=f"Over budget {marker}",
        message=json.dumps({"userId": "u-bob", "spent": "125.00"}),
        attributes={"level": "exceeded", "userId": "u-bob", "period": "2026-11"},
    )

    listing = call(gateway.url, "GET", "/outbox.json").json()
    page = call(gateway.url, "GET", "/outbox").body.decode()

    [message] = [m for m in listing["sns"] if m["message_id"] == message_id]
    assert message["topic_arn"] == local_aws.admin_topic_arn
    assert message["attributes"] == {"level": "exceeded", "userId": "u-bob", "period": "2026-11"}
    assert json.loads(message["message"])["spent"] == "125.00"
    assert f"Over budget {marker}" in page and "level=exceeded" in page


def test_the_webhook_receiver_records_deliveries(gateway: LocalGateway) -> None:
    payload = {"text": "You have used 85% of your November AWS budget <b>"}
    answered = call(
        gateway.url,
        "POST",
        "/webhooks/alice",
        headers={"Content-Type": "application/json"},
        body=json.dumps(payload).encode(),
    )
    failing = call(gateway.url, "POST", "/webhooks/broken?status=500", body=b"{}")

    listing = call(gateway.url, "GET", "/outbox.json").json()
    page = call(gateway.url, "GET", "/outbox").body.decode()

    assert (answered.status, answered.body) == (200, b"ok")
    assert failing.status == 500
    newest, oldest = listing["webhooks"]
    assert (newest["name"], newest["status"]) == ("broken", 500)
    assert (oldest["name"], oldest["payload"]) == ("alice", payload)
    assert oldest["contentType"] == "application/json"
    assert "/webhooks/alice" in page
    assert "85% of your November AWS budget &lt;b&gt;" in page
    assert f"{gateway.url}/webhooks/me" in page  # the page says what URL to use


def test_only_posts_to_a_named_receiver_are_recorded(gateway: LocalGateway) -> None:
    assert call(gateway.url, "POST", "/webhooks/", body=b"{}").status == 404
    assert call(gateway.url, "POST", "/webhooks/a/b", body=b"{}").status == 404
    assert call(gateway.url, "GET", "/webhooks/alice").status == 404

    assert call(gateway.url, "GET", "/outbox.json").json()["webhooks"] == []


def test_outbox_json_waits_for_the_alerts_to_settle(gateway: LocalGateway) -> None:
    waited: list[float] = []

    def wait_idle(seconds: float) -> bool:
        waited.append(seconds)
        return False

    gateway.wait_idle = wait_idle

    assert call(gateway.url, "GET", "/outbox.json").json()["idle"] is None
    assert call(gateway.url, "GET", "/outbox.json?wait=2.5").json()["idle"] is False
    assert call(gateway.url, "GET", "/outbox.json?wait=9999").json()["idle"] is False
    assert call(gateway.url, "GET", "/outbox.json?wait=soon").status == 400
    assert waited == [2.5, 60.0]


def test_an_empty_receiver_says_so(gateway: LocalGateway) -> None:
    page = call(gateway.url, "GET", "/outbox").body.decode()

    assert "Webhook deliveries (0)" in page
    assert "The local webhook receiver has taken nothing yet." in page
