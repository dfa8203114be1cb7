"""Every email Tally sends, rendered by ``tally.email.render`` and opened in Chromium as a mail
client would show it: no console error, readable with images off, no sideways scrolling on a
phone. ``make screenshots`` keeps the pictures (a light mail client ~700 px wide and a 375 px
phone) and each text part in docs/screenshots as ``email-<kind>-desktop.png``,
``email-<kind>-phone.png`` and ``email-<kind>.txt``; otherwise they go to a temporary folder.

No local stack and no dashboard build: the HTML is the renderer's output, set as the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tally.email.formatting import format_money
from tally.email.model import Driver, EmailContent
from tally.email.render import render
from tests.email_samples import KINDS, sample_emails

MAIL_CLIENT = {"width": 700, "height": 900}  # a reading pane beside a message list
PHONE = {"width": 375, "height": 812}
SAMPLES = sample_emails()


class Opened:
    """One email open in a page, with what the page logged."""

    def __init__(self, browser: Any, html: str, viewport: dict[str, int], images: bool) -> None:
        self.context = browser.new_context(
            viewport=viewport, color_scheme="light", locale="en-US", timezone_id="UTC"
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        if not images:
            # Most mail clients hold remote images back until the reader allows them.
            self.page.route(
                "**/*",
                lambda route: (
                    route.abort() if route.request.resource_type == "image" else route.continue_()
                ),
            )
        self.page.set_content(html, wait_until="load")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_email(chromium: Any) -> Iterator[Any]:
    opened: list[Opened] = []

    def make(html: str, viewport: dict[str, int] = MAIL_CLIENT, *, images: bool = True) -> Any:
        page = Opened(chromium, html, viewport, images)
        opened.append(page)
        return page

    yield make
    for page in opened:
        page.close()


def _key_words(message: EmailContent) -> list[str]:
    """What a reader must see whatever else fails: the headline and the amount it is about."""
    words = [message.headline]
    if message.figures is not None:
        words.append(format_money(message.figures.spent, message.currency))
    if message.restatement is not None:
        words.append(format_money(message.restatement.after, message.currency))
    return words


def _visible_text(page: Any) -> str:
    return " ".join(str(page.inner_text("body")).split())


@pytest.mark.parametrize("kind", KINDS)
def test_every_email_renders_without_console_errors(open_email: Any, kind: str) -> None:
    message = SAMPLES[kind]
    opened = open_email(render(message).html)

    text = _visible_text(opened.page)
    for words in _key_words(message):
        assert " ".join(words.split()) in text
    assert opened.page.title() == render(message).subject
    assert opened.errors == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_email_reads_with_images_off(open_email: Any, kind: str) -> None:
    message = SAMPLES[kind]
    opened = open_email(render(message).html, images=False)
    page = opened.page

    images = page.eval_on_selector_all(
        "img", "els => els.map(e => ({src: e.src, alt: e.getAttribute('alt')}))"
    )
    assert all((image["alt"] or "").strip() for image in images), images
    # Nothing that matters is drawn by an image or a background image.
    backgrounds = page.eval_on_selector_all(
        "*", "els => els.map(e => getComputedStyle(e).backgroundImage).filter(b => b !== 'none')"
    )
    assert backgrounds == []
    text = _visible_text(page)
    for words in _key_words(message):
        assert " ".join(words.split()) in text
    # The call to action is a real link with words, not a picture of a button.
    links = page.eval_on_selector_all(
        "a[href]", "els => els.map(e => [e.innerText.trim(), e.getAttribute('href')])"
    )
    assert any(href == message.dashboard_url and label for label, href in links), links
    assert opened.errors == []


# Words with nowhere to break: a bucket's ARN, a user name without spaces.
LONG_NAME = "priya.raman.platform-engineering.cost-owners@example.com"
LONG_DRIVERS = (
    Driver(
        "arn:aws:s3:::tallyanalyticsrawbucketforthedatalakeproduction2026eu (Amazon S3)",
        Decimal("96.44"),
    ),
)


@pytest.mark.parametrize("names", ["as sent", "long words"])
@pytest.mark.parametrize("kind", KINDS)
def test_no_email_scrolls_sideways_on_a_phone(open_email: Any, kind: str, names: str) -> None:
    message = SAMPLES[kind]
    if names == "long words":
        message = replace(message, to_name=LONG_NAME, drivers=LONG_DRIVERS)
    opened = open_email(render(message).html, PHONE)
    page = opened.page

    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " document.body.scrollWidth]"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
    # Every element stays inside the screen (a long resource name wraps, it does not poke out).
    outside = page.evaluate(
        "w => [...document.querySelectorAll('body *')]"
        ".filter(e => e.getClientRects().length && e.getBoundingClientRect().right > w + 0.5)"
        ".map(e => e.className || e.tagName)",
        PHONE["width"],
    )
    assert outside == []
    # The phone layout's rules apply: the button spans the card.
    button = page.locator("a.button").bounding_box()
    card = page.locator("td.card").bounding_box()
    assert button["width"] > card["width"] * 0.8
    assert opened.errors == []


def test_screenshots_of_every_email(open_email: Any, screenshots: Path) -> None:
    """docs/screenshots with `make screenshots`: each email at a mail client's width and a
    phone's, and its text part, which some readers get instead of the HTML."""
    screenshots.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        email = render(SAMPLES[kind])
        for label, viewport in (("desktop", MAIL_CLIENT), ("phone", PHONE)):
            opened = open_email(email.html, viewport)
            path = screenshots / f"email-{kind}-{label}.png"
            opened.page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 10_000
        headers = "".join(f"{name}: {value}\n" for name, value in email.headers.items())
        (screenshots / f"email-{kind}.txt").write_text(
            f"Subject: {email.subject}\n{headers}\n{email.text}", encoding="utf-8"
        )
        assert not re.search(r"</?[a-z][^>]*>", email.text)
