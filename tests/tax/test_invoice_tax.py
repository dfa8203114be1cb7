"""Tax on a real invoice: a user's month ingested as the daily run ingests it, a rate change
on the 15th, AWS's own tax line kept or replaced, the team's zero rating, the PDF's table.
Expected figures are worked out by hand in the comments."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pypdf

from tally.allocation import OwnerTagRule
from tally.identity import Role
from tally.ingest import ingest_days
from tally.invoices import InvoiceOrg, build_invoice, render_pdf
from tally.invoices.model import Invoice
from tally.models import AuditEntry, CostLine, Metric, UserProfile
from tally.org.model import Team
from tally.store import Stores, memory_stores
from tally.tax.model import (
    RateRow,
    Rounding,
    TaxMode,
    TaxRule,
    TaxSettings,
    Treatment,
    Unit,
    UnitKind,
)

D = Decimal
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)
USER = UserProfile("u-mia", "mia", "mia@example.com", Role.USER)
AUDIT = AuditEntry("tax:x", NOW, "u-admin", "tax.rule.created", "x", {})


def vat(rule_id: str, rate: str, start: date, end: date | None = None, **kw: object) -> TaxRule:
    return TaxRule(rule_id, "VAT", "DE", D(rate), kw.pop("unit", Unit.org()), start, end, **kw)  # type: ignore[arg-type]


def world() -> Stores:
    """October 2026: EC2 10.00 a day and S3 1.00 a day, a 3.10 AWS tax line on the 31st."""
    stores = memory_stores()
    stores.users.put(USER)
    days = [date(2026, 10, 1) + timedelta(days=n) for n in range(31)]
    tags = {"Owner": "mia"}
    lines = [
        CostLine(day, "AmazonEC2", "i-1", D("10.00"), D("10.00"), "EUR", tags=tags) for day in days
    ] + [CostLine(day, "AmazonS3", "b-1", D("1.00"), D("1.00"), "EUR", tags=tags) for day in days]
    lines.append(
        CostLine(
            days[-1],
            "AmazonEC2",
            None,
            D("3.10"),
            D("3.10"),
            "EUR",
            charge_category="Tax",
            tags=tags,
        )
    )
    ingest_days(lines, days, stores=stores, rule=OwnerTagRule(), source="t", now=NOW)
    return stores


def invoice(stores: Stores) -> Invoice:
    return build_invoice(
        stores, user_id=USER.user_id, cost_center=None, month="2026-10", metric=Metric.BILLED,
        today=TODAY, now=NOW, org=InvoiceOrg("Example GmbH"),
    )  # fmt: skip


def add_rules(stores: Stores, *rules: TaxRule) -> None:
    for n, rule in enumerate(rules):
        stores.tax.save_rule(rule, read_at=n, audit=AUDIT)


def test_no_rule_means_the_invoice_is_unchanged() -> None:
    stores = world()
    before = invoice(stores)
    assert before.sections[0].tax is None
    # EC2 310.00 + S3 31.00 + AWS tax 3.10 = 344.10, as always
    assert before.sections[0].total == D("344.10")
    add_rules(stores, vat("vat", "19", date(2026, 11, 1)))  # November on: not October's
    assert invoice(stores).sections[0].tax is None
    assert invoice(stores).content_hash == before.content_hash


def test_a_rate_change_on_the_15th_taxes_each_half_at_its_rate() -> None:
    stores = world()
    add_rules(
        stores,
        vat("vat-16", "16", date(2026, 1, 1), date(2026, 10, 15)),
        vat("vat-19", "19", date(2026, 10, 15)),
    )
    section = invoice(stores).sections[0]
    tax = section.tax
    assert tax is not None
    # 1-14 Oct: 14 x 11.00 = 154.00 x 16% = 24.64; 15-31 Oct: 17 x 11.00 = 187.00 x 19% = 35.53
    assert tax.rows == (
        RateRow("VAT", "DE", D("19"), Treatment.STANDARD, D("187.00"), D("35.53")),
        RateRow("VAT", "DE", D("16"), Treatment.STANDARD, D("154.00"), D("24.64")),
    )
    # add (the default): AWS's 3.10 stays in the net, untaxed: 344.10 + 60.17 = 404.27
    assert (tax.net, tax.tax, tax.gross, tax.aws_tax) == (
        D("344.10"), D("60.17"), D("404.27"), D("3.10")
    )  # fmt: skip
    assert section.total == D("344.10")
    assert (tax.rows[1].first_day, tax.rows[1].last_day) == (date(2026, 10, 1), date(2026, 10, 14))
    assert "VAT DE (1 Oct \u2013 14 Oct 2026)" in pdf_text(render_pdf(invoice(stores)))


def test_replace_mode_drops_aws_tax_lines_from_the_invoice() -> None:
    stores = world()
    add_rules(stores, vat("vat-19", "19", date(2026, 1, 1)))
    stores.tax.save_settings(TaxSettings(TaxMode.REPLACE, Rounding.PER_LINE), audit=AUDIT)
    section = invoice(stores).sections[0]
    assert all(line.charge_category != "Tax" for line in section.lines)
    assert section.total == D("341.00")  # 310.00 + 31.00, AWS's 3.10 gone
    assert section.tax is not None
    # per line: EC2 310.00 x 19% = 58.90, S3 31.00 x 19% = 5.89: 64.79; gross 405.79
    assert (section.tax.net, section.tax.tax, section.tax.gross) == (
        D("341.00"), D("64.79"), D("405.79")
    )  # fmt: skip


def test_a_team_zero_rated_and_the_pdf_shows_the_breakdown() -> None:
    stores = world()
    team = Team("export", "Export", members=frozenset({USER.user_id}))
    stores.access.save_team(team, previous=None, snapshot=stores.access.snapshot(), audit=AUDIT)
    add_rules(
        stores,
        vat("vat-19", "19", date(2026, 1, 1)),
        vat("zero", "0", date(2026, 10, 1), unit=Unit(UnitKind.TEAM, "export"),
            treatment=Treatment.ZERO_RATED, reason="Export of services"),
    )  # fmt: skip
    made = invoice(stores)
    tax = made.sections[0].tax
    assert tax is not None
    # 341.00 at 0%: tax 0.00; gross = net = 344.10
    assert tax.rows == (
        RateRow("VAT", "DE", D("0"), Treatment.ZERO_RATED, D("341.00"), D("0.00"),
                "Export of services"),
    )  # fmt: skip
    assert (tax.tax, tax.gross) == (D("0.00"), D("344.10"))
    text = pdf_text(render_pdf(made))
    assert "VAT DE, zero-rated: Export of services" in text
    assert "Total with tax (EUR)" in text


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
