"""Chargeback exports: the request rules (validate_export), the CSV (header conventions,
formula-escaping, rows that add up to the TOTAL row) and the PDF statements (a page per unit,
their figures, the PROVISIONAL mark until the month is final), and the reports function's job
that writes them to S3."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from decimal import Decimal
from types import ModuleType

import pytest
from pypdf import PdfReader

from tally.chargeback import NO_TEAM, NO_UNIT, Chargeback, GroupBy, UnallocatedRule
from tally.chargeback import build_chargeback as build
from tally.chargeback.pdf import render_statement
from tally.email.formatting import format_money
from tally.errors import Forbidden, Invalid
from tally.exports import ExportRequest, validate_export
from tally.exports.chargeback_csv import write_chargeback_csv
from tally.exports.request import export_range
from tally.invoices import InvoiceOrg
from tally.models import JobStatus, Metric
from tally.org.model import Team
from tally.store import Stores
from tally.view import View
from tests.chargeback.world import EDGE_DAYS, MONTH, NOW, TEAMS, TODAY, world
from tests.conftest import ADMIN, ALICE
from tests.unit.test_reports_handler import (  # noqa: F401  (the fixture)
    call,
    handler,
    job,
    records,
    s3_object,
    stored,
)

D = Decimal
EVIL = Team("evil", '=HYPERLINK("x")', cost_center="+CC", members=frozenset({"u-eve"}))


@pytest.fixture(scope="module")
def stores() -> Stores:
    return world(teams=(*TEAMS, EVIL))


def report(stores: Stores, group_by: GroupBy = GroupBy.TEAM, *, today: date = TODAY,
           rule: UnallocatedRule = UnallocatedRule.SEPARATE) -> Chargeback:  # fmt: skip
    return build(stores, month=MONTH, group_by=group_by, metric=Metric.EFFECTIVE, today=today,
                 rule=rule)  # fmt: skip


def parse(data: bytes) -> tuple[list[list[str]], list[dict[str, str]]]:
    assert data.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    blank = lines.index([])
    header, body = lines[blank + 1], lines[blank + 2 :]
    return lines[:blank], [dict(zip(header, row, strict=True)) for row in body]


def csv_of(
    chargeback: Chargeback, unit: str | None = None
) -> tuple[list[list[str]], list[dict[str, str]], int]:
    out = io.BytesIO()
    rows = write_chargeback_csv(chargeback, out, now=NOW, unit=unit, flush_bytes=64)
    meta, body = parse(out.getvalue())
    return meta, body, rows


# -- CSV --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", list(UnallocatedRule))
def test_the_csv_rows_add_up_to_the_total_row(stores: Stores, rule: UnallocatedRule) -> None:
    meta, body, rows = csv_of(report(stores, rule=rule))
    assert meta[0] == ["# Tally chargeback"]
    assert ["# month", MONTH] in meta and ["# group by", "team"] in meta
    assert ["# unallocated rule", rule.value] in meta
    assert ["# currency", "EUR;USD"] in meta and ["# metric", "effective"] in meta
    assert ["# generated at", "2026-11-20T08:00:00Z"] in meta and ["# status", "final"] in meta
    data = [r for r in body if r["unit_id"] != "TOTAL"]
    assert rows == len(data) == (4 + 1 + 1) * 2  # 4 teams, no team, unallocated; 2 currencies
    for currency in ("EUR", "USD"):
        total = next(r for r in body if r["unit_id"] == "TOTAL" and r["currency"] == currency)
        mine = [r for r in data if r["currency"] == currency]
        assert sum((D(r["total"]) for r in mine), D(0)) == D(total["total"])
        for r in mine:
            parts = D(r["allocated"]) + D(r["shared"]) + D(r["unallocated"])
            assert parts == D(r["total"])


def test_csv_text_cells_never_run_as_formulas(stores: Stores) -> None:
    _, body, _ = csv_of(report(stores))
    evil = next(r for r in body if r["unit_id"] == "evil")
    assert evil["name"] == '\'=HYPERLINK("x")' and evil["cost_center"] == "'+CC"


def test_a_csv_of_one_unit_has_its_rows_only(stores: Stores) -> None:
    meta, body, rows = csv_of(report(stores), unit="payments")
    assert ["# filters", "unit=payments"] in meta
    assert {r["unit_id"] for r in body} == {"payments"} and rows == 2
    _, body, _ = csv_of(report(stores), unit=NO_TEAM)
    assert {r["unit_id"] for r in body} == {NO_TEAM}


# -- PDF --------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_a_statement_per_unit_with_its_figures(stores: Stores) -> None:
    chargeback = report(stores, GroupBy.DEPARTMENT, rule=UnallocatedRule.PROPORTIONAL)
    pages = pdf_text(render_statement(chargeback, org=InvoiceOrg("Acme")))
    assert len(pages) == len(chargeback.units) == 2
    for page, unit in zip(pages, chargeback.units, strict=True):
        assert "Acme" in page and "Chargeback statement" in page
        assert f"{unit.name} ({unit.unit_id})" in page and "October 2026" in page
        assert "PROVISIONAL" not in page and "Final" in page
        for currency in chargeback.currencies:
            figures = unit.in_currency(currency)
            for amount in (figures.allocated, figures.shared, figures.unallocated, figures.total):
                assert format_money(amount, currency) in page
    assert "No department (" + NO_UNIT + ")" in pages[1]


def test_a_statement_of_one_unit_and_provisional_until_final(stores: Stores) -> None:
    early = report(stores, GroupBy.COST_CENTER, today=date(2026, 11, 1))
    assert not early.final
    pages = pdf_text(render_statement(early, unit="PAY"))
    assert len(pages) == 1
    assert "PROVISIONAL" in pages[0] and "Payments" not in pages[0] and "PAY (PAY)" in pages[0]
    assert "Page 1 of 1" in pages[0]


# -- the request ------------------------------------------------------------------------------


def request(**fields: object) -> ExportRequest:
    base = ExportRequest("chargeback", date(2026, 10, 1), date(2026, 10, 31), month=MONTH,
                         group_by="team")  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_chargeback_request_runs_on_its_month(stores: Stores) -> None:
    view = View(caller=ADMIN, stores=stores, today=TODAY)
    checked = validate_export(view, request(format="pdf", unit="payments"))
    assert (checked.start, checked.end, checked.unit) == (date(2026, 10, 1), date(2026, 10, 31),
                                                          "payments")  # fmt: skip
    assert validate_export(view, request(group_by="costCenter", unit=NO_UNIT)).unit == NO_UNIT
    assert export_range("chargeback", None, None, MONTH) == (date(2026, 10, 1),
                                                             date(2026, 10, 31))  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"month": None}, "month"),
        ({"month": "2026-12"}, "month"),
        ({"group_by": None}, "groupBy"),
        ({"format": "xlsx"}, "format"),
        ({"unit": "nobody"}, "unit"),
        ({"group_by": "department", "unit": "payments"}, "unit"),  # a team, not a department
        ({"format": "pdf", "unit": NO_TEAM}, "unit"),  # a line, not a statement
        ({"user_id": "u-alice"}, "userId"),
        ({"service": "AmazonEC2"}, "service"),
    ],
)
def test_a_bad_chargeback_request_is_refused(
    stores: Stores, fields: dict[str, object], field: str
) -> None:
    view = View(caller=ADMIN, stores=stores, today=TODAY)
    with pytest.raises(Invalid) as raised:
        validate_export(view, request(**fields))
    assert raised.value.errors[0].field == field


def test_other_exports_take_no_chargeback_fields(stores: Stores) -> None:
    view = View(caller=ADMIN, stores=stores, today=TODAY)
    costs = ExportRequest("costs", date(2026, 10, 1), date(2026, 10, 31))
    for fields, field in (({"month": MONTH}, "month"), ({"format": "pdf"}, "format")):
        with pytest.raises(Invalid) as raised:
            validate_export(view, replace(costs, **fields))  # type: ignore[arg-type]
        assert raised.value.errors[0].field == field
    with pytest.raises(Invalid) as raised:
        export_range("costs", date(2026, 10, 1), None, None)
    assert raised.value.errors[0].field == "endDate"


def test_a_member_cannot_export_the_chargeback(stores: Stores) -> None:
    with pytest.raises(Forbidden):
        validate_export(View(caller=ALICE, stores=stores, today=TODAY), request())


# -- the reports function ---------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "suffix", "content_type"), [
    ("csv", "csv", "text/csv; charset=utf-8"),
    ("pdf", "pdf", "application/pdf"),
])  # fmt: skip
def test_the_job_writes_the_file(
    handler: ModuleType,  # noqa: F811
    dynamo_stores: Stores,
    fmt: str,
    suffix: str,
    content_type: str,
) -> None:
    world(dynamo_stores, days=EDGE_DAYS)
    params = {"kind": "chargeback", "month": MONTH, "groupBy": "department", "format": fmt}
    made = job(dynamo_stores, "export", params)
    assert call(handler, records(made.job_id))["batchItemFailures"] == []
    done = stored(dynamo_stores, made.job_id)
    assert done.status is JobStatus.READY, done.error
    assert done.object_key == f"reports/exports/u-alice/{made.job_id}.{suffix}"
    assert done.rows == (2 if fmt == "pdf" else (2 + 1 + 1) * 2)
    found = s3_object(done.object_key)
    assert found["ContentType"] == content_type
    body = found["Body"].read()
    if fmt == "pdf":
        assert len(PdfReader(io.BytesIO(body)).pages) == 2
    else:
        assert body.decode("utf-8-sig").startswith("# Tally chargeback")
