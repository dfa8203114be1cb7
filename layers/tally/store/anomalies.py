"""Cost anomalies (``tally.anomalies``): one item per episode, pk USER#<user>, sk
ANOMALY#<first day>#<cause>, so a user's recent episodes are one consistent Query (detection
reads them to extend an episode rather than open a second one) and an id names its item.

``create`` is a conditional put, so the same episode is stored once however many evaluations
judge its day; ``extend`` is conditional on the episode's last day, so two evaluations cannot
both add the same next day. Two indexes list them for admins without a Scan: the
whole organisation (``by-org``, one constant partition) and per status (``by-status``), both
newest day first. Items expire about 400 days after detection (TTL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from tally import tables
from tally.anomalies.model import Anomaly, AnomalyStatus, parse_anomaly_id
from tally.errors import NotFound
from tally.models import Page
from tally.settings import Settings
from tally.store import PageKey, keys
from tally.store.attributes import DecimalAttribute
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem, page, paginate

KEEP_FOR = timedelta(days=400)
_FAILED_CONDITION = "ConditionalCheckFailedException"


class AnomalyStore(Protocol):
    def create(self, anomaly: Anomaly) -> bool:
        """Store a new episode unless it exists; False when it did."""

    def extend(self, anomaly: Anomaly, *, after: date) -> bool:
        """Store ``anomaly`` (an episode grown by a day) if its stored last day is still
        ``after``; False otherwise (another evaluation extended it, or it is gone)."""

    def get(self, anomaly_id: str) -> Anomaly | None: ...

    def since(self, user_id: str, first: date) -> list[Anomaly]:
        """The user's episodes that started on or after ``first``, oldest first."""

    def list_user(
        self, user_id: str, *, status: AnomalyStatus | None, limit: int, start_key: PageKey | None
    ) -> Page[Anomaly]:
        """The user's episodes, newest first, of ``status`` if given."""

    def list_org(
        self, *, status: AnomalyStatus | None, limit: int, start_key: PageKey | None
    ) -> Page[Anomaly]:
        """Everyone's episodes, newest first, of ``status`` if given."""

    def set_status(self, anomaly_id: str, status: AnomalyStatus, *, at: datetime) -> Anomaly:
        """Raises ``NotFound`` when there is no such episode."""


def _listed(a: Anomaly) -> str:
    """The indexes' sort key: newest first day first, unique."""
    return f"{a.day.isoformat()}#{a.anomaly_id}"


def _sort_key(day: date, cause: str) -> str:
    return f"{keys.anomaly_prefix()}{day.isoformat()}#{cause}"


# --- items -----------------------------------------------------------------------------


class AnomalyOrgIndex(GlobalSecondaryIndex["AnomalyItem"]):
    class Meta:
        index_name = tables.ANOMALIES.indexes[0].name
        projection = AllProjection()

    org = UnicodeAttribute(hash_key=True)
    listed = UnicodeAttribute(range_key=True)


class AnomalyStatusIndex(GlobalSecondaryIndex["AnomalyItem"]):
    class Meta:
        index_name = tables.ANOMALIES.indexes[1].name
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    listed = UnicodeAttribute(range_key=True)


class AnomalyItem(KeyedItem):
    """pk USER#<user>, sk ANOMALY#<first day>#<cause>."""

    spec = tables.ANOMALIES

    anomaly_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    org = UnicodeAttribute()
    listed = UnicodeAttribute()
    status = UnicodeAttribute()
    day = UnicodeAttribute()
    last_day = UnicodeAttribute()
    service = UnicodeAttribute()
    resource_id = UnicodeAttribute(null=True)
    usage_unit = UnicodeAttribute(null=True)
    currency = UnicodeAttribute()
    expected = DecimalAttribute()
    actual = DecimalAttribute()
    score = DecimalAttribute()
    detected_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expires = NumberAttribute()
    by_org = AnomalyOrgIndex()
    by_status = AnomalyStatusIndex()


def _anomaly(i: AnomalyItem) -> Anomaly:
    return Anomaly(
        anomaly_id=i.anomaly_id,
        user_id=i.user_id,
        day=date.fromisoformat(i.day),
        last_day=date.fromisoformat(i.last_day),
        service=i.service,
        resource_id=i.resource_id,
        usage_unit=i.usage_unit,
        currency=i.currency,
        expected=i.expected,
        actual=i.actual,
        score=i.score,
        status=AnomalyStatus(i.status),
        detected_at=i.detected_at,
        updated_at=i.updated_at,
    )


def _item(a: Anomaly) -> AnomalyItem:
    return AnomalyItem(
        pk=keys.user(a.user_id),
        sk=_sort_key(a.day, a.cause),
        anomaly_id=a.anomaly_id,
        user_id=a.user_id,
        org=keys.DIRECTORY,
        listed=_listed(a),
        status=a.status.value,
        day=a.day.isoformat(),
        last_day=a.last_day.isoformat(),
        service=a.service,
        resource_id=a.resource_id,
        usage_unit=a.usage_unit,
        currency=a.currency,
        expected=a.expected,
        actual=a.actual,
        score=a.score,
        detected_at=a.detected_at,
        updated_at=a.updated_at,
        expires=int((a.detected_at + KEEP_FOR).timestamp()),
    )


