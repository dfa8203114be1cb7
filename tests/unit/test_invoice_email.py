"""The invoice email: the alerts' templates with the invoice's figures, and the PDF attached to
the raw MIME message SES sends (multipart/mixed around the usual alternative part)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import boto3
import pytest

from tally.invoices import Invoice, invoice_email
from tally.notify.ses import SesEmailSender, mime_message
from tests import invoice_samples as samples

SENDER = "Tally <alerts@tally.example.com>"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"  # binary, as a real one is
DASHBOARD = "https://tally.example.com/"


@pytest.fixture(scope="module")
def invoice() -> Invoice:
    return samples.sample_invoice()


def _parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_email_names_the_month_and_number_and_shows_the_total(invoice: Invoice) -> None:
    sent = invoice_email(invoice, PDF, to="priya.raman@example.com", dashboard_url=DASHBOARD)
    assert invoice.number is not None
    assert sent.rendered.subject == f"Your November 2026 invoice {invoice.number}"
    assert sent.to == "priya.raman@example.com"
    for part in (sent.rendered.text, sent.rendered.html):
        assert invoice.number in part
        assert "$1,305.67" in part  # the sample's total
        assert "$1,000.00" in part  # its budget
        assert "provisional" in part
        assert DASHBOARD in part
    assert "Hi priya.raman," in sent.rendered.text
    assert sent.tags == {
        "kind": "invoice",
        "period": "2026-11",
        "subject": "user",
        "userId": samples.USER.user_id,
    }
    (attachment,) = sent.attachments
    assert (attachment.filename, attachment.content_type) == (
        f"{invoice.number}.pdf",
        "application/pdf",
    )
    assert attachment.data == PDF


def test_a_final_invoice_does_not_say_provisional(invoice: Invoice) -> None:
    sent = invoice_email(
        replace(invoice, provisional=False), PDF, to="a@example.com", dashboard_url=DASHBOARD
    )
    assert "provisional" not in sent.rendered.text + sent.rendered.html


def test_without_a_dashboard_url_there_is_no_link(invoice: Invoice) -> None:
    sent = invoice_email(invoice, PDF, to="a@example.com")
    assert "dashboard" not in sent.rendered.text + sent.rendered.html
    assert invoice.number and invoice.number in sent.rendered.text


def test_an_invoice_must_be_numbered_before_it_is_sent(invoice: Invoice) -> None:
    with pytest.raises(ValueError, match="issue"):
        invoice_email(
            replace(invoice, number=None), PDF, to="a@example.com", dashboard_url=DASHBOARD
        )


def test_the_pdf_travels_as_an_attachment_beside_the_alternative_part(invoice: Invoice) -> None:
    sent = invoice_email(invoice, PDF, to="priya.raman@example.com", dashboard_url=DASHBOARD)
    raw = mime_message(sent, sender=SENDER)
    assert max(len(line) for line in raw.split(b"\n")) <= 998
    raw.decode("ascii")  # base64 and quoted-printable: nothing 8-bit
    message = _parsed(raw)
    assert message.get_content_type() == "multipart/mixed"
    assert message["Subject"] == sent.rendered.subject
    alternative, attached = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None and plain.get_content() == sent.rendered.text
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == f"{invoice.number}.pdf"
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_content() == PDF


@pytest.fixture
def ses(aws: Any) -> Iterator[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    client = boto3.client("sesv2", region_name="us-east-1")
    client.create_email_identity(EmailIdentity="tally.example.com")
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    backend.sent_messages.clear()
    yield backend
    backend.sent_messages.clear()


def test_ses_sends_the_invoice_with_its_attachment(ses: Any, invoice: Invoice) -> None:
    client = boto3.client("sesv2", region_name="us-east-1")
    sent = invoice_email(invoice, PDF, to="priya.raman@example.com", dashboard_url=DASHBOARD)
    SesEmailSender(client, sender=SENDER).send(sent)
    (stored,) = ses.sent_messages
    parsed = email.message_from_string(stored.raw_data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    (attached,) = parsed.iter_attachments()
    assert attached.get_content() == PDF
