"""Monthly roll-ups: a month's figures per owner (a user, ORG or UNALLOCATED), written whole by
the ingest and read by the reports."""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from tally import tables
from tally.models import MonthlyRollup, Page
from tally.settings import Settings
from tally.store import PageKey, codec, keys
from tally.store.attributes import DecimalJSONAttribute
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem, page


class RollupStore(Protocol):
    def put(self, rollup: MonthlyRollup) -> None: ...

    def put_many(self, rollups: Sequence[MonthlyRollup]) -> int:
        """Put every roll-up (BatchWriteItem, 25 a request): the write requests it took."""

    def get(self, owner: str, month: str) -> MonthlyRollup | None: ...
    def get_many(self, owners: Sequence[str], month: str) -> dict[str, MonthlyRollup]: ...
    def get_many_months(
        self, owners: Sequence[str], months: Sequence[str]
    ) -> dict[tuple[str, str], MonthlyRollup]:
        """Roll-ups of every (owner, month) pair, by (owner, month), in one batch read."""

    def months(self, owner: str, first: str, last: str) -> list[MonthlyRollup]:
        """Roll-ups of ``owner`` for months ``first``..``last`` inclusive, in one query."""

    def versions(self, owner: str, first: str, last: str) -> dict[str, str | None]:
        """The version of each of ``owner``'s roll-ups of months ``first``..``last`` (by
        month; a month without one is absent), in one query that reads no figures: a digest
        of the whole stored item, so it changes with any figure, forecast or restatement.
        None for an item written before versions were kept (its version is unknown)."""

    def of_month(self, month: str) -> list[MonthlyRollup]:
        """Every owner's roll-up of a month (by-month index): for the ingest job's ORG total."""

    def of_month_page(
        self, month: str, *, limit: int, start_key: PageKey | None
    ) -> Page[MonthlyRollup]:
        """A page of the month's roll-ups (by-month index), in owner order: for readers of
        every owner that must not hold them all at once (the all-users export)."""

    def owners_of_month(self, month: str) -> set[str]:
        """Every owner with a roll-up of ``month`` (by-month index, reading no figures): the
        billing periods' recompute finds whose figures to rebuild."""

    def delete(self, owner: str, month: str) -> None:
        """Remove ``owner``'s roll-up of ``month`` (none: nothing happens): a period that
        has no records under a new period definition."""


class RollupMonthIndex(GlobalSecondaryIndex["RollupItem"]):
    class Meta:
        index_name = tables.ROLLUPS.indexes[0].name
        projection = AllProjection()

    month = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class RollupItem(KeyedItem):
    """pk OWNER#<owner>, sk MONTH#<YYYY-MM>: a month's figures for a user, ORG or UNALLOCATED."""

    spec = tables.ROLLUPS

    owner = UnicodeAttribute()
    month = UnicodeAttribute()
    sections = DecimalJSONAttribute()
    estimated = BooleanAttribute()
    record_count = NumberAttribute()
    updated_at = UTCDateTimeAttribute()
    forecast = DecimalJSONAttribute(null=True)
    restatements = DecimalJSONAttribute(null=True)
    estimated_days = DecimalJSONAttribute(null=True)
    # sha256 of every other attribute as stored (``_digest``): what ``versions`` reads.
    digest = UnicodeAttribute(null=True)
    by_month = RollupMonthIndex()


def _rollup(i: RollupItem) -> MonthlyRollup:
    return MonthlyRollup(
        owner=i.owner,
        month=i.month,
        sections={cur: codec.section_from_doc(doc) for cur, doc in i.sections.items()},
        estimated=i.estimated,
        record_count=int(i.record_count),
        updated_at=i.updated_at,
        forecast=codec.forecast_from_doc(i.forecast),
        restatements=i.restatements or [],
        estimated_days=i.estimated_days or [],
        version=i.digest,
    )


def _digest(item: RollupItem) -> str:
    stored = {k: v for k, v in item.serialize().items() if k != "digest"}
    return hashlib.sha256(json.dumps(stored, sort_keys=True).encode()).hexdigest()


def _rollup_item(rollup: MonthlyRollup) -> RollupItem:
    item = RollupItem(
        pk=keys.owner(rollup.owner),
        sk=keys.month(rollup.month),
        owner=rollup.owner,
        month=rollup.month,
        sections={cur: codec.section_to_doc(s) for cur, s in rollup.sections.items()},
        estimated=rollup.estimated,
        record_count=rollup.record_count,
        updated_at=rollup.updated_at,
        forecast=codec.forecast_to_doc(rollup.forecast),
        restatements=rollup.restatements or None,
        estimated_days=rollup.estimated_days or None,
    )
    item.digest = _digest(item)
    return item


