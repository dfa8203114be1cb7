"""The rates function against recorded ECB documents (tests/rates/recorded: the daily file and
an excerpt of the 90-day history, in the format the ECB publishes): parsed exactly, stored
idempotently, a broken or hostile document refused whole. No network."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from rates import handler
from rates.settings import ECB_DAILY_URL, RatesSettings

from tally.rates import ECB, rate_on
from tally.rates.ecb import FeedError, parse_reference_rates
from tally.settings import ConfigurationError, Settings
from tally.store import Stores, memory_stores

RECORDED = Path(__file__).parent / "recorded"
DAILY = (RECORDED / "eurofxref-daily.xml").read_bytes()
HISTORY = (RECORDED / "eurofxref-hist-90d-excerpt.xml").read_bytes()


def test_the_daily_file_is_one_day_of_euro_rates_as_decimals() -> None:
    rates = parse_reference_rates(DAILY)
    assert {r.day for r in rates} == {date(2026, 11, 20)}
    assert len(rates) == 30
    usd = next(r for r in rates if r.quote == "USD")
    assert (usd.base, usd.rate, usd.source) == ("EUR", Decimal("1.0548"), ECB)
    assert next(r for r in rates if r.quote == "GBP").rate == Decimal("0.83225")


def test_the_90_day_history_is_every_business_day() -> None:
    rates = parse_reference_rates(HISTORY)
    assert sorted({r.day.isoformat() for r in rates}) == [
        "2026-11-14",
        "2026-11-17",
        "2026-11-18",
        "2026-11-19",
        "2026-11-20",
    ]
    assert len(rates) == 15


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b"<?xml version='1.0'?><x/>",  # no rates at all
        DAILY.replace(b"rate='1.0548'", b"rate='abc'"),
        DAILY.replace(b"rate='1.0548'", b"rate='-1'"),
        DAILY.replace(b"time='2026-11-20'", b"time='yesterday'"),
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    ],
)
def test_a_broken_or_hostile_document_is_refused_whole(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse_reference_rates(body)


def settings(aws: Settings) -> RatesSettings:
    return RatesSettings.from_env()


def test_a_run_stores_the_days_rates_and_a_second_run_changes_nothing(aws: Settings) -> None:
    stores: Stores = memory_stores()
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return HISTORY

    first = handler.run(settings(aws), store=stores.rates, fetch=fetch)
    stored = dict(stores.rates.items)  # type: ignore[attr-defined]
    second = handler.run(settings(aws), store=stores.rates, fetch=fetch)
    assert asked == [ECB_DAILY_URL, ECB_DAILY_URL]
    assert (
        first
        == second
        == {
            "source": "ecb",
            "written": 15,
            "first": "2026-11-14",
            "last": "2026-11-20",
            "currencies": 3,
        }
    )
    assert stores.rates.items == stored  # type: ignore[attr-defined]
    # And a weekend day converts at Friday's rate, saying so.
    used = rate_on(stores.rates, "USD", "GBP", date(2026, 11, 16))
    assert used.rate_day == date(2026, 11, 14) and used.fallback
    assert used.source == "ecb+cross"


def test_a_run_on_a_broken_feed_stores_nothing_and_fails(aws: Settings) -> None:
    stores = memory_stores()
    with pytest.raises(FeedError):
        handler.run(settings(aws), store=stores.rates, fetch=lambda url: b"<html>maintenance")
    assert stores.rates.items == {}  # type: ignore[attr-defined]


def test_the_feed_is_https_only(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALLY_RATES_URL", "http://example.com/rates.xml")
    with pytest.raises(ConfigurationError):
        RatesSettings.from_env()
    with pytest.raises(ValueError, match="https"):
        handler.fetch_https("http://example.com/rates.xml")
    monkeypatch.setenv("TALLY_RATES_URL", "https://example.com/hist-90d.xml")
    assert RatesSettings.from_env().rates_url == "https://example.com/hist-90d.xml"
