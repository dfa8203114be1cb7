"""A recorded Stripe for the local stack: issue an invoice for payment and pay it, offline.

``make run PAYMENTS=standin`` (``TALLY_LOCAL_PAYMENTS=standin``) turns payments on in the local
stack (``TALLY_PAYMENTS=stripe`` with the keys ``STANDIN_KEYS``) and points the Stripe client
at this server (``TALLY_STRIPE_API_BASE``) instead of api.stripe.com. It answers the four calls
issuing makes (a customer, a draft invoice, its items, finalize) with the Stripe API objects
recorded in ``stripe_recorded/``, the same bodies the payments tests answer with
(``tests/payments/recorded_stripe.py``); an invoice's id, currency, customer and metadata follow
the request, as Stripe's would. Nothing here checks what Stripe checks (keys, amounts,
idempotency keys): the tests against the recorded responses do.

Each finalized invoice's ``hosted_invoice_url`` is a page of this server (``/i/<id>``) with
"Pay" and "Void" buttons standing in for Stripe's hosted page: each sends Tally's webhook the
signed ``invoice.paid`` / ``invoice.voided`` event Stripe would send, and says what Tally
answered. Without the stand-in, ``make run`` keeps payments off (the roles matrix and the
end-to-end tests expect that), and Stripe's own test mode stays available (docs/deploy.md).
"""

from __future__ import annotations

import html
import itertools
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from tally.clock import system_now, utc_now

log = logging.getLogger("tally.local.stripe")

VARIABLE = "TALLY_LOCAL_PAYMENTS"
STANDIN = "standin"
RECORDED = Path(__file__).parent / "stripe_recorded"
# The stand-in's keys: not secrets (nothing but this server takes them).
STANDIN_KEYS = {"apiKey": "sk_test_local_standin", "webhookSecret": "whsec_local_standin"}
WEBHOOK_PATH = "/api/payments/stripe/webhook"
EVENTS = {"pay": ("invoice.paid", "paid"), "void": ("invoice.voided", "void")}


def recorded(name: str) -> dict[str, Any]:
    """A recorded Stripe API object (``stripe_recorded/<name>.json``)."""
    body: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    return body


