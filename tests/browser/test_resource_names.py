"""Names people recognise in the cost lines table (issue 16), in Chromium against the local
stack: a line shows its resource by name (the demo instance's Name tag) with the ARN as a
detail that is selectable and copied by "Copy ID" (said to assistive technology), its usage
with the unit, and what a unit cost; at phone width each line is a card of labelled cells."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import PHONE, Api, Session, user_id_of


def signed_in(open_page: Any, username: str, **kw: Any) -> Session:
    session: Session = open_page(**kw)
    session.sign_in(username)
    return session


def _training_row(session: Session) -> Any:
    session.go("#/costs")
    session.wait_idle()
    page = session.page
    page.get_by_label("Search").fill("alice-training")  # a search finds a line by its name
    # Until the search has answered: every line shown is the instance's.
    page.wait_for_function(
        """() => {
            const names = [...document.querySelectorAll(
                "[data-testid=cost-lines] tbody tr[data-date] [data-testid=resource-name]")];
            return names.length > 0 && names.every((n) => n.textContent === "alice-training");
        }"""
    )
    session.wait_idle()
    return page.locator("[data-testid=cost-lines] tbody tr[data-date]").first


def test_a_cost_line_shows_the_name_the_id_as_detail_usage_and_cost_per_unit(
    open_page: Any, api: Api
) -> None:
    session = signed_in(open_page, "alice")
    session.context.grant_permissions(["clipboard-read", "clipboard-write"])
    row = _training_row(session)
    arn = row.get_attribute("data-resource")
    assert arn and arn.startswith("arn:aws:ec2:") and "/i-" in arn

    # The name first; the ARN under it, never translated.
    assert row.get_by_test_id("resource-name").inner_text() == "alice-training"
    detail = row.get_by_test_id("resource-id")
    assert detail.inner_text() == arn and detail.get_attribute("translate") == "no"

    # Usage and cost per unit, as the API says them (formatted for the en-US browser).
    alice = user_id_of(session.local_json, "alice")
    day = row.get_attribute("data-date")
    lines = api.get(
        "alice", f"/billing/user/{alice}/cost-lines?startDate={day}&endDate={day}&q=alice-training"
    )["lines"]
    line = next(x for x in lines if x["chargeCategory"] == "Usage")
    assert line["resourceName"] == "alice-training" and line["usageUnit"] == "Hrs"
    assert row.get_by_test_id("usage").inner_text() == f"{float(line['usageQuantity']):g} Hrs"
    price = line["costPerUnit"]
    assert price["unit"] == "Hrs" and price["currency"] == "USD"
    shown = row.get_by_test_id("unit-price").inner_text()
    assert shown.startswith("$") and shown.endswith(" per Hrs")
    assert abs(float(shown[1:].split(" ")[0]) - float(price["amount"])) < 1e-4

    # Copy ID puts the ARN on the clipboard and says so.
    row.get_by_role("button", name="Copy ID of alice-training").click()
    row.get_by_role("button", name="Copy ID of alice-training").filter(has_text="Copied").wait_for()
    session.page.locator("#announcer", has_text="Copied the ID of alice-training.").wait_for()
    assert session.page.evaluate("() => navigator.clipboard.readText()") == arn


def test_at_phone_width_a_line_is_a_card_of_labelled_cells(open_page: Any) -> None:
    session = signed_in(open_page, "alice", viewport=PHONE)
    row = _training_row(session)
    page = session.page
    # Nothing scrolls sideways: the table became cards.
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    labels = row.locator("td").evaluate_all("cells => cells.map(c => c.dataset.label)")
    assert labels == ["Date", "Service", "Resource", "Charge", "Usage", "Cost per unit", "Cost"]
    assert row.get_by_test_id("resource-name").is_visible()
    assert row.get_by_test_id("unit-price").is_visible()


def test_a_resource_is_listed_and_titled_by_name_with_its_usage_by_day(
    open_page: Any, api: Api
) -> None:
    from tests.browser.test_resource_page import busiest_instance, open_resource

    session = signed_in(open_page, "alice")
    instance = busiest_instance(api)
    assert instance["resourceName"] == "alice-training"
    session.go("#/resources")
    session.wait_idle()
    link = session.page.locator(
        f"tr[data-resource='{instance['resourceId']}'] a[data-testid=resource-link]"
    )
    assert link.inner_text() == "alice-training"  # the name is the link; the id beside it
    open_resource(session, instance["resourceId"])
    page = session.page
    assert page.get_by_role("heading", level=1).inner_text().startswith("alice-training")
    usage = page.get_by_test_id("usage-by-day")
    usage.locator("summary").click()
    first = usage.locator("tbody tr").first
    assert first.locator("td[data-label=Usage]").inner_text() == "24 Hrs"
    assert first.locator("td[data-label=Cost]").inner_text().startswith("$")
