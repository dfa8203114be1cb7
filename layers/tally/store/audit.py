"""The audit log: who changed what of a user's (or of a team, "team:<id>", or a role,
"role:<id>"), when. Append-only; every entry is written in the same transaction as the change
it records (``append_audit``). Listed by subject, or the organisation's whole log newest first
(the "all" index, which every entry written since it exists is in)."""

from __future__ import annotations

import uuid
from typing import Protocol

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from tally import tables
from tally.models import AuditEntry, Page
from tally.settings import Settings
from tally.store import PageKey, keys
from tally.store.attributes import DecimalJSONAttribute
from tally.store.base import DynamoStore, KeyedItem, page, paginate


class AuditLog(Protocol):
    def list_for_user(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[AuditEntry]: ...

    def list_all(self, limit: int, start_key: PageKey | None = None) -> Page[AuditEntry]:
        """The organisation's log, every subject's, newest first."""

    def record(self, entry: AuditEntry) -> None:
        """Append one entry on its own: a change made outside Tally's tables (an estate
        action's AWS call), so there is no transaction to write it in."""


class EveryEntry(GlobalSecondaryIndex["AuditItem"]):
    class Meta:
        index_name = tables.AUDIT.indexes[0].name
        projection = AllProjection()

    listed = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class AuditItem(KeyedItem):
    """pk USER#<subject>, sk <ISO time>#<unique id>: newest first by time."""

    spec = tables.AUDIT

    # keys.DIRECTORY ("ALL") on every entry written since the "all" index exists.
    listed = UnicodeAttribute(null=True)
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    details = DecimalJSONAttribute()
    every = EveryEntry()


def audit_key(entry: AuditEntry, unique: str) -> tuple[str, str]:
    """An entry's (pk, sk), in DynamoDB and in memory alike: the subject's partition, sorted
    by time; ``unique`` keeps two entries of the same instant apart."""
    return keys.user(entry.subject_user_id), keys.timed(entry.at, unique)


def audit_item(entry: AuditEntry) -> AuditItem:
    pk, sk = audit_key(entry, uuid.uuid4().hex)
    return AuditItem(
        pk=pk,
        sk=sk,
        listed=keys.DIRECTORY,
        actor=entry.actor,
        action=entry.action,
        entity_id=entry.entity_id,
        details=entry.details,
    )


def append_audit(tx: TransactWrite, entry: AuditEntry) -> None:
    """Add ``entry`` to the audit log in ``tx``. The log is append-only: the API role may only
    PutItem on it (infra/constructs/data.py), and this condition keeps a put from ever
    replacing an entry, which IAM alone cannot require."""
    tx.save(audit_item(entry), condition=AuditItem.pk.does_not_exist())


def _entry(user_id: str, item: AuditItem) -> AuditEntry:
    return AuditEntry(
        subject_user_id=user_id,
        at=keys.time_of(item.sk),
        actor=item.actor,
        action=item.action,
        entity_id=item.entity_id,
        details=item.details,
    )


class DynamoAuditLog(DynamoStore):
    def list_for_user(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[AuditEntry]:
        it = AuditItem.query(
            keys.user(user_id), scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        return page([_entry(user_id, i) for i in it], it)

    def list_all(self, limit: int, start_key: PageKey | None = None) -> Page[AuditEntry]:
        it = AuditItem.every.query(
            keys.DIRECTORY, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        return page([_entry(keys.user.id_of(i.pk), i) for i in it], it)

    def record(self, entry: AuditEntry) -> None:
        # The same append-only condition as ``append_audit``.
        audit_item(entry).save(condition=AuditItem.pk.does_not_exist())


class MemoryAuditLog:
    """The log the in-memory stores append to, keyed as in DynamoDB (``audit_key``) with a
    counter for the unique part, so entries of one instant list newest first, as written."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], AuditEntry] = {}

    def append(self, entry: AuditEntry) -> None:
        self.entries[audit_key(entry, f"{len(self.entries):032x}")] = entry

    def record(self, entry: AuditEntry) -> None:
        self.append(entry)

    def list_for_user(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[AuditEntry]:
        pk = keys.user(user_id)
        mine = sorted((k for k in self.entries if k[0] == pk), reverse=True)
        listed = paginate(mine, limit, start_key, lambda k: k[1])
        return Page([self.entries[k] for k in listed.items], listed.next_key)

    def list_all(self, limit: int, start_key: PageKey | None = None) -> Page[AuditEntry]:
        # By sort key as the index orders them (time, then the unique part), newest first.
        every = sorted(self.entries, key=lambda k: (k[1], k[0]), reverse=True)
        listed = paginate(every, limit, start_key, lambda k: f"{k[1]}|{k[0]}")
        return Page([self.entries[k] for k in listed.items], listed.next_key)


def dynamodb_store(settings: Settings) -> AuditLog:
    return DynamoAuditLog(settings)


def memory_store(audit: MemoryAuditLog) -> AuditLog:
    return audit
