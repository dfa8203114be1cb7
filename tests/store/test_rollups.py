"""The roll-up store contract, run against DynamoDB (moto) and the in-memory fake alike
(the ``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from tally.models import Amounts, MonthlyRollup, ResourceCost, RollupSection
from tally.store import Stores
from tests.conftest import NOW
from tests.store.conftest import every_page


class TestRollups:
    def rollup(self, owner: str, month: str, total: str) -> MonthlyRollup:
        a = Amounts(Decimal(total), Decimal(total))
        section = RollupSection(
            totals=a,
            by_service={"AmazonEC2": a},
            by_category={"Usage": a},
            daily={f"{month}-01": a},
            daily_by_service={f"{month}-01": {"AmazonEC2": a}},
            top_resources=[ResourceCost("i-0abc", "AmazonEC2", a)],
            daily_by_category={
                f"{month}-01": {"Usage": a, "Tax": Amounts(Decimal("0.05"), Decimal("0.05"))}
            },
        )
        return MonthlyRollup(owner, month, {"USD": section}, False, 1, NOW)

    def test_round_trip_and_queries(self, stores: Stores) -> None:
        for month, total in [("2026-09", "1"), ("2026-10", "2.5"), ("2026-11", "3.333")]:
            stores.rollups.put(self.rollup("u-alice", month, total))
        stores.rollups.put(self.rollup("u-bob", "2026-11", "7"))
        got = stores.rollups.get("u-alice", "2026-11")
        assert got == self.rollup("u-alice", "2026-11", "3.333")
        assert [r.month for r in stores.rollups.months("u-alice", "2026-10", "2026-11")] == [
            "2026-10",
            "2026-11",
        ]
        assert set(stores.rollups.get_many(["u-alice", "u-bob", "u-x"], "2026-11")) == {
            "u-alice",
            "u-bob",
        }
        assert {r.owner for r in stores.rollups.of_month("2026-11")} == {"u-alice", "u-bob"}
        both = stores.rollups.get_many_months(["u-alice", "u-bob", "u-x"], ["2026-11", "2026-10"])
        assert set(both) == {("u-alice", "2026-11"), ("u-alice", "2026-10"), ("u-bob", "2026-11")}
        assert both[("u-alice", "2026-10")] == self.rollup("u-alice", "2026-10", "2.5")
        assert stores.rollups.get_many_months([], ["2026-11"]) == {}

    def test_a_month_with_no_costs_yet_keeps_its_forecast(self, stores: Stores) -> None:
        # On the 1st the ingest stores the new month's forecast before any cost has arrived.
        from tally.forecast.projection import forecast as project

        history = {date(2026, 11, 1) + timedelta(days=n): Decimal(n % 7) for n in range(30)}
        forecast = {"USD": project(history, as_of=date(2026, 11, 30))}
        empty = MonthlyRollup("u-alice", "2026-12", {}, False, 0, NOW, forecast=forecast)
        stores.rollups.put(empty)
        assert stores.rollups.get("u-alice", "2026-12") == empty

    def test_a_month_page_by_page_in_owner_order(self, stores: Stores) -> None:
        # Read so by the all-users export, which merges months by owner: the order matters.
        for owner in ["u-c", "UNALLOCATED", "ORG", "u-a", "u-b"]:
            stores.rollups.put(self.rollup(owner, "2026-11", "1"))
        stores.rollups.put(self.rollup("u-z", "2026-10", "1"))
        first = stores.rollups.of_month_page("2026-11", limit=2, start_key=None)
        assert len(first.items) == 2 and first.next_key
        listed = every_page(
            lambda key: stores.rollups.of_month_page("2026-11", limit=2, start_key=key)
        )
        assert [r.owner for r in listed] == ["ORG", "UNALLOCATED", "u-a", "u-b", "u-c"]
        assert listed[2] == self.rollup("u-a", "2026-11", "1")

    def test_versions_change_with_any_stored_value_and_match_the_read(self, stores: Stores) -> None:
        # The API's 304 on a summary is decided from ``versions`` alone: they must change with
        # anything stored (figures, forecast, restatements) and equal what a full read carries.
        stores.rollups.put(self.rollup("u-alice", "2026-10", "2.5"))
        stores.rollups.put(self.rollup("u-alice", "2026-11", "3"))
        stores.rollups.put(self.rollup("u-bob", "2026-11", "3"))
        first = stores.rollups.versions("u-alice", "2026-10", "2026-12")
        assert set(first) == {"2026-10", "2026-11"} and None not in first.values()
        assert first["2026-10"] != first["2026-11"]
        read = {r.month: r.version for r in stores.rollups.months("u-alice", "2026-10", "2026-11")}
        assert read == first
        assert stores.rollups.versions("u-bob", "2026-11", "2026-11")["2026-11"] != first["2026-11"]

        stores.rollups.put(self.rollup("u-alice", "2026-11", "3"))  # the same figures again
        assert stores.rollups.versions("u-alice", "2026-10", "2026-11") == first
        changes = [
            self.rollup("u-alice", "2026-11", "3.01"),
            replace(self.rollup("u-alice", "2026-11", "3"), estimated=True),
            replace(self.rollup("u-alice", "2026-11", "3"), updated_at=NOW + timedelta(hours=1)),
            replace(self.rollup("u-alice", "2026-11", "3"), restatements=[{"month": "2026-11"}]),
            replace(self.rollup("u-alice", "2026-11", "3"), estimated_days=["2026-11-01"]),
        ]
        seen = {first["2026-11"]}
        for changed in changes:
            stores.rollups.put(changed)
            now = stores.rollups.versions("u-alice", "2026-11", "2026-11")["2026-11"]
            assert now not in seen, changed
            seen.add(now)
        assert stores.rollups.versions("u-carol", "2026-10", "2026-11") == {}


def test_a_rollup_stored_before_versions_has_none(dynamo_stores: Stores) -> None:
    """An item written before the digest was kept reads back without a version (the API then
    computes the summary rather than trusting an unknown version)."""
    from tally.store.rollups import RollupItem

    dynamo_stores.rollups.put(TestRollups().rollup("u-alice", "2026-11", "3"))
    item = RollupItem.get("OWNER#u-alice", "MONTH#2026-11")
    item.update(actions=[RollupItem.digest.remove()])
    assert dynamo_stores.rollups.versions("u-alice", "2026-11", "2026-11") == {"2026-11": None}
    got = dynamo_stores.rollups.get("u-alice", "2026-11")
    assert got is not None and got.version is None


def test_put_many_puts_every_roll_up_in_batches_of_25(stores: Stores) -> None:
    rollups = [MonthlyRollup(f"u-{n:02d}", "2026-11", {}, False, 0, NOW) for n in range(30)]
    assert stores.rollups.put_many(rollups) == 2
    assert [r.owner for r in stores.rollups.of_month("2026-11")] == [r.owner for r in rollups]
