"""Rates in force and per-day conversion (``tally.rates``), with the in-memory store: a day's
rate or the latest earlier one (and saying so), manual over market on the same day, EUR cross
rates, identity, and a range's total that is exactly the sum of its converted days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tally.rates import (
    ECB,
    MANUAL,
    Converter,
    NoRate,
    Rate,
    convert_amount,
    convert_days,
    rate_on,
)
from tally.store.audit import MemoryAuditLog
from tally.store.rates import MemoryRateStore

D = date(2026, 11, 2)  # a Monday
NOV = [date(2026, 11, n) for n in range(1, 31)]


def store(*rates: Rate) -> MemoryRateStore:
    s = MemoryRateStore(MemoryAuditLog())
    s.put_many(rates)
    return s


def ecb(day: date, quote: str, rate: str) -> Rate:
    return Rate(day, "EUR", quote, Decimal(rate), ECB)


def test_a_day_with_its_own_rate_uses_it_and_is_no_fallback() -> None:
    used = rate_on(store(ecb(D, "USD", "1.0548")), "EUR", "USD", D)
    assert (used.rate, used.rate_day, used.source, used.fallback) == (
        Decimal("1.0548"),
        D,
        ECB,
        False,
    )


def test_a_day_without_a_rate_uses_the_latest_earlier_one_and_says_so() -> None:
    rates = store(
        ecb(D - timedelta(days=3), "USD", "1.05"), ecb(D - timedelta(days=1), "USD", "1.06")
    )
    used = rate_on(rates, "EUR", "USD", D + timedelta(days=1))  # Tuesday: no rate yet
    assert used.rate == Decimal("1.06")
    assert used.rate_day == D - timedelta(days=1)
    assert used.fallback


def test_no_rate_on_or_before_the_day_is_a_clear_error_on_currency() -> None:
    with pytest.raises(NoRate) as caught:
        rate_on(store(ecb(D, "USD", "1.05")), "EUR", "USD", D - timedelta(days=1))
    assert caught.value.errors[0].field == "currency"
    assert "on or before 2026-11-01" in caught.value.detail


def test_manual_beats_market_on_the_same_day_and_a_newer_market_rate_beats_an_older_manual() -> (
    None
):
    rates = store(
        ecb(D, "GBP", "0.83"),
        # Another configured feed, named after "manual" in the alphabet: the rank decides.
        Rate(D, "EUR", "GBP", Decimal("0.86"), "other-feed"),
        Rate(D, "EUR", "GBP", Decimal("0.85"), MANUAL),
        ecb(D + timedelta(days=1), "GBP", "0.84"),
    )
    assert rate_on(rates, "EUR", "GBP", D).rate == Decimal("0.85")
    assert rate_on(rates, "EUR", "GBP", D).source == MANUAL
    assert rate_on(rates, "EUR", "GBP", D + timedelta(days=1)).rate == Decimal("0.84")


def test_a_manual_rate_of_the_pair_beats_the_cross_rate_of_the_same_day() -> None:
    rates = store(
        ecb(D, "USD", "1.05"),
        ecb(D, "GBP", "0.84"),
        Rate(D, "USD", "GBP", Decimal("0.79"), MANUAL),
    )
    assert rate_on(rates, "USD", "GBP", D).rate == Decimal("0.79")


def test_pairs_the_ecb_does_not_publish_go_through_eur() -> None:
    rates = store(ecb(D, "USD", "1.0548"), ecb(D, "GBP", "0.83225"))
    usd_gbp = rate_on(rates, "USD", "GBP", D)
    assert usd_gbp.rate == (Decimal("0.83225") / Decimal("1.0548")).quantize(
        Decimal("0.0000000001")
    )
    assert usd_gbp.source == "ecb+cross"
    usd_eur = rate_on(rates, "USD", "EUR", D)
    assert usd_eur.rate == Decimal("0.9480470231")  # 1 / 1.0548
    assert usd_eur.source == "ecb+inverse"


def test_a_cross_rate_is_as_old_as_its_older_leg() -> None:
    rates = store(ecb(D - timedelta(days=2), "USD", "1.05"), ecb(D, "GBP", "0.84"))
    used = rate_on(rates, "USD", "GBP", D)
    assert used.rate_day == D - timedelta(days=2)
    assert used.fallback


def test_the_same_currency_is_the_identity_without_any_read() -> None:
    used = rate_on(store(), "USD", "USD", D)
    assert (used.rate, used.source, used.fallback) == (Decimal(1), "identity", False)


def test_a_month_converted_is_the_sum_of_its_converted_days_not_the_month_at_one_rate() -> None:
    # Given a rate that moves every day, weekends without a rate (the ECB publishes on
    # business days), and a month of daily costs in USD.
    rates = [
        ecb(d, "USD", str(Decimal("1.0400") + Decimal(n) / 1000))
        for n, d in enumerate(NOV)
        if d.weekday() < 5
    ]
    # (Sunday the 1st has no rate on or before it: the month's costs start on the 2nd here.)
    daily = {d: Decimal("12.3456789") + n for n, d in enumerate(NOV) if d >= D}
    # When converted into EUR.
    converted = convert_days(store(*rates), daily, "USD", "EUR")
    # Then the total is exactly the sum of the days, each at its own day's rate.
    assert converted.total == sum((d.amount for d in converted.days), Decimal(0))
    for d in converted.days:
        assert d.amount == convert_amount(daily[d.day], d.rate)
    saturday = next(d for d in converted.days if d.day == date(2026, 11, 7))
    assert saturday.rate.fallback and saturday.rate.rate_day == date(2026, 11, 6)
    assert converted.fallback
    # And not the month at one rate (the last day's).
    one_rate = convert_amount(sum(daily.values(), Decimal(0)), converted.days[-1].rate)
    assert converted.total != one_rate
    assert len(converted.rates_used()) == len(rates)  # each rate day once (weekends reuse)


def test_each_day_is_quantized_at_the_stores_precision_half_even() -> None:
    converted = convert_days(store(ecb(D, "USD", "3")), {D: Decimal("0.00000000005")}, "EUR", "USD")
    # 0.00000000015 at 10 decimals, half even: 0.0000000002
    assert converted.total == Decimal("0.0000000002")


def test_one_converter_reads_each_currencys_rates_once_for_every_figure() -> None:
    reads: list[tuple[str, str]] = []

    class Counting(MemoryRateStore):
        def history(self, base: str, quote: str, first: date, last: date) -> list[Rate]:
            reads.append((base, quote))
            return super().history(base, quote, first, last)

    counting = Counting(MemoryAuditLog())
    counting.put_many([ecb(D, "USD", "1.05"), ecb(D, "GBP", "0.84")])
    converter = Converter(counting, "GBP", D, D + timedelta(days=5))
    for _ in range(10):  # ten users' months
        converter.convert_all({"USD": {D: Decimal(1)}, "GBP": {D: Decimal(2)}})
    # USD->GBP: the pair, its inverse, and the two EUR legs; GBP->GBP reads nothing.
    assert sorted(reads) == sorted([("USD", "GBP"), ("GBP", "USD"), ("EUR", "USD"), ("EUR", "GBP")])
