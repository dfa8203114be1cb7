"""Custom billing periods (issue 17) in Chromium against the session's local stack (the demo
organisation on ``MID_MONTH``; fiona is finance): on the Currencies screen finance chooses
4-4-5 periods, sees the current and next two periods in the preview, saves, and watches the
recompute of every roll-up reach "ready"; the dashboard's month card then names the period with
its days. Switching back to calendar months (through the screen, and again through the API
whatever happened) leaves the session's stack as the other tests expect it."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

from playwright.sync_api import expect

from tally import calendar
from tally.calendar import PeriodDefinition
from tests.browser.conftest import MID_MONTH, Api
from tests.browser.test_reports_screens import show, signed_in

FOUR_FOUR_FIVE = PeriodDefinition("4-4-5", fiscal_year_start="01-01", week_start="monday")
# The recompute rebuilds every roll-up of the demo organisation from its stored records.
RECOMPUTE_TIMEOUT_MS = 120_000


def _day(day: date) -> str:
    """A day as en-US Intl writes it in a range ("Nov 23, 2026")."""
    return f"{day:%b} {day.day}, {day.year}"


def _plain(text: str) -> str:
    """Intl's thin and narrow spaces as plain ones."""
    return re.sub(r"\s", " ", text)


def _back_to_calendar_months(api: Api) -> None:
    """Calendar months again, and their recompute finished, for the tests that follow."""
    status, body, _ = api.call(
        "fiona", "PUT", "/settings/billing", {"period": {"kind": "calendar"}}
    )
    assert status == 200, (status, body)
    deadline = time.monotonic() + RECOMPUTE_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        period = api.get("fiona", "/settings/billing").get("period") or {}
        recompute = period.get("recompute")
        if not recompute or recompute["status"] != "pending":
            assert period.get("kind", "calendar") == "calendar", period
            return
        time.sleep(1)
    raise AssertionError("the recompute back to calendar months did not finish")


def test_finance_switches_to_4_4_5_periods_and_back(open_page: Any, api: Api) -> None:
    with calendar.using(FOUR_FOUR_FIVE):
        current = calendar.month_of(MID_MONTH)
        expected = [
            current,
            calendar.next_month(current),
            calendar.next_month(calendar.next_month(current)),
        ]
        first, following = calendar.month_days(current)
    last = following - timedelta(days=1)
    name = date.fromisoformat(f"{current}-01").strftime("%B %Y")

    session = signed_in(open_page, "fiona")
    page = session.page
    try:
        # Given the Currencies screen with its Billing period card
        show(session, "#/rates")
        form = page.locator("[data-testid=billing-period]")
        form.wait_for()
        assert form.get_by_label("Kind of period").input_value() == "calendar"
        expect(form.get_by_label("Weeks start on")).to_be_hidden()

        # When finance chooses 4-4-5 (fiscal year from 1 January, weeks from Monday)
        form.get_by_label("Kind of period").select_option("4-4-5")
        expect(form.get_by_label("Weeks start on")).to_be_visible()
        expect(form.get_by_label("Start day", exact=True)).to_be_hidden()
        form.get_by_label("Fiscal year start month").select_option("01")
        form.get_by_label("Fiscal year start day").select_option("01")
        form.get_by_label("Weeks start on").select_option("monday")

        # Then the preview lists the current period and the next two, with their days
        rows = page.locator("[data-testid=period-preview] tbody tr")
        expect(rows).to_have_count(3)
        assert [rows.nth(i).get_attribute("data-month") for i in range(3)] == expected
        assert "current" in rows.first.inner_text()
        assert (
            rows.first.locator("[data-value=first]")
            .inner_text()
            .endswith(f"{first:%b} {first.day}, {first.year}")
        )

        # When it is saved, the recompute runs to "ready" (polled, announced)
        form.get_by_role("button", name="Save billing periods").click()
        status = page.locator("[data-testid=recompute-status]")
        assert status.get_attribute("role") == "status"
        expect(status).to_have_attribute("data-status", "ready", timeout=RECOMPUTE_TIMEOUT_MS)
        expect(status).to_contain_text("Recompute ready")
        settings = api.get("fiona", "/settings/billing")["period"]
        assert settings["kind"] == "4-4-5"
        assert settings["current"] == {
            "month": current,
            "start": first.isoformat(),
            "end": last.isoformat(),
        }

        # Then the dashboard's month card names the period with its days: on a fresh page (the
        # periods are asked after the first chart, the summary says its days) ...
        fresh = signed_in(open_page, "fiona")
        show(fresh, "#/dashboard")
        fresh_subtitle = fresh.page.locator("#summary-title + .card-subtitle")
        expect(fresh_subtitle).to_contain_text(f"{name} period")
        assert f"({_day(first)} \N{EN DASH} {_day(last)})" in _plain(fresh_subtitle.inner_text())

        # ... and on the page that made the change (its browser revalidates the summary it
        # read under calendar months: the answer must not be "not modified")
        show(session, "#/dashboard")
        subtitle = page.locator("#summary-title + .card-subtitle")
        expect(subtitle).to_contain_text(f"{name} period")
        assert f"({_day(first)} \N{EN DASH} {_day(last)})" in _plain(subtitle.inner_text())

        # When finance switches back to calendar months
        show(session, "#/rates")
        form = page.locator("[data-testid=billing-period]")
        form.wait_for()
        assert form.get_by_label("Kind of period").input_value() == "4-4-5"
        form.get_by_label("Kind of period").select_option("calendar")
        expect(form.get_by_label("Weeks start on")).to_be_hidden()
        form.get_by_role("button", name="Save billing periods").click()
        expect(page.locator("[data-testid=recompute-status]")).to_have_attribute(
            "data-status", "ready", timeout=RECOMPUTE_TIMEOUT_MS
        )

        # Then the month is a calendar month again, named as before
        show(session, "#/dashboard")
        calendar_name = MID_MONTH.strftime("%B %Y")
        expect(subtitle).to_contain_text(calendar_name)
        expect(subtitle).not_to_contain_text("period")
    finally:
        _back_to_calendar_months(api)


def test_a_definition_that_names_no_periods_is_refused_on_its_field(open_page: Any) -> None:
    session = signed_in(open_page, "fiona")
    show(session, "#/rates")
    form = session.page.locator("[data-testid=billing-period]")
    form.wait_for()
    form.get_by_label("Kind of period").select_option("5-4-4")
    form.get_by_label("Fiscal year start month").select_option("04")
    form.get_by_label("Fiscal year start day").select_option("31")
    form.locator(".field-error[data-field=fiscalYearStart]").get_by_text(
        "a day every year has"
    ).wait_for()
    expect(session.page.locator("[data-testid=period-preview]")).to_contain_text("No preview")
    form.get_by_label("Kind of period").select_option("monthly")
    form.get_by_label("Start day", exact=True).fill("29")
    form.locator(".field-error[data-field=startDay]").get_by_text("from 1 to 28").wait_for()
    # Nothing was sent: the definition in force is still calendar months.
    assert form.get_by_label("Kind of period").input_value() == "monthly"
