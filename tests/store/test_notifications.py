"""The notification store contract, run against DynamoDB (moto) and the in-memory fake alike
(the ``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest

from tally.errors import NotFound
from tally.models import Notification
from tally.settings import Settings
from tally.store import Stores
from tests.conftest import NOW
from tests.store.conftest import every_page


def note(n: int, user: str = "u-alice", *, minutes: int | None = None) -> Notification:
    return Notification(
        notification_id=f"2026-11#n{n}",
        user_id=user,
        kind="threshold",
        title=f"title {n}",
        body=f"body {n}",
        link="#/budget" if n % 2 else None,
        created_at=NOW + timedelta(minutes=n if minutes is None else minutes),
    )


def ids(notifications: list[Notification]) -> list[str]:
    return [n.notification_id for n in notifications]


class TestNotifications:
    def test_add_is_idempotent_per_user(self, stores: Stores) -> None:
        assert stores.notifications.add(note(1)) is True
        changed = Notification(**{**vars(note(1)), "title": "other"})
        assert stores.notifications.add(changed) is False
        # The same id is another notification for another user.
        assert stores.notifications.add(note(1, "u-bob")) is True
        (stored,) = stores.notifications.list("u-alice", limit=10, start_key=None).items
        assert stored == note(1) and stored.title == "title 1" and not stored.read
        assert stores.notifications.unread_count("u-alice") == 1

    def test_listed_newest_first_page_by_page(self, stores: Stores) -> None:
        for n in [3, 1, 5, 2, 4]:
            stores.notifications.add(note(n))
        stores.notifications.add(note(9, "u-bob"))
        first = stores.notifications.list("u-alice", limit=2, start_key=None)
        assert ids(first.items) == ["2026-11#n5", "2026-11#n4"] and first.next_key
        listed = every_page(
            lambda key: stores.notifications.list("u-alice", limit=2, start_key=key)
        )
        assert ids(listed) == [f"2026-11#n{n}" for n in [5, 4, 3, 2, 1]]
        assert listed[0] == note(5) and listed[0].link == "#/budget" and listed[1].link is None
        assert stores.notifications.list("u-nobody", limit=2, start_key=None).items == []

    def test_the_same_instant_orders_by_id(self, stores: Stores) -> None:
        for n in [1, 2, 3]:
            stores.notifications.add(note(n, minutes=0))
        listed = every_page(
            lambda key: stores.notifications.list("u-alice", limit=1, start_key=key)
        )
        assert ids(listed) == ["2026-11#n3", "2026-11#n2", "2026-11#n1"]

    def test_marks_move_the_unread_count_once(self, stores: Stores) -> None:
        for n in [1, 2, 3]:
            stores.notifications.add(note(n))
        stores.notifications.add(note(1, "u-bob"))
        assert stores.notifications.unread_count("u-alice") == 3
        read_at = NOW + timedelta(hours=1)
        marked = stores.notifications.mark("u-alice", "2026-11#n2", read_at=read_at)
        assert marked.read and marked.read_at == read_at and marked.title == "title 2"
        assert stores.notifications.unread_count("u-alice") == 2
        # Marking read again changes nothing: the count and the first read time stay.
        again = stores.notifications.mark("u-alice", "2026-11#n2", read_at=read_at + timedelta(1))
        assert again.read_at == read_at
        assert stores.notifications.unread_count("u-alice") == 2
        unread = stores.notifications.mark("u-alice", "2026-11#n2", read_at=None)
        assert not unread.read and unread.read_at is None
        assert stores.notifications.mark("u-alice", "2026-11#n2", read_at=None) == unread
        assert stores.notifications.unread_count("u-alice") == 3
        assert stores.notifications.unread_count("u-bob") == 1
        listed = stores.notifications.list("u-alice", limit=10, start_key=None).items
        assert [n.read for n in listed] == [False, False, False]

    def test_mark_all_read_counts_what_it_changed(self, stores: Stores) -> None:
        for n in [1, 2, 3, 4]:
            stores.notifications.add(note(n))
        stores.notifications.add(note(1, "u-bob"))
        stores.notifications.mark("u-alice", "2026-11#n1", read_at=NOW)
        at = NOW + timedelta(days=1)
        assert stores.notifications.mark_all_read("u-alice", at=at) == 3
        assert stores.notifications.unread_count("u-alice") == 0
        assert stores.notifications.mark_all_read("u-alice", at=at) == 0
        listed = stores.notifications.list("u-alice", limit=10, start_key=None).items
        assert {n.notification_id: n.read_at for n in listed} == {
            "2026-11#n4": at,
            "2026-11#n3": at,
            "2026-11#n2": at,
            "2026-11#n1": NOW,  # already read: keeps its time
        }
        # Another user's notifications are theirs.
        assert stores.notifications.unread_count("u-bob") == 1
        assert stores.notifications.mark_all_read("u-nobody", at=at) == 0

    def test_a_notification_of_another_user_is_not_found(self, stores: Stores) -> None:
        stores.notifications.add(note(1, "u-bob"))
        for read_at in (NOW, None):
            with pytest.raises(NotFound):
                stores.notifications.mark("u-alice", "2026-11#n1", read_at=read_at)
        with pytest.raises(NotFound):
            stores.notifications.mark("u-bob", "2026-11#missing", read_at=NOW)
        assert stores.notifications.unread_count("u-bob") == 1
        assert stores.notifications.unread_count("u-alice") == 0
        # The failed mark created nothing.
        assert stores.notifications.list("u-alice", limit=10, start_key=None).items == []

    def test_a_notification_added_read_is_not_unread(self, stores: Stores) -> None:
        stores.notifications.add(Notification(**{**vars(note(1)), "read_at": NOW}))
        assert stores.notifications.unread_count("u-alice") == 0
        assert stores.notifications.mark_all_read("u-alice", at=NOW) == 0


def test_notifications_expire_after_90_days(dynamo_stores: Stores, aws: Settings) -> None:
    dynamo_stores.notifications.add(note(0))
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=aws.table_names["notifications"],
        Key={"pk": {"S": "USER#u-alice"}, "sk": {"S": "NOTE#2026-11#n0"}},
    )["Item"]
    # 2026-11-20T12:00Z + 90 days = 2027-02-18T12:00Z.
    assert item["expires"] == {"N": "1802952000"}
    assert "unread_user" in item
