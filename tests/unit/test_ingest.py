"""Applying cost lines: idempotent, restatements replace, roll-ups follow the records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tally.allocation import OwnerTagRule
from tally.ingest import ingest_days, restatement_window
from tally.models import ORG, UNALLOCATED, CostLine
from tally.store import Stores, memory_stores
from tests.conftest import ALICE, BOB, profile

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def line(
    day: date,
    service: str,
    billed: str,
    owner: str | None,
    *,
    rid: str = "i-1",
    estimated: bool = False,
) -> CostLine:
    return CostLine(
        day=day,
        service=service,
        resource_id=rid,
        billed_cost=Decimal(billed),
        effective_cost=Decimal(billed),
        currency="USD",
        estimated=estimated,
        tags={"Owner": owner} if owner else {},
    )


@pytest.fixture
def stores() -> Stores:
    s = memory_stores()
    s.users.put(profile(ALICE))
    s.users.put(profile(BOB))
    return s


def snapshot(s: Stores) -> tuple[object, object]:
    return (sorted(s.costs.records.items()), sorted((k, v) for k, v in s.rollups.items.items()))  # type: ignore[attr-defined]


def ingest(s: Stores, lines: list[CostLine], days: list[date], now: datetime = NOW):  # type: ignore[no-untyped-def]
    return ingest_days(lines, days, stores=s, rule=OwnerTagRule(), source="test", now=now)


DAYS = [date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19)]
LINES = [
    line(DAYS[0], "AmazonEC2", "10.50", "alice"),
    line(DAYS[0], "AmazonS3", "1.25", "bob", rid="bucket-a"),
    line(DAYS[1], "AmazonEC2", "11.00", "alice"),
    line(DAYS[2], "AmazonRDS", "3.00", None, rid="db-1", estimated=True),
]


def test_same_range_twice_leaves_identical_tables(stores: Stores) -> None:
    ingest(stores, LINES, DAYS)
    first = snapshot(stores)
    ingest(stores, LINES, DAYS)
    assert snapshot(stores) == first


def test_rollups_match_records(stores: Stores) -> None:
    ingest(stores, LINES, DAYS)
    alice = stores.rollups.get("u-alice", "2026-11")
    assert alice is not None and alice.sections["USD"].totals.billed == Decimal("21.50")
    assert alice.sections["USD"].daily["2026-11-17"].billed == Decimal("10.50")
    org = stores.rollups.get(ORG, "2026-11")
    unalloc = stores.rollups.get(UNALLOCATED, "2026-11")
    assert org is not None and unalloc is not None
    assert org.sections["USD"].totals.billed == Decimal("25.75")
    assert unalloc.sections["USD"].totals.billed == Decimal("3.00")
    assert org.estimated and not alice.estimated


def test_restated_day_keeps_only_latest_figures(stores: Stores) -> None:
    ingest(stores, LINES, DAYS)
    restated = [
        line(DAYS[0], "AmazonEC2", "9.75", "alice"),  # amount changed, S3 line gone
        line(DAYS[1], "AmazonEC2", "11.00", "alice"),
        line(DAYS[2], "AmazonRDS", "3.10", None, rid="db-1", estimated=False),  # now final
    ]
    ingest(stores, restated, DAYS)
    bob = stores.costs.for_owner("u-bob", DAYS[0], DAYS[-1] + timedelta(1))
    assert bob == []
    assert stores.rollups.get("u-bob", "2026-11").sections == {}  # type: ignore[union-attr]
    org = stores.rollups.get(ORG, "2026-11")
    assert (
        org is not None
        and org.sections["USD"].totals.billed == Decimal("23.85")
        and not org.estimated
    )
    fresh = memory_stores()
    fresh.users.put(profile(ALICE))
    fresh.users.put(profile(BOB))
    ingest(fresh, restated, DAYS)
    assert stores.costs.records == fresh.costs.records  # type: ignore[attr-defined]


def test_closed_month_change_is_recorded(stores: Stores) -> None:
    oct_day = date(2026, 10, 30)
    ingest(stores, [line(oct_day, "AmazonEC2", "5", "alice")], [oct_day])
    ingest(stores, [line(oct_day, "AmazonEC2", "6.5", "alice")], [oct_day], NOW + timedelta(days=1))
    october = stores.rollups.get("u-alice", "2026-10")
    assert october is not None
    assert [(r["old"], r["new"]) for r in october.restatements] == [(Decimal(5), Decimal("6.5"))]
    # Re-running the same restated data records nothing more.
    ingest(stores, [line(oct_day, "AmazonEC2", "6.5", "alice")], [oct_day], NOW + timedelta(days=2))
    assert len(stores.rollups.get("u-alice", "2026-10").restatements) == 1  # type: ignore[union-attr]


def test_lines_outside_the_window_are_refused(stores: Stores) -> None:
    with pytest.raises(ValueError, match="outside"):
        ingest(stores, LINES, DAYS[:1])


def test_restatement_window() -> None:
    today = date(2026, 11, 20)
    assert restatement_window(today) == (date(2026, 11, 17), today)
    assert restatement_window(today, estimated=[date(2026, 11, 2)]) == (date(2026, 11, 2), today)
    # Never before the first day of the previous month.
    assert restatement_window(today, estimated=[date(2026, 9, 1)]) == (date(2026, 11, 17), today)
    assert restatement_window(date(2026, 11, 2), days=5) == (date(2026, 10, 28), date(2026, 11, 2))
    assert restatement_window(date(2026, 11, 2), estimated=[date(2026, 10, 3)])[0] == date(
        2026, 10, 3
    )


def test_forecast_lands_on_this_months_rollup_and_in_the_summary(stores: Stores) -> None:
    from tally import reports

    days = [date(2026, 10, 10) + timedelta(days=n) for n in range(41)]  # .. 2026-11-19
    lines = [line(d, "AmazonEC2", "10" if d.weekday() < 5 else "4", "alice") for d in days]
    ingest(stores, lines, days)
    rollup = stores.rollups.get("u-alice", "2026-11")
    assert rollup is not None and rollup.forecast is not None
    fc = rollup.forecast["USD"]
    assert fc["asOf"] == "2026-11-19" and len(fc["daily"]) == 30
    summary = reports.month_summary(
        ALICE,
        "u-alice",
        stores=stores,
        today=date(2026, 11, 20),
        metric="billed",
        default_currency="USD",
    )
    end = summary.forecast["monthEnd"]  # type: ignore[index]
    assert Decimal(end["actualToDate"]) == summary.total
    assert Decimal(end["lower80"]) <= Decimal(end["projectedTotal"]) <= Decimal(end["upper80"])
    assert Decimal(end["projectedTotal"]) > summary.total
