"""Worked tax examples. Every expected figure is written out by hand (the arithmetic is in
the comment beside it), never computed by the code under test."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from tally.tax.compute import compute_tax, rules_for, unit_chain
from tally.tax.model import (
    RateRow,
    Rounding,
    TaxableLine,
    TaxMode,
    TaxRule,
    TaxSettings,
    Treatment,
    Unit,
    UnitKind,
)

D = Decimal
PER_LINE = TaxSettings(TaxMode.ADD, Rounding.PER_LINE)
PER_TOTAL = TaxSettings(TaxMode.ADD, Rounding.PER_TOTAL)
ORG = Unit.org()
EXPORT_TEAM = Unit(UnitKind.TEAM, "export")
PARENTS: dict[str, str | None] = {"export": "emea", "emea": None, "platform": None}


def rule(
    rule_id: str,
    rate: str,
    *,
    unit: Unit = ORG,
    start: date = date(2020, 1, 1),
    end: date | None = None,
    treatment: Treatment = Treatment.STANDARD,
    reason: str | None = None,
    name: str = "VAT",
    jurisdiction: str = "DE",
) -> TaxRule:
    return TaxRule(rule_id, name, jurisdiction, D(rate), unit, start, end, treatment, reason)


VAT_19 = rule("vat-19", "19")


def taxed(
    lines: Sequence[TaxableLine],
    rules: Sequence[TaxRule],
    settings: TaxSettings = PER_TOTAL,
    *,
    unit: Unit = ORG,
    currency: str = "EUR",
    aws_tax: Decimal = D(0),
):  # type: ignore[no-untyped-def]
    chain = unit_chain(unit, PARENTS)
    return compute_tax(
        lines,
        lambda day: rules_for(rules, chain, day),
        currency=currency,
        settings=settings,
        aws_tax=aws_tax,
    )


DAY = date(2026, 11, 3)
THREE_LINES = [
    TaxableLine("EC2 i-1", DAY, D("10.04")),
    TaxableLine("S3 bucket", DAY, D("10.04")),
    TaxableLine("RDS db-1", DAY, D("10.04")),
]


def test_eu_vat_19_on_three_lines_rounded_per_line() -> None:
    # each line: 10.04 x 19% = 1.9076 -> 1.91; three lines: 5.73
    result = taxed(THREE_LINES, [VAT_19], PER_LINE)
    assert result.rows == (
        RateRow("VAT", "DE", D("19"), Treatment.STANDARD, D("30.12"), D("5.73")),
    )
    assert (result.net, result.tax, result.gross) == (D("30.12"), D("5.73"), D("35.85"))


def test_eu_vat_19_on_three_lines_rounded_per_total_differs_by_a_cent() -> None:
    # 30.12 x 19% = 5.7228 -> 5.72 (a cent less than per line)
    result = taxed(THREE_LINES, [VAT_19], PER_TOTAL)
    assert result.rows == (
        RateRow("VAT", "DE", D("19"), Treatment.STANDARD, D("30.12"), D("5.72")),
    )
    assert (result.net, result.tax, result.gross) == (D("30.12"), D("5.72"), D("35.84"))


def test_per_line_rounds_each_invoice_line_not_each_day() -> None:
    # one invoice line over two days, 5.02 + 5.02 = 10.04 -> 10.04 x 19% = 1.9076 -> 1.91
    # (per day it would be 0.9538 -> 0.95 twice = 1.90)
    lines = [
        TaxableLine("EC2 i-1", DAY, D("5.02")),
        TaxableLine("EC2 i-1", DAY + timedelta(1), D("5.02")),
    ]
    assert taxed(lines, [VAT_19], PER_LINE).tax == D("1.91")


def test_a_zero_rated_unit_is_taxed_at_zero_and_says_why() -> None:
    zero = rule(
        "zero-export",
        "0",
        unit=EXPORT_TEAM,
        treatment=Treatment.ZERO_RATED,
        reason="Export of services outside the EU",
    )
    lines = [TaxableLine("EC2 i-1", DAY, D("100.00")), TaxableLine("S3", DAY, D("23.45"))]
    result = taxed(lines, [VAT_19, zero], unit=EXPORT_TEAM)
    # the team's own rule replaces the organisation's: 123.45 at 0% = 0.00
    assert result.rows == (
        RateRow(
            "VAT",
            "DE",
            D("0"),
            Treatment.ZERO_RATED,
            D("123.45"),
            D("0.00"),
            "Export of services outside the EU",
        ),
    )
    assert (result.net, result.tax, result.gross) == (D("123.45"), D("0.00"), D("123.45"))
    # another team (no rule of its own) still pays the organisation's 19%: 123.45 x 19%
    # = 23.4555 -> 23.46
    other = taxed(lines, [VAT_19, zero], unit=Unit(UnitKind.TEAM, "platform"))
    assert (other.tax, other.gross) == (D("23.46"), D("146.91"))


def test_an_exempt_department_covers_its_teams_and_shows_the_base_apart() -> None:
    exempt = rule(
        "exempt-emea",
        "0",
        unit=Unit(UnitKind.TEAM, "emea"),
        treatment=Treatment.EXEMPT,
        reason="Financial services (Art. 135 VAT Directive)",
    )
    result = taxed([TaxableLine("EC2", DAY, D("50.00"))], [VAT_19, exempt], unit=EXPORT_TEAM)
    assert result.rows == (
        RateRow(
            "VAT",
            "DE",
            D("0"),
            Treatment.EXEMPT,
            D("50.00"),
            D("0.00"),
            "Financial services (Art. 135 VAT Directive)",
        ),
    )
    assert (result.tax, result.gross) == (D("0.00"), D("50.00"))


def test_a_rate_change_on_the_15th_splits_the_month_by_day() -> None:
    # Germany's temporary cut, the other way round: 16% until 14 July, 19% from 15 July.
    low = rule("vat-16", "16", start=date(2020, 7, 1), end=date(2020, 7, 15))
    high = rule("vat-19", "19", start=date(2020, 7, 15))
    july = [TaxableLine("EC2 i-1", date(2020, 7, d), D("10.00")) for d in range(1, 32)]
    result = taxed(july, [low, high], PER_TOTAL)
    # 1-14 July: 14 days x 10.00 = 140.00 x 16% = 22.40
    # 15-31 July: 17 days x 10.00 = 170.00 x 19% = 32.30
    assert result.rows == (
        RateRow("VAT", "DE", D("19"), Treatment.STANDARD, D("170.00"), D("32.30")),
        RateRow("VAT", "DE", D("16"), Treatment.STANDARD, D("140.00"), D("22.40")),
    )
    # net 310.00, tax 22.40 + 32.30 = 54.70, gross 364.70
    assert (result.net, result.tax, result.gross) == (D("310.00"), D("54.70"), D("364.70"))
    assert result.untaxed == D("0.00")


def test_days_before_any_rule_are_untaxed_and_said_so() -> None:
    late = rule("vat-19", "19", start=date(2020, 7, 15))
    july = [TaxableLine("EC2 i-1", date(2020, 7, d), D("10.00")) for d in range(1, 32)]
    result = taxed(july, [late])
    # 17 days taxed: 170.00 x 19% = 32.30; 14 days (140.00) under no rule
    assert (result.tax, result.untaxed, result.gross) == (D("32.30"), D("140.00"), D("342.30"))


def test_a_half_cent_rounds_half_up_not_to_even() -> None:
    reduced = rule("vat-7", "7")
    # 1.50 x 7% = 0.105 -> 0.11 (half up; banker's rounding would give 0.10)
    assert taxed([TaxableLine("Book", DAY, D("1.50"))], [reduced]).tax == D("0.11")
    # 2.50 x 7% = 0.175 -> 0.18 (both agree here: the digit before is odd)
    assert taxed([TaxableLine("Book", DAY, D("2.50"))], [reduced]).tax == D("0.18")
    # a credit is the mirror: -1.50 x 7% = -0.105 -> -0.11
    assert taxed([TaxableLine("Credit", DAY, D("-1.50"))], [reduced]).tax == D("-0.11")
    # a base with sub-cent digits is rounded first: 0.004999 + 1.496 = 1.500999 -> 1.50,
    # x 7% = 0.105 -> 0.11
    lines = [TaxableLine("a", DAY, D("0.004999")), TaxableLine("a", DAY, D("1.496"))]
    assert taxed(lines, [reduced]).rows[0].base == D("1.50")
    assert taxed(lines, [reduced]).tax == D("0.11")


def test_a_credit_line_reduces_the_base() -> None:
    lines = [
        TaxableLine("EC2 i-1", DAY, D("100.00")),
        TaxableLine("Credit · EC2", DAY, D("-10.05")),
    ]
    # per line: 100.00 x 19% = 19.00; -10.05 x 19% = -1.9095 -> -1.91; tax 17.09
    per_line = taxed(lines, [VAT_19], PER_LINE)
    assert (per_line.net, per_line.tax, per_line.gross) == (D("89.95"), D("17.09"), D("107.04"))
    # per total: 89.95 x 19% = 17.0905 -> 17.09
    assert taxed(lines, [VAT_19], PER_TOTAL).tax == D("17.09")


def test_aws_own_tax_kept_on_top_or_replaced() -> None:
    lines = [TaxableLine("EC2 i-1", DAY, D("100.00"))]
    # add: AWS's 5.00 stays in the net and is not taxed again: net 105.00 + 19.00 = 124.00
    kept = taxed(lines, [VAT_19], TaxSettings(TaxMode.ADD, Rounding.PER_TOTAL), aws_tax=D("5"))
    assert (kept.net, kept.tax, kept.gross, kept.aws_tax) == (
        D("105.00"),
        D("19.00"),
        D("124.00"),
        D("5.00"),
    )
    # replace: AWS's 5.00 leaves the net: 100.00 + 19.00 = 119.00
    replaced = taxed(
        lines, [VAT_19], TaxSettings(TaxMode.REPLACE, Rounding.PER_TOTAL), aws_tax=D("5")
    )
    assert (replaced.net, replaced.tax, replaced.gross) == (D("100.00"), D("19.00"), D("119.00"))


def test_a_currency_without_cents_rounds_to_whole_units() -> None:
    # 1,234 JPY x 10% (Japan's consumption tax) = 123.4 -> 123
    result = taxed(
        [TaxableLine("EC2", DAY, D("1234"))],
        [rule("ct-jp", "10", name="Consumption tax", jurisdiction="JP")],
        currency="JPY",
    )
    assert (result.tax, result.gross) == (D("123"), D("1357"))


def test_two_jurisdictions_of_one_unit_each_tax_the_whole_base() -> None:
    state = rule("ny-state", "4", name="Sales tax", jurisdiction="US-NY")
    city = rule("nyc", "4.5", name="Sales tax", jurisdiction="US-NYC")
    result = taxed([TaxableLine("EC2", DAY, D("200.00"))], [state, city])
    # 200.00 x 4.5% = 9.00 and 200.00 x 4% = 8.00: 17.00 (not 4% of 209.00)
    assert [(r.jurisdiction, r.tax) for r in result.rows] == [
        ("US-NYC", D("9.00")),
        ("US-NY", D("8.00")),
    ]
    assert result.gross == D("217.00")
