"""The alert ledger contract, run against DynamoDB (moto) and the in-memory fake alike (the
``stores`` fixture, tests/store/conftest.py): each (user, period, level) is claimed once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tally.alerts.levels import AlertLevel
from tally.errors import NotFound
from tally.models import DeferredAlert, LedgerEntry, LedgerState
from tally.settings import Settings
from tally.store import Stores
from tests.conftest import NOW

LATER = NOW + timedelta(minutes=3)


@pytest.fixture(autouse=True)
def _atomic_moto_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each conditional write atomically; moto, in process, checks the
    condition and writes without a lock, so two threads can both pass a check. Serialising
    moto's item writes makes the races below test the ledger's conditions, not moto."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "get_item"):
        original = getattr(DynamoDBBackend, name)

        def serialised(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialised)


def claim(
    stores: Stores,
    level: str = "threshold",
    *,
    user: str = "u-alice",
    period: str = "2026-11",
    limit: str = "100.00",
) -> bool:
    return stores.alert_ledger.claim(
        user, period, level, limit=Decimal(limit), threshold=80, at=NOW
    )


class TestAlertLedger:
    def test_a_level_is_claimed_once(self, stores: Stores) -> None:
        assert claim(stores) is True
        assert claim(stores) is False
        assert claim(stores, limit="500") is False  # whatever the terms
        # Another level, period or user is another entry.
        assert claim(stores, "exceeded") is True
        assert claim(stores, period="2026-12") is True
        assert claim(stores, user="u-bob") is True
        assert stores.alert_ledger.entries("u-alice", "2026-11") == [
            LedgerEntry("exceeded", Decimal("100.00"), 80, LedgerState.CLAIMED, None, NOW),
            LedgerEntry("threshold", Decimal("100.00"), 80, LedgerState.CLAIMED, None, NOW),
        ]

    def test_two_concurrent_claims_one_wins(self, stores: Stores) -> None:
        start = threading.Barrier(4)
        won: list[bool] = []

        def race() -> None:
            start.wait()
            won.append(claim(stores, AlertLevel.EXCEEDED))

        threads = [threading.Thread(target=race) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(won) == [False, False, False, True]

    def test_mark_sent_keeps_the_message_id(self, stores: Stores) -> None:
        claim(stores, AlertLevel.FORECAST)
        stores.alert_ledger.mark_sent(
            "u-alice", "2026-11", AlertLevel.FORECAST, message_id="ses-0001", at=LATER
        )
        (entry,) = stores.alert_ledger.entries("u-alice", "2026-11")
        assert entry == LedgerEntry(
            "forecast", Decimal("100.00"), 80, LedgerState.SENT, "ses-0001", LATER
        )
        assert entry.state == "sent" and isinstance(entry.limit, Decimal)
        assert claim(stores, AlertLevel.FORECAST) is False  # sent stays sent

    def test_mark_sent_without_a_message_id(self, stores: Stores) -> None:
        claim(stores)
        stores.alert_ledger.mark_sent("u-alice", "2026-11", "threshold", message_id=None, at=LATER)
        (entry,) = stores.alert_ledger.entries("u-alice", "2026-11")
        assert entry.state is LedgerState.SENT and entry.message_id is None

    def test_mark_sent_needs_a_claim(self, stores: Stores) -> None:
        with pytest.raises(NotFound):
            stores.alert_ledger.mark_sent(
                "u-alice", "2026-11", "threshold", message_id="m", at=LATER
            )
        assert stores.alert_ledger.entries("u-alice", "2026-11") == []

    def test_released_levels_can_be_claimed_again(self, stores: Stores) -> None:
        claim(stores)
        stores.alert_ledger.release("u-alice", "2026-11", "threshold")  # a failed send
        assert stores.alert_ledger.entries("u-alice", "2026-11") == []
        assert claim(stores, limit="250") is True
        stores.alert_ledger.mark_sent("u-alice", "2026-11", "threshold", message_id="m1", at=NOW)
        stores.alert_ledger.release("u-alice", "2026-11", "threshold")  # re-armed
        assert claim(stores) is True
        stores.alert_ledger.release("u-alice", "2026-11", "absent")  # nothing to release

    def test_entries_are_per_user_and_period(self, stores: Stores) -> None:
        # 2026-1 must not read as a prefix of 2026-11 and so on: periods are whole.
        for user, period in [("u-alice", "2026-10"), ("u-alice", "2026-12"), ("u-bob", "2026-11")]:
            claim(stores, user=user, period=period)
        claim(stores, "exceeded", period="2026-11")
        assert [e.level for e in stores.alert_ledger.entries("u-alice", "2026-11")] == ["exceeded"]
        assert [e.level for e in stores.alert_ledger.entries("u-alice", "2026-10")] == ["threshold"]
        assert stores.alert_ledger.entries("u-alice", "2027-01") == []
        assert stores.alert_ledger.entries("u-carol", "2026-11") == []


def test_ledger_entries_expire_after_about_400_days(dynamo_stores: Stores, aws: Settings) -> None:
    claim(dynamo_stores)
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=aws.table_names["alerts"],
        Key={"pk": {"S": "USER#u-alice"}, "sk": {"S": "ALERT#2026-11#threshold"}},
    )["Item"]
    # 2026-11-20T12:00Z + 400 days = 2027-12-25T12:00Z.
    assert item["expires"] == {"N": "1829736000"}
    assert item["state"] == {"S": "claimed"} and item["limit"] == {"N": "100.00"}


def race(count: int, attempt: Callable[[], bool]) -> list[bool]:
    """Run ``attempt`` in ``count`` threads released at once; their results, sorted."""
    start = threading.Barrier(count)
    results: list[bool] = []

    def run() -> None:
        start.wait()
        results.append(attempt())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)


def defer(
    stores: Stores,
    level: str = "threshold",
    *,
    at: datetime = NOW,
    user: str = "u-alice",
    period: str = "2026-11",
    reason: str = "throttled",
) -> None:
    stores.alert_ledger.defer(
        user, period, level, limit=Decimal("100.00"), threshold=80, at=at, reason=reason
    )


class TestStaleClaims:
    def test_a_stale_claim_is_taken_over_once(self, stores: Stores) -> None:
        ledger = stores.alert_ledger
        assert claim(stores) is True
        # Not stale yet: claimed at NOW, not before it.
        assert (
            ledger.claim(
                "u-alice",
                "2026-11",
                "threshold",
                limit=Decimal(1),
                threshold=80,
                at=LATER,
                stale_before=NOW,
            )
            is False
        )
        assert (
            ledger.claim(
                "u-alice",
                "2026-11",
                "threshold",
                limit=Decimal(1),
                threshold=80,
                at=LATER,
                stale_before=NOW + timedelta(minutes=1),
            )
            is True
        )
        (entry,) = ledger.entries("u-alice", "2026-11")
        assert (entry.state, entry.at, entry.attempts) == (LedgerState.CLAIMED, LATER, 2)
        # The second claim crashed too: no third email, however old it gets.
        assert (
            ledger.claim(
                "u-alice",
                "2026-11",
                "threshold",
                limit=Decimal(1),
                threshold=80,
                at=LATER + timedelta(days=1),
                stale_before=LATER + timedelta(hours=1),
            )
            is False
        )

    def test_a_sent_level_is_never_stale(self, stores: Stores) -> None:
        claim(stores)
        stores.alert_ledger.mark_sent("u-alice", "2026-11", "threshold", message_id="m", at=NOW)
        assert (
            stores.alert_ledger.claim(
                "u-alice",
                "2026-11",
                "threshold",
                limit=Decimal(1),
                threshold=80,
                at=LATER,
                stale_before=LATER,
            )
            is False
        )

    def test_two_takeovers_at_once_one_wins(self, stores: Stores) -> None:
        claim(stores)
        won = race(
            4,
            lambda: stores.alert_ledger.claim(
                "u-alice",
                "2026-11",
                "threshold",
                limit=Decimal(1),
                threshold=80,
                at=LATER,
                stale_before=LATER,
            ),
        )
        assert won == [False, False, False, True]


class TestDeferred:
    def test_a_deferred_level_is_claimed_again_and_keeps_its_first_due_time(
        self, stores: Stores
    ) -> None:
        ledger = stores.alert_ledger
        claim(stores)
        defer(stores, at=NOW)
        (entry,) = ledger.entries("u-alice", "2026-11")
        assert (entry.state, entry.due_at) == (LedgerState.DEFERRED, NOW)
        assert entry.state == "deferred"
        assert ledger.deferred(limit=10) == [
            DeferredAlert("u-alice", "2026-11", "threshold", NOW, "throttled")
        ]
        # The next run claims it (once), and while it holds the claim it is not listed.
        assert claim(stores) is True
        assert claim(stores) is False
        assert ledger.deferred(limit=10) == []
        # It fails again: back in the queue at its first place, with the latest reason.
        defer(stores, at=LATER, reason="over the cap")
        assert ledger.deferred(limit=10) == [
            DeferredAlert("u-alice", "2026-11", "threshold", NOW, "over the cap")
        ]
        assert claim(stores) is True
        ledger.mark_sent("u-alice", "2026-11", "threshold", message_id="m1", at=LATER)
        (entry,) = ledger.entries("u-alice", "2026-11")
        assert (entry.state, entry.message_id, entry.due_at) == (LedgerState.SENT, "m1", None)
        assert ledger.deferred(limit=10) == []

    def test_oldest_first_within_the_limit(self, stores: Stores) -> None:
        # Written out of order, across users, periods and kinds of entry.
        defer(stores, "exceeded", at=NOW + timedelta(minutes=2), user="u-bob")
        defer(stores, "digest", at=NOW, period="2026-W47")
        defer(stores, "threshold", at=NOW + timedelta(minutes=1), user="u-carol")
        defer(stores, "forecast", at=NOW + timedelta(minutes=3))
        listed = stores.alert_ledger.deferred(limit=3)
        assert [(d.user_id, d.period, d.level) for d in listed] == [
            ("u-alice", "2026-W47", "digest"),
            ("u-carol", "2026-11", "threshold"),
            ("u-bob", "2026-11", "exceeded"),
        ]
        assert len(stores.alert_ledger.deferred(limit=10)) == 4
        assert stores.alert_ledger.deferred(limit=0) == []

    def test_a_restatement_level_with_hashes_reads_back(self, stores: Stores) -> None:
        level = "restated#USD#2026-11-03T00:00:00+00:00"
        defer(stores, level, period="2026-10")
        assert stores.alert_ledger.deferred(limit=1) == [
            DeferredAlert("u-alice", "2026-10", level, NOW, "throttled")
        ]

    def test_released_deferred_levels_leave_the_queue(self, stores: Stores) -> None:
        defer(stores)
        stores.alert_ledger.release("u-alice", "2026-11", "threshold")
        assert stores.alert_ledger.deferred(limit=10) == []
        assert stores.alert_ledger.entries("u-alice", "2026-11") == []

    def test_two_claims_of_a_deferred_level_one_wins(self, stores: Stores) -> None:
        defer(stores)
        assert race(4, lambda: claim(stores)) == [False, False, False, True]


class TestSendSlots:
    def test_a_run_sends_at_most_its_cap(self, stores: Stores) -> None:
        ledger = stores.alert_ledger
        assert [ledger.take_send_slot("run-1", cap=2, at=NOW) for _ in range(3)] == [
            True,
            True,
            False,
        ]
        assert ledger.take_send_slot("run-2", cap=2, at=NOW) is True  # each run its own
        assert ledger.take_send_slot("run-3", cap=0, at=NOW) is False

    def test_concurrent_invocations_share_the_cap(self, stores: Stores) -> None:
        won = race(6, lambda: stores.alert_ledger.take_send_slot("run-1", cap=4, at=NOW))
        assert won == [False, False, True, True, True, True]


def test_the_deferred_index_is_sparse_and_run_counters_expire(
    dynamo_stores: Stores, aws: Settings
) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = aws.table_names["alerts"]
    claim(dynamo_stores)
    defer(dynamo_stores, "exceeded")
    dynamo_stores.alert_ledger.take_send_slot("evt-1", cap=5, at=NOW)
    indexed = client.scan(TableName=table, IndexName="deferred")["Items"]
    assert [i["sk"]["S"] for i in indexed] == ["ALERT#2026-11#exceeded"]
    assert indexed[0]["deferred_order"] == {
        "S": "2026-11-20T12:00:00.000000Z#u-alice#2026-11#exceeded"
    }
    run = client.get_item(TableName=table, Key={"pk": {"S": "RUN#evt-1"}, "sk": {"S": "SLOTS"}})
    # 2026-11-20T12:00Z + 3 days.
    assert run["Item"]["sent"] == {"N": "1"} and run["Item"]["expires"] == {"N": "1795435200"}
