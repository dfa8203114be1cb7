"""The alert ledger: which levels of a user's budget period (and which digests and restatement
notices) were claimed, sent or deferred, so each (user, period, level) notifies at most once
however many evaluations run at once.

An evaluation claims a level (a conditional write: only one claim wins), sends, then marks it
sent with the SES message id. A send that fails, or that the run's email cap holds back,
defers the level: a later run claims it again (a deferred entry is free to claim) and the
hourly drain reads the deferred entries oldest first from a sparse index. A claim whose
evaluation crashed before marking it is taken over once it is stale, once only: at most one
duplicate email, as SES's own retry could make. Re-arming a level releases it (deletes the
entry). Entries expire about 400 days after they were last written (the table's TTL).

The same table counts each run's emails (``take_send_slot``): one counter item per run,
incremented conditionally, so a run fanned out to many invocations still sends at most its cap.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from tally import tables
from tally.errors import NotFound
from tally.models import DeferredAlert, LedgerEntry, LedgerState
from tally.settings import Settings
from tally.store import keys
from tally.store.attributes import DecimalAttribute
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem

KEEP_FOR = timedelta(days=400)
# A run's counter outlives any run (a drain, retries of the event) by far.
RUN_KEPT_FOR = timedelta(days=3)
# A stale claim is taken over while it has had fewer claims than this since it was free.
MAX_ATTEMPTS = 2
DEFER_TRIES = 5  # a deferral races only another evaluation's deferral of the same entry
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
        stale_before: datetime | None = None,
    ) -> bool:
        """Claim the level for sending. True if no entry holds it (never claimed, or
        released), if it is deferred, or if it is claimed since before ``stale_before`` by
        one claim only (a crashed evaluation's: taken over once). Of concurrent claims
        exactly one is True."""

    def mark_sent(
        self, user_id: str, period: str, level: str, *, message_id: str | None, at: datetime
    ) -> None:
        """Record the claimed level as sent (with the SES message id, when there is one).
        Raises ``NotFound`` if it is not claimed (released in between)."""

    def release(self, user_id: str, period: str, level: str) -> None:
        """Forget the level (a re-armed level, a deferred one no longer due): the next claim
        wins. Releasing an absent entry does nothing."""

    def defer(
        self,
        user_id: str,
        period: str,
        level: str,
        *,
        limit: Decimal,
        threshold: int,
        at: datetime,
        reason: str,
    ) -> None:
        """Leave the level for a later run (a failed send, the run's cap): state deferred,
        listed by ``deferred``. The first deferral's time stays its ``due_at``."""

    def deferred(self, *, limit: int) -> list[DeferredAlert]:
        """Up to ``limit`` deferred entries of every user, the longest waiting first."""

    def take_send_slot(self, run_id: str, *, cap: int, at: datetime) -> bool:
        """Count one email against run ``run_id``: False (nothing counted) once ``cap`` were
        counted in that run, however many invocations share it."""

    def entries(self, user_id: str, period: str) -> list[LedgerEntry]:
        """The period's claimed, deferred and sent levels, by level name."""


def expires(at: datetime) -> int:
    """The TTL attribute's value: epoch seconds when the entry may go."""
    return int((at + KEEP_FOR).timestamp())


def is_stale(entry: LedgerEntry, stale_before: datetime | None) -> bool:
    """Whether a claim may be taken over: claimed before ``stale_before``, by one claim."""
    return (
        stale_before is not None
        and entry.state is LedgerState.CLAIMED
        and entry.at < stale_before
        and entry.attempts < MAX_ATTEMPTS
    )


# --- items -----------------------------------------------------------------------------


class DeferredIndex(GlobalSecondaryIndex["AlertItem"]):
    class Meta:
        index_name = tables.ALERTS.indexes[0].name
        projection = AllProjection()

    deferred = UnicodeAttribute(hash_key=True)
    deferred_order = UnicodeAttribute(range_key=True)


class AlertItem(KeyedItem):
    """pk USER#<user>, sk ALERT#<period>#<level>. ``deferred`` (the constant DEFERRED) and
    ``deferred_order`` only while deferred."""

    spec = tables.ALERTS

    level = UnicodeAttribute()
    limit = DecimalAttribute()
    threshold = NumberAttribute()
    state = UnicodeAttribute()
    message_id = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    attempts = NumberAttribute(null=True)  # absent on entries written before: one claim
    due_at = UTCDateTimeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    deferred = UnicodeAttribute(null=True)
    deferred_order = UnicodeAttribute(null=True)
    expires = NumberAttribute()
    by_deferral = DeferredIndex()


class RunSlotsItem(KeyedItem):
    """pk RUN#<run id>, sk SLOTS: how many emails the run sent."""

    spec = tables.ALERTS

    sent = NumberAttribute()
    expires = NumberAttribute()


def _entry(item: AlertItem) -> LedgerEntry:
    return LedgerEntry(
        level=item.level,
        limit=item.limit,
        threshold=int(item.threshold),
        state=LedgerState(item.state),
        message_id=item.message_id,
        at=item.at,
        attempts=int(item.attempts or 1),
        due_at=item.due_at,
    )


def _deferred(item: AlertItem) -> DeferredAlert:
    period, level = keys.alert_of(item.sk)
    assert item.due_at is not None  # a deferred entry always has one
    return DeferredAlert(
        user_id=keys.user.id_of(item.pk),
        period=period,
        level=level,
        due_at=item.due_at,
        reason=item.reason or "",
    )


# --- DynamoDB --------------------------------------------------------------------------


class DynamoAlertLedger(DynamoStore):
    def _update(self, item: AlertItem, actions: list[Any], condition: Condition | None) -> bool:
        """Apply ``actions`` if ``condition`` holds; False when it does not."""
        try:
            item.update(actions, condition=condition)
        except UpdateError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                return False
            raise
        return True

    def claim(
        self,
        user_id: str,
        period: str,
        level: str,
        *,
        limit: Decimal,
        threshold: int,
        at: datetime,
        stale_before: datetime | None = None,
    ) -> bool:
        item = AlertItem(pk=keys.user(user_id), sk=keys.alert(period, level))
        claimed: list[Any] = [
            AlertItem.level.set(str(level)),
            AlertItem.limit.set(limit),
            AlertItem.threshold.set(threshold),
            AlertItem.state.set(LedgerState.CLAIMED.value),
            AlertItem.at.set(at),
            AlertItem.expires.set(expires(at)),
            AlertItem.message_id.remove(),
            # Out of the deferred index while an evaluation holds it; due_at stays, so a
            # second failure keeps the first deferral's place in the queue.
            AlertItem.deferred.remove(),
            AlertItem.deferred_order.remove(),
        ]
        free = AlertItem.sk.does_not_exist() | (AlertItem.state == LedgerState.DEFERRED.value)
        if self._update(item, [*claimed, AlertItem.attempts.set(1)], free):
            return True
        if stale_before is None:
            return False
        stale = (
            (AlertItem.state == LedgerState.CLAIMED.value)
            & (AlertItem.at < stale_before)
            & (AlertItem.attempts.does_not_exist() | (AlertItem.attempts < MAX_ATTEMPTS))
        )
        taken_over = AlertItem.attempts.set((AlertItem.attempts | 1) + 1)
        return self._update(item, [*claimed, taken_over], stale)

    def mark_sent(
        self, user_id: str, period: str, level: str, *, message_id: str | None, at: datetime
    ) -> None:
        item = AlertItem(pk=keys.user(user_id), sk=keys.alert(period, level))
        actions: list[Any] = [
            AlertItem.state.set(LedgerState.SENT.value),
            AlertItem.at.set(at),
            AlertItem.expires.set(expires(at)),
            AlertItem.message_id.set(message_id)
            if message_id is not None
            else AlertItem.message_id.remove(),
            AlertItem.due_at.remove(),
            AlertItem.reason.remove(),
            AlertItem.deferred.remove(),
            AlertItem.deferred_order.remove(),
        ]
        if not self._update(item, actions, AlertItem.sk.exists()):
            raise NotFound(NOT_CLAIMED)

    def release(self, user_id: str, period: str, level: str) -> None:
        AlertItem(pk=keys.user(user_id), sk=keys.alert(period, level)).delete()

    def defer(
        self,
        user_id: str,
        period: str,
        level: str,
        *,
        limit: Decimal,
        threshold: int,
        at: datetime,
        reason: str,
    ) -> None:
        pk, sk = keys.user(user_id), keys.alert(period, level)
        # The index's sort key carries the first deferral time, which an update expression
        # cannot splice into a string: read it, then write on condition it did not change.
        for _ in range(DEFER_TRIES):
            try:
                stored = AlertItem.get(pk, sk, consistent_read=True)
                first = stored.due_at
            except AlertItem.DoesNotExist:
                first = None
            due_at = first or at
            actions: list[Any] = [
                AlertItem.level.set(str(level)),
                AlertItem.limit.set(limit),
                AlertItem.threshold.set(threshold),
                AlertItem.state.set(LedgerState.DEFERRED.value),
                AlertItem.at.set(at),
                AlertItem.expires.set(expires(at)),
                AlertItem.due_at.set(due_at),
                AlertItem.reason.set(reason),
                AlertItem.deferred.set(keys.DEFERRED),
                AlertItem.deferred_order.set(keys.deferred_order(due_at, user_id, period, level)),
            ]
            unchanged = (
                AlertItem.due_at.does_not_exist() if first is None else AlertItem.due_at == first
            )
            if self._update(AlertItem(pk=pk, sk=sk), actions, unchanged):
                return
        raise RuntimeError(f"could not defer {sk} of {pk}: its entry kept changing")

    def deferred(self, *, limit: int) -> list[DeferredAlert]:
        if limit <= 0:
            return []
        return [_deferred(i) for i in AlertItem.by_deferral.query(keys.DEFERRED, limit=limit)]

    def take_send_slot(self, run_id: str, *, cap: int, at: datetime) -> bool:
        if cap <= 0:
            return False
        item = RunSlotsItem(pk=keys.run(run_id), sk=keys.RUN_SLOTS)
        actions: list[Any] = [
            RunSlotsItem.sent.add(1),
            RunSlotsItem.expires.set(int((at + RUN_KEPT_FOR).timestamp())),
        ]
        room = RunSlotsItem.sent.does_not_exist() | (RunSlotsItem.sent < cap)
        try:
            item.update(actions, condition=room)
        except UpdateError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                return False
            raise
        return True

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
        self.reasons: dict[tuple[str, str, str], str] = {}
        self.runs: dict[str, int] = {}
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
        stale_before: datetime | None = None,
    ) -> bool:
        key = (user_id, period, str(level))
        with self._lock:
            stored = self.items.get(key)
            if stored is None or stored.state is LedgerState.DEFERRED:
                attempts = 1
            elif is_stale(stored, stale_before):
                attempts = stored.attempts + 1
            else:
                return False
            self.items[key] = LedgerEntry(
                str(level),
                limit,
                threshold,
                LedgerState.CLAIMED,
                None,
                at,
                attempts=attempts,
                due_at=stored.due_at if stored else None,
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
            self.items[key] = replace(
                stored, state=LedgerState.SENT, message_id=message_id, at=at, due_at=None
            )
            self.reasons.pop(key, None)

    def release(self, user_id: str, period: str, level: str) -> None:
        key = (user_id, period, str(level))
        with self._lock:
            self.items.pop(key, None)
            self.reasons.pop(key, None)

    def defer(
        self,
        user_id: str,
        period: str,
        level: str,
        *,
        limit: Decimal,
        threshold: int,
        at: datetime,
        reason: str,
    ) -> None:
        key = (user_id, period, str(level))
        with self._lock:
            stored = self.items.get(key)
            self.items[key] = LedgerEntry(
                str(level),
                limit,
                threshold,
                LedgerState.DEFERRED,
                None,
                at,
                attempts=stored.attempts if stored else 1,
                due_at=(stored.due_at if stored else None) or at,
            )
            self.reasons[key] = reason

    def deferred(self, *, limit: int) -> list[DeferredAlert]:
        with self._lock:
            waiting = [
                (keys.deferred_order(e.due_at, *key), key, e)
                for key, e in self.items.items()
                if e.state is LedgerState.DEFERRED and e.due_at is not None
            ]
            return [
                DeferredAlert(*key, due_at=e.due_at, reason=self.reasons.get(key, ""))
                for _, key, e in sorted(waiting)[: max(0, limit)]
                if e.due_at is not None
            ]

    def take_send_slot(self, run_id: str, *, cap: int, at: datetime) -> bool:
        with self._lock:
            sent = self.runs.get(run_id, 0)
            if sent >= cap:
                return False
            self.runs[run_id] = sent + 1
            return True

    def entries(self, user_id: str, period: str) -> list[LedgerEntry]:
        with self._lock:
            return [
                entry
                for (user, p, _), entry in sorted(self.items.items())
                if user == user_id and p == period
            ]


def dynamodb_store(settings: Settings) -> AlertLedger:
    return DynamoAlertLedger(settings)


def memory_store(audit: MemoryAuditLog) -> AlertLedger:
    return MemoryAlertLedger()
