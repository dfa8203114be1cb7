"""The chargeback screen (#/chargeback) in Chromium against the session's local stack (the demo
organisation: engineering > payments, data; fiona is finance): for every grouping, the rows'
totals add up to the organisation total to the cent, and the API's figures are the page's; the
CSV export's rows add up too. A member sees neither the menu entry nor the page."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Api, Session
from tests.browser.test_reports_screens import download, ready_link, show, signed_in


def amounts(session: Session, selector: str) -> list[Decimal]:
    cells = session.page.locator(selector)
    return [Decimal(str(cells.nth(n).get_attribute("data-amount"))) for n in range(cells.count())]


@pytest.mark.parametrize(("label", "group_by"), [
    ("Team", "team"), ("Department", "department"), ("Cost center", "costCenter"),
])  # fmt: skip
def test_the_rows_add_up_to_the_organisation_total(
    open_page: Any, api: Api, label: str, group_by: str
) -> None:
    session = signed_in(open_page, "fiona")
    show(session, "#/chargeback")
    page = session.page
    assert page.locator("nav a[data-route=chargeback]").count() == 1
    page.select_option("#chargeback-group", label=label)
    session.wait_idle()
    table = page.locator("[data-testid=chargeback-table]")
    table.wait_for()
    # The last column of each row is its total; the foot holds the organisation's.
    rows = amounts(session, "[data-testid=chargeback-table] tbody tr td:last-child")
    (total,) = amounts(session, "[data-testid=chargeback-table] tfoot td:last-child")
    assert rows and sum(rows, Decimal(0)) == total
    assert table.get_attribute("data-adds-up") == "true"
    # Allocated + shared + unallocated = total, on every row.
    for n in range(page.locator("[data-testid=chargeback-table] tbody tr").count()):
        row = amounts(
            session, f"[data-testid=chargeback-table] tbody tr >> nth={n} >> td[data-amount]"
        )
        assert row[0] + row[1] + row[2] == row[3]
    # The page shows the API's answer.
    currency = str(table.get_attribute("data-currency"))
    month = page.input_value("#chargeback-month")
    body = api.get("fiona", f"/billing/organisation/chargeback?month={month}&groupBy={group_by}")
    index = body["currencies"].index(currency)
    assert Decimal(body["organisationTotal"][index]["amount"]) == total
    assert [u["unitId"] for u in body["units"]] == [
        str(
            page.locator("[data-testid=chargeback-table] tbody tr")
            .nth(n)
            .get_attribute("data-unit")
        )
        for n in range(len(body["units"]))
    ]


def test_the_csv_export_adds_up(open_page: Any) -> None:
    session = signed_in(open_page, "fiona")
    show(session, "#/chargeback")
    session.page.locator("[data-testid=chargeback-table]").wait_for()
    session.page.click("[data-testid=export-chargeback-csv]")
    text = download(ready_link(session, "export-chargeback-csv")).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text, newline="")))
    blank = lines.index([])
    header, body = lines[blank + 1], lines[blank + 2 :]
    rows = [dict(zip(header, row, strict=True)) for row in body]
    for total in (r for r in rows if r["unit_id"] == "TOTAL"):
        mine = [r for r in rows if r["currency"] == total["currency"] and r["unit_id"] != "TOTAL"]
        assert sum((Decimal(r["total"]) for r in mine), Decimal(0)) == Decimal(total["total"])


def test_a_member_has_no_chargeback(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    show(session, "#/chargeback")
    page = session.page
    assert page.locator("nav a[data-route=chargeback]").count() == 0
    assert page.locator("[data-testid=not-allowed]").count() == 1
    assert page.locator("[data-testid=chargeback-table]").count() == 0


def test_cost_center_budgets_beside_the_chargeback(open_page: Any, api: Api) -> None:
    """Grouped by cost center: each one's budget status (the demo's CC-100 is over its budget,
    CC-200 has none), read-only for finance; an admin edits CC-100's with the budget form."""
    session = signed_in(open_page, "fiona")
    show(session, "#/chargeback")
    page = session.page
    page.select_option("#chargeback-group", label="Cost center")
    session.wait_idle()
    card = page.locator("[data-testid=cost-center-budgets]")
    card.locator("tr[data-cost-center=CC-100] [data-value=status]").wait_for()
    month = page.input_value("#chargeback-month")
    summary = api.get("fiona", f"/billing/cost-center/CC-100/summary?month={month}")
    row = card.locator("tr[data-cost-center=CC-100]")
    status = row.locator("[data-value=status] [data-status]").get_attribute("data-status")
    assert status == ("pending" if summary["noCostsYet"] else summary["status"])
    assert summary["status"] in ("over", None)
    assert (
        card.locator("tr[data-cost-center=CC-200] [data-value=limit]").inner_text() == "No budget"
    )
    assert card.locator("[data-testid=edit-cost-center-budget]").count() == 0  # finance reads

    admin = signed_in(open_page, "admin")
    show(admin, "#/chargeback")
    page = admin.page
    page.select_option("#chargeback-group", label="Cost center")
    admin.wait_idle()
    card = page.locator("[data-testid=cost-center-budgets]")
    assert card.locator("tr[data-cost-center=CC-200] button").inner_text() == "Set a budget"
    before = api.get("admin", "/billing/budgets/cost-center/CC-100")
    try:
        card.locator("tr[data-cost-center=CC-100] button", has_text="Edit budget").click()
        form = page.locator("[data-testid=budget-form]")
        form.locator("button[type=submit]:enabled").wait_for()
        form.locator("input[name=monthlyLimit]").fill("98765")
        form.locator("button[type=submit]").click()
        page.get_by_role("dialog").wait_for(state="detached")
        card.locator("tr[data-cost-center=CC-100] [data-value=limit]", has_text="98,765").wait_for()
        after = api.get("admin", "/billing/budgets/cost-center/CC-100")
        assert after["monthlyLimit"]["amount"] == "98765.00"
        assert after["costCenter"] == "CC-100"
    finally:
        api.call(
            "admin",
            "PUT",
            f"/billing/budgets/{before['budgetId']}",
            {"monthlyLimit": before["monthlyLimit"]["amount"]},
        )


