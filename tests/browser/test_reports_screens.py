"""Issue 12's dashboard screens in Chromium against the session's local stack (demo data):
"Why did my bill change?" (figures, the waterfall and the table behind it, the invoice job),
the CSV export job on the costs screen (its link downloads a CSV), anomalies and savings as a
user and as an admin, each in light and dark and at phone width."""

from __future__ import annotations

import urllib.request
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.conftest import PHONE, Api, Session

# A job's link, once the reports worker has made the file (its polling waits 1 s, 2 s, 3 s...).
JOB_TIMEOUT_MS = 70_000
SCREENS = ("#/changes", "#/anomalies", "#/savings")


def signed_in(open_page: Any, username: str, viewport: dict[str, int] | None = None) -> Session:
    session: Session = open_page(viewport=viewport)
    session.sign_in(username)
    return session


def show(session: Session, route: str) -> None:
    session.go(route)
    session.wait_idle()


def money_text(text: str) -> Decimal:
    """ "+$1,204.60", "\N{MINUS SIGN}$80.00" or "$0.00" as the page writes it -> a Decimal."""
    cleaned = (
        text.strip()
        .replace("\N{MINUS SIGN}", "-")
        .replace("$", "")
        .replace(",", "")
        .replace("+", "")
    )
    return Decimal(cleaned)


def ready_link(session: Session, testid: str) -> str:
    """The job's download link, once ready; fails at once with the page's words if it failed."""
    page = session.page
    status = page.locator(f"[data-testid={testid}-status]")
    page.locator(
        f"[data-testid={testid}-link], [data-testid={testid}-status] .job-error"
    ).first.wait_for(timeout=JOB_TIMEOUT_MS)
    link = page.locator(f"[data-testid={testid}-link]")
    assert link.count() == 1, status.inner_text()
    assert "The link works until" in status.inner_text()
    return str(link.get_attribute("href"))


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return bytes(response.read())


def test_the_waterfall_steps_add_up_to_this_months_total(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "alice")
    show(session, "#/changes")
    page = session.page
    alice = api.get("alice", "/me")["userId"]
    expected = api.get("alice", f"/billing/user/{alice}/month-over-month")
    rows = page.locator("[data-testid=waterfall-table] tbody tr")
    kinds = rows.evaluate_all("rows => rows.map(r => r.dataset.kind)")
    amounts = [Decimal(a) for a in rows.evaluate_all("rows => rows.map(r => r.dataset.amount)")]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert kinds[1:-1] == [step["kind"] for step in expected["waterfall"]["steps"]]
    start, *steps, end = amounts
    assert start == Decimal(expected["waterfall"]["start"])
    assert end == Decimal(expected["currentTotal"])
    # Exactly, from the table's own amounts.
    assert start + sum(steps, Decimal(0)) == end
    # And as the reader sees it: each shown change is its amount in cents, and the running
    # total shown on the last step is the end.
    changes = page.locator("[data-testid=waterfall-table] td[data-value=change]").all_inner_texts()
    # The start and end rows are totals: no change.
    assert changes[0].strip() == changes[-1].strip() == ""
    shown = [money_text(text) for text in changes[1:-1]]
    for amount, text in zip(steps, shown, strict=True):
        assert abs(amount - text) <= Decimal("0.005")
    running = page.locator("[data-testid=waterfall-table] tbody tr td:last-child").all_inner_texts()
    assert money_text(running[-2]) == money_text(running[-1]) == end.quantize(Decimal("0.01"))
    # The chart says what it shows, with one bar per row of the table.
    chart = page.locator("svg[data-testid=waterfall]")
    assert chart.get_attribute("role") == "img"
    assert "Waterfall from" in (chart.get_attribute("aria-label") or "")
    assert chart.locator("rect.wf-bar").count() == len(amounts)
    assert page.locator("[data-testid=changes-by-service] tbody tr").count() == max(
        1, len(expected["services"])
    )


