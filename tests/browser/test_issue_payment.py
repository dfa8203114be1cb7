"""Issue for payment (issue 17) in Chromium, against a local stack with payments on through
Stripe's recorded stand-in (``make run PAYMENTS=standin``; infra/local/stripe_standin.py):
finance makes alice's invoice of a final month on "Why did my bill change?", issues it for
payment (keyboard: Enter) and sees "Issued for payment"; after a signed ``invoice.paid``
event, posted by the test as Stripe would, "Check payment status" shows "Paid"; a refusal
is said beside the button; alice (a member: no payments:issue) sees no button."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.client import local_stack_process
from infra.local.stripe_standin import STANDIN_KEYS, WEBHOOK_PATH, recorded, signature
from tally.clock import system_now
from tests.browser.conftest import MID_MONTH, PHONE, Api, Session, user_id_of

JOB_TIMEOUT_MS = 70_000
# A final month on MID_MONTH (its costs have all arrived): issuing refuses a provisional one.
FINAL_MONTH = "2026-10"


@pytest.fixture(scope="module")
def stack(
    site_and_chromium: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The session's stack, but with payments on through the stand-in."""
    where = tmp_path_factory.mktemp("browser-stack-payments")
    with local_stack_process(
        where / "local.json",
        log_path=where / "stack.log",
        timeout=240,
        today=MID_MONTH,
        env={"TALLY_LOCAL_PAYMENTS": "standin"},
    ) as running:
        yield running.local_json


def paid_event(invoice_id: str, payment: dict[str, Any], n: int) -> bytes:
    body = recorded("event_invoice_paid")
    body["id"] = f"evt_browser_{n:04d}"
    body["data"]["object"].update(
        id=payment["reference"],
        currency=payment["currency"].lower(),
        metadata={"tallyInvoiceId": invoice_id, "tallyCurrency": payment["currency"]},
    )
    return json.dumps(body).encode()


def deliver(local_json: dict[str, Any], payload: bytes) -> int:
    """POST a signed event to the webhook, as Stripe does: signed on the real clock, which the
    API checks a signature's time against whatever business date the stack pins."""
    now = system_now()
    gateway = str(local_json["dashboard_url"]).rstrip("/")
    request = urllib.request.Request(
        gateway + WEBHOOK_PATH,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": signature(
                payload, STANDIN_KEYS["webhookSecret"], int(now.timestamp())
            ),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def make_invoice(session: Session, route: str) -> str:
    """Ask for the invoice on "Why did my bill change?"; its id once its PDF is ready."""
    page = session.page
    session.go(route)
    session.wait_idle()
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/api/invoices")
    ) as created:
        page.get_by_role("button", name="Download invoice").click()
    invoice_id = str(created.value.json()["invoiceId"])
    page.locator("[data-testid=invoice-link]").wait_for(timeout=JOB_TIMEOUT_MS)
    return invoice_id


def test_finance_issues_an_invoice_for_payment_and_sees_it_paid(open_page: Any, api: Api) -> None:
    session: Session = open_page()
    session.sign_in("fiona")
    page = session.page
    alice = user_id_of(session.local_json, "alice")
    # Another user's page needs /me's answer first (before it, a page shows one's own data):
    # the menu item only finance's permissions bring says it has come.
    page.locator("a[href='#/chargeback']").first.wait_for(state="attached")
    invoice_id = make_invoice(session, f"#/changes?user={alice}&name=alice&month={FINAL_MONTH}")
    assert "alice" in page.locator("h1").first.inner_text()
    issue = page.get_by_role("button", name="Issue for payment")
    issue.wait_for()
    assert issue.get_attribute("aria-describedby")

    # A refusal is said beside the button (the problem's detail), and nothing is issued.
    problem = {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "Stripe cannot be reached at the moment: try again.",
    }
    session.console.expect("503")
    page.route(
        "**/api/invoices/*/payment",
        lambda route: route.fulfill(
            status=503,
            content_type="application/problem+json",
            headers={"Retry-After": "5"},
            body=json.dumps(problem),
        ),
    )
    issue.click()
    alert = page.locator("[data-testid=payment-error]")
    assert alert.get_attribute("role") == "alert"
    page.wait_for_function(
        "() => document.querySelector('[data-testid=payment-error]').textContent"
        ".includes('Stripe cannot')"
    )
    assert api.get("fiona", f"/invoices/{invoice_id}")["payments"] == []
    page.unroute("**/api/invoices/*/payment")

    # Issued through the stand-in, from the keyboard.
    issue.focus()
    page.keyboard.press("Enter")
    badges = page.locator("[data-testid=payment-status] .payment-badge")
    page.locator(
        "[data-testid=payment-status] .payment-badge, [data-testid=payment-error]:not(:empty)"
    ).first.wait_for()
    assert alert.inner_text() == "", alert.inner_text()
    payments = api.get("fiona", f"/invoices/{invoice_id}")["payments"]
    assert payments and all(p["status"] == "issued" for p in payments)
    assert badges.all_text_contents() == [f"Issued for payment ({p['currency']})" for p in payments]
    assert page.get_by_role("button", name="Issue for payment").count() == 0
    link = page.locator("[data-testid=payment-link]").first
    assert str(link.get_attribute("href")).startswith("http://127.0.0.1:")
    assert link.get_attribute("target") == "_blank"
    session.screenshot("payment-issued")

    # Stripe's webhook lands (posted here, signed); the page re-reads the invoice.
    for n, payment in enumerate(payments):
        assert deliver(session.local_json, paid_event(invoice_id, payment, n)) == 200
    page.get_by_role("button", name="Check payment status").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=payment-status] .payment-badge')]"
        ".every(b => b.dataset.status === 'paid')"
    )
    assert badges.all_text_contents() == [f"Paid ({p['currency']})" for p in payments]
    assert page.locator("[data-testid=payment-link]").count() == 0
    assert page.get_by_role("button", name="Check payment status").count() == 0
    session.screenshot("payment-paid")

    # At phone width the panel wraps inside the page.
    page.set_viewport_size(PHONE)
    assert page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    session.screenshot("payment-paid-phone")


def test_a_member_sees_no_issue_button(open_page: Any, api: Api) -> None:
    session: Session = open_page(viewport=PHONE)
    session.sign_in("alice")
    assert api.get("alice", "/me")["paymentProvider"] == "stripe"
    make_invoice(session, f"#/changes?month={FINAL_MONTH}")
    page = session.page
    # /me has answered by now (the page waits for it before the invoice's panel decides).
    page.wait_for_function("() => !document.querySelector('[aria-busy=true]')")
    assert page.get_by_role("button", name="Issue for payment").count() == 0
    assert page.locator("[data-testid=payment]").is_hidden()