def metadata_of(params: dict[str, str]) -> dict[str, str]:
    """``metadata[key]=value`` form fields as Stripe reads them."""
    return {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[") and k.endswith("]")}


class StripeAnswers:
    """Stripe's answers to what issuing sends, from the recorded bodies.

    ``hosted_base=None`` (the tests): every draft of a currency is ``in_1RtDraft<CUR>0001`` and
    finalize answers the recorded invoice under the draft's id. With ``hosted_base`` (the
    stand-in): ids are numbered, invoices are remembered, and a finalized one carries its
    draft's currency, customer and metadata and a payment page under ``hosted_base``."""

    def __init__(self, hosted_base: str | None = None) -> None:
        self.hosted_base = hosted_base
        self.invoices: dict[str, dict[str, Any]] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def answer(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        """The body Stripe answers ``method path`` with; None for a call not recorded."""
        if (method, path) == ("POST", "/v1/customers"):
            return recorded("customer")
        if (method, path) == ("POST", "/v1/invoices"):
            return self._draft(params)
        if (method, path) == ("POST", "/v1/invoiceitems"):
            body = recorded("invoiceitem")
            body.update(
                amount=int(params["amount"]),
                currency=params["currency"],
                description=params["description"],
                invoice=params["invoice"],
            )
            return body
        parts = path.split("/")
        if (
            (method, len(parts), parts[1:3]) == ("POST", 5, ["v1", "invoices"])
            and parts[4] == "finalize"
            and parts[3].startswith("in_")
        ):
            return self._finalized(parts[3])
        if method == "GET" and len(parts) == 4 and parts[1:3] == ["v1", "invoices"]:
            return self.invoices.get(parts[3])
        return None

    def _draft(self, params: dict[str, str]) -> dict[str, Any]:
        body = recorded("invoice_draft")
        currency = params["currency"]
        number = next(self._numbers) if self.hosted_base else 1
        body["id"] = f"in_1RtDraft{currency.upper()}{number:04d}"
        body["currency"] = currency
        body["customer"] = params["customer"]
        body["metadata"] = metadata_of(params)
        if self.hosted_base:
            with self._lock:
                self.invoices[body["id"]] = body
        return body

    def _finalized(self, invoice_id: str) -> dict[str, Any]:
        body = recorded("invoice_finalized")
        body["id"] = invoice_id
        if self.hosted_base:
            with self._lock:
                draft = self.invoices.get(invoice_id, {})
                for key in ("currency", "customer", "metadata", "description"):
                    if key in draft:
                        body[key] = draft[key]
                body["hosted_invoice_url"] = f"{self.hosted_base}/i/{invoice_id}"
                self.invoices[invoice_id] = body
        return body

    def settle(self, invoice_id: str, action: str) -> tuple[bytes, dict[str, Any]] | None:
        """The ``invoice.paid`` / ``invoice.voided`` event of a finalized invoice (its JSON
        payload), the invoice marked so; None for an invoice the stand-in did not finalize."""
        event_type, status = EVENTS[action]
        with self._lock:
            invoice = self.invoices.get(invoice_id)
            if invoice is None or invoice.get("object") != "invoice" or "status" not in invoice:
                return None
            invoice = {**invoice, "status": status}
            self.invoices[invoice_id] = invoice
            event = recorded("event_invoice_paid")
            event["id"] = f"evt_local_{next(self._numbers):06d}"
            event["type"] = event_type
            event["created"] = int(utc_now().timestamp())
            event["data"]["object"] = invoice
        return json.dumps(event).encode(), invoice


def signature(payload: bytes, secret: str, timestamp: int) -> str:
    """A ``Stripe-Signature`` header as Stripe makes it (docs.stripe.com/webhooks)."""
    from tally.payments.webhook import sign

    return f"t={timestamp},v1={sign(payload, secret, timestamp)}"


def deliver(webhook_url: str, payload: bytes, secret: str) -> tuple[int, str]:
    """POST ``payload`` to Tally's webhook, signed now on the real clock (as Stripe signs, and
    as the API checks a signature's time, whatever business date is pinned): (status, body)."""
    header = signature(payload, secret, int(system_now().timestamp()))
    request = urllib.request.Request(  # noqa: S310 - the local gateway's http URL
        webhook_url,
        data=payload,
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} (Stripe stand-in)</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem">
<p><strong>Stripe stand-in</strong>: the local stack's replacement for Stripe's hosted invoice
page. Nothing is charged.</p><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str) -> bytes:
    return PAGE.format(title=html.escape(title), body=body).encode()


class StripeStandIn:
    """The stand-in server (a thread of the local stack, on ``port``; 0 picks a free one)."""

    def __init__(self, *, webhook_url: Callable[[], str], secret: str, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.standin = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.answers = StripeAnswers(hosted_base=self.url)
        self.webhook_url = webhook_url  # known once the gateway is bound
        self.secret = secret
        self._thread: threading.Thread | None = None

    def start(self) -> StripeStandIn:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="stripe-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StripeStandIn


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("stripe stand-in: " + format, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        return {k: v[-1] for k, v in parse_qs(raw).items()}

    def _api(self, method: str, params: dict[str, str]) -> None:
        body = self.server.standin.answers.answer(method, self.path.split("?")[0], params)
        if body is None:
            self._json(
                404,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"the Stripe stand-in has no answer for {method} {self.path}",
                    }
                },
            )
            return
        self._json(200, body)

    def do_GET(self) -> None:
        if self.path.startswith("/v1/"):
            self._api("GET", {})
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) == 2 and parts[0] == "i":
            invoice = self.server.standin.answers.invoices.get(parts[1])
            if invoice is not None and "status" in invoice:
                self._send(200, self._invoice_page(invoice), "text/html; charset=utf-8")
                return
        self._send(404, _page("Not found", "<p>No such invoice.</p>"), "text/html; charset=utf-8")

    def do_POST(self) -> None:
        params = self._form()
        if self.path.startswith("/v1/"):
            self._api("POST", params)
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) == 3 and parts[0] == "i" and parts[2] in EVENTS:
            standin = self.server.standin
            settled = standin.answers.settle(parts[1], parts[2])
            if settled is not None:
                payload, invoice = settled
                status, answer = deliver(standin.webhook_url(), payload, standin.secret)
                said = (
                    f"<p role='status'>Stripe's <code>{html.escape(EVENTS[parts[2]][0])}</code> "
                    f"event was sent to Tally's webhook, which answered {status}: "
                    f"<code>{html.escape(answer)}</code>. Back in Tally, the invoice's badge "
                    "turns once the page re-reads it (Check payment status).</p>"
                )
                self._send(200, self._invoice_page(invoice, said), "text/html; charset=utf-8")
                return
        self._send(404, _page("Not found", "<p>No such invoice.</p>"), "text/html; charset=utf-8")

    def _invoice_page(self, invoice: dict[str, Any], said: str = "") -> bytes:
        metadata = invoice.get("metadata") or {}
        number = str(metadata.get("tallyInvoiceNumber") or invoice["id"])
        status = str(invoice.get("status"))
        buttons = (
            "".join(
                f"<form method='post' action='/i/{html.escape(invoice['id'])}/{action}' "
                "style='display:inline;margin-right:.5rem'>"
                f"<button type='submit'>{label}</button></form>"
                for action, label in (("pay", "Pay this invoice"), ("void", "Void it"))
            )
            if status == "open"
            else ""
        )
        return _page(
            f"Invoice {number}",
            f"<p>{html.escape(str(invoice.get('description') or ''))}</p>"
            f"<p>Currency: {html.escape(str(invoice.get('currency', '')).upper())}. "
            f"Stripe's id: <code>{html.escape(invoice['id'])}</code>. "
            f"Status: <strong>{html.escape(status)}</strong>.</p>{said}{buttons}",
        )


def standin_env(standin: StripeStandIn) -> dict[str, str]:
    """What the API runs with for payments through the stand-in."""
    return {
        "TALLY_PAYMENTS": "stripe",
        "TALLY_STRIPE_KEYS": json.dumps(STANDIN_KEYS),
        "TALLY_STRIPE_API_BASE": standin.url,
    }
