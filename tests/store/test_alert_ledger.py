"""The alert ledger contract, run against DynamoDB (moto) and the in-memory fake alike (the
``stores`` fixture, tests/store/conftest.py): each (user, period, level) is claimed once."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import boto3
import pytest

from tally.alerts.levels import AlertLevel
from tally.errors import NotFound
from tally.models import LedgerEntry, LedgerState
from tally.settings import Settings
from tally.store import Stores
from tests.conftest import NOW

LATER = NOW + timedelta(minutes=3)


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
