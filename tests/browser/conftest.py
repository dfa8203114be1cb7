"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the local
stack (demo organisation) started in a subprocess once per test session.

A subprocess, not a thread: another test module's ``moto.mock_aws`` would wipe an in-process
moto server. Each test gets a fresh browser context (its own sessionStorage), and fails if the
page logged a console error it did not declare as expected.

The stack runs on a pinned business date, never the machine's: the whole suite on a mid-month
day (``MID_MONTH``); ``test_first_days.py`` overrides ``stack`` with a second one on the 1st
(``FIRST_OF_MONTH``). Screenshots go to a temporary folder, so a test run leaves the tree
clean; ``make screenshots`` sets ``TALLY_SCREENSHOTS`` to refresh ``docs/screenshots``.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from infra.dashboard_site import SITE_DIR, SiteNotBuilt, built_site
from infra.local.client import local_stack_process, sign_in

CHROMIUM = Path("/usr/bin/chromium")
# Without the network flags Chromium keeps trying to reach hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The days the browser suite runs on: the documented screens, and the first day of a month.
MID_MONTH = date(2026, 11, 25)
FIRST_OF_MONTH = date(2026, 12, 1)
# Set by `make screenshots` (docs/screenshots); unset, pictures go to a temporary folder.
SCREENSHOTS_VARIABLE = "TALLY_SCREENSHOTS"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def site_and_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (make test installs it)")
    try:
        built_site(SITE_DIR)
    except SiteNotBuilt as error:
        pytest.fail(str(error))


def pinned_stack(tmp_path_factory: pytest.TempPathFactory, today: date) -> Iterator[dict[str, Any]]:
    """The local stack (``make run TODAY=...``) on ``today``, for as long as the caller yields."""
    where = tmp_path_factory.mktemp(f"browser-stack-{today.isoformat()}")
    log = where / "stack.log"
    with local_stack_process(
        where / "local.json", log_path=log, timeout=240, today=today
    ) as running:
        assert running.local_json["today"] == today.isoformat()
        yield running.local_json


