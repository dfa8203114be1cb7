"""Issue 16's accessibility sweep: axe-core (WCAG 2.2 AA) on every screen each role can open,
in light and dark, at desktop and phone width: 0 violations.

The screens come from the page itself: the links of the header's menu once GET /api/me has
answered (what that role is shown), plus the sub-pages those screens lead to (a resource, a
team, the estate's tabs and a function, one's own access, the notifications page), the states
a person opens on top of them (the bell's panel, the budget form, a dialog) and the pages
reached without a link (sign-in, no access). One signed-in page per role moves by hash; each
screen waits until nothing is busy, then axe runs in the four combinations of theme (the
stylesheet follows prefers-color-scheme; there is no toggle) and width. On each screen (desktop,
both themes) every element the Tab key reaches must show its focus (tests/browser/axe.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.axe import describe, focus_problems, violations
from tests.browser.conftest import DESKTOP, PHONE, Session, user_id_of

SCHEMES = ("light", "dark")
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
# One person per role: admin, a user (alice, in team payments), a team manager (dave, who
# manages payments), finance (fiona), an auditor (audrey).
ROLES = ["admin", "alice", "dave", "fiona", "audrey"]


class Sweep:
    """axe's findings over one session, by screen, theme and width."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.failures: list[str] = []
        self.checked = 0
        self.focused = 0

    def check(self, screen: str, prepare: Callable[[], None] | None = None) -> None:
        """axe on what the page shows now, in each theme and width; ``prepare`` (re)opens the
        state under test after a resize (a panel that closes on resize, say)."""
        page = self.session.page
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            if prepare:
                prepare()
            for scheme in SCHEMES:
                page.emulate_media(color_scheme=scheme)
                idle(self.session)
                # Charts restyle on a theme change and resize with the window (one frame).
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
                found = violations(page)
                self.checked += 1
                if found:
                    self.failures.append(f"{screen} ({scheme}, {width}):\n{describe(found)}")
                if width == "desktop" and not prepare:
                    focused, unseen = focus_problems(page)
                    self.focused += focused
                    if unseen:
                        self.failures.append(
                            f"{screen} ({scheme}, {width}), focus not visible:\n  "
                            + "\n  ".join(unseen)
                        )
        page.set_viewport_size(DESKTOP)
        page.emulate_media(color_scheme="light")

    def assert_clean(self) -> None:
        assert self.checked and self.focused
        assert not self.failures, "axe (WCAG 2.2 AA) found violations:\n" + "\n".join(self.failures)


def idle(session: Session) -> None:
    # As Session.wait_idle, with test_estate.py's patience: a function's detail reads CloudWatch
    # and its log group through the emulator, slow on a busy machine.
    session.page.wait_for_function(
        "() => !document.querySelector('[aria-busy=true]')", timeout=60_000
    )


def visit(session: Session, route: str) -> None:
    session.go(route)
    idle(session)


def first_href(session: Session, selector: str) -> str | None:
    links = session.page.locator(selector)
    return str(links.first.get_attribute("href")) if links.count() else None


def menu_routes(session: Session) -> list[str]:
    nav = session.page.locator("nav[aria-label=Main][data-me=known]")
    nav.wait_for()
    return [
        str(h)
        for h in nav.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    ]


@pytest.mark.parametrize("username", ROLES)
def test_every_screen_a_role_opens_has_no_axe_violations(open_page: Any, username: str) -> None:
    session: Session = open_page()
    session.sign_in(username)
    page = session.page
    sweep = Sweep(session)
    menu = menu_routes(session)
    assert menu, "the menu shows no link"

    for route in menu:
        visit(session, route)
        sweep.check(route)
        name = route.split("?")[0].lstrip("#/")
        if name == "resources":
            resource = first_href(session, "a[data-testid=resource-link]")
            if resource:
                visit(session, resource)
                sweep.check("#/resources/<id>")
        elif name == "teams":
            team = first_href(session, ".view a[href^='#/teams/']")
            if team:
                visit(session, team)
                sweep.check("#/teams/<id>")
        elif name == "estate":
            for tab in ("#/estate/lambda", "#/estate/network", "#/estate/iam"):
                visit(session, tab)
                sweep.check(tab)
            visit(session, "#/estate/lambda")
            function = first_href(session, ".view a.fn-name")
            if function:
                visit(session, function)
                sweep.check("#/estate/lambda/<name>")
        elif name == "budget":
            visit(session, route)
            edit = page.locator("[data-testid=edit-budget]")
            if edit.count():

                def budget_form() -> None:
                    if not page.locator("dialog[open] [data-testid=budget-form]").count():
                        edit.click()
                    page.locator("dialog[open] [data-testid=budget-form]").wait_for()

                sweep.check("budget form (dialog)", budget_form)
                page.keyboard.press("Escape")

    # Reached without a menu link: one's own access, the notifications page.
    me = user_id_of(session.local_json, username)
    visit(session, f"#/users/{me}/access")
    sweep.check("#/users/<id>/access")
    visit(session, "#/notifications")
    sweep.check("#/notifications")

    # The bell's panel, open over a page.
    visit(session, menu[0])
    bell = page.locator("[data-testid=bell]")
    panel = page.locator("[data-testid=bell-panel]")

    def open_bell() -> None:
        if not panel.is_visible():
            bell.click()
        panel.wait_for(state="visible")

    sweep.check("the bell's panel (open)", open_bell)
    page.keyboard.press("Escape")

    # A page the role may not open (the no-access page).
    if not any(r.startswith("#/roles") for r in menu):
        visit(session, "#/roles")
        sweep.check("no access (#/roles)")

    sweep.assert_clean()


def test_the_sign_in_screen_has_no_axe_violations(open_page: Any) -> None:
    session: Session = open_page()
    session.page.goto(session.url)
    session.page.get_by_label("User name or email").wait_for()
    sweep = Sweep(session)
    sweep.check("sign-in")
    # With the error a wrong password shows.
    page = session.page
    session.console.expect("status of 400|Incorrect|NotAuthorized")
    page.get_by_label("User name or email").fill("alice")
    page.get_by_label("Password", exact=True).fill("not-the-password-1")
    page.get_by_role("button", name="Sign in").click()
    page.locator("[role=alert]").first.wait_for()
    sweep.check("sign-in (wrong password)")
    sweep.assert_clean()
