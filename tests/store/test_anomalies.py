"""The anomaly store contract, run against DynamoDB (moto) and the in-memory fake alike (the
``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import boto3
import pytest

from tally.anomalies.model import Anomaly, AnomalyStatus, anomaly_id, cause_key
from tally.errors import NotFound
from tally.settings import Settings
from tally.store import Stores
from tests.conftest import NOW
from tests.store.conftest import every_page

DAY = date(2026, 11, 8)


def episode(
    user: str = "u-alice",
    day: date = DAY,
    *,
    service: str = "AmazonEC2",
    resource: str | None = "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
    status: AnomalyStatus = AnomalyStatus.OPEN,
) -> Anomaly:
    cause = cause_key(service, resource, "USD")
    return Anomaly(
        anomaly_id=anomaly_id(user, day, cause),
        user_id=user,
        day=day,
        last_day=day,
        service=service,
        resource_id=resource,
        usage_unit="Hrs",
        currency="USD",
        expected=Decimal("5.50"),
        actual=Decimal("33.123456"),
        score=Decimal("72.75"),
        status=status,
        detected_at=NOW,
        updated_at=NOW,
    )


def ids(items: list[Anomaly]) -> list[str]:
    return [a.anomaly_id for a in items]


class TestAnomalies:
    def test_create_is_once_and_get_reads_it_back_exactly(self, stores: Stores) -> None:
        a = episode()
        assert stores.anomalies.create(a) is True
        assert stores.anomalies.create(replace(a, actual=Decimal(1))) is False
        assert stores.anomalies.get(a.anomaly_id) == a
        assert stores.anomalies.get(anomaly_id("u-bob", DAY, a.cause)) is None
        assert stores.anomalies.get("not-an-id") is None

    def test_extend_only_from_the_last_day_it_read(self, stores: Stores) -> None:
        a = episode()
        stores.anomalies.create(a)
        grown = replace(a, last_day=DAY + timedelta(days=1), actual=Decimal("60"))
        assert stores.anomalies.extend(grown, after=DAY) is True
        again = replace(grown, actual=Decimal("90"))
        assert stores.anomalies.extend(again, after=DAY) is False  # someone extended it
        assert stores.anomalies.get(a.anomaly_id) == grown
        missing = episode(day=DAY - timedelta(days=3))
        assert stores.anomalies.extend(missing, after=DAY) is False
        assert stores.anomalies.get(missing.anomaly_id) is None

    def test_since_lists_a_users_episodes_from_a_day_oldest_first(self, stores: Stores) -> None:
        days = [DAY - timedelta(days=10), DAY, DAY + timedelta(days=3)]
        for day in reversed(days):
            stores.anomalies.create(episode(day=day))
        stores.anomalies.create(episode("u-bob"))
        assert [a.day for a in stores.anomalies.since("u-alice", DAY)] == days[1:]

    def test_listings_newest_first_by_user_org_and_status(self, stores: Stores) -> None:
        made = []
        for n in range(5):
            user = "u-alice" if n % 2 == 0 else "u-bob"
            status = AnomalyStatus.RESOLVED if n == 2 else AnomalyStatus.OPEN
            a = episode(user, DAY + timedelta(days=n), status=status)
            stores.anomalies.create(a)
            made.append(a)
        newest = list(reversed(made))
        alice = every_page(
            lambda k: stores.anomalies.list_user("u-alice", status=None, limit=2, start_key=k)
        )
        assert ids(alice) == ids([a for a in newest if a.user_id == "u-alice"])
        open_alice = every_page(
            lambda k: stores.anomalies.list_user(
                "u-alice", status=AnomalyStatus.OPEN, limit=5, start_key=k
            )
        )
        assert ids(open_alice) == ids([made[4], made[0]])
        org = every_page(lambda k: stores.anomalies.list_org(status=None, limit=2, start_key=k))
        assert ids(org) == ids(newest)
        resolved = every_page(
            lambda k: stores.anomalies.list_org(status=AnomalyStatus.RESOLVED, limit=2, start_key=k)
        )
        assert ids(resolved) == [made[2].anomaly_id]

    def test_set_status_moves_it_between_status_listings(self, stores: Stores) -> None:
        a = episode()
        stores.anomalies.create(a)
        later = NOW + timedelta(hours=2)
        changed = stores.anomalies.set_status(a.anomaly_id, AnomalyStatus.ACKNOWLEDGED, at=later)
        assert changed == replace(a, status=AnomalyStatus.ACKNOWLEDGED, updated_at=later)
        assert stores.anomalies.get(a.anomaly_id) == changed
        listed = stores.anomalies.list_org(
            status=AnomalyStatus.ACKNOWLEDGED, limit=10, start_key=None
        )
        assert ids(listed.items) == [a.anomaly_id]
        assert (
            stores.anomalies.list_org(status=AnomalyStatus.OPEN, limit=10, start_key=None).items
            == []
        )
        with pytest.raises(NotFound):
            stores.anomalies.set_status(
                episode(day=DAY + timedelta(days=1)).anomaly_id,
                AnomalyStatus.RESOLVED,
                at=later,
            )


def test_anomalies_expire_after_400_days(dynamo_stores: Stores, aws: Settings) -> None:
    a = episode()
    dynamo_stores.anomalies.create(a)
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=aws.table_names["anomalies"],
        Key={"pk": {"S": "USER#u-alice"}, "sk": {"S": f"ANOMALY#{DAY}#{a.cause}"}},
    )["Item"]
    assert int(item["expires"]["N"]) == int((NOW + timedelta(days=400)).timestamp())
