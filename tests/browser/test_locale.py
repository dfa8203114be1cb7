"""Locale (issue 16): the dashboard formats numbers, money and dates in the browser's locale
(Intl) with the currency always explicit, and a day stays the API's UTC day in any time zone.
The API itself stays locale-free (tests/api). Here a German browser far west of UTC
(Pago Pago, UTC-11, where UTC midnight is still the day before)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.browser.conftest import Api, Session, user_id_of

GERMAN = {"locale": "de-DE", "timezone_id": "Pacific/Pago_Pago"}


def german_usd(money: dict[str, str]) -> str:
    """The API's decimal string as de-DE shows dollars: 1.234,57 $ (a no-break space)."""
    assert money["currency"] == "USD"
    value = Decimal(money["amount"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    digits = f"{abs(value):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{'-' if value < 0 else ''}{digits}\u00a0$"


def signed_in(open_page: Any, username: str) -> Session:
    session: Session = open_page(**GERMAN)
    session.sign_in(username)
    return session


def test_money_is_in_the_browsers_locale_with_its_currency(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "alice")
    session.wait_idle()
    alice = user_id_of(session.local_json, "alice")
    summary = api.get("alice", f"/billing/user/{alice}/summary")
    total = session.page.locator("[data-value='total']").first.inner_text().strip()
    assert total == german_usd(summary["total"])
    assert "," in total and total.endswith("$")


def test_a_day_is_the_apis_utc_day_in_any_time_zone(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    session.go("#/costs")
    session.wait_idle()
    page = session.page
    row = page.locator("[data-testid=cost-lines] tbody tr[data-date]").first
    day = row.get_attribute("data-date")
    shown = row.locator("td").first.inner_text().strip()
    as_utc, as_local = page.evaluate(
        """day => {
            const at = new Date(`${day}T00:00:00Z`);
            const options = { weekday: "short", year: "numeric", month: "short", day: "numeric" };
            return [
                new Intl.DateTimeFormat("de-DE", { ...options, timeZone: "UTC" }).format(at),
                new Intl.DateTimeFormat("de-DE", options).format(at),
            ];
        }""",
        day,
    )
    # The browser's own zone would name the day before; the page names the API's day, in German.
    assert as_utc != as_local
    assert shown == as_utc
    # And says which day it means.
    assert "UTC" in page.locator("[data-testid=utc-note]").first.inner_text()


def test_screenshots_in_german(open_page: Any) -> None:
    """docs/screenshots/locale-de-*: the month and the cost lines as a German browser shows them
    (1.234,57 $, German day names, the UTC note), for the user guide's locale section."""
    session = signed_in(open_page, "alice")
    session.wait_idle()
    session.page.locator("canvas[data-drawn='true']").first.wait_for()
    session.screenshot("locale-de-dashboard")
    session.go("#/costs")
    session.wait_idle()
    session.screenshot("locale-de-costs")
