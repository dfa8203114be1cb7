"""The Commitments screen (#/commitments) in Chromium against the session's local stack: the
demo's Savings Plan ends within 30 days and shows as ending soon (and fiona of finance was told
once), utilisation, coverage and recommendations are the API's; light, dark and phone width. A
member sees neither the menu entry nor the page."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import PHONE, Api
from tests.browser.test_reports_screens import show, signed_in


def test_screenshots_finance_sees_what_ends_soon_and_what_to_buy(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "fiona")
    show(session, "#/commitments")
    page = session.page
    assert page.locator("nav a[data-route=commitments]").count() == 1
    soon = page.locator("[data-testid=expiring-soon] tbody tr")
    soon.first.wait_for()
    body = api.get("fiona", "/commitments")
    ending = [c for c in body["commitments"] if c["expiringSoon"]]
    assert [soon.nth(n).get_attribute("data-id") for n in range(soon.count())] == [
        c["commitmentId"] for c in ending
    ]
    assert ending and ending[0]["kind"] == "savings-plan"
    usage = page.locator("[data-testid=usage] tbody tr")
    assert usage.count() == len(body["utilisation"]) > 0
    # Each row says where its figures come from (Cost Explorer, or the FOCUS export).
    assert [usage.nth(n).get_attribute("data-source") for n in range(usage.count())] == [
        u["source"] for u in body["utilisation"]
    ]
    assert "Cost Explorer" in usage.first.locator("[data-testid=source]").inner_text()
    recs = api.get("fiona", "/commitments/recommendations")["recommendations"]
    shown = page.locator("[data-testid=recommendations] [data-testid=monthly-saving]")
    assert shown.count() == len(recs) == 2
    assert "$86.72" in shown.first.inner_text()
    # Finance was told once that the plan ends within 30 days.
    notes = api.get("fiona", "/notifications")
    items = notes.get("items", notes) if isinstance(notes, dict) else notes
    told = [n for n in items if n.get("kind") == "commitment-expiry"]
    assert len(told) == 1 and ending[0]["commitmentId"] in told[0]["body"]
    assert session.console.errors == []
    session.screenshot("commitments")

    phone = signed_in(open_page, "fiona", viewport=PHONE)
    show(phone, "#/commitments")
    phone.page.locator("[data-testid=expiring-soon] tbody tr").first.wait_for()
    phone.screenshot("commitments-phone")


def test_a_member_has_no_commitments(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    show(session, "#/commitments")
    page = session.page
    assert page.locator("nav a[data-route=commitments]").count() == 0
    assert page.locator("[data-testid=not-allowed]").count() == 1
