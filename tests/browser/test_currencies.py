"""Currencies (issue 17) in Chromium against the session's local stack (the demo organisation,
its DEMO rates and transfer price; fiona is finance): the Currencies screen lists the rates,
looks up the rate in force and adds a transfer price; a member has no such screen; a display
currency shows the month converted beside the billed figure, with its rates' days; finance
chooses a team's display currency, and a GBP budget on the team's USD costs is judged in GBP,
saying so; an auditor, who reads the team without managing it, has no such select."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import PHONE, Api
from tests.browser.test_reports_screens import show, signed_in


def test_finance_sees_the_rates_and_adds_a_transfer_price(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "fiona")
    show(session, "#/rates")
    page = session.page
    assert page.locator("nav a[data-route=rates]").count() == 1
    table = page.locator("[data-testid=rates-table]")
    table.wait_for()
    assert page.locator("[data-testid=rates-table] tr[data-source=demo]").count() > 0
    # The rate in force on the business date, from USD to EUR: a demo rate, worked out.
    page.locator("#in-force-title").wait_for()
    page.get_by_role("button", name="Look up").click()
    answer = page.locator("[data-testid=rate-in-force]")
    answer.get_by_text("1 USD =").wait_for()
    assert "demo" in answer.inner_text()
    # A transfer price: a bad rate is refused on its field, a good one is listed as manual.
    form = page.locator("[data-testid=manual-rate]")
    session.console.expect(r"status of 422")  # the refused rate, answered on its field
    form.locator("input[name=rate]").fill("0")
    form.get_by_role("button", name="Add transfer price").click()
    form.locator(".field-error[data-field=rate]").get_by_text("greater than 0").wait_for()
    form.locator("input[name=rate]").fill("0.7811")
    form.get_by_role("button", name="Add transfer price").click()
    form.get_by_text("Added: 1 USD = 0.7811 GBP").wait_for()
    page.locator("[data-testid=rates-table] tr[data-source=manual]").first.wait_for()
    listed = api.get("fiona", "/rates?base=USD&quote=GBP&limit=5")["items"]
    assert any(r["rate"] == "0.7811" and r["source"] == "manual" for r in listed)


def test_a_member_has_no_currencies_screen(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    show(session, "#/dashboard")
    assert session.page.locator("nav a[data-route=rates]").count() == 0
    show(session, "#/rates")
    session.page.get_by_text("rates:write").first.wait_for()


def test_a_display_currency_shows_the_month_converted_with_its_rates_days(
    open_page: Any, api: Api
) -> None:
    session = signed_in(open_page, "carol")
    page = session.page
    try:
        show(session, "#/settings")
        form = page.locator("[data-testid=display-currency]")
        form.locator("select[name=displayCurrency]").select_option("EUR")
        form.get_by_role("button", name="Save").click()
        form.get_by_text("Saved.").wait_for()
        show(session, "#/dashboard")
        note = page.locator("[data-testid=converted-total]")
        note.wait_for()
        assert note.get_attribute("data-currency") == "EUR"
        text = note.inner_text()
        assert "converted day by day at demo rates of" in text
        summary = api.get("carol", "/billing/user/" + _id(api, "carol") + "/summary?currency=EUR")
        converted = summary["converted"]
        assert converted["total"]["currency"] == "EUR"
        assert summary["total"]["currency"] == "USD"  # the billed figure stays
        session.screenshot("currency-dashboard")
    finally:
        status, _, _ = api.call("carol", "PUT", "/preferences", {"displayCurrency": None})
        assert status == 200


def test_the_teams_currency_select_and_a_gbp_budget_judged_in_gbp(open_page: Any, api: Api) -> None:
    # Given the department "engineering" (alice's and bob's USD costs, no budget of its own)
    # with a GBP budget an admin sets. There is no route to delete a budget: it stays for the
    # session (no other test reads engineering's budget).
    status, made, _ = api.call(
        "admin",
        "POST",
        "/billing/budgets",
        {
            "teamId": "engineering",
            "monthlyLimit": "100000",
            "alertThreshold": 80,
            "currency": "GBP",
        },
    )
    assert status in (201, 409), made  # 409: made by an earlier run of this session
    session = signed_in(open_page, "fiona")  # finance: sets display currencies
    page = session.page
    try:
        show(session, "#/teams/engineering")
        # Then the verdict is in GBP on the converted month, and says so with its rates' days.
        verdict = page.locator("[data-testid=budget-judged-in]")
        verdict.wait_for()
        assert verdict.get_attribute("data-currency") == "GBP"
        # (The demo's transfer price of the 1st is a manual rate: "manual, demo rates".)
        text = verdict.inner_text()
        assert "the USD costs converted day by day at" in text and "demo rates of" in text
        summary = api.get("fiona", "/billing/team/engineering/summary")
        assert summary["budgetJudgedIn"]["currency"] == "GBP"
        assert summary["status"] == "under"
        badge = page.locator("[data-testid=team-figures] ~ p [data-status]").first
        assert badge.get_attribute("data-status") == "under"
        # When fiona chooses EUR for the team, the month is shown converted into it too.
        form = page.locator("[data-testid=team-currency]")
        form.locator("select[name=displayCurrency]").select_option("EUR")
        form.get_by_role("button", name="Save").click()
        form.get_by_text("Saved.").wait_for()
        note = page.locator("[data-testid=converted-total]")
        note.wait_for()
        assert note.get_attribute("data-currency") == "EUR"
        assert api.get("fiona", "/teams/engineering")["displayCurrency"] == "EUR"
        session.screenshot("currency-team")
        # Coming back, the team's page shows its own display currency by default.
        show(session, "#/dashboard")
        show(session, "#/teams/engineering")
        page.locator("[data-testid=converted-total][data-currency=EUR]").wait_for()
        # A bad code is refused on its field by the API (the select offers none).
        status, problem, _ = api.call(
            "fiona", "PATCH", "/teams/engineering", {"displayCurrency": "eur"}
        )
        assert status == 422 and problem["errors"][0]["field"] == "displayCurrency"
    finally:
        status, _, _ = api.call("fiona", "PATCH", "/teams/engineering", {"displayCurrency": None})
        assert status == 200


def test_who_reads_a_team_without_managing_it_has_no_currency_select(open_page: Any) -> None:
    session = signed_in(open_page, "audrey")  # the auditor reads every team
    show(session, "#/teams/payments")
    session.page.locator("[data-testid=team-figures]").wait_for()
    assert session.page.locator("[data-testid=team-currency]").count() == 0


def _id(api: Api, username: str) -> str:
    return str(api.get(username, "/me")["userId"])


def test_currencies_screenshots(open_page: Any) -> None:
    session = signed_in(open_page, "fiona")
    show(session, "#/rates")
    session.page.locator("[data-testid=rates-table]").wait_for()
    # The Billing period card (custom periods) with its preview is in the pictures too.
    session.page.locator("[data-testid=period-preview] tbody tr").first.wait_for()
    session.screenshot("currencies")
    phone = signed_in(open_page, "fiona", viewport=PHONE)
    show(phone, "#/rates")
    phone.page.locator("[data-testid=rates-table]").wait_for()
    phone.page.locator("[data-testid=period-preview] tbody tr").first.wait_for()
    overflow = phone.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    phone.screenshot("currencies-phone")