class DynamoRollupStore(DynamoStore):
    def put(self, rollup: MonthlyRollup) -> None:
        # A whole-item put of recomputed values: a retry writes the same item again.
        _rollup_item(rollup).save()

    def put_many(self, rollups: Sequence[MonthlyRollup]) -> int:
        # Whole-item puts, as ``put``: a retried batch writes the same items again.
        with RollupItem.batch_write() as batch:
            for rollup in rollups:
                batch.save(_rollup_item(rollup))
        return -(-len(rollups) // 25)

    def get(self, owner: str, month: str) -> MonthlyRollup | None:
        try:
            return _rollup(RollupItem.get(keys.owner(owner), keys.month(month)))
        except RollupItem.DoesNotExist:
            return None

    def get_many(self, owners: Sequence[str], month: str) -> dict[str, MonthlyRollup]:
        found = self.get_many_months(owners, [month])
        return {owner: rollup for (owner, _), rollup in found.items()}

    def get_many_months(
        self, owners: Sequence[str], months: Sequence[str]
    ) -> dict[tuple[str, str], MonthlyRollup]:
        # One BatchGetItem takes keys of several months (pynamodb splits past 100 keys).
        ids = [
            (keys.owner(o), keys.month(m))
            for o in dict.fromkeys(owners)
            for m in dict.fromkeys(months)
        ]
        found = RollupItem.batch_get(ids) if ids else []
        return {(r.owner, r.month): _rollup(r) for r in found}

    def months(self, owner: str, first: str, last: str) -> list[MonthlyRollup]:
        condition = RollupItem.sk.between(keys.month(first), keys.month(last))
        return [_rollup(i) for i in RollupItem.query(keys.owner(owner), condition)]

    def versions(self, owner: str, first: str, last: str) -> dict[str, str | None]:
        # The projection saves the transfer and parsing of the figures, not read capacity:
        # DynamoDB charges a Query for the whole items it reads.
        condition = RollupItem.sk.between(keys.month(first), keys.month(last))
        found = RollupItem.query(
            keys.owner(owner), condition, attributes_to_get=["month", "digest"]
        )
        return {i.month: i.digest for i in found}

    def of_month(self, month: str) -> list[MonthlyRollup]:
        return [_rollup(i) for i in RollupItem.by_month.query(month)]

    def of_month_page(
        self, month: str, *, limit: int, start_key: PageKey | None
    ) -> Page[MonthlyRollup]:
        it = RollupItem.by_month.query(month, limit=limit, last_evaluated_key=start_key)
        return page([_rollup(i) for i in it], it)

    def owners_of_month(self, month: str) -> set[str]:
        return {i.owner for i in RollupItem.by_month.query(month, attributes_to_get=["owner"])}

    def delete(self, owner: str, month: str) -> None:
        RollupItem(keys.owner(owner), keys.month(month)).delete()


class MemoryRollupStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], MonthlyRollup] = {}
        self._changes = 0

    def put(self, rollup: MonthlyRollup) -> None:
        # Roll-ups are frozen and never mutated after they are built: only the version is
        # added. Not the digest DynamoDB's store keeps (2 ms of serialising a put, which a
        # 10,000-owner bench would feel) but the same contract: the same figures again keep
        # it, any change gives a new one.
        key = (rollup.owner, rollup.month)
        old = self.items.get(key)
        if old is not None and old == rollup:
            version = old.version
        else:
            self._changes += 1
            version = f"w{self._changes}"
        self.items[key] = replace(rollup, version=version)

    def put_many(self, rollups: Sequence[MonthlyRollup]) -> int:
        for rollup in rollups:
            self.put(rollup)
        return -(-len(rollups) // 25)

    def get(self, owner: str, month: str) -> MonthlyRollup | None:
        return self.items.get((owner, month))

    def get_many(self, owners: Sequence[str], month: str) -> dict[str, MonthlyRollup]:
        return {o: self.items[(o, month)] for o in owners if (o, month) in self.items}

    def get_many_months(
        self, owners: Sequence[str], months: Sequence[str]
    ) -> dict[tuple[str, str], MonthlyRollup]:
        pairs = [(o, m) for o in owners for m in months]
        return {p: self.items[p] for p in pairs if p in self.items}

    def of_month(self, month: str) -> list[MonthlyRollup]:
        return sorted((r for (_, m), r in self.items.items() if m == month), key=lambda r: r.owner)

    def of_month_page(
        self, month: str, *, limit: int, start_key: PageKey | None
    ) -> Page[MonthlyRollup]:
        # Owner order is the index's: its sort key is the pk, OWNER#<owner>. Found by
        # bisection, so paging a 10,000-owner month is not quadratic (make bench).
        owners = sorted(o for o, m in self.items if m == month)
        start = bisect_right(owners, start_key["after"]) if start_key else 0
        chunk = owners[start : start + limit]
        more = start + limit < len(owners)
        return Page(
            items=[self.items[(o, month)] for o in chunk],
            next_key={"after": chunk[-1]} if more and chunk else None,
        )

    def months(self, owner: str, first: str, last: str) -> list[MonthlyRollup]:
        return sorted(
            (r for (o, m), r in self.items.items() if o == owner and first <= m <= last),
            key=lambda r: r.month,
        )

    def versions(self, owner: str, first: str, last: str) -> dict[str, str | None]:
        return {r.month: r.version for r in self.months(owner, first, last)}

    def owners_of_month(self, month: str) -> set[str]:
        return {o for o, m in self.items if m == month}

    def delete(self, owner: str, month: str) -> None:
        self.items.pop((owner, month), None)


def dynamodb_store(settings: Settings) -> RollupStore:
    return DynamoRollupStore(settings)


def memory_store(audit: MemoryAuditLog) -> RollupStore:
    return MemoryRollupStore()
