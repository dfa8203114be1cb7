"""The rates and billing settings stores' contract, against DynamoDB (moto) and the in-memory
fakes alike: a range's history reaches back to the rate in force on its first day, writing a
feed twice writes the same items, listing is newest first and pages, and a settings section
is saved alone with its audit entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from tally.models import ORG
from tally.rates import ECB, MANUAL, Rate
from tally.store import Stores
from tally.store.billing_settings import StoredSection
from tests.conftest import NOW
from tests.store.conftest import audit, every_page

D = date(2026, 11, 16)


def ecb(day: date, quote: str, rate: str) -> Rate:
    return Rate(day, "EUR", quote, Decimal(rate), ECB)


def test_history_reaches_back_to_the_rate_in_force_on_the_first_day(stores: Stores) -> None:
    old, friday, monday, later = (
        D - timedelta(days=10),
        D - timedelta(days=3),
        D,
        D + timedelta(days=9),
    )
    stores.rates.put_many(
        [
            ecb(old, "USD", "1.01"),
            ecb(friday, "USD", "1.02"),
            ecb(monday, "USD", "1.03"),
            ecb(later, "USD", "1.04"),
            Rate(friday, "EUR", "USD", Decimal("1.1"), MANUAL),
            ecb(friday, "GBP", "0.83"),
        ]
    )
    got = stores.rates.history("EUR", "USD", D - timedelta(days=1), D + timedelta(days=2))
    # Sunday's rate in force is Friday's (both sources), then the range's own; not later ones.
    assert [(r.day, r.source, r.rate) for r in got] == [
        (friday, ECB, Decimal("1.02")),
        (friday, MANUAL, Decimal("1.1")),
        (monday, ECB, Decimal("1.03")),
    ]
    assert isinstance(got[0].rate, Decimal)
    assert (
        stores.rates.history("EUR", "USD", old - timedelta(days=1), old - timedelta(days=1)) == []
    )


def test_writing_a_feed_again_writes_the_same_items(stores: Stores) -> None:
    day = [ecb(D, "USD", "1.0548"), ecb(D, "GBP", "0.83225")]
    stores.rates.put_many(day)
    stores.rates.put_many(day)
    assert every_page(lambda k: stores.rates.list(1, k)) == sorted(
        day, key=lambda r: r.quote, reverse=True
    )


def test_a_manual_rate_reads_back_with_who_set_it_and_is_audited(stores: Stores) -> None:
    manual = Rate(D, "USD", "GBP", Decimal("0.7925"), MANUAL, "u-fin", NOW, "Q4 transfer price")
    stores.rates.put_manual(manual, audit(ORG, "rate.set"))
    assert stores.rates.history("USD", "GBP", D, D) == [manual]
    assert [e.action for e in stores.audit.list_for_user(ORG, 10).items] == ["rate.set"]


def test_lists_newest_day_first_every_pair_or_one(stores: Stores) -> None:
    rates = [ecb(D + timedelta(days=n), q, f"1.{n}") for n in range(3) for q in ("GBP", "USD")]
    stores.rates.put_many(rates)
    every = every_page(lambda k: stores.rates.list(2, k))
    assert [(r.day, r.quote) for r in every] == sorted(
        ((r.day, r.quote) for r in rates), reverse=True
    )
    usd = every_page(lambda k: stores.rates.list(2, k, base="EUR", quote="USD"))
    assert [r.day for r in usd] == [D + timedelta(days=2), D + timedelta(days=1), D]


def test_a_settings_section_is_saved_alone_and_audited(stores: Stores) -> None:
    assert stores.billing_settings.sections() == {}
    currency = StoredSection(
        "currency", {"billingCurrency": "USD", "displayCurrency": "EUR"}, NOW, "u-fin"
    )
    other = StoredSection("period", {"kind": "calendar"}, NOW, "u-admin")
    stores.billing_settings.put_section(currency, audit(ORG, "billing-settings.updated"))
    stores.billing_settings.put_section(other, audit(ORG, "billing-settings.updated"))
    changed = replace(currency, values={"billingCurrency": "GBP", "displayCurrency": None})
    stores.billing_settings.put_section(changed, audit(ORG, "billing-settings.updated"))
    assert stores.billing_settings.sections() == {"currency": changed, "period": other}
    assert len(stores.audit.list_for_user(ORG, 10).items) == 3
