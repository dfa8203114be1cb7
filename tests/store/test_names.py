"""The name directory's contract, run against DynamoDB (moto) and the in-memory fake alike (the
``stores`` fixture, tests/store/conftest.py), and what its DynamoDB items must not disturb."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from pynamodb.connection.base import Connection

from tally.models import CostRecord
from tally.names import directory_names
from tally.resources import line_match_key
from tally.store import Stores
from tests.conftest import NOW


def test_remembers_names_by_match_key_and_reads_them_back(stores: Stores) -> None:
    assert stores.names.remember({"ec2:i-0abc": "carol-web", "s3:logs": "logs"}) == 2
    assert stores.names.names_of(["ec2:i-0abc", "ec2:i-unknown", "s3:logs", "ec2:i-0abc"]) == {
        "ec2:i-0abc": "carol-web",
        "s3:logs": "logs",
    }
    assert stores.names.names_of([]) == {}


def test_remembering_the_same_names_again_writes_nothing(stores: Stores) -> None:
    names = {f"ec2:i-{n:08x}": f"web-{n}" for n in range(3)}
    assert stores.names.remember(names) == 3
    assert stores.names.remember(names) == 0
    # A rename writes that one entry; the others stay as they were.
    assert stores.names.remember({**names, "ec2:i-00000001": "web-renamed"}) == 1
    assert stores.names.names_of(names)["ec2:i-00000001"] == "web-renamed"
    assert stores.names.remember({}) == 0


def test_more_names_than_one_batch_takes(stores: Stores) -> None:
    """Past 25 writes and 100 reads a request, every entry is written and read back."""
    names = {f"ec2:i-{n:08x}": f"host-{n}" for n in range(130)}
    assert stores.names.remember(names) == 130
    assert stores.names.names_of(names) == names


def test_a_claim_by_plain_id_finds_the_name_learnt_from_the_arn(stores: Stores) -> None:
    arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890"
    bucket = "arn:aws:s3:::team-logs"
    stores.names.remember(
        {line_match_key("AmazonEC2", arn): "carol-web", line_match_key("AmazonS3", bucket): "Logs"}
    )
    found = directory_names(
        stores.names,
        [("ec2", "i-0abc1234def567890"), ("ec2", arn), ("s3", "team-logs"), ("s3", "other")],
    )
    assert found == {
        ("ec2", "i-0abc1234def567890"): "carol-web",
        ("ec2", arn): "carol-web",
        ("s3", "team-logs"): "Logs",
    }


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    seen: Counter[str] = Counter()
    real = Connection.dispatch

    def counting(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:  # type: ignore[type-arg]
        seen[operation_name] += 1
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    return seen


def test_dynamodb_batches_reads_and_writes(dynamo_stores: Stores, calls: Counter[str]) -> None:
    names = {f"ec2:i-{n:08x}": f"host-{n}" for n in range(130)}
    dynamo_stores.names.remember(names)
    # One read of what is known (two BatchGetItems: 100 keys a request), six BatchWriteItems.
    assert calls == Counter({"BatchGetItem": 2, "BatchWriteItem": 6}), calls
    calls.clear()
    dynamo_stores.names.remember(names)
    assert calls == Counter({"BatchGetItem": 2}), calls  # nothing changed: nothing written
    calls.clear()
    dynamo_stores.names.names_of(["ec2:i-00000001", "ec2:i-00000002"])
    assert calls == Counter({"BatchGetItem": 1})


def test_entries_stay_out_of_the_cost_days(dynamo_stores: Stores) -> None:
    """The entries share the costs table: the by-day index (sparse) never lists them, so a
    day's replacement neither reads nor deletes them."""
    day = date(2026, 11, 3)
    dynamo_stores.names.remember({"ec2:i-0abc": "carol-web"})
    record = CostRecord(
        owner="u-alice", day=day, line_id="l1", service="AmazonEC2", resource_id="i-0abc",
        usage_quantity=Decimal(1), usage_unit="Hrs", billed_cost=Decimal(1),
        effective_cost=Decimal(1), currency="USD", charge_category="Usage", estimated=False,
        source="test", fetched_at=NOW, allocation="assignment",
    )  # fmt: skip
    assert dynamo_stores.costs.replace_day(day, [record]) == {"u-alice"}
    assert dynamo_stores.costs.replace_day(day, []) == {"u-alice"}
    assert dynamo_stores.names.names_of(["ec2:i-0abc"]) == {"ec2:i-0abc": "carol-web"}
