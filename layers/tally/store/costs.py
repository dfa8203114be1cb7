"""Allocated cost lines: a day's set is replaced whole by each ingest; read by owner and days."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Protocol

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from tally import tables
from tally.models import CostRecord
from tally.settings import Settings
from tally.store import keys
from tally.store.attributes import DecimalAttribute
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem


class CostStore(Protocol):
    def replace_day(self, day: date, records: Iterable[CostRecord]) -> set[str]:
        """Make ``records`` the whole set for ``day``: stale lines go, none doubles.
        Returns every owner whose records for the day changed or were present."""

    def for_owner(self, owner: str, start: date, end: date) -> list[CostRecord]:
        """Records of ``owner`` for days in [start, end)."""

    def lines_between(self, owner: str, day: date, low: str, high: str) -> list[CostRecord]:
        """Records of ``owner`` on ``day`` whose line id starts with a prefix from ``low`` to
        ``high`` inclusive: one slice of a large owner's day (the organisation's)."""

    def apply(self, puts: Iterable[CostRecord], deletes: Iterable[tuple[str, date, str]]) -> int:
        """Write ``puts`` and delete the records keyed (owner, day, line id) in ``deletes``:
        exactly the changes a fan-out batch worked out, nothing else. Returns the write
        requests it took (a BatchWriteItem carries 25)."""


class CostDayIndex(GlobalSecondaryIndex["CostRecordItem"]):
    class Meta:
        index_name = tables.COSTS.indexes[0].name
        projection = KeysOnlyProjection()

    day = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class CostRecordItem(KeyedItem):
    """pk OWNER#<owner>, sk <day>#<line id>: one allocated cost line."""

    spec = tables.COSTS

    owner = UnicodeAttribute()
    day = UnicodeAttribute()
    billing_period = UnicodeAttribute()
    line_id = UnicodeAttribute()
    service = UnicodeAttribute()
    resource_id = UnicodeAttribute(null=True)
    usage_quantity = DecimalAttribute()
    usage_unit = UnicodeAttribute(null=True)
    billed_cost = DecimalAttribute()
    effective_cost = DecimalAttribute()
    currency = UnicodeAttribute()
    charge_category = UnicodeAttribute()
    estimated = BooleanAttribute()
    source = UnicodeAttribute()
    fetched_at = UTCDateTimeAttribute()
    allocation = UnicodeAttribute()
    share_pct = DecimalAttribute()
    by_day = CostDayIndex()


def _record_item(r: CostRecord) -> CostRecordItem:
    return CostRecordItem(
        pk=keys.owner(r.owner),
        sk=keys.cost_line(r.day, r.line_id),
        owner=r.owner,
        day=r.day.isoformat(),
        billing_period=r.billing_period,
        line_id=r.line_id,
        service=r.service,
        resource_id=r.resource_id,
        usage_quantity=r.usage_quantity,
        usage_unit=r.usage_unit,
        billed_cost=r.billed_cost,
        effective_cost=r.effective_cost,
        currency=r.currency,
        charge_category=r.charge_category,
        estimated=r.estimated,
        source=r.source,
        fetched_at=r.fetched_at,
        allocation=r.allocation,
        share_pct=r.share_pct,
    )


def _record(i: CostRecordItem) -> CostRecord:
    return CostRecord(
        owner=i.owner,
        day=date.fromisoformat(i.day),
        line_id=i.line_id,
        service=i.service,
        resource_id=i.resource_id,
        usage_quantity=i.usage_quantity,
        usage_unit=i.usage_unit,
        billed_cost=i.billed_cost,
        effective_cost=i.effective_cost,
        currency=i.currency,
        charge_category=i.charge_category,
        estimated=i.estimated,
        source=i.source,
        fetched_at=i.fetched_at,
        allocation=i.allocation,
        share_pct=i.share_pct,
    )


