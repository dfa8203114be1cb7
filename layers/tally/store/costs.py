"""Allocated cost lines: a day's set is replaced whole by each ingest; read by owner and days."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Protocol

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from tally import tables
from tally.models import CostRecord
from tally.resources import line_match_key
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

    def for_resource(self, owner: str, start: date, end: date, key: str) -> list[CostRecord]:
        """Records of ``owner`` for days in [start, end) of the resource whose match key is
        ``key`` (``tally.resources.line_match_key`` of the line's service and resource id),
        in day order. One resource's page needs its own lines, not the organisation's two
        months of every line: in DynamoDB one Query of the "by-resource" index."""

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


class CostResourceIndex(GlobalSecondaryIndex["CostRecordItem"]):
    """One owner's lines of one resource (sparse: lines without a resource id are not in it)."""

    class Meta:
        index_name = tables.COSTS.indexes[1].name
        projection = AllProjection()

    resource_key = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


def resource_key(r: CostRecord) -> str | None:
    """The match key of the resource a line names (None without a resource id)."""
    return line_match_key(r.service, r.resource_id) if r.resource_id else None


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
    # Absent on items written before names were kept (read as None: the id's derived name).
    resource_name = UnicodeAttribute(null=True)
    # <owner>#<match key> of a line with a resource id (the "by-resource" index); absent on
    # lines without one. Lines written before the index got it from the deploy's backfill
    # (backfill_resource_keys).
    resource_key = UnicodeAttribute(null=True)
    by_day = CostDayIndex()
    by_resource = CostResourceIndex()


def _record_item(r: CostRecord) -> CostRecordItem:
    key = resource_key(r)
    return CostRecordItem(
        resource_key=keys.cost_resource(r.owner, key) if key else None,
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
        resource_name=r.resource_name,
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
        resource_name=i.resource_name,
    )


def _day_range(start: date, end: date) -> Condition:
    """The sort-key condition of the lines of days [start, end): a key condition allows one
    sort-key test, BETWEEN the first day and the last day's end."""
    return CostRecordItem.sk.between(*keys.cost_days(start, end - timedelta(days=1)))


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
        found = CostRecordItem.query(keys.owner(owner), _day_range(start, end))
        return [_record(i) for i in found]

    def for_resource(self, owner: str, start: date, end: date, key: str) -> list[CostRecord]:
        if end <= start:
            return []
        # The index's sort key is the line's (<day>#<line id>): the same days as the table's.
        found = CostRecordItem.by_resource.query(
            keys.cost_resource(owner, key), _day_range(start, end)
        )
        return [_record(i) for i in found]

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
    """owner -> day -> line-id prefix (two characters) -> line id -> record: reads by owner
    stay proportional to that owner's days, and a slice of prefixes to that slice (the
    organisation's day holds one record per line of the whole organisation)."""

    def __init__(self) -> None:
        self._recs: dict[str, dict[date, dict[str, dict[str, CostRecord]]]] = {}

    @property
    def records(self) -> dict[tuple[str, date, str], CostRecord]:
        return {
            (o, d, line): r
            for o, days in self._recs.items()
            for d, buckets in days.items()
            for bucket in buckets.values()
            for line, r in bucket.items()
        }

    def day_count(self, owner: str, day: date) -> int:
        """Records of ``owner`` on ``day`` (for the bench's request model)."""
        return sum(len(b) for b in self._recs.get(owner, {}).get(day, {}).values())

    def owners_of(self, day: date) -> set[str]:
        return {o for o, days in self._recs.items() if day in days}

    def _put(self, r: CostRecord) -> None:
        buckets = self._recs.setdefault(r.owner, {}).setdefault(r.day, {})
        buckets.setdefault(r.line_id[:2], {})[r.line_id] = r

    def _delete(self, owner: str, day: date, line_id: str) -> None:
        days = self._recs.get(owner, {})
        buckets = days.get(day, {})
        bucket = buckets.get(line_id[:2], {})
        bucket.pop(line_id, None)
        if not bucket:
            buckets.pop(line_id[:2], None)
        if not buckets:
            days.pop(day, None)

    def replace_day(self, day: date, records: Iterable[CostRecord]) -> set[str]:
        old_owners = self.owners_of(day)
        for owner in old_owners:
            self._recs[owner].pop(day, None)
        new_owners: set[str] = set()
        for r in records:
            self._put(r)
            new_owners.add(r.owner)
        return old_owners | new_owners

    def _day(self, owner: str, day: date) -> list[CostRecord]:
        buckets = self._recs.get(owner, {}).get(day, {})
        return [b[line] for p in sorted(buckets) for b in [buckets[p]] for line in sorted(b)]

    def for_owner(self, owner: str, start: date, end: date) -> list[CostRecord]:
        days = self._recs.get(owner, {})
        return [r for d in sorted(d for d in days if start <= d < end) for r in self._day(owner, d)]

    def for_resource(self, owner: str, start: date, end: date, key: str) -> list[CostRecord]:
        return [r for r in self.for_owner(owner, start, end) if resource_key(r) == key]

    def lines_between(self, owner: str, day: date, low: str, high: str) -> list[CostRecord]:
        buckets = self._recs.get(owner, {}).get(day, {})
        return [
            b[line]
            for p in sorted(buckets)
            if low[:2] <= p <= high[:2]
            for b in [buckets[p]]
            for line in sorted(b)
            if low <= line[: len(low)] and line[: len(high)] <= high
        ]

    def apply(self, puts: Iterable[CostRecord], deletes: Iterable[tuple[str, date, str]]) -> int:
        items = 0
        for owner, day, line_id in deletes:
            items += 1
            self._delete(owner, day, line_id)
        for r in puts:
            items += 1
            self._put(r)
        return -(-items // BATCH_WRITE_ITEMS)


def backfill_resource_keys(page_size: int = 500) -> int:
    """Give every cost line written before the "by-resource" index its ``resource_key``, so a
    resource's page finds its older days too. A Scan (a deploy-time job, not a request path:
    ``functions/access`` runs it), paged, of the lines with a resource id and still without
    the key; returns how many it changed. The items must be bound first. Safe beside a live
    ingest: an update only touches a line that still exists (a replaced day's deleted line is
    never brought back), and a line an ingest rewrote meanwhile already has the same key."""
    from pynamodb.exceptions import UpdateError

    changed = 0
    for item in CostRecordItem.scan(
        filter_condition=CostRecordItem.resource_id.exists()
        & CostRecordItem.resource_key.does_not_exist(),
        page_size=page_size,
    ):
        # As a write keys it (_record_item): an empty resource id stays out of the index.
        key = resource_key(_record(item))
        if key is None:
            continue
        try:
            item.update(
                actions=[CostRecordItem.resource_key.set(keys.cost_resource(item.owner, key))],
                condition=CostRecordItem.pk.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue  # deleted by an ingest since the page was read
        changed += 1
    return changed


def dynamodb_store(settings: Settings) -> CostStore:
    return DynamoCostStore(settings)


def memory_store(audit: MemoryAuditLog) -> CostStore:
    return MemoryCostStore()
