"""The organisation's billing settings: one item per section (pk SETTINGS, sk
SECTION#<name>) in the billing table, read together with one Query.

A section is a small JSON document owned by one part of the product (``currency``; the billing
period and tax parts add theirs): each is written alone, so one part's save never rewrites
another's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from tally import tables
from tally.models import AuditEntry
from tally.settings import Settings
from tally.store import keys
from tally.store.audit import MemoryAuditLog, append_audit
from tally.store.base import DynamoStore, KeyedItem


@dataclass(frozen=True)
class StoredSection:
    name: str
    values: dict[str, Any]  # JSON: strings, numbers as strings, booleans, nulls
    updated_at: datetime
    updated_by: str


class BillingSettingsStore(Protocol):
    def sections(self) -> dict[str, StoredSection]:
        """Every stored section by name (one Query); a section never saved is absent."""

    def section(self, name: str) -> StoredSection | None:
        """One section (a strongly consistent GetItem: the billing periods every function
        reads, a change seen at once); None if never saved."""

    def put_section(self, section: StoredSection, audit: AuditEntry) -> None:
        """Save one section whole, with its audit entry, in one transaction."""


class SectionItem(KeyedItem):
    """pk SETTINGS, sk SECTION#<name>."""

    spec = tables.BILLING

    values = UnicodeAttribute()  # the section's JSON document
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()
    schema = NumberAttribute(default=1)  # the document's layout, for a later migration


def _item(s: StoredSection) -> SectionItem:
    return SectionItem(
        pk=keys.SETTINGS,
        sk=keys.section(s.name),
        values=json.dumps(s.values, sort_keys=True),
        updated_at=s.updated_at,
        updated_by=s.updated_by,
    )


def _section(i: SectionItem) -> StoredSection:
    return StoredSection(
        name=keys.section.id_of(i.sk),
        values=json.loads(i.values),
        updated_at=i.updated_at,
        updated_by=i.updated_by,
    )


class DynamoBillingSettingsStore(DynamoStore):
    def sections(self) -> dict[str, StoredSection]:
        found = SectionItem.query(keys.SETTINGS, SectionItem.sk.startswith(keys.section("")))
        return {s.name: s for s in map(_section, found)}

    def section(self, name: str) -> StoredSection | None:
        try:
            return _section(
                SectionItem.get(keys.SETTINGS, keys.section(name), consistent_read=True)
            )
        except SectionItem.DoesNotExist:
            return None

    def put_section(self, section: StoredSection, audit: AuditEntry) -> None:
        with self._tx() as tx:
            tx.save(_item(section))
            append_audit(tx, audit)


class MemoryBillingSettingsStore:
    def __init__(self, audit: MemoryAuditLog) -> None:
        self.items: dict[str, StoredSection] = {}
        self._audit = audit

    def sections(self) -> dict[str, StoredSection]:
        # A copy through JSON, as DynamoDB hands back: a caller's edit never reaches the store.
        return {
            n: StoredSection(n, json.loads(json.dumps(s.values)), s.updated_at, s.updated_by)
            for n, s in self.items.items()
        }

    def section(self, name: str) -> StoredSection | None:
        return self.sections().get(name)

    def put_section(self, section: StoredSection, audit: AuditEntry) -> None:
        self.items[section.name] = section
        self._audit.append(audit)


def dynamodb_store(settings: Settings) -> BillingSettingsStore:
    return DynamoBillingSettingsStore(settings)


def memory_store(audit: MemoryAuditLog) -> BillingSettingsStore:
    return MemoryBillingSettingsStore(audit)