def test_the_ledger_journal_balances_and_downloads(open_page: Any, api: Api) -> None:
    """The journal card (payments): each currency's debits equal its credits, as the API says,
    and the CSV it saves has the same lines, balanced; light, dark and a phone's width."""
    from tests.browser.conftest import PHONE

    session = signed_in(open_page, "fiona")
    show(session, "#/chargeback")
    page = session.page
    totals = page.locator("[data-testid=journal-summary] li[data-currency]")
    totals.first.wait_for()
    month = page.input_value("#chargeback-month")
    body = api.get("fiona", f"/billing/organisation/chargeback/journal?month={month}")
    assert [t["currency"] for t in body["totals"]] == [
        totals.nth(n).get_attribute("data-currency") for n in range(totals.count())
    ]
    for n, total in enumerate(body["totals"]):
        item = totals.nth(n)
        assert item.get_attribute("data-balanced") == "true"
        assert item.get_attribute("data-debit") == total["debit"] == total["credit"]
    with page.expect_download() as saved:
        page.click("[data-testid=journal-csv]")
    path = saved.value.path()
    assert saved.value.suggested_filename == f"tally-journal-{month}-team.csv"
    text = Path(path).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text, newline="")))
    blank = lines.index([])
    header, rows = lines[blank + 1], lines[blank + 2 :]
    rows_by = [dict(zip(header, row, strict=True)) for row in rows]
    assert len(rows_by) == 2 * len(body["entries"])
    for total in body["totals"]:
        mine = [r for r in rows_by if r["currency"] == total["currency"]]
        debit = sum((Decimal(r["debit"]) for r in mine if r["debit"]), Decimal(0))
        credit = sum((Decimal(r["credit"]) for r in mine if r["credit"]), Decimal(0))
        assert debit == credit == Decimal(total["debit"])
    page.evaluate("window.scrollTo(0, 0)")  # the click scrolled the button into view
    session.screenshot("chargeback-journal")
    phone = signed_in(open_page, "fiona", viewport=PHONE)
    show(phone, "#/chargeback")
    phone.page.locator("[data-testid=journal-summary] li[data-currency]").first.wait_for()
    phone.screenshot("phone-chargeback-journal")
