"""The local stack's DEMO rates (infra/local/demo_rates.py): every business day of the range,
deterministic, in the ECB's format labelled as demo rates, and loaded so that a month of the
demo converts with each weekend day saying it used Friday's rate."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from infra.local.demo_rates import (
    DEMO_SOURCE,
    TRANSFER_PRICE,
    demo_rates,
    demo_rates_xml,
    load_demo_rates,
)
from tally.rates import MANUAL, rate_on
from tally.rates.ecb import parse_reference_rates
from tally.store import memory_stores

FIRST, LAST = date(2026, 8, 15), date(2026, 11, 20)


def test_every_business_day_has_a_rate_and_the_same_days_give_the_same_rates() -> None:
    rates = demo_rates(FIRST, LAST)
    assert rates == demo_rates(FIRST, LAST)
    days = {r.day for r in rates}
    assert all(d.weekday() < 5 for d in days)
    assert date(2026, 11, 20) in days and date(2026, 11, 21) not in days
    usd = [r.rate for r in rates if r.quote == "USD"]
    assert min(usd) > Decimal("1.02") and max(usd) < Decimal("1.09")


def test_the_file_is_the_ecb_format_labelled_as_demo() -> None:
    rates = demo_rates(FIRST, LAST)
    body = demo_rates_xml(rates)
    assert b"DEMO reference rates" in body and b"not the ECB's" in body
    assert parse_reference_rates(body, source=DEMO_SOURCE) == sorted(
        rates, key=lambda r: (r.day, r.quote)
    )


def test_loaded_a_weekend_uses_fridays_rate_and_the_transfer_price_wins_its_day() -> None:
    stores = memory_stores()
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    load_demo_rates(stores.rates, first=FIRST, last=LAST, actor="u-admin", now=now)
    saturday = rate_on(stores.rates, "USD", "EUR", date(2026, 11, 14))
    assert saturday.rate_day == date(2026, 11, 13) and saturday.fallback
    assert saturday.source == "demo+inverse"
    first = rate_on(stores.rates, "USD", "GBP", date(2026, 11, 1))  # a Sunday: the price's day
    assert (first.rate, first.source) == (TRANSFER_PRICE, MANUAL)
    monday = rate_on(stores.rates, "USD", "GBP", date(2026, 11, 2))
    assert monday.source == "demo+cross"