@pytest.fixture(scope="session")
def stack(
    site_and_chromium: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    yield from pinned_stack(tmp_path_factory, MID_MONTH)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get(SCREENSHOTS_VARIABLE)
    return Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One Chromium for every browser test of the session: of this xdist worker, which runs one
    of the two groups of browser tests (tests/conftest.py); Playwright's sync API runs once per
    thread at a time."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (make test installs it)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        try:
            launched.close()
        except PlaywrightError as error:
            # Every test has run by now; a browser that is already gone (its driver stopped by
            # a Ctrl-C) takes nothing from them. Said, not failed.
            warnings.warn(f"Chromium was gone before the end of the session: {error}", stacklevel=1)


@pytest.fixture(scope="session")
def browser(site_and_chromium: None, chromium: Any) -> Any:
    """Chromium, for the tests of the dashboard (built)."""
    return chromium


def password_of(local_json: dict[str, Any], username: str) -> str:
    return str(next(u["password"] for u in local_json["users"] if u["username"] == username))


def user_id_of(local_json: dict[str, Any], username: str) -> str:
    return str(next(u["user_id"] for u in local_json["users"] if u["username"] == username))


# ID tokens by (API, user name): each stack signs a user in once per session.
_TOKENS: dict[tuple[str, str], str] = {}


def real_answer(route: Any) -> tuple[int, str, Any]:
    """The API's own answer to an intercepted GET, asked for outside the browser: status,
    content type and the body (parsed when it is JSON), for a handler to change and fulfil.

    Not ``route.fetch``: in Playwright's sync API a route.fetch among several handlers in flight
    sometimes never returned (a whole run hung at 98%, its teardown's ``unroute_all`` waiting for
    it). Never conditional (an If-None-Match would get a 304 with no body); bounded."""
    headers = {
        k: v for k, v in route.request.headers.items() if k.lower() in ("authorization", "accept")
    }
    request = urllib.request.Request(route.request.url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            status, content_type, body = (
                answer.status,
                answer.headers.get_content_type(),
                answer.read(),
            )
    except urllib.error.HTTPError as failed:
        status, content_type, body = failed.code, failed.headers.get_content_type(), failed.read()
    return status, content_type, json.loads(body) if content_type.endswith("json") else body


def fulfil(route: Any, status: int, content_type: str, body: Any) -> None:
    """Answers with ``body`` (JSON unless bytes)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    route.fulfill(status=status, content_type=content_type, body=raw)


@dataclass
class Api:
    """The API as the tests see it, to compare the page with."""

    local_json: dict[str, Any]

    def token(self, username: str) -> str:
        key = (str(self.local_json["api_url"]), username)
        if key not in _TOKENS:
            _TOKENS[key] = sign_in(self.local_json, username)
        return _TOKENS[key]

    def call(
        self,
        username: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        request = urllib.request.Request(
            self.local_json["api_url"] + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": self.token(username),
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None, dict(response.headers)
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None, dict(error.headers)

    def get(self, username: str, path: str) -> Any:
        status, body, _ = self.call(username, "GET", path)
        assert status == 200, (path, status, body)
        return body


@pytest.fixture
def api(stack: dict[str, Any]) -> Api:
    return Api(stack)


@pytest.fixture
def today(api: Api) -> str:
    """The business date the stack runs on, as the dashboard learns it (GET /api/me)."""
    return str(api.get("admin", "/me")["today"])


@dataclass
class Console:
    """Console errors and uncaught exceptions of one page; ``expect`` declares the ones a test
    provokes on purpose (an API error answer is logged by Chromium as a failed resource)."""

    errors: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.expected)]


@dataclass
class Session:
    page: Any
    context: Any
    console: Console
    local_json: dict[str, Any]
    shots: Path

    @property
    def url(self) -> str:
        return str(self.local_json["dashboard_url"])

    def sign_in(self, username: str, password: str | None = None) -> None:
        page = self.page
        page.goto(self.url)
        page.get_by_label("User name or email").fill(username)
        page.get_by_label("Password", exact=True).fill(
            password or password_of(self.local_json, username)
        )
        page.get_by_role("button", name="Sign in").click()
        page.locator("header.topbar").wait_for()

    def go(self, route: str) -> None:
        self.page.evaluate("route => { window.location.hash = route }", route)
        self.page.locator(f".view[data-view='{route.split('?')[0].lstrip('#/')}']").wait_for()

    def wait_idle(self) -> None:
        """Until nothing on the page is loading."""
        self.page.wait_for_function("() => !document.querySelector('[aria-busy=true]')")

    def wait_for_charts(self) -> None:
        self.page.locator("canvas[data-chart='by-service'][data-drawn='true']").wait_for()
        self.page.locator("canvas[data-chart='trend'][data-drawn='true']").wait_for()

    def screenshot(self, name: str) -> None:
        """<name>-<light|dark>.png, both themes of the same screen, in the screenshots folder
        (docs/screenshots with `make screenshots`, else a temporary one)."""
        self.shots.mkdir(parents=True, exist_ok=True)
        for scheme in ("light", "dark"):
            self.page.emulate_media(color_scheme=scheme)
            # Charts restyle on the theme change; let them draw before the picture.
            self.page.wait_for_timeout(150)
            self.page.screenshot(path=str(self.shots / f"{name}-{scheme}.png"), full_page=True)
        self.page.emulate_media(color_scheme="light")


@pytest.fixture
def open_page(
    browser: Any, stack: dict[str, Any], screenshots: Path
) -> Iterator[Callable[..., Session]]:
    sessions: list[Session] = []

    def make(
        *,
        viewport: dict[str, int] | None = None,
        clock: bool = False,
        locale: str = "en-US",
        timezone_id: str = "UTC",
    ) -> Session:
        context = browser.new_context(
            viewport=viewport or DESKTOP,
            color_scheme="light",
            reduced_motion="reduce",
            locale=locale,
            timezone_id=timezone_id,
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        console = Console()
        page.on(
            "console",
            lambda message: (
                console.errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
        if clock:
            page.clock.install()
        session = Session(page, context, console, stack, screenshots)
        sessions.append(session)
        return session

    yield make
    problems = []
    for session in sessions:
        problems += session.console.unexpected()
        # A route handler still running (for a request the page sent as the test ended) must
        # finish while its context is open: one that fails on a closed context ("Response has
        # been disposed") is kept by Playwright and thrown at its next call, in a later test or
        # at Browser.close.
        session.page.unroute_all(behavior="wait")
        session.context.unroute_all(behavior="wait")
        session.context.close()
    assert problems == [], f"console errors: {problems}"
