"""Issuing an invoice to Stripe and Stripe's webhook, through the API handler (recorded Stripe
responses through the library's transport seam, no network): issue, webhook paid, the same
event replayed (no second effect), a bad signature refused (nothing changes), other event
types ignored; off unless configured."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from api import payment_channels
from tally.clock import system_now
from tally.identity import Caller
from tally.invoices import InvoiceOrg, build_invoice, issue
from tally.models import AuditEntry, JobStatus, Metric, ReportJob
from tally.org.model import ORG_SCOPE, Grant
from tally.tables import USER_GROUP
from tests.api.test_exports import reports  # noqa: F401  (the fixture)
from tests.chargeback.world import EDGE_DAYS, MONTH, NOW, TODAY, world
from tests.conftest import ADMIN, ALICE
from tests.harness import Api, Reply
from tests.payments.recorded_stripe import TEST_KEY, RecordedStripe, recorded, signed

SECRET = "whsec_test_recorded"
KEYS = json.dumps({"apiKey": TEST_KEY, "webhookSecret": SECRET})
FIONA = Caller("u-fiona", "fiona", "fiona@example.com", frozenset({USER_GROUP}))
WEBHOOK = "/api/payments/stripe/webhook"


@pytest.fixture
def org(api: Api, reports: str) -> Api:  # noqa: F811
    world(api.stores, days=EDGE_DAYS)
    access = api.stores.access
    audit = AuditEntry("u-fiona", NOW, "u-admin", "roles.assigned", "u-fiona", {})
    access.set_grants(
        "u-fiona",
        (Grant("finance", ORG_SCOPE),),
        previous=None,
        snapshot=access.snapshot(),
        audit=audit,
    )
    return api


@pytest.fixture
def stripe_on(monkeypatch: pytest.MonkeyPatch) -> RecordedStripe:
    http = RecordedStripe()
    monkeypatch.setenv("TALLY_PAYMENTS", "stripe")
    monkeypatch.setenv("TALLY_STRIPE_KEYS", KEYS)
    monkeypatch.setattr(payment_channels, "stripe_http_client", lambda: http)
    return http


def ready_invoice(api: Api, user_id: str = "u-alice") -> str:
    """An invoice job as the reports function leaves it: ready, numbered."""
    built = build_invoice(
        api.stores,
        user_id=user_id,
        cost_center=None,
        month=MONTH,
        metric=Metric.EFFECTIVE,
        today=TODAY,
        now=NOW,
        org=InvoiceOrg(),
    )
    number = issue(api.stores.invoice_numbers, built, now=NOW).number
    job = ReportJob(
        str(uuid.uuid4()),
        "invoice",
        user_id,
        {"userId": user_id, "month": MONTH},
        JobStatus.READY,
        NOW,
        NOW,
        object_key="invoices/x.pdf",
        details={"invoiceNumber": str(number), "provisional": "false"},
    )
    api.stores.report_jobs.create(job)
    return job.job_id


def event(
    invoice_id: str, *, event_id: str = "evt_1RtPaid0001", event_type: str = "invoice.paid"
) -> bytes:
    body: dict[str, Any] = recorded("event_invoice_paid")
    body["id"], body["type"] = event_id, event_type
    body["data"]["object"]["metadata"]["tallyInvoiceId"] = invoice_id
    return json.dumps(body).encode()


def deliver(api: Api, payload: bytes, secret: str = SECRET, *, skew: int = 0) -> Reply:
    header = signed(payload, secret, int(system_now().timestamp()) + skew)
    return api.call(
        "POST", WEBHOOK, None, raw_body=payload.decode(), headers={"Stripe-Signature": header}
    )


def statuses(api: Api, invoice_id: str, caller: Caller = FIONA) -> list[tuple[str, str]]:
    reply = api.call("GET", f"/api/invoices/{invoice_id}", caller)
    assert reply.status == 200, reply.body
    return [(p["currency"], p["status"]) for p in reply.body["payments"]]


def test_issue_then_paid_then_replayed(org: Api, stripe_on: RecordedStripe) -> None:
    invoice_id = ready_invoice(org)
    assert statuses(org, invoice_id) == []

    reply = org.call("POST", f"/api/invoices/{invoice_id}/payment", ADMIN)
    assert reply.status == 201, reply.body
    assert [(p["currency"], p["reference"], p["status"], p["provider"]) for p in reply.body] == [
        ("USD", "in_1RtDraftUSD0001", "issued", "stripe")
    ]
    assert reply.body[0]["url"].startswith("https://invoice.stripe.com/")
    sent = len(stripe_on.sent)
    # Asking again answers the same payment, and nothing more reaches Stripe.
    again = org.call("POST", f"/api/invoices/{invoice_id}/payment", ADMIN)
    assert again.status == 200 and again.body == reply.body
    assert len(stripe_on.sent) == sent
    # The owner sees their invoice's status too.
    assert statuses(org, invoice_id, ALICE) == [("USD", "issued")]

    paid = deliver(org, event(invoice_id))
    assert paid.status == 200, paid.body
    assert paid.body == {"received": True, "duplicate": False}
    assert statuses(org, invoice_id) == [("USD", "paid")]
    stored = org.stores.payments.payments(invoice_id)

    replay = deliver(org, event(invoice_id))
    assert replay.status == 200 and replay.body["duplicate"] is True
    assert org.stores.payments.payments(invoice_id) == stored  # not even its time moved
    # A later "voided" for a paid invoice changes nothing either (paid is final).
    late = deliver(org, event(invoice_id, event_id="evt_2", event_type="invoice.voided"))
    assert late.status == 200 and statuses(org, invoice_id) == [("USD", "paid")]


def test_voided(org: Api, stripe_on: RecordedStripe) -> None:
    invoice_id = ready_invoice(org)
    assert org.call("POST", f"/api/invoices/{invoice_id}/payment", ADMIN).status == 201
    reply = deliver(org, event(invoice_id, event_id="evt_v", event_type="invoice.voided"))
    assert reply.status == 200 and statuses(org, invoice_id) == [("USD", "void")]


@pytest.mark.parametrize("how", ["other secret", "tampered", "too old", "no header"])
def test_a_bad_signature_is_refused_and_changes_nothing(
    org: Api, stripe_on: RecordedStripe, how: str
) -> None:
    invoice_id = ready_invoice(org)
    org.call("POST", f"/api/invoices/{invoice_id}/payment", ADMIN)
    payload = event(invoice_id)
    if how == "other secret":
        reply = deliver(org, payload, "whsec_attacker")
    elif how == "tampered":
        header = signed(payload, SECRET, int(system_now().timestamp()))
        forged = payload.replace(b"invoice.paid", b"invoice.voided")
        reply = org.call(
            "POST", WEBHOOK, None, raw_body=forged.decode(), headers={"Stripe-Signature": header}
        )
    elif how == "too old":
        reply = deliver(org, payload, skew=-600)
    else:
        reply = org.call("POST", WEBHOOK, None, raw_body=payload.decode())
    assert reply.status == 400, reply.body
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert statuses(org, invoice_id) == [("USD", "issued")]
    # The event was not claimed: once signed properly, it takes effect.
    assert deliver(org, payload).body["duplicate"] is False
    assert statuses(org, invoice_id) == [("USD", "paid")]


def test_other_events_and_other_invoices_are_ignored(org: Api, stripe_on: RecordedStripe) -> None:
    invoice_id = ready_invoice(org)
    org.call("POST", f"/api/invoices/{invoice_id}/payment", ADMIN)
    for payload in (
        event(invoice_id, event_id="evt_c", event_type="invoice.created"),
        event("not-ours", event_id="evt_n"),
    ):
        reply = deliver(org, payload)
        assert reply.status == 200 and reply.body == {"received": True, "duplicate": False}
    assert statuses(org, invoice_id) == [("USD", "issued")]
    assert deliver(org, b"{not json").status == 400


def test_off_unless_configured(org: Api) -> None:
    invoice_id = ready_invoice(org)
    reply = org.call("POST", f"/api/invoices/{invoice_id}/payment", ADMIN)
    assert reply.status == 409
    assert "payments are not configured" in reply.body["detail"]
    assert deliver(org, event(invoice_id)).status == 404
    assert statuses(org, invoice_id) == []


def test_me_says_whether_payments_are_configured(org: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard offers "Issue for payment" by GET /me's paymentProvider (never by a 409)."""
    assert org.call("GET", "/api/me", FIONA).body["paymentProvider"] is None
    monkeypatch.setenv("TALLY_PAYMENTS", "stripe")
    monkeypatch.setenv("TALLY_STRIPE_KEYS", KEYS)
    assert org.call("GET", "/api/me", FIONA).body["paymentProvider"] == "stripe"
    # Everyone is told (it is the deployment's, like the budget metric); who may issue is in
    # their permissions.
    assert org.call("GET", "/api/me", ALICE).body["paymentProvider"] == "stripe"


