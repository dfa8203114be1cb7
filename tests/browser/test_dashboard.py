"""Issue 5's acceptance, in Chromium against the local stack's demo organisation: sign in, the
summary with the API's figures, both charts drawn, the budget modal (persisting, and the API's
field errors), unassign, the details table, sign-out, the admin's all-users view and what a
user may not open, token refresh and expiry, states, phone size, keyboard, screenshots.

The stack runs on ``MID_MONTH`` (2026-11-25); the first days of a month are in
``test_first_days.py``. Tests that change data come after those that only read (pytest keeps
the file's order).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from playwright.sync_api import expect

from infra.local.aws import USER_GROUP, aws_client
from tests.browser.conftest import MID_MONTH, PHONE, Api, Session, user_id_of

STATUS_TEXT = {"under": "Under Budget", "warning": "Approaching Limit", "over": "Over Budget"}
METRIC_TEXT = {"effective": "Amortized cost", "billed": "Billed cost"}


def usd(money: dict[str, str]) -> str:
    """The API's decimal string as the page shows it: $1,234.57 (rounded half up)."""
    assert money["currency"] == "USD"
    value = Decimal(money["amount"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def pct(value: str) -> str:
    rounded = Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{rounded.normalize():f}%"


def figure(session: Session, key: str) -> str:
    return str(session.page.locator(f"[data-value='{key}']").first.inner_text()).strip()


def signed_in(open_page: Any, username: str, **kw: Any) -> Session:
    session: Session = open_page(**kw)
    session.sign_in(username)
    return session


# --- screenshots (before any test changes the demo data) ---------------------------------


def test_screenshots_of_every_screen(open_page: Any, today: str) -> None:
    """Every screen in both themes; the pictures land in docs/screenshots only with
    `make screenshots`, on the pinned day the user guide describes."""
    assert today == MID_MONTH.isoformat()
    anonymous: Session = open_page()
    anonymous.page.goto(anonymous.url)
    anonymous.page.get_by_label("User name or email").wait_for()
    anonymous.screenshot("sign-in")

    user = signed_in(open_page, "alice")
    user.wait_for_charts()
    user.wait_idle()
    user.screenshot("user-dashboard")
    user.go("#/resources")
    user.wait_idle()
    user.screenshot("user-resources")
    user.go("#/costs")
    user.wait_idle()
    user.screenshot("user-costs")
    user.go("#/budget")
    user.wait_idle()
    user.screenshot("user-budget")
    user.page.get_by_role("button", name="Edit budget").click()
    user.page.get_by_role("dialog").wait_for()
    user.page.locator("[data-testid=budget-form] button[type=submit]:enabled").wait_for()
    user.screenshot("user-budget-modal")

    admin = signed_in(open_page, "admin")
    admin.wait_idle()
    admin.screenshot("admin-all-users")
    bob = user_id_of(admin.local_json, "bob")
    admin.go(f"#/dashboard?user={bob}&name=bob")
    admin.wait_for_charts()
    admin.wait_idle()
    admin.screenshot("admin-user-dashboard")
    admin.go(f"#/resources?user={bob}&name=bob")
    admin.wait_idle()
    admin.page.locator("[data-testid=assign-form] select option", has_text="carol").wait_for(
        state="attached"
    )
    admin.screenshot("admin-resources")

    phone = signed_in(open_page, "alice", viewport=PHONE)
    phone.wait_for_charts()
    phone.wait_idle()
    phone.screenshot("phone-dashboard")

    empty = signed_in(open_page, "dave")
    empty.wait_idle()
    empty.screenshot("user-dashboard-empty")


# --- reading -----------------------------------------------------------------------------


def test_summary_card_shows_the_apis_figures_in_the_plans_words(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "alice")
    session.wait_idle()
    summary = api.get("alice", f"/billing/user/{user_id_of(session.local_json, 'alice')}/summary")

    card = session.page.locator("[data-testid=summary]")
    text = card.inner_text()
    for label in ("Total This Month", "Budget", "Remaining", "Status"):
        assert label in text
    assert figure(session, "total") == usd(summary["total"])
    assert figure(session, "budget").startswith(usd(summary["budget"]["monthlyLimit"]))
    assert (
        figure(session, "remaining")
        == f"{usd(summary['remaining'])} ({pct(summary['remainingPct'])})"
    )
    # The status is words and an icon, not only a colour.
    status = session.page.locator("[data-value=status] .status")
    assert status.inner_text().strip().endswith(STATUS_TEXT[summary["status"]])
    assert status.get_attribute("data-status") == summary["status"]
    projection = session.page.locator("[data-value=projection]").inner_text()
    assert projection == usd(summary["forecast"]["monthEnd"])
    if summary["estimated"]:
        estimated = session.page.locator("[data-testid=estimated]").inner_text()
        assert "still estimated" in estimated


def test_warning_and_over_budget_read_differently(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "admin")
    session.wait_idle()
    rows = {
        row.get_attribute("data-user"): row.locator(".status").inner_text().strip()
        for row in session.page.locator("[data-testid=all-users] tbody tr").all()
    }
    statuses = {u["username"]: u["status"] for u in api.get("admin", "/billing/all-users")["users"]}
    for username, status in statuses.items():
        expected = STATUS_TEXT.get(status, "No budget")
        assert rows[username].endswith(expected), (username, rows[username])
    assert {"warning", "over", "under"} <= set(statuses.values())


def test_both_charts_are_drawn_with_data(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "alice")
    session.wait_for_charts()
    page = session.page
    alice = user_id_of(session.local_json, "alice")
    month = api.get("alice", f"/billing/user/{alice}/summary")["month"]
    today = api.get("alice", "/me")["today"]
    by_service = api.get(
        "alice", f"/billing/user/{alice}/costs?startDate={month}-01&endDate={today}"
    )

    for chart in ("by-service", "trend"):
        canvas = page.locator(f"canvas[data-chart='{chart}']")
        assert int(canvas.get_attribute("data-points") or 0) > 0
        # Something is painted: the canvas is not one flat colour.
        colours = page.evaluate(
            """canvas => {
                const { width, height } = canvas;
                const { data } = canvas.getContext('2d').getImageData(0, 0, width, height);
                const seen = new Set();
                for (let i = 0; i < data.length; i += 4 * 97) {
                    seen.add(data.slice(i, i + 4).join());
                }
                return seen.size;
            }""",
            canvas.element_handle(),
        )
        assert colours > 3, chart
    # The doughnut's legend lists this month's services with the API's amounts.
    legend = {
        item.get_attribute("data-service"): item.locator(".legend-value")
        .inner_text()
        .split("\n")[0]
        for item in page.locator(".legend-list li").all()
    }
    positive = [s for s in by_service["byService"] if Decimal(s["cost"]["amount"]) > 0]
    expected = {s["service"]: usd(s["cost"]) for s in positive}
    legend_amounts = {s["service"]: s["cost"]["amount"] for s in positive}
    assert legend == expected
    # Tooltips: the doughnut's largest slice starts at the top; hovering it gives its amount
    # and share of the month.
    doughnut = page.locator("canvas[data-chart='by-service']")
    box = doughnut.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2 + 6, box["y"] + box["height"] * 0.08)
    page.wait_for_function(
        "c => (c.dataset.tooltip || '').includes('%')", arg=doughnut.element_handle()
    )
    largest = max(expected, key=lambda s: Decimal(legend_amounts[s]))
    share = Decimal(legend_amounts[largest]) / sum(Decimal(v) for v in legend_amounts.values())
    tooltip = doughnut.get_attribute("data-tooltip")
    assert f"{expected[largest]} ({share * 100:.1f}%)" in tooltip, tooltip
    # The trend's tooltip names the day and each line's amount.
    trend = page.locator("canvas[data-chart='trend']")
    # The summary card keeps its loaded height from the start (layout shift 0): the trend may
    # sit below the fold, and a pointer outside the viewport hovers nothing.
    trend.scroll_into_view_if_needed()
    box = trend.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_function(
        "c => (c.dataset.tooltip || '').includes('Actual')", arg=trend.element_handle()
    )
    # The trend has its forecast band and budget pace in the legend's data table.
    table = page.locator(".chart-box:has(canvas[data-chart='trend']) + details.data-table")
    table.get_by_text("Show the figures as a table").click()
    assert table.locator("tbody tr").count() >= 30


def test_the_date_is_the_apis_not_the_browsers(open_page: Any, today: str) -> None:
    """A browser whose clock says another year still shows the API's month, and the details'
    default range is the last 30 complete days before the API's today."""
    session: Session = open_page()
    session.page.clock.set_fixed_time("2031-03-15T23:30:00Z")
    session.sign_in("alice")
    session.wait_idle()
    page = session.page
    assert page.evaluate("new Date().getUTCFullYear()") == 2031
    month = date.fromisoformat(today).strftime("%B %Y")
    assert month in page.locator(".page-head p").inner_text()
    assert month in page.locator("#summary-title + .card-subtitle").inner_text()
    session.go("#/costs")
    session.wait_idle()
    day = date.fromisoformat(today)
    assert page.get_by_label("From").input_value() == (day - timedelta(days=30)).isoformat()
    assert page.get_by_label("To").input_value() == (day - timedelta(days=1)).isoformat()


def test_figures_say_which_cost_they_are(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "alice")
    session.wait_idle()
    metric = METRIC_TEXT[api.get("alice", "/me")["budgetMetric"]]
    # On the summary card, beside the month.
    assert session.page.locator(".card-subtitle [data-testid=metric]").inner_text() == metric
    session.go("#/costs")
    session.wait_idle()
    assert session.page.locator("[data-testid=metric]").inner_text() == metric
    session.go("#/budget")
    session.wait_idle()
    assert session.page.locator("[data-testid=metric]").inner_text() == metric.lower()
    session.go("#/resources")
    session.page.locator("[data-testid=metric]", has_text=metric).wait_for()


def test_mid_month_shows_this_month_alone(open_page: Any, api: Api) -> None:
    """Late in a month whose predecessor is final, last month's result is not repeated."""
    session = signed_in(open_page, "alice")
    session.wait_idle()
    alice = user_id_of(session.local_json, "alice")
    summary = api.get("alice", f"/billing/user/{alice}/summary")
    assert summary["noCostsYet"] is False
    assert session.page.locator("[data-testid=no-costs-yet]").count() == 0
    previous = summary["previousMonth"]
    shown = session.page.locator("[data-testid=previous-month]").count()
    assert shown == (0 if previous is None or previous["final"] else 1)


def test_at_most_three_api_calls_before_the_first_chart(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    session.wait_for_charts()
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


def test_nothing_moves_when_the_data_arrives(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    session.wait_for_charts()
    session.wait_idle()
    page = session.page
    page.wait_for_timeout(300)
    shift = page.evaluate(
        """() => new Promise(resolve => {
            let total = 0;
            new PerformanceObserver(list => {
                for (const entry of list.getEntries()) {
                    if (!entry.hadRecentInput) total += entry.value;
                }
            }).observe({ type: 'layout-shift', buffered: true });
            setTimeout(() => resolve(total), 100);
        })"""
    )
    assert shift < 0.1, shift


def test_empty_states_for_a_user_without_costs_or_budget(open_page: Any) -> None:
    session = signed_in(open_page, "dave")
    session.wait_idle()
    page = session.page
    # dave manages a team: his /me is longer and the shell is rebuilt once it answers, so the
    # cards are waited for rather than read at the first idle moment.
    # The shell may rebuild the cards once more after they first appear: ``expect`` retries
    # until they are visible (and settled) instead of reading one instant.
    expect(page.get_by_text(f"No costs for {MID_MONTH:%B %Y} yet.")).to_be_visible(timeout=15_000)
    expect(page.locator("[data-testid=no-budget]")).to_be_visible(timeout=15_000)
    session.wait_idle()
    assert figure(session, "budget") == "Not set"
    session.go("#/resources")
    session.wait_idle()
    assert page.get_by_text("No resources assigned yet.").is_visible()


def test_an_error_shows_a_retry_that_works(open_page: Any) -> None:
    session: Session = open_page()
    page = session.page
    failures = {"left": 1}

    def fail_once(route: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(
                status=503,
                content_type="application/problem+json",
                body='{"type":"about:blank","title":"Service Unavailable","status":503,'
                '"detail":"The API is resting."}',
            )
        else:
            route.continue_()

    page.route("**/api/billing/user/*/resources*", fail_once)
    session.console.expect(r"status of 503")
    session.sign_in("alice")
    session.go("#/resources")
    alert = page.get_by_role("alert").filter(has_text="Could not load the resources")
    alert.wait_for()
    assert "The API is resting." in alert.inner_text()
    alert.get_by_role("button", name="Try again").click()
    page.locator("[data-testid=resources-table] tbody tr[data-assignment]").first.wait_for()


def test_details_filter_sort_search_and_pages(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "alice")
    session.go("#/costs")
    session.wait_idle()
    page = session.page
    table = page.locator("[data-testid=cost-lines]")

    def rows() -> list[dict[str, str]]:
        session.wait_idle()
        return [
            {
                "date": r.get_attribute("data-date"),
                "service": r.get_attribute("data-service"),
                "resource": r.get_attribute("data-resource"),
                "amount": r.get_attribute("data-amount"),
            }
            for r in table.locator("tbody tr[data-date]").all()
        ]

    # Cost, high to low, by default.
    first = rows()
    amounts = [Decimal(r["amount"]) for r in first]
    assert amounts and amounts == sorted(amounts, reverse=True)
    assert table.locator("th[aria-sort=descending]").text_content().strip().startswith("Cost")

    # Sort by date (newest first), by the column heading.
    table.locator("button[data-sort=date]").click()
    by_date = [r["date"] for r in rows()]
    assert by_date == sorted(by_date, reverse=True)
    assert table.locator("th[aria-sort=descending]").text_content().strip().startswith("Date")

    # Filter by service.
    page.get_by_label("Service").select_option("AmazonS3")
    only_s3 = rows()
    assert only_s3 and {r["service"] for r in only_s3} == {"AmazonS3"}
    page.get_by_label("Service").select_option("")
    session.wait_idle()

    # Search by resource.
    resource = next(r["resource"] for r in first if r["resource"])
    fragment = resource.rsplit("/", 1)[-1][-8:]
    alice = user_id_of(session.local_json, "alice")
    start = page.get_by_label("From").input_value()
    end = page.get_by_label("To").input_value()
    expected = api.get(
        "alice",
        f"/billing/user/{alice}/cost-lines?startDate={start}&endDate={end}&q={fragment}&sort=-date",
    )
    page.get_by_label("Search").fill(fragment)
    page.locator(
        "[data-testid=lines-summary]", has_text=f"of {expected['totalCount']} line"
    ).wait_for()
    found = rows()
    assert found and all(fragment in r["resource"] for r in found)
    assert [r["resource"] for r in found] == [
        line["resourceId"] for line in expected["lines"][: len(found)]
    ]
    everything = api.get(
        "alice", f"/billing/user/{alice}/cost-lines?startDate={start}&endDate={end}&limit=1"
    )
    assert everything["totalCount"] > 20  # so there is a second page
    page.get_by_label("Search").fill("")
    page.locator(
        "[data-testid=lines-summary]", has_text=f"of {everything['totalCount']} line"
    ).wait_for()

    # Pages: forward with the API's token, back with the ones seen.
    page_one = rows()
    page.get_by_role("button", name="Next page").click()
    page.locator("[data-testid=page-label]", has_text="Page 2").wait_for()
    assert rows() != page_one
    page.get_by_role("button", name="Previous page").click()
    page.locator("[data-testid=page-label]", has_text="Page 1").wait_for()
    assert rows() == page_one

    # A date range is a filter too.
    page.get_by_label("From").fill(end)
    page.get_by_label("From").dispatch_event("change")
    session.wait_idle()
    assert {r["date"] for r in rows()} <= {end}


def test_keyboard_phone_size_and_labels(open_page: Any) -> None:
    session = signed_in(open_page, "alice", viewport=PHONE)
    session.wait_for_charts()
    session.wait_idle()
    page = session.page
    for route in ("#/dashboard", "#/resources", "#/costs", "#/budget"):
        session.go(route)
        session.wait_idle()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (route, overflow)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, button, [role=region]')]
                .filter(el => !el.closest('[hidden]'))
                .filter(el => !((el.labels && el.labels.length) || el.getAttribute('aria-label')
                    || el.getAttribute('aria-labelledby') || el.textContent.trim()))
                .map(el => el.outerHTML.slice(0, 80))"""
        )
        assert unlabelled == [], (route, unlabelled)

    # Keyboard only, from a fresh load (a route change moves the focus to its heading): from
    # the skip link to the navigation, Enter follows a link.
    session.go("#/dashboard")
    page.reload()
    session.wait_for_charts()
    session.wait_idle()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Dashboard"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(".view[data-view=resources]").wait_for()
    assert page.evaluate("document.activeElement.tagName") == "H1"


def test_a_menu_link_keeps_the_keyboard_focus_when_me_changes_the_menu(open_page: Any) -> None:
    """A member's first /me adds menu entries (the estate's, for one): the menu is replaced in
    place, and a keyboard user on a menu link stays on it, so Enter still follows it. (Before,
    the focus fell to the body and Enter did nothing: a flaky keyboard test under load.)"""
    session = signed_in(open_page, "alice")
    page = session.page
    held: list[Any] = []
    page.route("**/api/me", lambda route: held.append(route))
    page.reload()
    page.locator("nav.nav[data-me=pending] a[data-route=resources]").wait_for()
    for _ in range(300):  # route handlers run while Playwright waits: until /me is held
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the dashboard asks /me after a reload"
    page.locator("nav.nav a[data-route=resources]").focus()
    for route in held:
        route.continue_()
    page.unroute("**/api/me")
    page.locator("nav.nav[data-me=known] a[data-route=estate]").wait_for()
    assert page.evaluate("document.activeElement.dataset.route") == "resources"
    page.keyboard.press("Enter")
    page.locator(".view[data-view=resources]").wait_for()


# --- sign-in and sessions ----------------------------------------------------------------


def test_wrong_password_is_refused_in_words(open_page: Any) -> None:
    session: Session = open_page()
    session.console.expect(r"status of 400")
    page = session.page
    page.goto(session.url)
    page.get_by_label("User name or email").fill("alice")
    page.get_by_label("Password", exact=True).fill("Not-The-Password-1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="Incorrect user name or password.").wait_for()
    assert page.evaluate("sessionStorage.length") == 0


def test_first_sign_in_asks_for_a_new_password(open_page: Any) -> None:
    session: Session = open_page()
    cognito = aws_client("cognito-idp", session.local_json["aws_endpoint_url"])
    pool = session.local_json["user_pool_id"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username="erin",
        TemporaryPassword="Temporary-Pass-1",
        UserAttributes=[{"Name": "email", "Value": "erin@example.com"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="erin", GroupName=USER_GROUP)
    page = session.page
    page.goto(session.url)
    page.get_by_label("User name or email").fill("erin")
    page.get_by_label("Password", exact=True).fill("Temporary-Pass-1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("New password", exact=True).fill("Erins-Own-Pass-2")
    page.get_by_label("Repeat the new password").fill("Erins-Own-Pass-2")
    page.get_by_role("button", name="Set password and sign in").click()
    page.locator("[data-testid=signed-in-user]", has_text="erin").wait_for()
    session.wait_idle()
    assert page.get_by_text(f"No costs for {MID_MONTH:%B %Y} yet.").is_visible()


def test_sign_out_returns_to_sign_in(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    page = session.page
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("User name or email").wait_for()
    assert "signed out" in page.locator("[data-testid=signin-notice]").inner_text()
    assert page.evaluate("sessionStorage.length") == 0
    page.reload()
    page.get_by_label("User name or email").wait_for()
    assert page.locator("header.topbar").count() == 0


def test_session_is_refreshed_before_the_token_expires(open_page: Any) -> None:
    session = signed_in(open_page, "alice", clock=True)
    session.wait_idle()
    page = session.page
    before = page.evaluate("JSON.parse(sessionStorage.getItem('tally.session.v1'))")
    # Fifty-six minutes on: the refresh (five minutes before expiry) has happened.
    page.clock.fast_forward("56:00")
    page.wait_for_function(
        "old => JSON.parse(sessionStorage.getItem('tally.session.v1')).idToken !== old",
        arg=before["idToken"],
    )
    after = page.evaluate("JSON.parse(sessionStorage.getItem('tally.session.v1'))")
    assert after["refreshToken"] == before["refreshToken"]
    assert after["expiresAt"] > before["expiresAt"]
    # The new token is accepted by the API.
    session.go("#/resources")
    session.wait_idle()
    assert page.locator("tr[data-assignment]").count() > 0


def test_a_refused_token_is_renewed_once_then_the_call_repeated(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    session.wait_idle()
    session.console.expect(r"status of 401")  # the refused call, before the renewal
    page = session.page
    # A token the gateway refuses (signature broken) that the page still thinks valid.
    broken = page.evaluate(
        """() => {
            const s = JSON.parse(sessionStorage.getItem('tally.session.v1'));
            s.idToken = s.idToken.slice(0, -4) + (s.idToken.endsWith('AAAA') ? 'BBBB' : 'AAAA');
            sessionStorage.setItem('tally.session.v1', JSON.stringify(s));
            return s.idToken;
        }"""
    )
    page.reload()
    session.wait_idle()
    assert page.locator("[data-testid=summary]").is_visible()
    renewed = page.evaluate("JSON.parse(sessionStorage.getItem('tally.session.v1')).idToken")
    assert renewed != broken
    assert page.locator("header.topbar").is_visible()


def test_expired_session_returns_to_sign_in(open_page: Any) -> None:
    session = signed_in(open_page, "carol", clock=True)
    session.wait_idle()
    session.console.expect(r"status of 400")  # Cognito refuses the revoked refresh token
    cognito = aws_client("cognito-idp", session.local_json["aws_endpoint_url"])
    cognito.admin_user_global_sign_out(
        UserPoolId=session.local_json["user_pool_id"], Username="carol"
    )
    session.page.clock.fast_forward("02:00:00")
    notice = session.page.locator("[data-testid=signin-notice]")
    notice.wait_for()
    assert "expired" in notice.inner_text()
    assert session.page.evaluate("sessionStorage.length") == 0


# --- admin and access ----------------------------------------------------------------------


def test_admin_sees_all_users_sorts_and_drills_in(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "admin")
    session.wait_idle()
    page = session.page
    expected = api.get("admin", "/billing/all-users")
    assert figure(session, "org-total") == usd(expected["organisationTotal"])
    assert figure(session, "unallocated") == usd(expected["unallocated"])

    table = page.locator("[data-testid=all-users]")
    names = [r.get_attribute("data-user") for r in table.locator("tbody tr").all()]
    assert set(names) >= {u["username"] for u in expected["users"]}
    totals = [Decimal(u["total"]["amount"]) for u in expected["users"]]
    shown = {
        r.get_attribute("data-user"): r.locator("td.num").first.inner_text()
        for r in table.locator("tbody tr").all()
    }
    for user in expected["users"]:
        assert shown[user["username"]] == usd(user["total"])
    # Month total, high to low by default; the heading turns it around.
    by_total = [usd({"amount": str(t), "currency": "USD"}) for t in sorted(totals, reverse=True)]
    assert [shown[n] for n in names] == by_total
    table.locator("button[data-sort=total]").click()
    ascending = [r.locator("td.num").first.inner_text() for r in table.locator("tbody tr").all()]
    assert ascending == list(reversed(by_total))
    table.locator("button[data-sort=user]").click()
    assert [r.get_attribute("data-user") for r in table.locator("tbody tr").all()] == sorted(names)

    # Drill into alice's dashboard: the same figures alice sees.
    table.get_by_role("link", name="alice", exact=True).click()
    page.locator("[data-testid=viewing-as]").wait_for()
    session.wait_for_charts()
    session.wait_idle()
    alice = user_id_of(session.local_json, "alice")
    summary = api.get("admin", f"/billing/user/{alice}/summary")
    assert figure(session, "total") == usd(summary["total"])
    assert "alice" in page.locator("h1").inner_text()


def test_a_user_cannot_open_the_admin_view(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "alice")
    session.wait_idle()
    page = session.page
    assert page.get_by_role("link", name="All users").count() == 0
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    session.go("#/admin")
    assert page.locator("[data-testid=not-allowed]").is_visible()
    assert not [u for u in requests if "all-users" in u]
    # And the API refuses it anyway.
    status, body, _ = api.call("alice", "GET", "/billing/all-users")
    assert status == 403, body


# --- changing things -------------------------------------------------------------------------


def test_budget_change_persists_after_reload(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "alice")
    session.wait_idle()
    page = session.page
    alice = user_id_of(session.local_json, "alice")
    before = api.get("alice", f"/billing/budgets/{alice}")

    page.get_by_role("button", name="Edit budget").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("button[type=submit]:enabled").wait_for()
    dialog.get_by_label("Monthly limit").fill("1234.50")
    slider = dialog.get_by_label("Alert threshold")
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowLeft")  # the slider by keyboard: 80% -> 70%
    assert (
        dialog.locator("[data-testid=threshold-value]").inner_text()
        == f"{before['alertThreshold'] - 10}%"
    )
    dialog.get_by_role("button", name="Save budget").click()
    dialog.wait_for(state="detached")
    page.locator("[data-value=budget]", has_text="$1,234.50").wait_for()

    page.reload()
    session.wait_idle()
    assert figure(session, "budget") == "$1,234.50"
    session.go("#/budget")
    session.wait_idle()
    assert figure(session, "threshold").startswith(f"{before['alertThreshold'] - 10}%")
    after = api.get("alice", f"/billing/budgets/{alice}")
    assert after["monthlyLimit"]["amount"] in ("1234.50", "1234.5")
    assert after["version"] == before["version"] + 1

    # Put the demo's budget back (through the API, with its ETag).
    _, _, headers = api.call("alice", "GET", f"/billing/budgets/{alice}")
    status, _, _ = api.call(
        "alice",
        "PUT",
        f"/billing/budgets/{after['budgetId']}",
        {
            "monthlyLimit": before["monthlyLimit"]["amount"],
            "alertThreshold": before["alertThreshold"],
        },
        {"If-Match": headers["ETag"]},
    )
    assert status == 200


def test_budget_errors_from_the_api_appear_next_to_the_field(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    session.wait_idle()
    session.console.expect(r"status of 422")
    page = session.page
    page.get_by_role("button", name="Edit budget").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("button[type=submit]:enabled").wait_for()
    limit = dialog.get_by_label("Monthly limit")
    limit.fill("12.345")
    dialog.get_by_role("button", name="Save budget").click()
    error = dialog.locator(".field[data-field=monthlyLimit] .field-error")
    error.wait_for()
    assert "2 decimal places" in error.inner_text()
    assert limit.get_attribute("aria-invalid") == "true"
    assert limit.evaluate("el => el === document.activeElement")
    # Escape closes the dialog without saving.
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")


def test_unassign_asks_first_then_removes_the_resource(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "bob")
    session.go("#/resources")
    session.wait_idle()
    page = session.page
    bob = user_id_of(session.local_json, "bob")
    row = page.locator("[data-testid=resources-table] tbody tr[data-assignment]").first
    assignment = row.get_attribute("data-assignment")
    resource = row.get_attribute("data-resource")

    row.get_by_role("button", name=f"Unassign {resource}").click()
    confirm = page.get_by_role("dialog")
    assert resource in confirm.inner_text()
    confirm.get_by_role("button", name="Cancel").click()
    confirm.wait_for(state="detached")
    assert page.locator(f"tr[data-assignment='{assignment}']").count() == 1

    row.get_by_role("button", name=f"Unassign {resource}").click()
    page.get_by_role("dialog").get_by_role("button", name="Unassign").click()
    page.locator(f"tr[data-assignment='{assignment}']").wait_for(state="detached")
    assert page.get_by_role("status").filter(has_text=f"Unassigned {resource}").count() >= 1
    remaining = api.get("bob", f"/billing/user/{bob}/resources")["items"]
    assert assignment not in {item["assignmentId"] for item in remaining}


def test_admin_assigns_a_resource_to_a_user(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "admin")
    session.wait_idle()
    page = session.page
    dave = user_id_of(session.local_json, "dave")
    session.go(f"#/resources?user={dave}&name=dave")
    session.wait_idle()
    form = page.locator("[data-testid=assign-form]")
    form.locator("select option", has_text="dave").wait_for(state="attached")
    # The demo's bucket that nobody owns (its cost is unallocated so far).
    form.get_by_label("Resource type").fill("s3")
    form.get_by_label("Resource ID or ARN").fill("tally-demo-orphan-logs")
    form.get_by_label("Cost center (optional)").fill("cc-dave")
    form.get_by_role("button", name="Assign").click()
    page.locator("tr[data-resource='tally-demo-orphan-logs']").wait_for()
    items = api.get("admin", f"/billing/user/{dave}/resources")["items"]
    assert any(
        i["resourceId"] == "tally-demo-orphan-logs" and i["costCenter"] == "cc-dave" for i in items
    )