def _key_of(anomaly_id_: str) -> tuple[str, str] | None:
    parsed = parse_anomaly_id(anomaly_id_)
    if parsed is None:
        return None
    user_id, day, cause = parsed
    return keys.user(user_id), _sort_key(day, cause)


# --- DynamoDB --------------------------------------------------------------------------


class DynamoAnomalyStore(DynamoStore):
    def create(self, anomaly: Anomaly) -> bool:
        try:
            _item(anomaly).save(condition=AnomalyItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                return False
            raise
        return True

    def extend(self, anomaly: Anomaly, *, after: date) -> bool:
        try:
            _item(anomaly).save(condition=AnomalyItem.last_day == after.isoformat())
        except PutError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                return False
            raise
        return True

    def get(self, anomaly_id: str) -> Anomaly | None:
        key = _key_of(anomaly_id)
        if key is None:
            return None
        try:
            return _anomaly(AnomalyItem.get(*key, consistent_read=True))
        except AnomalyItem.DoesNotExist:
            return None

    def since(self, user_id: str, first: date) -> list[Anomaly]:
        items = AnomalyItem.query(
            keys.user(user_id),
            AnomalyItem.sk.between(_sort_key(first, ""), f"{keys.anomaly_prefix()}~"),
            consistent_read=True,
        )
        return [_anomaly(i) for i in items]

    def list_user(
        self, user_id: str, *, status: AnomalyStatus | None, limit: int, start_key: PageKey | None
    ) -> Page[Anomaly]:
        # A user has few episodes: the status is a filter of their own partition.
        it = AnomalyItem.query(
            keys.user(user_id),
            AnomalyItem.sk.startswith(keys.anomaly_prefix()),
            filter_condition=(AnomalyItem.status == status.value) if status else None,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start_key,
        )
        return page([_anomaly(i) for i in it], it)

    def list_org(
        self, *, status: AnomalyStatus | None, limit: int, start_key: PageKey | None
    ) -> Page[Anomaly]:
        if status is None:
            it = AnomalyItem.by_org.query(
                keys.DIRECTORY, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
            )
        else:
            it = AnomalyItem.by_status.query(
                status.value, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
            )
        return page([_anomaly(i) for i in it], it)

    def set_status(self, anomaly_id: str, status: AnomalyStatus, *, at: datetime) -> Anomaly:
        key = _key_of(anomaly_id)
        if key is None:
            raise NotFound("no such anomaly")
        item = AnomalyItem(pk=key[0], sk=key[1])
        try:
            item.update(
                [AnomalyItem.status.set(status.value), AnomalyItem.updated_at.set(at)],
                condition=AnomalyItem.pk.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                raise NotFound("no such anomaly") from error
            raise
        return _anomaly(item)


# --- in memory -------------------------------------------------------------------------


class MemoryAnomalyStore:
    def __init__(self) -> None:
        self.items: dict[str, Anomaly] = {}

    def create(self, anomaly: Anomaly) -> bool:
        if anomaly.anomaly_id in self.items:
            return False
        self.items[anomaly.anomaly_id] = anomaly
        return True

    def extend(self, anomaly: Anomaly, *, after: date) -> bool:
        held = self.items.get(anomaly.anomaly_id)
        if held is None or held.last_day != after:
            return False
        self.items[anomaly.anomaly_id] = anomaly
        return True

    def get(self, anomaly_id: str) -> Anomaly | None:
        return self.items.get(anomaly_id)

    def since(self, user_id: str, first: date) -> list[Anomaly]:
        return sorted(
            (a for a in self.items.values() if a.user_id == user_id and a.day >= first),
            key=lambda a: _sort_key(a.day, a.cause),
        )

    def _page(
        self,
        keep: Callable[[Anomaly], bool],
        order: Callable[[Anomaly], str],
        limit: int,
        start_key: PageKey | None,
    ) -> Page[Anomaly]:
        listed = sorted((a for a in self.items.values() if keep(a)), key=order, reverse=True)
        return paginate(listed, limit, start_key, lambda a: a.anomaly_id)

    def list_user(
        self, user_id: str, *, status: AnomalyStatus | None, limit: int, start_key: PageKey | None
    ) -> Page[Anomaly]:
        return self._page(
            lambda a: a.user_id == user_id and status in (None, a.status),
            lambda a: _sort_key(a.day, a.cause),
            limit,
            start_key,
        )

    def list_org(
        self, *, status: AnomalyStatus | None, limit: int, start_key: PageKey | None
    ) -> Page[Anomaly]:
        return self._page(lambda a: status in (None, a.status), _listed, limit, start_key)

    def set_status(self, anomaly_id: str, status: AnomalyStatus, *, at: datetime) -> Anomaly:
        held = self.items.get(anomaly_id)
        if held is None:
            raise NotFound("no such anomaly")
        changed = replace(held, status=status, updated_at=at)
        self.items[anomaly_id] = changed
        return changed


def dynamodb_store(settings: Settings) -> AnomalyStore:
    return DynamoAnomalyStore(settings)


def memory_store(audit: MemoryAuditLog) -> AnomalyStore:
    return MemoryAnomalyStore()