def test_the_costs_export_gives_a_link_to_a_csv(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    show(session, "#/costs")
    page = session.page
    page.get_by_role("button", name="Export CSV").click()
    body = download(ready_link(session, "export-csv")).decode("utf-8")
    assert body.startswith("\ufeff# Tally cost export")
    header = next(line for line in body.splitlines() if line.startswith("date,"))
    assert header.startswith("date,service,resource_id,resource_name,charge_category")


def test_the_invoice_gives_a_link_to_a_pdf(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    show(session, "#/changes")
    page = session.page
    page.get_by_role("button", name="Download invoice").click()
    assert download(ready_link(session, "invoice")).startswith(b"%PDF")


def test_an_admin_exports_all_users(open_page: Any) -> None:
    session = signed_in(open_page, "admin")
    show(session, "#/admin")
    page = session.page
    page.get_by_role("button", name="Export all users (CSV)").click()
    body = download(ready_link(session, "export-all-users")).decode("utf-8")
    assert "user_id,username,email,service" in body
    assert "UNALLOCATED" in body


def test_anomalies_are_the_users_own_and_the_admins_see_the_organisation(
    open_page: Any, api: Api
) -> None:
    alice = signed_in(open_page, "alice")
    show(alice, "#/anomalies")
    own = api.get("alice", "/anomalies")["items"]
    headers = alice.page.locator("[data-testid=anomalies] thead th").all_inner_texts()
    if own:
        assert "User" not in [h.strip().title() for h in headers]
        assert alice.page.locator("[data-testid=anomalies] tbody tr").count() == len(own)
    else:
        assert alice.page.get_by_text("No anomalies.").is_visible()

    admin = signed_in(open_page, "admin")
    show(admin, "#/anomalies")
    org = api.get("admin", "/anomalies")["items"]
    assert org, "the demo organisation's planted spike is an anomaly"
    table = admin.page.locator("[data-testid=anomalies]")
    assert "USER" in [h.strip().upper() for h in table.locator("thead th").all_inner_texts()]
    assert table.locator("tbody tr").count() == len(org)
    # The state filter asks the API for that state only.
    admin.page.get_by_label("State").select_option("resolved")
    admin.wait_idle()
    resolved = api.get("admin", "/anomalies?status=resolved")["items"]
    assert admin.page.locator("[data-testid=anomalies] tbody tr").count() == len(resolved)


def test_an_anomaly_is_acknowledged_from_its_row(
    open_page: Any, api: Api, stack: dict[str, Any]
) -> None:
    # The stack's alert evaluation finds the planted spike asynchronously after the seed: run
    # first, this test would read before it has. The outbox answers once everything sent has
    # been handled. Only this test acknowledges, so the spike is still open here.
    with urllib.request.urlopen(f"{stack['outbox_json_url']}?wait=60", timeout=90):
        pass
    admin = signed_in(open_page, "admin")
    show(admin, "#/anomalies?status=open")
    open_ones = api.get("admin", "/anomalies?status=open")["items"]
    assert open_ones, "the demo organisation's planted spike is an open anomaly"
    row = admin.page.locator("[data-testid=anomalies] tbody tr").first
    anomaly_id = row.get_attribute("data-id")
    row.get_by_role("button", name="Acknowledge").click()
    admin.page.get_by_text("Acknowledged:").first.wait_for(state="attached")
    listed = {a["anomalyId"]: a for a in api.get("admin", "/anomalies")["items"]}
    assert listed[anomaly_id]["status"] == "acknowledged"


def test_savings_rank_tips_and_admins_see_owners(open_page: Any, api: Api) -> None:
    admin = signed_in(open_page, "admin")
    show(admin, "#/savings")
    org = api.get("admin", "/recommendations")
    page = admin.page
    tips = page.locator("[data-testid=savings] > li")
    assert tips.count() == len(org["items"]) > 0, "the demo's idle instance is a tip"
    savings = [Decimal(s) for s in tips.evaluate_all("tips => tips.map(t => t.dataset.saving)")]
    assert savings == sorted(savings, reverse=True)
    assert money_text(page.locator("[data-testid=total-saving]").inner_text()) == Decimal(
        org["totalMonthlySaving"]
    ).quantize(Decimal("0.01"))
    owners = page.locator("[data-testid=tip-owner]").all_inner_texts()
    assert len(owners) == len(org["items"])
    if any(item["userId"] is None for item in org["items"]):
        assert any("nobody" in owner for owner in owners)
    # Every tip shows its evidence.
    assert page.locator(".tip-evidence").count() == sum(1 for i in org["items"] if i["evidence"])

    alice = signed_in(open_page, "alice")
    show(alice, "#/savings")
    own = api.get("alice", "/recommendations")["items"]
    assert alice.page.locator("[data-testid=savings] > li").count() == len(own)
    assert alice.page.locator("[data-testid=tip-owner]").count() == 0


@pytest.mark.parametrize("username", ["alice", "admin"])
def test_phone_width_has_no_sideways_scroll_in_light_or_dark(open_page: Any, username: str) -> None:
    session = signed_in(open_page, username, viewport=PHONE)
    page = session.page
    for route in SCREENS:
        show(session, route)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, (route, scheme, overflow)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, button, [role=region]')]
                .filter(el => !el.closest('[hidden]'))
                .filter(el => !((el.labels && el.labels.length) || el.getAttribute('aria-label')
                    || el.getAttribute('aria-labelledby') || el.textContent.trim()))
                .map(el => el.outerHTML.slice(0, 80))"""
        )
        assert unlabelled == [], (route, unlabelled)
    # Dark mode is the dark palette, not the light one with another name.
    page.emulate_media(color_scheme="dark")
    background = page.evaluate("() => getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(15, 20, 28)"


def test_the_screens_are_reached_by_keyboard(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    show(session, "#/changes")
    page = session.page
    # The month picker, the table region and the invoice button are all in the tab order.
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.dataset.testid || e.type || e.tagName }"
            )
        )
        if "invoice" in reached:
            break
    assert {"month", "invoice"} <= reached


# --- screenshots -----------------------------------------------------------------------------


@pytest.mark.parametrize(("viewport", "prefix"), [(None, ""), (PHONE, "phone-")])
def test_screenshots(open_page: Any, viewport: Any, prefix: str) -> None:
    alice = signed_in(open_page, "alice", viewport=viewport)
    show(alice, "#/changes")
    alice.screenshot(f"{prefix}reports-changes")
    show(alice, "#/costs")
    alice.page.get_by_role("button", name="Export CSV").click()
    ready_link(alice, "export-csv")
    alice.screenshot(f"{prefix}reports-export")
    admin = signed_in(open_page, "admin", viewport=viewport)
    show(admin, "#/anomalies")
    admin.screenshot(f"{prefix}reports-anomalies")
    show(admin, "#/savings")
    admin.screenshot(f"{prefix}reports-savings")
