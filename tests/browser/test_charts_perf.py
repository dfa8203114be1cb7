"""Issue 16's performance and chart acceptance, in Chromium against the local stack: a screen's
code is a chunk fetched when it first opens (one that cannot be fetched says to reload, never a
blank page), chart animation follows prefers-reduced-motion, and every chart is one image to
assistive technology (role="img" with a summary) with its figures in a table right after it
("Show the figures as a table"): the choice recorded in docs/decision_log.md.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import DESKTOP, Console, Session

FUNCTION = "tally-demo-orders-sync"  # the demo's erroring function (infra/local/estate.py)


def signed_in(open_page: Any, username: str) -> Session:
    session: Session = open_page()
    session.sign_in(username)
    return session


def settle(session: Session) -> None:
    # A function's page reads CloudWatch through the emulator: slower than the cached views.
    session.page.wait_for_function(
        "() => !document.querySelector('[aria-busy=true]')", timeout=60_000
    )


def charts_and_tables(page: Any) -> list[dict[str, Any]]:
    """Each chart's canvas: its role, label, and the table disclosure right after its box."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('canvas[data-chart]')].map(canvas => {
                const box = canvas.closest('.doughnut-layout') || canvas.closest('.chart-box');
                const next = box.nextElementSibling;
                const table = next && next.matches('details.data-table') ? next : null;
                return {
                    chart: canvas.dataset.chart,
                    role: canvas.getAttribute('role'),
                    label: canvas.getAttribute('aria-label') || '',
                    focusable: canvas.tabIndex >= 0,
                    summary: table ? table.querySelector('summary').textContent : null,
                    rows: table ? table.querySelectorAll('tbody tr').length : 0,
                    points: Number(canvas.dataset.points || 0),
                };
            })"""
        )
    )


def test_every_chart_is_an_image_with_its_table_beside_it(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    session.wait_for_charts()
    session.wait_idle()
    dashboard = charts_and_tables(session.page)
    assert [c["chart"] for c in dashboard] == ["by-service", "trend"]
    admin = signed_in(open_page, "admin")
    admin.go(f"#/estate/lambda/{FUNCTION}")
    # The page reads CloudWatch and the function's logs through the emulator: slow here.
    admin.page.locator("canvas[data-chart='usage-cost'][data-drawn='true']").wait_for(
        timeout=60_000
    )
    settle(admin)
    estate = charts_and_tables(admin.page)
    assert [c["chart"] for c in estate] == ["usage-cost"]
    for chart in dashboard + estate:
        assert chart["role"] == "img", chart
        assert len(chart["label"]) > 10, chart
        assert not chart["focusable"], chart
        assert chart["summary"] == "Show the figures as a table", chart
        assert chart["rows"] > 0, chart
    # The function's table: a row a day of the 30-day range, its cost and the metrics.
    (usage,) = estate
    assert usage["rows"] == 30
    table = admin.page.locator("details[data-chart-table='usage-cost']")
    table.get_by_text("Show the figures as a table").click()
    assert table.locator("thead th").all_text_contents() == [
        "Day",
        "Cost (USD)",
        "Invocations",
        "Errors",
    ]
    # Another range redraws the chart with its own table (one, never two).
    admin.page.get_by_label("7 days").check()
    admin.page.wait_for_function(
        "() => document.querySelector(\"canvas[data-chart='usage-cost']\")"
        ".getAttribute('aria-label').includes('over the 7 days')",
        timeout=60_000,
    )
    assert admin.page.locator("details[data-chart-table='usage-cost']").count() == 1
    assert admin.page.locator("details[data-chart-table='usage-cost'] tbody tr").count() == 7


def test_reduced_motion_turns_chart_animation_off(
    browser: Any, stack: dict[str, Any], screenshots: Any
) -> None:
    seen = {}
    for motion in ("reduce", "no-preference"):
        context = browser.new_context(
            viewport=DESKTOP, reduced_motion=motion, locale="en-US", timezone_id="UTC"
        )
        try:
            page = context.new_page()
            session = Session(page, context, Console(), stack, screenshots)
            session.sign_in("alice")
            session.wait_for_charts()
            seen[motion] = page.locator("canvas[data-chart]").evaluate_all(
                "els => els.map(e => e.dataset.animation)"
            )
            if motion == "no-preference":
                # Asking for reduced motion while the page is open turns it off there too.
                page.emulate_media(reduced_motion="reduce")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('canvas[data-chart]')]"
                    ".every(e => e.dataset.animation === 'off')"
                )
        finally:
            context.close()
    assert seen == {"reduce": ["off", "off"], "no-preference": ["on", "on"]}


def test_a_screen_whose_code_cannot_be_fetched_says_to_reload(open_page: Any) -> None:
    """A deployment or a dropped connection between opening the app and opening a screen: the
    screen's chunk fails to load, and the page says so with a Reload button (never blank)."""
    session = signed_in(open_page, "alice")
    session.wait_for_charts()
    session.page.route("**/assets/costs-*.js", lambda route: route.abort())
    session.console.expect("Failed to load resource")
    session.go("#/costs")
    problem = session.page.locator("[data-testid=screen-not-loaded]")
    problem.wait_for()
    assert "Reload the page" in problem.inner_text()
    assert session.page.get_by_role("heading", level=1).inner_text() == "Costs"
    assert problem.get_by_role("button", name="Reload").is_visible()
    # The other screens still open (their chunks arrive).
    session.go("#/budget")
    session.page.get_by_role("heading", level=1).wait_for()
    assert session.page.locator("[data-testid=screen-not-loaded]").count() == 0


def test_the_first_load_fetches_only_the_first_screens_code(open_page: Any) -> None:
    """Signing in and reading the dashboard fetch the entry and the dashboard's chunks, which
    index.html names (no later screen's chunk, no chunk found only once the entry has run)."""
    session: Session = open_page()
    fetched: list[str] = []
    session.page.on(
        "request",
        lambda request: (
            fetched.append(request.url.rsplit("/", 1)[1])
            if "/assets/" in request.url and request.url.endswith(".js")
            else None
        ),
    )
    session.sign_in("alice")
    session.wait_for_charts()
    session.wait_idle()
    index = session.page.evaluate(
        "() => [...document.querySelectorAll('script[src], link[rel=modulepreload]')]"
        ".map(e => (e.src || e.href).split('/').pop())"
    )
    assert sorted(set(fetched)) == sorted(index)
    assert any(name.startswith("dashboard-") for name in fetched)
    assert not any(name.startswith(("costs-", "estate-", "topology-")) for name in fetched)
