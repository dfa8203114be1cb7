"""The alert ledger: which levels of a user's budget period were claimed or sent, so each
(user, period, level) notifies at most once however many evaluations run at once.

An evaluation claims a level (a conditional put: only one claim finds it absent), sends, then
marks it sent with the SES message id; a failed send releases it (deletes the entry) so the
next run retries, and so does re-arming a level. Entries expire about 400 days after they were
claimed (the table's TTL), past any comparison a year back.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError

from tally import tables
from tally.errors import NotFound
from tally.models import LedgerEntry, LedgerState
from tally.settings import Settings
from tally.store import keys
from tally.store.attributes import DecimalAttribute
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem

KEEP_FOR = timedelta(days=400)
NOT_CLAIMED = "this alert level is not claimed"
_FAILED_CONDITION = "ConditionalCheckFailedException"


class AlertLedger(Protocol):
    def claim(
        self,
        user_id: str,
        period: str,
        level: str,
        *,
        limit: Decimal,
        threshold: int,
        at: datetime,
    ) -> bool:
        """Claim the level for sending: True only if no entry holds it (never claimed, or
        released). Of two concurrent claims exactly one is True."""

    def mark_sent(
        self, user_id: str, period: str, level: str, *, message_id: str | None, at: datetime
    ) -> None:
        """Record the claimed level as sent (with the SES message id, when there is one).
        Raises ``NotFound`` if it is not claimed (released in between)."""

    def release(self, user_id: str, period: str, level: str) -> None:
        """Forget the level (a failed send, or a re-armed level): the next claim wins. Releasing
        an absent entry does nothing."""

    def entries(self, user_id: str, period: str) -> list[LedgerEntry]:
        """The period's claimed and sent levels, by level name."""


def expires(at: datetime) -> int:
    """The TTL attribute's value: epoch seconds when the entry may go."""
    return int((at + KEEP_FOR).timestamp())


# --- items -----------------------------------------------------------------------------


class AlertItem(KeyedItem):
    """pk USER#<user>, sk ALERT#<YYYY-MM>#<level>."""

    spec = tables.ALERTS

    level = UnicodeAttribute()
    limit = DecimalAttribute()
    threshold = NumberAttribute()
    state = UnicodeAttribute()
    message_id = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    expires = NumberAttribute()


def _entry(item: AlertItem) -> LedgerEntry:
    return LedgerEntry(
        level=item.level,
        limit=item.limit,
        threshold=int(item.threshold),
        state=LedgerState(item.state),
        message_id=item.message_id,
        at=item.at,
    )


# --- DynamoDB --------------------------------------------------------------------------


class DynamoAlertLedger(DynamoStore):
    def claim(
        self,
        user_id: str,
        period: str,
        level: str,
        *,
        limit: Decimal,
        threshold: int,
        at: datetime,
    ) -> bool:
        item = AlertItem(
            pk=keys.user(user_id),
            sk=keys.alert(period, level),
            level=str(level),
            limit=limit,
            threshold=threshold,
            state=LedgerState.CLAIMED.value,
            at=at,
            expires=expires(at),
        )
        try:
            item.save(condition=AlertItem.sk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                return False
            raise
        return True

    def mark_sent(
        self, user_id: str, period: str, level: str, *, message_id: str | None, at: datetime
    ) -> None:
        item = AlertItem(pk=keys.user(user_id), sk=keys.alert(period, level))
        actions: list[Any] = [
            AlertItem.state.set(LedgerState.SENT.value),
            AlertItem.at.set(at),
            AlertItem.message_id.set(message_id)
            if message_id is not None
            else AlertItem.message_id.remove(),
        ]
        try:
            item.update(actions, condition=AlertItem.sk.exists())
        except UpdateError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                raise NotFound(NOT_CLAIMED) from error
            raise

    def release(self, user_id: str, period: str, level: str) -> None:
        AlertItem(pk=keys.user(user_id), sk=keys.alert(period, level)).delete()

    def entries(self, user_id: str, period: str) -> list[LedgerEntry]:
        return [
            _entry(i)
            for i in AlertItem.query(
                keys.user(user_id),
                AlertItem.sk.startswith(keys.alert_period(period)),
                consistent_read=True,
            )
        ]


# --- in memory -------------------------------------------------------------------------


class MemoryAlertLedger:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], LedgerEntry] = {}
        # Claims are check-then-set: the lock makes them as atomic as DynamoDB's condition.
        self._lock = threading.Lock()

    def claim(
        self,
        user_id: str,
        period: str,
        level: str,
        *,
        limit: Decimal,
        threshold: int,
        at: datetime,
    ) -> bool:
        key = (user_id, period, str(level))
        with self._lock:
            if key in self.items:
                return False
            self.items[key] = LedgerEntry(
                str(level), limit, threshold, LedgerState.CLAIMED, None, at
            )
            return True

    def mark_sent(
        self, user_id: str, period: str, level: str, *, message_id: str | None, at: datetime
    ) -> None:
        key = (user_id, period, str(level))
        with self._lock:
            stored = self.items.get(key)
            if stored is None:
                raise NotFound(NOT_CLAIMED)
            self.items[key] = replace(stored, state=LedgerState.SENT, message_id=message_id, at=at)

    def release(self, user_id: str, period: str, level: str) -> None:
        with self._lock:
            self.items.pop((user_id, period, str(level)), None)

    def entries(self, user_id: str, period: str) -> list[LedgerEntry]:
        return [
            entry
            for (user, p, _), entry in sorted(self.items.items())
            if user == user_id and p == period
        ]


def dynamodb_store(settings: Settings) -> AlertLedger:
    return DynamoAlertLedger(settings)


def memory_store(audit: MemoryAuditLog) -> AlertLedger:
    return MemoryAlertLedger()
