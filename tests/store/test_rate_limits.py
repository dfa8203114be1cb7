"""The rate limit store contract, against DynamoDB (moto) and the in-memory fake alike: a
bucket gives its burst, then refuses with the tat that says how long to wait, refills at its
rate, keeps users and limits apart, and racing takes never overdraw it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tally.ratelimit import RateLimit
from tally.store import Stores

LIMIT = RateLimit("reports", per_hour=10, burst=5)  # one token every 360 s
STEP = LIMIT.interval_ms
NOW = 1_795_000_000_000  # epoch milliseconds (2026-11-17)


@pytest.fixture(autouse=True)
def _atomic_moto_updates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto checks an update's condition and writes without a lock; DynamoDB does both
    atomically. Serialised, the race below tests the store's conditions, not moto."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    original = DynamoDBBackend.update_item

    def serialised(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(*args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", serialised)
    yield


def test_a_new_bucket_gives_its_burst_then_refuses(stores: Stores) -> None:
    store = stores.rate_limits
    assert [store.take("u-alice", LIMIT, NOW) for _ in range(5)] == [None] * 5
    # Five tokens taken at once: the bucket is full again 5 intervals from now.
    assert store.take("u-alice", LIMIT, NOW) == NOW + 5 * STEP
    assert (
        store.take("u-alice", LIMIT, NOW + STEP - 1) == NOW + 5 * STEP
    )  # refusing changes nothing


def test_a_token_comes_back_after_one_interval(stores: Stores) -> None:
    store = stores.rate_limits
    for _ in range(5):
        assert store.take("u-alice", LIMIT, NOW) is None
    assert store.take("u-alice", LIMIT, NOW + STEP) is None
    assert store.take("u-alice", LIMIT, NOW + STEP) == NOW + 6 * STEP


def test_an_idle_bucket_refills_to_its_burst_and_no_further(stores: Stores) -> None:
    store = stores.rate_limits
    for _ in range(5):
        assert store.take("u-alice", LIMIT, NOW) is None
    later = NOW + 24 * 3_600_000  # a day idle is still only a burst of five
    assert [store.take("u-alice", LIMIT, later) for _ in range(5)] == [None] * 5
    assert store.take("u-alice", LIMIT, later) == later + 5 * STEP


def test_users_and_limits_have_buckets_of_their_own(stores: Stores) -> None:
    store = stores.rate_limits
    other = RateLimit("webhooks", per_hour=1, burst=1)
    for _ in range(5):
        assert store.take("u-alice", LIMIT, NOW) is None
    assert store.take("u-alice", LIMIT, NOW) is not None
    assert store.take("u-bob", LIMIT, NOW) is None
    assert store.take("u-alice", other, NOW) is None


def test_racing_takes_never_overdraw_a_bucket(stores: Stores) -> None:
    store = stores.rate_limits
    results: list[int | None] = []
    barrier = threading.Barrier(12)

    def take() -> None:
        barrier.wait(timeout=5)
        results.append(store.take("u-alice", LIMIT, NOW))

    threads = [threading.Thread(target=take) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(None) == 5
    assert [r for r in results if r is not None] == [NOW + 5 * STEP] * 7


def test_a_stored_bucket_expires_once_it_is_surely_full_again(dynamo_stores: Stores) -> None:
    from tally.store.keys import rate_limit, user
    from tally.store.rate_limits import RateLimitItem

    for _ in range(3):
        assert dynamo_stores.rate_limits.take("u-alice", LIMIT, NOW) is None
    item = RateLimitItem.get(user("u-alice"), rate_limit("reports"))
    assert item.tat == NOW + 3 * STEP
    # Never before the bucket is full (then it says nothing a missing item would not).
    assert item.tat <= item.expires * 1000 <= NOW + 5 * STEP + 1000
