"""The first days of a month, in Chromium against a second local stack pinned to the 1st
(``FIRST_OF_MONTH``, 2026-12-01): no costs for December have arrived yet (AWS delivers a day's
costs a day or two after it ends), so the dashboard says so and when to expect them, shows
November's result against November's budget beside it, and December's forecast; the admin
view does the same. A focused set: the whole suite runs mid-month in ``test_dashboard.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.browser.conftest import FIRST_OF_MONTH, Api, Session, pinned_stack, user_id_of
from tests.browser.test_dashboard import STATUS_TEXT, figure, signed_in, usd


@pytest.fixture(scope="module")
def stack(
    site_and_chromium: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """This module's stack: the demo organisation on the 1st of December."""
    yield from pinned_stack(tmp_path_factory, FIRST_OF_MONTH)


def summary_of(api: Api, username: str) -> dict[str, Any]:
    user_id = user_id_of(api.local_json, username)
    return dict(api.get(username, f"/billing/user/{user_id}/summary"))


def wait_for_trend(session: Session) -> None:
    session.page.locator("canvas[data-chart='trend'][data-drawn='true']").wait_for()


def test_screenshots_of_the_first_of_a_month(open_page: Any, today: str) -> None:
    assert today == FIRST_OF_MONTH.isoformat()
    user = signed_in(open_page, "alice")
    wait_for_trend(user)
    user.wait_idle()
    user.screenshot("user-dashboard-first-of-month")
    admin = signed_in(open_page, "admin")
    admin.wait_idle()
    admin.screenshot("admin-all-users-first-of-month")


def test_an_empty_month_is_explained_not_judged(open_page: Any, api: Api) -> None:
    summary = summary_of(api, "alice")
    assert summary["noCostsYet"] is True and summary["budget"] is not None
    session = signed_in(open_page, "alice")
    session.wait_idle()
    page = session.page

    notice = page.locator("[data-testid=no-costs-yet]")
    assert "No costs for December 2026 have arrived yet." in notice.inner_text()
    expected = date.fromisoformat(summary["firstCostsExpected"])
    assert expected.strftime("%b %-d, %Y") in notice.inner_text()
    # Nothing to judge: no "Under Budget", no meter at 0%.
    status = page.locator("[data-value=status] .status")
    assert status.get_attribute("data-status") == "pending"
    assert status.inner_text().strip().endswith("No costs yet")
    card = page.locator(".summary-body")
    assert "Under Budget" not in card.locator("[data-testid=summary]").inner_text()
    assert page.locator("[role=meter]").count() == 0
    assert figure(session, "remaining") == "—"
    # The by-service chart says the month is empty rather than drawing nothing.
    assert page.get_by_text("No costs for December 2026 yet.").is_visible()
    # The budget page does not call the empty month "under budget" either.
    session.go("#/budget")
    session.wait_idle()
    assert page.locator(".budget-body .status").get_attribute("data-status") == "pending"


@pytest.mark.parametrize("username", ["alice", "bob", "carol"])
def test_last_months_result_stands_beside_it(open_page: Any, api: Api, username: str) -> None:
    previous = summary_of(api, username)["previousMonth"]
    assert previous["month"] == "2026-11" and previous["final"] is False
    session = signed_in(open_page, username)
    session.wait_idle()
    block = session.page.locator("[data-testid=previous-month]")
    assert "November 2026" in block.locator("h3").inner_text()
    assert figure(session, "previous-final") == "Provisional"
    assert figure(session, "previous-total") == usd(previous["total"])
    assert figure(session, "previous-budget") == usd(previous["budget"]["monthlyLimit"])
    badge = block.locator("[data-value=previous-status] .status")
    assert badge.get_attribute("data-status") == previous["status"]
    assert badge.inner_text().strip().endswith(STATUS_TEXT[previous["status"]])
    remaining = previous["remaining"]
    word = "over" if remaining["amount"].startswith("-") else "left"
    amount = usd({**remaining, "amount": remaining["amount"].lstrip("-")})
    assert figure(session, "previous-difference").startswith(f"{amount} {word}")


