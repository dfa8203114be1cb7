"""The invoice number store contract, against DynamoDB (moto) and the in-memory fake alike: a
revision is taken once, the latest is read back, subjects and months stay apart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tally.invoices.model import IssuedRevision
from tally.store import Stores
from tests.conftest import NOW


@pytest.fixture(autouse=True)
def _atomic_moto_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto checks a put's condition and writes without a lock; DynamoDB does both atomically.
    Serialised, the race below tests the store's condition, not moto."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    original = DynamoDBBackend.put_item

    def serialised(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(*args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "put_item", serialised)
    yield


def revision(
    n: int, content: str = "h1", subject: str = "user:u-alice", month: str = "2026-11"
) -> IssuedRevision:
    return IssuedRevision(subject, month, n, content, NOW)


def test_nothing_is_issued_at_first(stores: Stores) -> None:
    assert stores.invoice_numbers.latest("user:u-alice", "2026-11") is None


def test_the_latest_revision_is_read_back(stores: Stores) -> None:
    store = stores.invoice_numbers
    for n in range(1, 12):  # past 9: sort keys order as numbers
        assert store.claim(revision(n, f"h{n}"))
    assert store.latest("user:u-alice", "2026-11") == revision(11, "h11")


def test_a_revision_is_taken_once(stores: Stores) -> None:
    store = stores.invoice_numbers
    assert store.claim(revision(1, "h1"))
    assert not store.claim(revision(1, "other"))
    assert store.latest("user:u-alice", "2026-11") == revision(1, "h1")


def test_subjects_and_months_are_apart(stores: Stores) -> None:
    store = stores.invoice_numbers
    assert store.claim(revision(1, subject="user:u-alice"))
    assert store.claim(revision(1, subject="cost-center:u-alice"))
    assert store.claim(revision(1, month="2026-10"))
    assert store.latest("user:u-bob", "2026-11") is None
    assert store.latest("user:u-alice", "2026-12") is None


def test_of_concurrent_claims_of_one_revision_one_wins(stores: Stores) -> None:
    store = stores.invoice_numbers
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def claim(n: int) -> None:
        barrier.wait(timeout=5)
        results.append(store.claim(revision(2, f"h{n}")))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
