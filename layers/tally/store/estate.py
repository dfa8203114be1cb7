"""The estate cache (``tally.estate``): pk ``ESTATE#<account>#<region>#<family>``, sk the
record's key (``<kind>#<name or id>``), each item one resource's JSON document and read time.

A view reads one scope with one Query (paged by DynamoDB past 1 MB only). ``replace`` makes a
scope hold exactly what a refresh read: it Queries the keys there now, writes the new records
and deletes the keys that were not read again, in batches (no Scan). Items expire a week after
their read.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from tally import tables
from tally.estate.models import EstateRecord, EstateScope
from tally.settings import Settings
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem

RETENTION = timedelta(days=7)


class EstateStore(Protocol):
    def list(self, scope: EstateScope) -> list[EstateRecord]:
        """Every record of ``scope`` in key order."""

    def replace(self, scope: EstateScope, records: Iterable[EstateRecord]) -> int:
        """Make ``scope`` hold exactly ``records``: the number of records deleted."""

    def get(self, scope: EstateScope, key: str) -> EstateRecord | None:
        """One record of ``scope`` (a GetItem), or None."""

    def put(self, scope: EstateScope, record: EstateRecord) -> None:
        """Write one record (a refresh of one resource)."""

    def delete(self, scope: EstateScope, key: str) -> None:
        """Remove one record (a refreshed resource that no longer exists)."""


def partition_key(scope: EstateScope) -> str:
    return f"ESTATE#{scope.account}#{scope.region}#{scope.family}"


class EstateItem(KeyedItem):
    spec = tables.ESTATE

    doc = UnicodeAttribute()
    read_at = UnicodeAttribute()
    expires = NumberAttribute()


def _item(scope: EstateScope, record: EstateRecord) -> EstateItem:
    return EstateItem(
        pk=partition_key(scope),
        sk=record.key,
        doc=json.dumps(record.document, separators=(",", ":"), sort_keys=True),
        read_at=record.read_at.isoformat(),
        expires=int((record.read_at + RETENTION).timestamp()),
    )


class DynamoEstateStore(DynamoStore):
    def list(self, scope: EstateScope) -> list[EstateRecord]:
        return [
            EstateRecord(i.sk, json.loads(i.doc), datetime.fromisoformat(i.read_at))
            for i in EstateItem.query(partition_key(scope))
        ]

    def replace(self, scope: EstateScope, records: Iterable[EstateRecord]) -> int:
        items = [_item(scope, r) for r in records]
        kept = {i.sk for i in items}
        # Keys only: the documents of the old set are not needed to delete it.
        gone = [
            i.sk
            for i in EstateItem.query(partition_key(scope), attributes_to_get=["pk", "sk"])
            if i.sk not in kept
        ]
        with EstateItem.batch_write() as batch:
            for item in items:
                batch.save(item)
            for sk in gone:
                batch.delete(EstateItem(pk=partition_key(scope), sk=sk))
        return len(gone)

    def get(self, scope: EstateScope, key: str) -> EstateRecord | None:
        try:
            i = EstateItem.get(partition_key(scope), key)
        except EstateItem.DoesNotExist:
            return None
        return EstateRecord(i.sk, json.loads(i.doc), datetime.fromisoformat(i.read_at))

    def put(self, scope: EstateScope, record: EstateRecord) -> None:
        _item(scope, record).save()

    def delete(self, scope: EstateScope, key: str) -> None:
        EstateItem(pk=partition_key(scope), sk=key).delete()


class MemoryEstateStore:
    def __init__(self) -> None:
        self.scopes: dict[EstateScope, dict[str, EstateRecord]] = {}
        self._lock = threading.Lock()

    def list(self, scope: EstateScope) -> list[EstateRecord]:
        held = self.scopes.get(scope, {})
        return [held[k] for k in sorted(held)]

    def replace(self, scope: EstateScope, records: Iterable[EstateRecord]) -> int:
        new = {r.key: r for r in records}
        with self._lock:
            gone = len(set(self.scopes.get(scope, {})) - set(new))
            self.scopes[scope] = new
        return gone

    def get(self, scope: EstateScope, key: str) -> EstateRecord | None:
        return self.scopes.get(scope, {}).get(key)

    def put(self, scope: EstateScope, record: EstateRecord) -> None:
        with self._lock:
            self.scopes.setdefault(scope, {})[record.key] = record

    def delete(self, scope: EstateScope, key: str) -> None:
        with self._lock:
            self.scopes.get(scope, {}).pop(key, None)


def dynamodb_store(settings: Settings) -> EstateStore:
    return DynamoEstateStore(settings)


def memory_store(audit: MemoryAuditLog) -> EstateStore:
    return MemoryEstateStore()