class DynamoCostStore(DynamoStore):
    def replace_day(self, day: date, records: Iterable[CostRecord]) -> set[str]:
        new_items = {(i.pk, i.sk): i for i in map(_record_item, records)}
        existing = {(i.pk, i.sk) for i in CostRecordItem.by_day.query(day.isoformat())}
        owners = {keys.owner.id_of(pk) for pk, _ in existing | new_items.keys()}
        # batch_write retries unprocessed items itself; puts overwrite, so a retry is harmless.
        with CostRecordItem.batch_write() as batch:
            for pk, sk in existing - new_items.keys():
                batch.delete(CostRecordItem(pk=pk, sk=sk))
            for item in new_items.values():
                batch.save(item)
        return owners

    def for_owner(self, owner: str, start: date, end: date) -> list[CostRecord]:
        if end <= start:
            return []
        # A key condition allows one sort-key test: BETWEEN the first day and the last day's end.
        condition = CostRecordItem.sk.between(*keys.cost_days(start, end - timedelta(days=1)))
        return [_record(i) for i in CostRecordItem.query(keys.owner(owner), condition)]

    def lines_between(self, owner: str, day: date, low: str, high: str) -> list[CostRecord]:
        condition = CostRecordItem.sk.between(*keys.cost_line_range(day, low, high))
        return [_record(i) for i in CostRecordItem.query(keys.owner(owner), condition)]

    def apply(self, puts: Iterable[CostRecord], deletes: Iterable[tuple[str, date, str]]) -> int:
        items = 0
        with CostRecordItem.batch_write() as batch:
            for owner, day, line_id in deletes:
                batch.delete(CostRecordItem(pk=keys.owner(owner), sk=keys.cost_line(day, line_id)))
                items += 1
            for record in puts:
                batch.save(_record_item(record))
                items += 1
        return -(-items // BATCH_WRITE_ITEMS)


# DynamoDB's BatchWriteItem takes at most 25 puts or deletes per request.
BATCH_WRITE_ITEMS = 25


class MemoryCostStore:
    def __init__(self) -> None:
        # owner -> (day, line id) -> record: reads by owner stay proportional to that owner.
        self.by_owner: dict[str, dict[tuple[date, str], CostRecord]] = {}
        self.days: dict[date, set[str]] = {}  # day -> owners with records that day

    @property
    def records(self) -> dict[tuple[str, date, str], CostRecord]:
        return {
            (o, d, line): r for o, recs in self.by_owner.items() for (d, line), r in recs.items()
        }

    def replace_day(self, day: date, records: Iterable[CostRecord]) -> set[str]:
        old_owners = self.days.pop(day, set())
        for owner in old_owners:
            recs = self.by_owner[owner]
            for key in [k for k in recs if k[0] == day]:
                del recs[key]
        new_owners: set[str] = set()
        for r in records:
            self.by_owner.setdefault(r.owner, {})[(r.day, r.line_id)] = r
            new_owners.add(r.owner)
        if new_owners:
            self.days[day] = new_owners
        return old_owners | new_owners

    def for_owner(self, owner: str, start: date, end: date) -> list[CostRecord]:
        recs = self.by_owner.get(owner, {})
        return [recs[k] for k in sorted(k for k in recs if start <= k[0] < end)]

    def lines_between(self, owner: str, day: date, low: str, high: str) -> list[CostRecord]:
        recs = self.by_owner.get(owner, {})
        return [
            recs[k]
            for k in sorted(k for k in recs if k[0] == day and low <= k[1][: len(high)] <= high)
        ]

    def apply(self, puts: Iterable[CostRecord], deletes: Iterable[tuple[str, date, str]]) -> int:
        items = 0
        for owner, day, line_id in deletes:
            items += 1
            recs = self.by_owner.get(owner, {})
            recs.pop((day, line_id), None)
            if not any(k[0] == day for k in recs):
                self.days.get(day, set()).discard(owner)
        for r in puts:
            items += 1
            self.by_owner.setdefault(r.owner, {})[(r.day, r.line_id)] = r
            self.days.setdefault(r.day, set()).add(r.owner)
        return -(-items // BATCH_WRITE_ITEMS)


def dynamodb_store(settings: Settings) -> CostStore:
    return DynamoCostStore(settings)


def memory_store(audit: MemoryAuditLog) -> CostStore:
    return MemoryCostStore()
