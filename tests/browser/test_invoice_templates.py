"""Issue 17's Templates screen in Chromium against the local stack's demo organisation: finance
(fiona) finds the demo's default template, edits it beside the live preview (a PDF of sample
data in a blob: frame the CSP allows), sees a template that tries to be code refused on its
field, saves a new version; a member is refused the screen. Light, dark and phone width."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import PHONE, Api, Session


def signed_in(open_page: Any, username: str, **kw: Any) -> Session:
    session: Session = open_page(**kw)
    session.sign_in(username)
    session.wait_idle()
    return session


def preview_ready(session: Session) -> None:
    session.page.locator("[data-testid=preview-status]", has_text="A sample invoice").wait_for()
    # Chromium's PDF viewer paints the frame's pages a moment after the blob is set.
    session.page.wait_for_timeout(1500)


def test_screenshots_of_invoice_templates(open_page: Any, api: Api) -> None:
    finance = signed_in(open_page, "fiona")
    page = finance.page
    page.locator("nav.nav[data-me=known]").wait_for()
    assert "Templates" in page.locator("nav.nav a[data-route]").all_inner_texts()
    finance.go("#/templates")
    card = page.locator("[data-template=org]")
    card.wait_for()
    assert "Example Corp invoices" in card.inner_text()
    finance.screenshot("templates-list")

    card.get_by_role("link", name="Edit Example Corp invoices").click()
    page.locator("[data-testid=template-form]").wait_for()
    preview_ready(finance)
    frame = page.locator("iframe.template-preview-frame")
    assert (frame.get_attribute("src") or "").startswith("blob:")
    finance.screenshot("templates-editor")

    # Code in a text: the live preview names the field and nothing is saved.
    finance.console.expect(r"status of 422")  # the refused preview and save, as meant
    header = page.get_by_label("Header")
    header.fill("{{ settings }}")
    error = page.locator(".field[data-field=header] .field-error")
    error.filter(has_text="unknown placeholder").wait_for()
    page.get_by_role("button", name="Save as a new version").click()
    error.filter(has_text="unknown placeholder").wait_for()
    assert api.get("fiona", "/invoice-templates/org")["version"] == 1

    header.fill("Recharge {{ number }} for {{ subject|upper }}")
    page.get_by_label("Language of the fixed words").select_option("de")
    preview_ready(finance)
    page.get_by_role("button", name="Save as a new version").click()
    page.locator("[data-testid=template-version]", has_text="Version 2").wait_for()
    saved = api.get("fiona", "/invoice-templates/org")
    assert (saved["version"], saved["language"]) == (2, "de")
    assert api.get("fiona", "/invoice-templates/org?version=1")["language"] == "en"


def test_the_templates_screen_fits_a_phone(open_page: Any, api: Api) -> None:
    phone = signed_in(open_page, "fiona", viewport=PHONE)
    phone.go("#/templates/org")
    phone.page.locator("[data-testid=template-form]").wait_for()
    preview_ready(phone)
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    phone.screenshot("templates-editor-phone")


def test_a_member_is_refused_the_templates_screen(open_page: Any, api: Api) -> None:
    member = signed_in(open_page, "alice")
    member.page.locator("nav.nav[data-me=known]").wait_for()
    assert "Templates" not in member.page.locator("nav.nav a[data-route]").all_inner_texts()
    member.go("#/templates")
    refusal = member.page.locator("[data-testid=not-allowed]")
    refusal.wait_for()
    assert refusal.get_attribute("data-permission") == "invoices:templates"


def test_an_invoice_made_in_the_demo_uses_its_template(api: Api) -> None:
    """The demo's default template numbers and renders the invoices the demo makes, and the
    invoice says which version it used."""
    import time
    from datetime import date, timedelta

    today = date.fromisoformat(str(api.get("alice", "/me")["today"]))
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    status, created, _ = api.call("alice", "POST", "/invoices", {"month": month})
    assert status == 202, created
    for _ in range(120):
        invoice = api.get("alice", f"/invoices/{created['invoiceId']}")
        if invoice["status"] != "pending":
            break
        time.sleep(0.5)
    assert invoice["status"] == "ready", invoice
    assert invoice["templateId"] == "org" and invoice["templateVersion"] >= 1
    assert invoice["invoiceNumber"].startswith(f"EXC-{today.year}-")
