"""The Tax screen (#/tax) in Chromium against the session's local stack (the demo's rules:
VAT 19% on the team "payments", the team "data" zero-rated): finance reads the rules with their
dates, adds one (a refused rate shows its field error next to the field), ends it and changes
the settings; a member has neither the menu entry nor the page; light, dark and phone width for
the user guide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.browser.conftest import PHONE, Api, Session


def signed_in(open_page: Any, username: str, viewport: dict[str, int] | None = None) -> Session:
    session: Session = open_page(viewport=viewport)
    session.sign_in(username)
    session.wait_idle()
    return session


def show(session: Session, route: str) -> Session:
    session.go(route)
    session.wait_idle()
    session.page.locator("[data-testid=tax-settings] select[name=mode]").wait_for()
    return session


def test_screenshots_of_the_tax_screen(open_page: Any) -> None:
    finance = show(signed_in(open_page, "fiona"), "#/tax")
    page = finance.page
    page.locator("[data-testid=tax-rules] tr[data-rule=tr-00000000de19]").wait_for()
    finance.screenshot("tax-rules")
    page.click("[data-testid=new-tax-rule]")
    page.get_by_role("dialog").wait_for()
    finance.screenshot("tax-rule-form")
    page.get_by_role("button", name="Cancel").click()

    phone = show(signed_in(open_page, "fiona", viewport=PHONE), "#/tax")
    phone.page.locator("[data-testid=tax-rules]").wait_for()
    phone.screenshot("phone-tax-rules")


def test_finance_reads_adds_and_ends_a_rule(open_page: Any, api: Api, today: str) -> None:
    session = show(signed_in(open_page, "fiona"), "#/tax")
    page = session.page
    assert page.locator("nav a[data-route=tax]").count() == 1
    payments = page.locator("[data-testid=tax-rules] tr[data-rule=tr-00000000de19]")
    assert "VAT DE" in payments.inner_text()
    assert "19%" in payments.inner_text()
    assert "Team Payments" in payments.inner_text()
    assert payments.get_attribute("data-status") == "in force"
    data = page.locator("[data-testid=tax-rules] tr[data-rule=tr-000000000da0]")
    assert "Services exported outside the EU" in data.inner_text()

    # A rate the API refuses: its message next to the rate field, nothing added.
    session.console.expect(r"status of 422")
    page.click("[data-testid=new-tax-rule]")
    form = page.locator("[data-testid=tax-rule-form]")
    form.locator("input[name=jurisdiction]").fill("at")
    form.locator("input[name=rate]").fill("150")
    form.locator("select[name=unit]").select_option(label="A cost center…")
    form.locator("input[name=costCenter]").fill("CC-200")
    first_of_next_month = (
        f"{int(today[:4]) + int(today[5:7]) // 12}-{int(today[5:7]) % 12 + 1:02d}-01"
    )
    form.locator("input[name=effectiveFrom]").fill(first_of_next_month)
    form.get_by_role("button", name="Add rule").click()
    error = form.locator(".field[data-field=rate] .field-error")
    error.wait_for()
    assert "100" in error.inner_text()
    before = len(api.get("fiona", "/tax-rules")["items"])

    form.locator("input[name=rate]").fill("20")
    form.get_by_role("button", name="Add rule").click()
    page.get_by_role("dialog").wait_for(state="detached")
    session.wait_idle()
    rules = api.get("fiona", "/tax-rules")["items"]
    assert len(rules) == before + 1
    made = next(r for r in rules if r["jurisdiction"] == "AT")
    assert (made["rate"], made["unit"], made["effectiveFrom"]) == (
        "20", "costCenter:CC-200", first_of_next_month,
    )  # fmt: skip
    row = page.locator(f"[data-testid=tax-rules] tr[data-rule={made['ruleId']}]")
    assert row.get_attribute("data-status") == "upcoming"

    # End it: a day after it starts.
    row.get_by_role("button", name="End rule VAT AT").click()
    end = page.locator("[data-testid=tax-end-form]")
    end.locator("input[name=effectiveTo]").fill(f"{first_of_next_month[:8]}02")
    end.get_by_role("button", name="End rule").click()
    page.get_by_role("dialog").wait_for(state="detached")
    session.wait_idle()
    ended = next(
        r for r in api.get("fiona", "/tax-rules")["items"] if r["ruleId"] == made["ruleId"]
    )
    assert ended["effectiveTo"] == f"{first_of_next_month[:8]}02"


def test_the_settings_change_and_come_back(open_page: Any, api: Api) -> None:
    session = show(signed_in(open_page, "fiona"), "#/tax")
    page = session.page
    card = page.locator("[data-testid=tax-settings]")
    assert card.locator("select[name=rounding]").input_value() == "total"
    try:
        card.locator("select[name=rounding]").select_option("line")
        card.get_by_role("button", name="Save settings").click()
        card.locator("[data-testid=tax-settings-status]", has_text="Saved").wait_for()
        assert api.get("fiona", "/tax-rules/settings")["rounding"] == "line"
        card.locator("select[name=rounding]").select_option("total")
        with page.expect_response(
            lambda r: r.url.endswith("/tax-rules/settings") and r.request.method == "PUT"
        ) as saved:
            card.get_by_role("button", name="Save settings").click()
        assert saved.value.status == 200
    finally:
        _, current, headers = api.call("fiona", "GET", "/tax-rules/settings")
        if current["rounding"] != "total":
            api.call("fiona", "PUT", "/tax-rules/settings", {"mode": "add", "rounding": "total"},
                     {"If-Match": headers["ETag"]})  # fmt: skip
    assert api.get("fiona", "/tax-rules/settings")["rounding"] == "total"


def test_a_member_has_no_tax_screen(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    session.go("#/tax")
    session.wait_idle()
    page = session.page
    page.locator("nav.nav[data-me=known]").wait_for()
    assert page.locator("nav a[data-route=tax]").count() == 0
    assert page.locator("[data-testid=not-allowed]").count() == 1
    assert page.locator("[data-testid=tax-rules]").count() == 0


def test_the_demo_statements_carry_the_payments_vat(api: Api, today: str) -> None:
    """The demo's rules reach what `make run` shows: the team payments' chargeback is taxed at
    19%; the team data's, zero-rated, at 0% with its reason when it carries any cost (a unit
    with nothing to charge has no tax table)."""
    body = api.get("fiona", f"/billing/organisation/chargeback?month={today[:7]}&groupBy=team")
    units = {u["unitId"]: u for u in body["units"]}
    (payments,) = units["payments"]["tax"]
    assert [(r["rate"], r["treatment"]) for r in payments["rows"]] == [("19", "standard")]
    assert payments["gross"]["amount"] != payments["net"]["amount"]
    data = units["data"]
    for tax in data["tax"]:
        assert [(r["rate"], r["reason"]) for r in tax["rows"]] == [
            ("0", "Services exported outside the EU")
        ]
        assert tax["gross"] == tax["net"]
    if not data["tax"]:
        assert all(Decimal(m["amount"]) == 0 for m in data["total"])
