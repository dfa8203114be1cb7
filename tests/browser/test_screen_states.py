"""Issue 16's empty, loading and error states, in Chromium against the local stack: every screen
the admin sees (main.js's ROUTES), with the API made slow, broken and empty by intercepting its
answers (``page.route`` on ``**/api/**``) once the admin is signed in and GET /api/me has
answered (the menu, the bell and the periods are the shell's; these tests are about screens).

(a) slow (every answer held until the screen shows it is loading, and 1.5 s more): the screen
shows a loading state (``aria-busy``, a visible placeholder), then its content, and nothing
stays busy;
(b) 500 with problem+json: the screen shows an error panel that says what happened and has a
"Try again" button (no stack, no blank card); after the API is mended, "Try again" brings the
content;
(c) empty lists (200 with no items): the screen shows an empty state with a next step.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import Session, fulfil, password_of, real_answer, user_id_of

# The screens of main.js's ROUTES as the admin opens them (#/<route>), by name.
SCREENS = [
    "dashboard",
    "resources",
    "costs",
    "budget",
    "changes",
    "anomalies",
    "savings",
    "claims",
    "admin",
    "teams",
    "roles",
    "audit",
    "rates",
    "chargeback",
    "tax",
    "templates",
    "commitments",
    "estate",
    # Not "security": its one question (is two-step sign-in on?) goes to Cognito, not the API;
    # its error panel is errorState's like every other (views/security.js).
    "settings",
    "notifications",
    "users",
    # The two heaviest item pages: a Lambda function's, and an assigned resource's (alice's,
    # opened from All users).
    "function",
    "resource",
]
# Screens whose content is a list the API can answer empty (c); the others show figures or forms.
LISTS = [
    "resources",
    "costs",
    "claims",
    "admin",
    "teams",
    "roles",
    "audit",
    "anomalies",
    "notifications",
    "templates",
    "tax",
]
PROBLEM = {
    "type": "about:blank",
    "title": "Internal Server Error",
    "status": 500,
    "detail": "The API could not answer (a test's broken route).",
}
DELAY_SECONDS = 1.5
# What a screen must never show: a stack trace, or JavaScript's words for a missing value.
LEAKS = re.compile(r"Traceback|at \w+ \(|undefined|NaN|\[object Object\]")
# A card with nothing in it (its heading, then no body at all).
BLANK_CARDS = """() => [...document.querySelectorAll('main .card-body')]
  .filter(b => b.getClientRects().length && !b.textContent.trim()
    && !b.querySelector('canvas,svg,img,input,button,select,table'))
  .map(b => (b.closest('section')?.querySelector('h2') || {}).textContent || '?')"""
# Something loading that someone can see.
PLACEHOLDER = """() => document.querySelector('main [aria-busy=true]')
  && [...document.querySelectorAll(
        'main .skeleton, main [role=status], main progress, main .table-skeleton')]
     .some(e => e.getClientRects().length)"""


def hash_of(screen: str, session: Session) -> str:
    if screen == "users":
        return f"#/users/{user_id_of(session.local_json, 'admin')}/access"
    if screen == "function":
        return "#/estate/lambda/tally-demo-orders-sync"  # infra/local/estate.py
    if screen == "resource":
        alice = user_id_of(session.local_json, "alice")
        return f"#/resources/{_instance_named(session, 'alice-training')}?user={alice}&name=alice"
    return f"#/{screen}"


def _instance_named(session: Session, name: str) -> str:
    """The id of the demo's EC2 instance tagged Name=``name`` (the emulator's, new each run)."""
    from infra.local.aws import aws_client
    from infra.local.demo import REGION

    ec2 = aws_client("ec2", session.local_json["aws_endpoint_url"], REGION)
    found = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}])
    (instance,) = [i for r in found["Reservations"] for i in r["Instances"]]
    return str(instance["InstanceId"])


def admin_ready(open_page: Any) -> Session:
    """The admin signed in, GET /api/me and the billing settings answered, nothing loading."""
    session: Session = open_page()
    session.sign_in("admin", password_of(session.local_json, "admin"))
    session.page.locator("nav.nav[data-me=known]").wait_for()
    session.wait_idle()
    return session


def open_screen(session: Session, screen: str) -> None:
    """Goes to the screen and waits until its view is in the page (not until it has loaded)."""
    target = hash_of(screen, session)
    # The admin's home page is #/admin: the same hash again would change nothing, so the page
    # is told the hash changed (as a click on its menu link would draw it again).
    session.page.evaluate(
        """route => {
          if (window.location.hash === route) dispatchEvent(new HashChangeEvent("hashchange"));
          else window.location.hash = route;
        }""",
        target,
    )
    view = target.split("?")[0].lstrip("#/")
    session.page.locator(f".view[data-view='{view}']").wait_for()


def leaves_nothing_blank(session: Session) -> None:
    main = session.page.locator("main")
    text = main.inner_text()
    assert not LEAKS.search(text), text
    assert session.page.evaluate(BLANK_CARDS) == []


@pytest.mark.parametrize("screen", SCREENS)
def test_a_slow_api_shows_a_loading_state_then_the_screen(open_page: Any, screen: str) -> None:
    session = admin_ready(open_page)
    page = session.page

    # Every answer is held until the test has seen the screen loading, then let through: a
    # handler that slept instead held Playwright's one thread, so the screen could be drawn
    # and done before the test looked (a flaky failure on the templates screen).
    held: list[Any] = []
    letting_through = False

    def slow(route: Any) -> None:
        if letting_through:
            route.fallback()
        else:
            held.append(route)

    page.route("**/api/**", slow)
    open_screen(session, screen)
    # While the answers are on their way: busy, with a placeholder someone can see.
    page.wait_for_function(PLACEHOLDER, timeout=15_000)
    page.wait_for_timeout(DELAY_SECONDS * 1000)
    letting_through = True
    for route in held:
        route.fallback()
    # Then its content, and nothing busy any more.
    page.wait_for_function("() => !document.querySelector('main [aria-busy=true]')", timeout=60_000)
    page.unroute_all(behavior="wait")
    assert page.locator("main h1").count() == 1
    assert page.locator("main .state-error").count() == 0
    leaves_nothing_blank(session)


@pytest.mark.parametrize("screen", SCREENS)
def test_a_broken_api_shows_an_error_with_try_again(open_page: Any, screen: str) -> None:
    session = admin_ready(open_page)
    page = session.page
    session.console.expect(r"status of 500")

    def broken(route: Any) -> None:
        route.fulfill(status=500, content_type="application/problem+json", body=json.dumps(PROBLEM))

    page.route("**/api/**", broken)
    open_screen(session, screen)
    errors = page.locator("main .state-error")
    errors.first.wait_for()
    session.wait_idle()
    # Each error says what happened and what to do, with a Try again button.
    for i in range(errors.count()):
        panel = errors.nth(i)
        text = panel.inner_text()
        assert "Could not" in text, text
        assert "try again" in text.lower(), text
        assert panel.get_by_role("button", name="Try again").count() == 1, text
    leaves_nothing_blank(session)

    # Mended: Try again (each panel's) brings the content.
    page.unroute_all(behavior="wait")
    for _ in range(10):
        buttons = page.locator("main .state-error").get_by_role("button", name="Try again")
        if not buttons.count():
            break
        # Gone meanwhile is fine: another panel's Try again reloaded its card too.
        with contextlib.suppress(PlaywrightTimeout):
            buttons.first.click(timeout=3_000)
        session.wait_idle()
    page.wait_for_function("() => !document.querySelector('main .state-error')")
    leaves_nothing_blank(session)


def emptied(payload: Any) -> Any:
    """The answer with every list of items empty (and no next page)."""
    if isinstance(payload, dict):
        out: dict[str, Any] = {}
        for key, value in payload.items():
            # "users": GET /billing/users (All users) names its list so.
            if key in ("items", "users") and isinstance(value, list):
                out[key] = []
            elif key == "nextToken":
                out[key] = None
            else:
                out[key] = emptied(value)
        return out
    return payload


@pytest.mark.parametrize("screen", LISTS)
def test_empty_lists_show_an_empty_state_with_a_next_step(open_page: Any, screen: str) -> None:
    session = admin_ready(open_page)
    page = session.page

    def empty(route: Any) -> None:
        request = route.request
        if request.method != "GET":
            route.fallback()
            return
        status, content_type, body = real_answer(route)
        # A request the page gave up on meanwhile (its view's AbortController) is handled
        # already: nothing to answer.
        with contextlib.suppress(PlaywrightError):
            fulfil(route, status, content_type, emptied(body))

    page.route("**/api/**", empty)
    open_screen(session, screen)
    session.wait_idle()
    state = page.locator("main .state-empty").first
    state.wait_for()
    # A next step: a link or button in it, or words saying what to do.
    assert state.locator("a, button").count() or re.search(
        r"\b(when|once|after|until|set|add|added|create|claim|assign|choose|ask|will|appear)\b",
        state.inner_text(),
        re.I,
    ), state.inner_text()
    leaves_nothing_blank(session)
    # Handlers still fetching (the bell's count, asked after the page) finish while the page
    # is open: one that fulfils after the teardown's unroute fails the test after this one.
    page.unroute_all(behavior="wait")
