"""Invariants of the tax arithmetic, for any amounts (Hypothesis): a spread month adds up to
its figure exactly and any run of days carries its share to the cent; per-total tax is the
printed base times the rate, rounded once; gross is always net + tax."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tally.tax.compute import compute_tax, round_half_up, spread_over_days
from tally.tax.model import Rounding, TaxableLine, TaxMode, TaxRule, TaxSettings, Unit

CENTS = st.integers(min_value=-10_000_000, max_value=10_000_000).map(lambda c: Decimal(c) / 100)
RATES = st.integers(min_value=0, max_value=1_000_000).map(lambda r: Decimal(r) / 10_000)
START = date(2026, 2, 1)


@given(amount=CENTS, days=st.integers(min_value=1, max_value=31), k=st.integers(0, 31))
def test_a_spread_adds_up_and_each_run_of_days_carries_its_share(
    amount: Decimal, days: int, k: int
) -> None:
    lines = spread_over_days("x", amount, START, START + timedelta(days=days), "EUR")
    assert len(lines) == days
    assert sum(line.amount for line in lines) == amount
    k = min(k, days)
    first_k = sum((line.amount for line in lines[:k]), Decimal(0))
    assert first_k == (amount if k == days else round_half_up(amount * k / days, "EUR"))


@given(amounts=st.lists(CENTS, min_size=1, max_size=8), rate=RATES, per_line=st.booleans())
def test_gross_is_net_plus_tax_and_per_total_is_one_rounding(
    amounts: list[Decimal], rate: Decimal, per_line: bool
) -> None:
    rule = TaxRule("r", "VAT", "DE", rate, Unit.org(), date(2020, 1, 1), None)
    lines = [TaxableLine(f"l{n}", START, a) for n, a in enumerate(amounts)]
    settings = TaxSettings(TaxMode.ADD, Rounding.PER_LINE if per_line else Rounding.PER_TOTAL)
    result = compute_tax(lines, lambda day: [rule], currency="EUR", settings=settings)
    assert result.gross == result.net + result.tax
    (row,) = result.rows
    assert row.base == sum(amounts, Decimal(0))
    if not per_line:
        assert row.tax == round_half_up(row.base * rate / 100, "EUR")
    else:
        # each line's own rounding is off by at most half a cent
        assert abs(row.tax - row.base * rate / 100) <= Decimal("0.005") * len(amounts)
