"""Applying cost lines: idempotent, restatements replace, roll-ups follow the records."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from tally.allocation import OwnerTagRule
from tally.clock import Clock, fixed_clock
from tally.ingest import ingest_days, restatement_window
from tally.models import ORG, UNALLOCATED, CostLine, Metric
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ADMIN, ALICE, BOB, profile

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
    assert fc.as_of == date(2026, 11, 19) and len(fc.daily) == 30
    summary = reports.month_summary(
        View(ALICE, stores, date(2026, 11, 20), Metric.BILLED, "USD"), "u-alice"
    )
    assert summary.forecast is not None
    end = summary.forecast.month_end
    assert end.actual_to_date == summary.total
    assert end.lower80 <= end.projected_total <= end.upper80
    assert end.projected_total > summary.total


class AnyResource:
    def exists(self, resource_type: str, resource_id: str) -> bool:
        return True


def at(day: date, hour: int = 9) -> Clock:
    return fixed_clock(datetime.combine(day, time(hour), tzinfo=UTC))


def test_a_month_spanning_an_ownership_change_splits_exactly(stores: Stores) -> None:
    """alice's i-1 ends on 10 October and bob's starts that day. Re-ingesting the whole month
    after the change leaves 1-9 October alice's to the cent; each day still adds up."""
    from tally import assignments

    october = [date(2026, 10, 1) + timedelta(days=n) for n in range(31)]
    change = date(2026, 10, 10)
    # Fractions of a cent and a one-third share: any re-split would show in the digits.
    lines = [
        x
        for d in october
        for x in (
            line(d, "AmazonEC2", f"{7 + d.day / 7:.6f}", None, rid="i-1"),
            line(d, "AmazonRDS", f"{3 + d.day / 3:.6f}", None, rid="db-1"),
        )
    ]

    def assign(who: str, rid: str, share: str, day: date) -> str:
        kind = "ec2" if rid == "i-1" else "rds"
        request = assignments.AssignRequest(who, kind, rid, share_pct=Decimal(share))
        made = assignments.assign_resource(
            View(ADMIN, stores, day), request, catalog=AnyResource(), clock=at(day)
        )
        return made.assignment_id

    alice_i1 = assign("u-alice", "i-1", "100", october[0])
    assign("u-alice", "db-1", "33.33", october[0])
    before_change = october[:9]
    ingest(
        stores,
        [x for x in lines if x.day in before_change],
        before_change,
        datetime(2026, 10, 10, 1, tzinfo=UTC),
    )

    def alices_days(days: list[date]) -> list[tuple[object, ...]]:
        return [
            (r.day, r.line_id, r.resource_id, r.billed_cost, r.effective_cost)
            for r in stores.costs.for_owner("u-alice", days[0], days[-1] + timedelta(days=1))
        ]

    first_run = alices_days(before_change)
    assignments.unassign_resource(View(ADMIN, stores, change), alice_i1, clock=at(change))
    assign("u-bob", "i-1", "100", change)
    ingest(stores, lines, october, datetime(2026, 11, 1, 1, tzinfo=UTC))

    assert alices_days(before_change) == first_run
    # ORG keeps the organisation's own copy of every line: the owners are the others.
    allocated = [r for r in stores.costs.records.values() if r.owner != ORG]  # type: ignore[attr-defined]
    i1_owners = {(r.day, r.owner) for r in allocated if r.resource_id == "i-1"}
    assert i1_owners == {(d, "u-alice" if d < change else "u-bob") for d in october}
    for d in october:
        day_total = sum(x.billed_cost for x in lines if x.day == d)
        assert sum(r.billed_cost for r in allocated if r.day == d) == day_total
    month = {o: stores.rollups.get(o, "2026-10") for o in ("u-alice", "u-bob", UNALLOCATED, ORG)}
    totals = {o: r.sections["USD"].totals.billed for o, r in month.items() if r is not None}
    assert totals["u-alice"] + totals["u-bob"] + totals[UNALLOCATED] == totals[ORG]
    assert totals[ORG] == sum(x.billed_cost for x in lines)
    assert totals["u-bob"] == sum(
        x.billed_cost for x in lines if x.resource_id == "i-1" and x.day >= change
    )
