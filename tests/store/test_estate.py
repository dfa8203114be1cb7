"""The estate cache's contract, on DynamoDB (moto) and the in-memory fake alike."""

from __future__ import annotations

from datetime import timedelta

from tally.estate.models import EstateRecord, EstateScope
from tally.store import Stores
from tests.conftest import NOW

EAST = EstateScope("123456789012", "us-east-1", "lambda")
WEST = EstateScope("123456789012", "eu-west-1", "lambda")
EAST_IAM = EstateScope("123456789012", "us-east-1", "iam")


def record(name: str, memory: int = 128, at: int = 0) -> EstateRecord:
    return EstateRecord(
        f"function#{name}",
        {"name": name, "memory": memory, "tags": {"Owner": "alice"}},
        NOW + timedelta(minutes=at),
    )


def test_a_scope_lists_what_was_written_in_key_order(stores: Stores) -> None:
    stores.estate.replace(EAST, [record("b"), record("a")])
    stores.estate.replace(WEST, [record("c")])
    assert stores.estate.list(EAST) == [record("a"), record("b")]
    assert stores.estate.list(WEST) == [record("c")]
    assert stores.estate.list(EAST_IAM) == []


def test_replace_deletes_what_was_not_read_again(stores: Stores) -> None:
    stores.estate.replace(EAST, [record("a"), record("b"), record("c")])
    gone = stores.estate.replace(EAST, [record("b", memory=512, at=60), record("d", at=60)])
    assert gone == 2
    assert stores.estate.list(EAST) == [record("b", memory=512, at=60), record("d", at=60)]
    assert stores.estate.replace(EAST, []) == 2
    assert stores.estate.list(EAST) == []


def test_replace_of_many_records_in_batches(stores: Stores) -> None:
    many = [record(f"fn-{i:03}") for i in range(60)]  # more than one 25-item batch
    stores.estate.replace(EAST, many)
    assert stores.estate.replace(EAST, many[:5]) == 55
    assert [r.key for r in stores.estate.list(EAST)] == [r.key for r in many[:5]]


def test_one_record_put_and_deleted(stores: Stores) -> None:
    stores.estate.replace(EAST, [record("a")])
    stores.estate.put(EAST, record("a", memory=256, at=5))
    stores.estate.put(EAST, record("z"))
    assert stores.estate.list(EAST) == [record("a", memory=256, at=5), record("z")]
    stores.estate.delete(EAST, "function#z")
    stores.estate.delete(EAST, "function#never")
    assert stores.estate.list(EAST) == [record("a", memory=256, at=5)]


def test_one_record_read_by_key(stores: Stores) -> None:
    stores.estate.replace(EAST, [record("a"), record("b", memory=512)])
    assert stores.estate.get(EAST, "function#b") == record("b", memory=512)
    assert stores.estate.get(EAST, "function#never") is None
    assert stores.estate.get(WEST, "function#a") is None
