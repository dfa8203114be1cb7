"""The cost record store contract, run against DynamoDB (moto) and the in-memory fake alike
(the ``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tally.models import CostRecord
from tally.store import Stores
from tests.conftest import NOW


def record(
    owner: str,
    day: date,
    line: str,
    billed: str,
    *,
    service: str = "AmazonEC2",
    resource_id: str | None = "i-0abc",
) -> CostRecord:
    return CostRecord(
        owner=owner,
        day=day,
        line_id=line,
        service=service,
        resource_id=resource_id,
        usage_quantity=Decimal("1.5"),
        usage_unit="Hrs",
        billed_cost=Decimal(billed),
        effective_cost=Decimal(billed),
        currency="USD",
        charge_category="Usage",
        estimated=False,
        source="test",
        fetched_at=NOW,
        allocation="assignment",
    )


class TestCosts:
    def test_replace_day_replaces_the_whole_set(self, stores: Stores) -> None:
        d = date(2026, 11, 3)
        stores.costs.replace_day(
            d, [record("u-alice", d, "l1", "1.10"), record("u-bob", d, "l2", "2")]
        )
        owners = stores.costs.replace_day(d, [record("u-alice", d, "l1", "1.25")])
        assert owners == {"u-alice", "u-bob"}
        assert [r.billed_cost for r in stores.costs.for_owner("u-alice", d, d + timedelta(1))] == [
            Decimal("1.25")
        ]
        assert stores.costs.for_owner("u-bob", d, d + timedelta(1)) == []

    def test_for_owner_range_is_end_exclusive(self, stores: Stores) -> None:
        days = [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
        for d in days:
            stores.costs.replace_day(d, [record("u-alice", d, "l", "1")])
        got = stores.costs.for_owner("u-alice", date(2026, 11, 1), date(2026, 11, 2))
        assert [r.day for r in got] == [date(2026, 11, 1)]

    def test_money_keeps_every_digit(self, stores: Stores) -> None:
        d = date(2026, 11, 3)
        stores.costs.replace_day(d, [record("u-alice", d, "l", "0.1234567891")])
        (got,) = stores.costs.for_owner("u-alice", d, d + timedelta(1))
        assert got.billed_cost == Decimal("0.1234567891")


class TestOneResource:
    """A resource's page reads its own lines: one owner, one match key, the days asked."""

    FN = "arn:aws:lambda:us-east-1:123456789012:function:orders"

    def test_for_resource_answers_exactly_that_resource_of_that_owner(self, stores: Stores) -> None:
        lam = "AWS Lambda"
        d = date(2026, 11, 3)
        for day in (d - timedelta(1), d, d + timedelta(1)):
            stores.costs.replace_day(
                day,
                [
                    record("ORG", day, "a", "1", service=lam, resource_id=self.FN),
                    # Its lines under another service (CloudWatch's): the same match key.
                    record("ORG", day, "b", "2", service="AmazonCloudWatch", resource_id=self.FN),
                    # A name that holds "orders" is another function.
                    record("ORG", day, "c", "4", service=lam, resource_id=f"{self.FN}-sync"),
                    record("ORG", day, "d", "8", service=lam, resource_id=None),
                    record("u-alice", day, "a", "1", service=lam, resource_id=self.FN),
                ],
            )
        got = stores.costs.for_resource("ORG", d, d + timedelta(2), "lambda:orders")
        assert [(r.day, r.line_id) for r in got] == [
            (d, "a"),
            (d, "b"),
            (d + timedelta(1), "a"),
            (d + timedelta(1), "b"),
        ]
        assert [r.owner for r in stores.costs.for_resource("u-alice", d, d, "lambda:orders")] == []
        mine = stores.costs.for_resource("u-alice", d, d + timedelta(1), "lambda:orders")
        assert [(r.owner, r.line_id) for r in mine] == [("u-alice", "a")]

    def test_a_replaced_day_leaves_no_stale_line_under_the_resource(self, stores: Stores) -> None:
        d = date(2026, 11, 3)
        stores.costs.replace_day(d, [record("ORG", d, "a", "1"), record("ORG", d, "b", "2")])
        stores.costs.replace_day(d, [record("ORG", d, "b", "3")])
        got = stores.costs.for_resource("ORG", d, d + timedelta(1), "ec2:i-0abc")
        assert [(r.line_id, r.billed_cost) for r in got] == [("b", Decimal("3"))]


def test_the_backfill_keys_lines_written_before_the_index_once(dynamo_stores: Stores) -> None:
    from tally.store.costs import CostRecordItem, backfill_resource_keys

    d = date(2026, 11, 3)
    dynamo_stores.costs.replace_day(
        d,
        [
            record("ORG", d, "a", "1"),
            record("ORG", d, "b", "2", resource_id=None),
            record("u-alice", d, "a", "1"),
        ],
    )
    # Given lines as a release before the index wrote them (no resource_key)
    for item in CostRecordItem.scan():
        item.update(actions=[CostRecordItem.resource_key.remove()])
    assert dynamo_stores.costs.for_resource("ORG", d, d + timedelta(1), "ec2:i-0abc") == []

    assert backfill_resource_keys(page_size=1) == 2  # the line without a resource id stays out
    assert backfill_resource_keys() == 0
    got = dynamo_stores.costs.for_resource("ORG", d, d + timedelta(1), "ec2:i-0abc")
    assert [(r.owner, r.line_id, r.billed_cost) for r in got] == [("ORG", "a", Decimal("1"))]
    assert len(dynamo_stores.costs.for_resource("u-alice", d, d + timedelta(1), "ec2:i-0abc")) == 1


class TestFanOutWrites:
    """What a fan-out batch uses: exactly its changes, and a slice of a large owner's day."""

    def test_apply_writes_the_puts_and_deletes_only_the_keys_named(self, stores: Stores) -> None:
        d = date(2026, 11, 3)
        stores.costs.replace_day(
            d, [record("u-alice", d, "aa1", "1"), record("u-alice", d, "bb2", "2")]
        )
        requests = stores.costs.apply(
            [record("u-alice", d, "cc3", "3"), record("u-bob", d, "aa4", "4")],
            [("u-alice", d, "aa1"), ("u-alice", d, "zz9")],  # a key that is not there: no-op
        )
        assert requests == 1  # four items: one BatchWriteItem
        nxt = d + timedelta(days=1)
        assert [r.line_id for r in stores.costs.for_owner("u-alice", d, nxt)] == ["bb2", "cc3"]
        assert [r.line_id for r in stores.costs.for_owner("u-bob", d, nxt)] == ["aa4"]
        many = [record("u-carol", d, f"{n:04x}", "1") for n in range(60)]
        assert stores.costs.apply(many, []) == 3

    def test_lines_between_reads_one_slice_of_line_id_prefixes(self, stores: Stores) -> None:
        d = date(2026, 11, 3)
        ids = ["00a", "3fb", "40c", "7fd", "80e", "ffa"]
        stores.costs.replace_day(d, [record("ORG", d, i, "1") for i in ids])
        stores.costs.replace_day(d + timedelta(1), [record("ORG", d + timedelta(1), "41x", "1")])
        got = stores.costs.lines_between("ORG", d, "40", "7f")
        assert [r.line_id for r in got] == ["40c", "7fd"]
        assert [r.line_id for r in stores.costs.lines_between("ORG", d, "00", "ff")] == ids
