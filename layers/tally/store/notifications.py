"""In-app notifications: per user, newest first, with an unread count; they expire 90 days
after they were created (the table's TTL).

The unread count is a keys-only ``Select=COUNT`` Query of the sparse ``unread`` index (only an
unread item carries ``unread_user``), not a counter: a counter would drift when TTL deletes an
unread item, and marks need no arithmetic, so marking twice or concurrently cannot count twice.
Marks are conditional on the read state, so ``mark_all_read`` counts only what it changed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from tally import tables
from tally.errors import NotFound
from tally.models import Notification, Page
from tally.settings import Settings
from tally.store import PageKey, keys
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem, page, paginate

# How long a notification stays: the TTL attribute is its creation time plus this.
KEEP_FOR = timedelta(days=90)
NO_SUCH = "no such notification"
_FAILED_CONDITION = "ConditionalCheckFailedException"


class NotificationStore(Protocol):
    def add(self, notification: Notification) -> bool:
        """Store it unless the user already has a notification of that id (producers are
        idempotent by id); False when it existed."""

    def list(self, user_id: str, *, limit: int, start_key: PageKey | None) -> Page[Notification]:
        """The user's notifications, newest first."""

    def unread_count(self, user_id: str) -> int: ...

    def mark(self, user_id: str, notification_id: str, *, read_at: datetime | None) -> Notification:
        """Mark read at ``read_at`` (an item already read keeps its first read time) or, with
        None, unread. Raises ``NotFound`` unless the user has a notification of that id."""

    def mark_all_read(self, user_id: str, *, at: datetime) -> int:
        """Mark every unread notification of the user read; how many changed."""


def expires(created_at: datetime) -> int:
    """The TTL attribute's value: epoch seconds when the notification may go."""
    return int((created_at + KEEP_FOR).timestamp())


# --- items -----------------------------------------------------------------------------


class NotificationCreatedIndex(GlobalSecondaryIndex["NotificationItem"]):
    class Meta:
        index_name = tables.NOTIFICATIONS.indexes[0].name
        projection = AllProjection()

    listed_user = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class NotificationUnreadIndex(GlobalSecondaryIndex["NotificationItem"]):
    class Meta:
        index_name = tables.NOTIFICATIONS.indexes[1].name
        projection = KeysOnlyProjection()

    unread_user = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class NotificationItem(KeyedItem):
    """pk USER#<user>, sk NOTE#<notification id>. ``unread_user`` (= the user) only while
    unread."""

    spec = tables.NOTIFICATIONS

    notification_id = UnicodeAttribute()
    listed_user = UnicodeAttribute()
    created = UnicodeAttribute()  # keys.timed(created_at, id): newest first, unique
    unread_user = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    link = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    read_at = UTCDateTimeAttribute(null=True)
    expires = NumberAttribute()
    by_created = NotificationCreatedIndex()
    unread_index = NotificationUnreadIndex()


# --- mapping ---------------------------------------------------------------------------


def _notification(item: NotificationItem) -> Notification:
    return Notification(
        notification_id=item.notification_id,
        user_id=item.listed_user,
        kind=item.kind,
        title=item.title,
        body=item.body,
        link=item.link,
        created_at=item.created_at,
        read_at=item.read_at,
    )


def _notification_item(n: Notification) -> NotificationItem:
    return NotificationItem(
        pk=keys.user(n.user_id),
        sk=keys.notification(n.notification_id),
        notification_id=n.notification_id,
        listed_user=n.user_id,
        created=keys.timed(n.created_at, n.notification_id),
        unread_user=None if n.read else n.user_id,
        kind=n.kind,
        title=n.title,
        body=n.body,
        link=n.link,
        created_at=n.created_at,
        read_at=n.read_at,
        expires=expires(n.created_at),
    )


# --- DynamoDB --------------------------------------------------------------------------


class DynamoNotificationStore(DynamoStore):
    def add(self, notification: Notification) -> bool:
        try:
            _notification_item(notification).save(condition=NotificationItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                return False
            raise
        return True

    def list(self, user_id: str, *, limit: int, start_key: PageKey | None) -> Page[Notification]:
        it = NotificationItem.by_created.query(
            user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        return page([_notification(i) for i in it], it)

    def unread_count(self, user_id: str) -> int:
        return NotificationItem.unread_index.count(user_id)

    def _update(
        self, user_id: str, notification_id: str, read_at: datetime | None
    ) -> tuple[bool, NotificationItem]:
        """Apply the mark unless the item is in that state already: (whether it changed, the
        item as stored now). Raises ``NotFound`` if there is no such item."""
        item = NotificationItem(pk=keys.user(user_id), sk=keys.notification(notification_id))
        actions: list[Any]
        state: Condition
        if read_at is None:
            actions = [NotificationItem.read_at.remove(), NotificationItem.unread_user.set(user_id)]
            state = NotificationItem.read_at.exists()
        else:
            actions = [NotificationItem.read_at.set(read_at), NotificationItem.unread_user.remove()]
            state = NotificationItem.read_at.does_not_exist()
        try:
            # The condition on the state is what keeps a second mark from counting twice.
            item.update(actions, condition=NotificationItem.pk.exists() & state)
        except UpdateError as error:
            if error.cause_response_code != _FAILED_CONDITION:
                raise
            try:
                stored = NotificationItem.get(item.pk, item.sk, consistent_read=True)
            except NotificationItem.DoesNotExist:
                raise NotFound(NO_SUCH) from error
            return False, stored
        return True, item  # update() refreshed it from the stored attributes

    def mark(self, user_id: str, notification_id: str, *, read_at: datetime | None) -> Notification:
        return _notification(self._update(user_id, notification_id, read_at)[1])

    def mark_all_read(self, user_id: str, *, at: datetime) -> int:
        changed = 0
        for key in NotificationItem.unread_index.query(user_id):
            try:
                changed += self._update(user_id, keys.notification.id_of(key.sk), at)[0]
            except NotFound:  # gone (TTL) since the index was read
                continue
        return changed


# --- in memory -------------------------------------------------------------------------


class MemoryNotificationStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Notification] = {}

    def add(self, notification: Notification) -> bool:
        key = (notification.user_id, notification.notification_id)
        if key in self.items:
            return False
        self.items[key] = notification
        return True

    def list(self, user_id: str, *, limit: int, start_key: PageKey | None) -> Page[Notification]:
        listed = sorted(
            (n for (user, _), n in self.items.items() if user == user_id),
            key=lambda n: keys.timed(n.created_at, n.notification_id),
            reverse=True,
        )
        return paginate(listed, limit, start_key, lambda n: n.notification_id)

    def unread_count(self, user_id: str) -> int:
        return sum(1 for (user, _), n in self.items.items() if user == user_id and not n.read)

    def mark(self, user_id: str, notification_id: str, *, read_at: datetime | None) -> Notification:
        stored = self.items.get((user_id, notification_id))
        if stored is None:
            raise NotFound(NO_SUCH)
        if read_at is None or not stored.read:
            stored = replace(stored, read_at=read_at)
            self.items[(user_id, notification_id)] = stored
        return stored

    def mark_all_read(self, user_id: str, *, at: datetime) -> int:
        unread = [n for (user, _), n in self.items.items() if user == user_id and not n.read]
        for n in unread:
            self.mark(user_id, n.notification_id, read_at=at)
        return len(unread)


def dynamodb_store(settings: Settings) -> NotificationStore:
    return DynamoNotificationStore(settings)


def memory_store(audit: MemoryAuditLog) -> NotificationStore:
    return MemoryNotificationStore()