def test_the_demo_shows_every_state_for_last_month(api: Api) -> None:
    statuses = {u: summary_of(api, u)["previousMonth"]["status"] for u in ("alice", "bob", "carol")}
    assert statuses == {"alice": "warning", "bob": "over", "carol": "under"}


def test_the_new_months_forecast_is_shown(open_page: Any, api: Api) -> None:
    forecast = summary_of(api, "alice")["forecast"]
    assert forecast is not None, "a December forecast exists from the 1st"
    session = signed_in(open_page, "alice")
    wait_for_trend(session)
    session.wait_idle()
    assert figure(session, "projection") == usd(forecast["monthEnd"])
    # The trend runs from November's actual days into December's forecast.
    table = session.page.locator(".chart-box:has(canvas[data-chart='trend']) + details.data-table")
    table.get_by_text("Show the figures as a table").click()
    rows = table.locator("tbody tr")
    assert "Dec 31, 2026" in rows.last.locator("th").inner_text()


def test_the_second_day_shows_both_months(open_page: Any, api: Api) -> None:
    """On the 2nd this month has a day of figures and a verdict; last month's result, still
    provisional, stays beside it. (The summary as the API answers it on the 2nd.)"""
    first = summary_of(api, "alice")
    limit = first["budget"]["monthlyLimit"]
    second = {
        **first,
        "today": "2026-12-02",
        "noCostsYet": False,
        "firstCostsExpected": None,
        "total": {"amount": "31.20", "currency": limit["currency"]},
        "percentUsed": "3.4",
        "remaining": {"amount": "891.80", "currency": limit["currency"]},
        "remainingPct": "96.6",
        "status": "under",
    }
    session: Session = open_page()
    session.page.route(
        "**/api/billing/user/*/summary",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(second)
        ),
    )
    session.sign_in("alice")
    session.wait_idle()
    page = session.page
    assert page.locator("[data-testid=no-costs-yet]").count() == 0
    assert page.locator("[data-value=status] .status").get_attribute("data-status") == "under"
    assert page.locator("[role=meter]").count() == 1
    assert page.locator("[data-testid=previous-month]").is_visible()
    assert figure(session, "previous-total") == usd(first["previousMonth"]["total"])


def test_admin_view_on_the_first(open_page: Any, api: Api) -> None:
    expected = api.get("admin", "/billing/all-users")
    assert expected["noCostsYet"] is True
    previous = expected["previousMonth"]
    session = signed_in(open_page, "admin")
    session.wait_idle()
    page = session.page

    assert figure(session, "no-costs-yet") == "No costs yet"
    assert figure(session, "previous-org-total") == usd(previous["organisationTotal"])
    over = sum(1 for u in expected["users"] if (u["previousMonth"] or {}).get("status") == "over")
    near = sum(
        1 for u in expected["users"] if (u["previousMonth"] or {}).get("status") == "warning"
    )
    assert figure(session, "alerts") == f"{over} over · {near} near"
    table = page.locator("[data-testid=all-users]")
    assert table.locator("thead", has_text="Last month").count() == 1
    for user in expected["users"]:
        row = table.locator(f"tr[data-user='{user['username']}']")
        now = row.locator("td .status").first.get_attribute("data-status")
        assert now == ("pending" if user["budget"] else "none"), user["username"]
        last = user["previousMonth"]
        cell = row.locator("[data-value=previous]")
        if last is None:
            assert cell.inner_text().strip() == "—"
            continue
        assert cell.inner_text().startswith(usd(last["total"]))
        shown = cell.locator(".status").get_attribute("data-status")
        assert shown == (last["status"] if last["budget"] else "none"), user["username"]


def test_at_most_three_api_calls_before_the_first_chart_on_the_first(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    wait_for_trend(session)
    calls = session.page.evaluate(
        """() => {
            const mark = performance.getEntriesByName('tally:first-chart')[0];
            return performance.getEntriesByType('resource')
                .filter(e => new URL(e.name).pathname.startsWith('/api/'))
                .filter(e => e.startTime < mark.startTime)
                .map(e => new URL(e.name).pathname);
        }"""
    )
    assert 1 <= len(calls) <= 3, calls
