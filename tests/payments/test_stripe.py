"""The Stripe adapter against recorded responses (no network): what Tally sends to issue an
invoice (customer, invoice per currency, an item per line, finalize), amounts in minor units
adding up to the section's total, idempotency keys; and the webhook signature scheme, checked
against the stripe library's own verifier."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import stripe

from tally.invoices import InvoiceOrg, build_invoice, issue
from tally.invoices.model import Invoice
from tally.models import Metric
from tally.payments.port import PaymentStatus
from tally.payments.stripe_invoices import StripeInvoices, minor_units, stripe_client
from tally.payments.webhook import BadSignature, parse_event, sign, verify
from tally.store import Stores
from tests.chargeback.world import MONTH, NOW, TODAY, world
from tests.payments.recorded_stripe import TEST_KEY, RecordedStripe, recorded, signed

SECRET = "whsec_test_recorded"


@pytest.fixture(scope="module")
def stores() -> Stores:
    return world()


def invoice_of(stores: Stores, user_id: str) -> Invoice:
    built = build_invoice(
        stores,
        user_id=user_id,
        cost_center=None,
        month=MONTH,
        metric=Metric.EFFECTIVE,
        today=TODAY,
        now=NOW,
        org=InvoiceOrg(),
    )
    return issue(stores.invoice_numbers, built, now=NOW)


def test_an_invoice_is_issued_as_a_finalized_stripe_invoice_per_currency(stores: Stores) -> None:
    invoice = invoice_of(stores, "u-bob")  # bob is billed in EUR (a bucket) and USD
    assert [s.currency for s in invoice.sections] == ["EUR", "USD"]
    http = RecordedStripe()
    adapter = StripeInvoices(stripe_client(TEST_KEY, http_client=http))

    customer, issued = adapter.issue(invoice, invoice_id="job-1", customer=None)

    assert customer == recorded("customer")["id"]
    assert [(i.currency, i.reference, i.status) for i in issued] == [
        ("EUR", "in_1RtDraftEUR0001", PaymentStatus.ISSUED),
        ("USD", "in_1RtDraftUSD0001", PaymentStatus.ISSUED),
    ]
    assert issued[0].url == recorded("invoice_finalized")["hosted_invoice_url"]
    paths = [(s.method, s.path) for s in http.sent]
    assert paths[0] == ("POST", "/v1/customers")
    assert http.sent[0].params["metadata[tallySubject]"] == "user:u-bob"
    for sent in http.sent:
        assert sent.headers["Authorization"] == f"Bearer {TEST_KEY}"
        assert sent.headers["Idempotency-Key"].startswith("tally-")
    keys = [s.headers["Idempotency-Key"] for s in http.sent]
    assert len(keys) == len(set(keys))
    for section in invoice.sections:
        cur = section.currency.lower()
        made = next(
            s for s in http.sent if s.path == "/v1/invoices" and s.params["currency"] == cur
        )
        assert made.params["collection_method"] == "send_invoice"
        assert made.params["metadata[tallyInvoiceId]"] == "job-1"
        assert made.params["metadata[tallyInvoiceNumber]"] == invoice.number
        assert made.params["pending_invoice_items_behavior"] == "exclude"
        lines = [
            s for s in http.sent if s.path == "/v1/invoiceitems" and s.params["currency"] == cur
        ]
        assert {s.params["invoice"] for s in lines} == {f"in_1RtDraft{cur.upper()}0001"}
        assert len(lines) >= len(section.lines)
        # The items add up to the section's total, to the cent.
        assert sum(int(s.params["amount"]) for s in lines) == minor_units(section.total, cur)
        assert ("POST", f"/v1/invoices/in_1RtDraft{cur.upper()}0001/finalize") in paths


def test_a_known_customer_is_not_made_again(stores: Stores) -> None:
    http = RecordedStripe()
    adapter = StripeInvoices(stripe_client(TEST_KEY, http_client=http))
    customer, _ = adapter.issue(
        invoice_of(stores, "u-alice"), invoice_id="job-2", customer="cus_Known"
    )
    assert customer == "cus_Known"
    assert all(s.path != "/v1/customers" for s in http.sent)
    assert {s.params["customer"] for s in http.sent if s.path == "/v1/invoices"} == {"cus_Known"}


def test_a_stripe_error_is_raised_not_swallowed(stores: Stores) -> None:
    error = {
        "error": {
            "type": "invalid_request_error",
            "message": "No such customer: 'cus_X'",
            "param": "customer",
            "code": "resource_missing",
        }
    }
    http = RecordedStripe(fail_with=(400, error))
    adapter = StripeInvoices(stripe_client(TEST_KEY, http_client=http))
    with pytest.raises(stripe.InvalidRequestError):
        adapter.issue(invoice_of(stores, "u-alice"), invoice_id="job-3", customer="cus_X")


@pytest.mark.parametrize("status", [429, 500, 503])
def test_stripe_busy_or_failing_is_unavailable(stores: Stores, status: int) -> None:
    from tally.errors import Unavailable

    error = {"error": {"type": "api_error", "message": "An unknown error occurred"}}
    if status == 429:
        error = {
            "error": {
                "type": "invalid_request_error",
                "code": "rate_limit",
                "message": "Too many requests",
            }
        }
    http = RecordedStripe(fail_with=(status, error))
    client = stripe_client(TEST_KEY, http_client=http)
    with pytest.raises(Unavailable):
        StripeInvoices(client).issue(
            invoice_of(stores, "u-alice"), invoice_id="job-4", customer="cus_X"
        )


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.345", "USD", 1234),
        ("12.355", "usd", 1236),
        ("-2.50", "EUR", -250),
        ("1500", "JPY", 1500),
        ("1500.5", "JPY", 1500),
    ],
)
def test_minor_units(amount: str, currency: str, minor: int) -> None:
    assert minor_units(Decimal(amount), currency) == minor


# -- the webhook's signature ------------------------------------------------------------------

PAYLOAD = b'{"id": "evt_1", "object": "event", "type": "invoice.paid"}'
AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
T = int(AT.timestamp())


def test_our_signatures_are_the_ones_stripe_verifies() -> None:
    header = signed(PAYLOAD, SECRET, T)
    assert header.split(",")[1] == f"v1={sign(PAYLOAD, SECRET, T)}"
    # The stripe library's own check (no tolerance: it would read the wall clock).
    assert stripe.WebhookSignature.verify_header(PAYLOAD.decode(), header, SECRET, None)
    verify(PAYLOAD, header, [SECRET], now=AT)


@pytest.mark.parametrize(
    ("payload", "header"),
    [
        (PAYLOAD, signed(PAYLOAD, "whsec_other", T)),  # another secret
        (PAYLOAD.replace(b"paid", b"voided"), signed(PAYLOAD, SECRET, T)),  # tampered body
        (PAYLOAD, signed(PAYLOAD, SECRET, T - 301)),  # too old
        (PAYLOAD, signed(PAYLOAD, SECRET, T + 301)),  # from the future
        (PAYLOAD, f"t={T}"),  # no v1
        (PAYLOAD, "v1=abc"),  # no t
        (PAYLOAD, "t=soon,v1=abc"),
        (PAYLOAD, None),
        (PAYLOAD, ""),
    ],
)
def test_bad_signatures_are_refused(payload: bytes, header: str | None) -> None:
    with pytest.raises(BadSignature):
        verify(payload, header, [SECRET], now=AT)


def test_a_previous_secret_still_verifies_during_a_rotation() -> None:
    verify(PAYLOAD, signed(PAYLOAD, "whsec_old", T), [SECRET, "whsec_old"], now=AT)


def test_events_are_read_from_stripe_s_shape() -> None:
    body = recorded("event_invoice_paid")
    event = parse_event(__import__("json").dumps(body).encode())
    assert (event.event_id, event.event_type, event.invoice_id, event.currency, event.status) == (
        "evt_1RtPaid0001",
        "invoice.paid",
        "INVOICE-ID",
        "USD",
        PaymentStatus.PAID,
    )
    body["type"] = "customer.created"
    body["data"]["object"] = recorded("customer")
    other = parse_event(__import__("json").dumps(body).encode())
    assert (other.status, other.invoice_id) == (None, None)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"id": "evt_x", "type": "invoice.paid", "data": {"object": {"object": "invoice", '
        b'"metadata": "not an object"}}}',
        b'{"id": "evt_x", "type": "invoice.paid", "data": {"object": {"object": "invoice", '
        b'"metadata": {"tallyInvoiceId": 7, "tallyCurrency": ["USD"]}}}}',
        b'{"id": "evt_x", "type": "invoice.paid", "data": {"object": ["x"]}}',
    ],
)
def test_odd_events_are_read_as_nothing_to_do(payload: bytes) -> None:
    event = parse_event(payload)
    assert (event.invoice_id, event.currency) == (None, None)


@pytest.mark.parametrize(
    "payload",
    [b"[]", b'{"type": "x"}', b"not json", b'{"id": 1}', b'{"id": 1, "type": 2, "data": "x"}'],
)
def test_what_is_not_an_event_is_a_bad_request(payload: bytes) -> None:
    from tally.errors import BadRequest

    with pytest.raises(BadRequest):
        parse_event(payload)
