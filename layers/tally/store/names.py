"""The name directory: the name ingest last learnt for each resource (``tally.names``), by the
resource's ``match_key``, so a screen without cost records at hand (a claim, an assignment not
yet costed) names a resource as its cost lines do: an EC2 instance claimed as ``i-0abc`` finds
the Name tag read from ``arn:aws:ec2:...:instance/i-0abc``.

The entries live in the costs table (pk ``NAME#<match key>``, sk ``NAME``): they carry no
``day``, so the table's by-day index, sparse, never sees them, and every function that reads
cost records may read them with the grant it has. Reads are BatchGetItem (100 keys a call),
never a Scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from pynamodb.attributes import UnicodeAttribute

from tally import tables
from tally.settings import Settings
from tally.store import keys
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem

# DynamoDB's BatchWriteItem takes at most 25 puts a request.
BATCH_WRITE_ITEMS = 25


class NameDirectory(Protocol):
    def remember(self, names: Mapping[str, str]) -> int:
        """Keep ``names`` (match key -> name): an entry is written only when it is new or its
        name changed, so remembering the same names again writes nothing. Returns the
        entries written."""

    def names_of(self, ids: Iterable[str]) -> dict[str, str]:
        """The names known for those of ``ids`` (match keys) that have one, by match key."""


class ResourceNameItem(KeyedItem):
    """pk NAME#<match key>, sk NAME (costs table): a resource's name."""

    spec = tables.COSTS

    resource_name = UnicodeAttribute()


def _changed(names: Mapping[str, str], known: Mapping[str, str]) -> dict[str, str]:
    return {k: n for k, n in names.items() if k and n and known.get(k) != n}


class DynamoNameDirectory(DynamoStore):
    def remember(self, names: Mapping[str, str]) -> int:
        # Read first, write what changed: a day's ingest names the same resources as the day
        # before, and a read (BatchGetItem, half a read unit an entry) costs a tenth of the
        # write it saves (a put is a write unit even when the item is the same). Puts, not
        # conditional updates: 25 a request, and a put of the same name is the same item, so
        # a retried or concurrent run converges.
        changed = _changed(names, self.names_of(names))
        if changed:
            with ResourceNameItem.batch_write() as batch:
                for key, name in changed.items():
                    batch.save(
                        ResourceNameItem(
                            pk=keys.resource_name(key), sk=keys.NAME, resource_name=name
                        )
                    )
        return len(changed)

    def names_of(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = [(keys.resource_name(k), keys.NAME) for k in dict.fromkeys(ids) if k]
        if not wanted:
            return {}
        # pynamodb splits a BatchGetItem past 100 keys and asks again for unprocessed ones.
        return {
            keys.resource_name.id_of(i.pk): i.resource_name
            for i in ResourceNameItem.batch_get(wanted)
        }


class MemoryNameDirectory:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.writes = 0  # entries written, as the DynamoDB store would put them

    def remember(self, names: Mapping[str, str]) -> int:
        changed = _changed(names, self.names)
        self.names.update(changed)
        self.writes += len(changed)
        return len(changed)

    def names_of(self, ids: Iterable[str]) -> dict[str, str]:
        return {k: self.names[k] for k in ids if k in self.names}


def dynamodb_store(settings: Settings) -> NameDirectory:
    return DynamoNameDirectory(settings)


def memory_store(audit: MemoryAuditLog) -> NameDirectory:
    return MemoryNameDirectory()