def test_who_may_issue(org: Api, stripe_on: RecordedStripe) -> None:
    invoice_id = ready_invoice(org)
    # The invoice's owner may not (nothing is sent); finance may (payments:issue, as admins).
    assert org.call("POST", f"/api/invoices/{invoice_id}/payment", ALICE).status == 403
    assert org.call("POST", "/api/invoices/no-such-job/payment", ADMIN).status == 404
    assert stripe_on.sent == []
    assert org.call("POST", f"/api/invoices/{invoice_id}/payment", FIONA).status == 201
    assert stripe_on.sent


def test_an_invoice_whose_figures_changed_is_not_issued(
    org: Api, stripe_on: RecordedStripe
) -> None:
    invoice_id = ready_invoice(org)
    job = org.stores.report_jobs.get(invoice_id)
    assert job is not None
    stale = ReportJob(
        str(uuid.uuid4()),
        "invoice",
        "u-alice",
        job.params,
        JobStatus.READY,
        NOW,
        NOW,
        details={"invoiceNumber": "TLY-OLD"},
    )
    org.stores.report_jobs.create(stale)
    reply = org.call("POST", f"/api/invoices/{stale.job_id}/payment", ADMIN)
    assert reply.status == 409 and "changed" in reply.body["detail"]
    assert stripe_on.sent == []


@pytest.mark.parametrize(
    ("base", "accepted"),
    [
        ("https://api.stripe.com", True),
        ("http://127.0.0.1:4242", True),  # the local stack's stand-in
        ("http://stripe.example.com", False),  # a deployment is never pointed at plain http
        ("ftp://127.0.0.1:4242", False),
    ],
)
def test_the_stripe_base_is_https_or_the_local_standin(
    api: Api, monkeypatch: pytest.MonkeyPatch, base: str, accepted: bool
) -> None:
    from tally.settings import ConfigurationError

    monkeypatch.setenv("TALLY_PAYMENTS", "stripe")
    monkeypatch.setenv("TALLY_STRIPE_KEYS", KEYS)
    monkeypatch.setenv("TALLY_STRIPE_API_BASE", base)
    if accepted:
        assert payment_channels.PaymentSettings.load().stripe_api_base == base
    else:
        with pytest.raises(ConfigurationError, match="TALLY_STRIPE_API_BASE"):
            payment_channels.PaymentSettings.load()
