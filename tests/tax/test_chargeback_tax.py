"""Tax on chargeback statements: a unit's month totals spread over the month's days so a rate
change on the 15th taxes each part at its own rate; a zero-rated cost center; no rule, no
change. Figures worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tally.chargeback.model import (
    Chargeback,
    ChargebackUnit,
    Figures,
    GroupBy,
    UnallocatedRule,
)
from tally.chargeback.tax import with_tax
from tally.models import AuditEntry, Metric
from tally.store import Stores, memory_stores
from tally.tax.compute import spread_over_days
from tally.tax.model import RateRow, TaxRule, Treatment, Unit, UnitKind

D = Decimal
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
AUDIT = AuditEntry("tax:x", NOW, "u-admin", "tax.rule.created", "x", {})
OCT1, NOV1 = date(2026, 10, 1), date(2026, 11, 1)


def unit(unit_id: str, kind: str, allocated: str, shared: str = "0") -> ChargebackUnit:
    figures = {"EUR": Figures(D(allocated), D(shared))}
    return ChargebackUnit(unit_id, unit_id.title(), kind, None, None, 2, figures)


def report(*units: ChargebackUnit) -> Chargeback:
    total = sum((u.in_currency("EUR").total for u in units), D(0))
    no_team = ChargebackUnit("(no team)", "No team", "noTeam", None, None, 0, {})
    return Chargeback(
        "2026-10", GroupBy.TEAM, UnallocatedRule.PROPORTIONAL, Metric.EFFECTIVE, ("EUR",),
        units, no_team, {}, {"EUR": total}, True,
    )  # fmt: skip


def rule(rule_id: str, rate: str, start: date, end: date | None = None, **kw: object) -> TaxRule:
    return TaxRule(rule_id, "VAT", "DE", D(rate), kw.pop("unit", Unit.org()), start, end, **kw)  # type: ignore[arg-type]


def with_rules(*rules: TaxRule) -> Stores:
    stores = memory_stores()
    for n, r in enumerate(rules):
        stores.tax.save_rule(r, read_at=n, audit=AUDIT)
    return stores


def test_no_rule_leaves_the_statement_as_it_was() -> None:
    before = report(unit("payments", "team", "300.00"))
    assert with_tax(memory_stores(), before, OCT1, NOV1) == before


def test_a_rate_change_on_the_15th_apportions_the_month_by_days() -> None:
    stores = with_rules(
        rule("vat-16", "16", date(2026, 1, 1), date(2026, 10, 15)),
        rule("vat-19", "19", date(2026, 10, 15)),
    )
    taxed = with_tax(stores, report(unit("payments", "team", "300.00", "10.00")), OCT1, NOV1)
    tax = taxed.units[0].tax["EUR"]
    # 1-14 Oct, 14/31 of the month: allocated 300.00 x 14/31 = 135.48, shared 10.00 x 14/31
    # = 4.52: 140.00 x 16% = 22.40; the other 17 days: 164.52 + 5.48 = 170.00 x 19% = 32.30
    assert tax.rows == (
        RateRow("VAT", "DE", D("19"), Treatment.STANDARD, D("170.00"), D("32.30")),
        RateRow("VAT", "DE", D("16"), Treatment.STANDARD, D("140.00"), D("22.40")),
    )
    assert (tax.net, tax.tax, tax.gross) == (D("310.00"), D("54.70"), D("364.70"))
    # the figures themselves are untouched: the units still add up to the organisation's
    assert (
        taxed.units[0].figures
        == report(unit("payments", "team", "300.00", "10.00")).units[0].figures
    )


def test_a_zero_rated_cost_center_and_a_taxed_one() -> None:
    stores = with_rules(
        rule("vat", "19", date(2026, 1, 1)),
        rule("zero", "0", date(2026, 1, 1), unit=Unit(UnitKind.COST_CENTER, "CC-EXPORT"),
             treatment=Treatment.ZERO_RATED, reason="Intra-group export"),
    )  # fmt: skip
    taxed = with_tax(
        stores,
        report(unit("CC-EXPORT", "costCenter", "1000.00"), unit("CC-HOME", "costCenter", "99.99")),
        OCT1,
        NOV1,
    )
    export, home = taxed.units
    assert (export.tax["EUR"].tax, export.tax["EUR"].gross) == (D("0.00"), D("1000.00"))
    assert export.tax["EUR"].rows[0].reason == "Intra-group export"
    # 99.99 x 19% = 18.9981 -> 19.00
    assert (home.tax["EUR"].tax, home.tax["EUR"].gross) == (D("19.00"), D("118.99"))


def test_spreading_keeps_the_amount_to_the_cent() -> None:
    days = spread_over_days("x", D("100.00"), OCT1, NOV1, "EUR")
    assert len(days) == 31
    assert sum(line.amount for line in days) == D("100.00")
    # the first 15 days: 100.00 x 15/31 = 48.387 -> 48.39
    assert sum(line.amount for line in days[:15]) == D("48.39")
    # a credit spreads the same way, negative
    assert sum(line.amount for line in spread_over_days("x", D("-7.00"), OCT1, NOV1, "EUR")) == D(
        "-7.00"
    )


def test_the_statement_pdf_shows_the_units_tax() -> None:
    import io

    import pypdf

    from tally.chargeback.pdf import render_statement

    stores = with_rules(rule("vat", "19", date(2026, 1, 1)))
    taxed = with_tax(stores, report(unit("payments", "team", "99.99")), OCT1, NOV1)
    pdf = render_statement(taxed, unit="payments")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "VAT DE" in text
    assert "Total with tax (EUR)" in text
    assert "€118.99" in text or "118.99" in text
