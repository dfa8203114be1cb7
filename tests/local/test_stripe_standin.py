"""The local stack's Stripe stand-in (``make run PAYMENTS=standin``): the real Stripe client,
pointed at it, issues an invoice (recorded answers, one numbered invoice per currency, a
payment page of its own), and its page's "Pay" sends a webhook delivery that Tally's own
verifier accepts and reads as the invoice paid."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infra.local.stripe_standin import STANDIN_KEYS, StripeStandIn
from tally.clock import system_now
from tally.payments.port import PaymentStatus
from tally.payments.stripe_invoices import StripeInvoices, stripe_client
from tally.payments.webhook import parse_event, verify
from tally.store import Stores
from tests.payments.test_stripe import invoice_of, stores  # noqa: F401  (the fixture)


class _Receiver(BaseHTTPRequestHandler):
    got: list[tuple[bytes, str]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        payload = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((payload, self.headers["Stripe-Signature"]))
        body = b'{"received": true, "duplicate": false}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    got: list[tuple[bytes, str]] = []
    handler = type("Receiver", (_Receiver,), {"got": got})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/payments/stripe/webhook", got
    server.shutdown()
    server.server_close()


def test_issue_then_pay_on_the_standins_page(
    stores: Stores,  # noqa: F811
    webhook: tuple[str, list[tuple[bytes, str]]],
) -> None:
    url, got = webhook
    standin = StripeStandIn(webhook_url=lambda: url, secret=STANDIN_KEYS["webhookSecret"]).start()
    try:
        client = stripe_client(STANDIN_KEYS["apiKey"], api_base=standin.url)
        invoice = invoice_of(stores, "u-bob")  # billed in EUR and USD
        customer, issued = StripeInvoices(client).issue(invoice, invoice_id="job-1", customer=None)
        assert customer == "cus_RtAlice0001"  # the recorded customer
        assert sorted(i.currency for i in issued) == ["EUR", "USD"]
        assert len({i.reference for i in issued}) == 2  # numbered: one per currency
        assert all(i.status is PaymentStatus.ISSUED for i in issued)
        usd = next(i for i in issued if i.currency == "USD")
        assert usd.url == f"{standin.url}/i/{usd.reference}"

        with urllib.request.urlopen(usd.url, timeout=10) as page:
            assert b"Pay this invoice" in page.read()
        paid = urllib.request.Request(f"{usd.url}/pay", data=b"", method="POST")
        with urllib.request.urlopen(paid, timeout=10) as page:
            said = page.read().decode()
        assert "answered 200" in said and "Pay this invoice" not in said

        (payload, header), *rest = got
        assert rest == []
        verify(payload, header, [STANDIN_KEYS["webhookSecret"]], now=system_now())
        event = parse_event(payload)
        assert (event.event_type, event.status) == ("invoice.paid", PaymentStatus.PAID)
        assert (event.invoice_id, event.currency, event.reference) == (
            "job-1",
            "USD",
            usd.reference,
        )
        assert json.loads(payload)["data"]["object"]["metadata"]["tallyInvoiceNumber"] == str(
            invoice.number
        )
        # Paid once: the page no longer offers it, and an unknown invoice is 404.
        missing = urllib.request.Request(f"{standin.url}/i/in_nope/pay", data=b"", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(missing, timeout=10)
        assert refused.value.code == 404
    finally:
        standin.stop()
