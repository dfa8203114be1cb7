"""Tax rules and the tax settings: one partition for the organisation in the reports table
(pk TAX#ORG), so every read is one Query and the reports function, which makes invoices and
statements, already holds the grant.

- sk ``RULE#<rule id>``: a rule (never deleted: ending one sets its ``effective_to``);
- sk ``RULES``: the rule set's revision, bumped by every rule write in the same transaction,
  conditioned on the revision the writer read: two overlapping rules written at once cannot
  both pass the overlap check (the second is a conflict, to retry);
- sk ``SETTINGS``: the tax settings, versioned.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError

from tally import tables
from tally.errors import Conflict
from tally.models import AuditEntry
from tally.settings import Settings
from tally.store import keys
from tally.store.audit import MemoryAuditLog, append_audit
from tally.store.base import DynamoStore, KeyedItem, cancel_codes
from tally.tax.model import Rounding, TaxMode, TaxRule, TaxSettings, Treatment, Unit

STALE_RULES = "the tax rules were changed by someone else at the same time; reload and retry"
STALE_SETTINGS = "the tax settings were changed by someone else; reload and retry"


@dataclass(frozen=True)
class RuleSet:
    """Every rule, by id, and the revision they were read at (0: none written yet)."""

    rules: tuple[TaxRule, ...]
    revision: int


class TaxStore(Protocol):
    def rules(self) -> RuleSet:
        """Every rule ever written (ended ones too), sorted by id; one Query."""

    def save_rule(self, rule: TaxRule, *, read_at: int, audit: AuditEntry) -> TaxRule:
        """Create or replace ``rule`` with ``audit``, if the rule set is still at revision
        ``read_at`` (``Conflict`` otherwise)."""

    def settings(self) -> TaxSettings:
        """The saved settings, or the defaults (version 0)."""

    def save_settings(self, settings: TaxSettings, *, audit: AuditEntry) -> TaxSettings:
        """Save if the stored version is still ``settings.version`` (``Conflict`` otherwise);
        returns them at version + 1."""


class TaxItem(KeyedItem):
    """pk TAX#ORG; sk RULE#<id>, RULES or SETTINGS (the attributes each kind uses)."""

    spec = tables.REPORTS

    version = NumberAttribute(default=1)
    # a rule
    name = UnicodeAttribute(null=True)
    jurisdiction = UnicodeAttribute(null=True)
    rate = UnicodeAttribute(null=True)  # the Decimal's exact text
    unit = UnicodeAttribute(null=True)  # Unit.key
    effective_from = UnicodeAttribute(null=True)  # YYYY-MM-DD
    effective_to = UnicodeAttribute(null=True)  # exclusive; absent: open-ended
    treatment = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    # the settings
    mode = UnicodeAttribute(null=True)
    rounding = UnicodeAttribute(null=True)
    # a rule's creation, the settings' last change
    at = UTCDateTimeAttribute(null=True)


def _rule_item(rule: TaxRule) -> TaxItem:
    return TaxItem(
        pk=keys.TAX_PARTITION,
        sk=keys.tax_rule(rule.rule_id),
        version=rule.version,
        name=rule.name,
        jurisdiction=rule.jurisdiction,
        rate=format(rule.rate, "f"),
        unit=rule.unit.key,
        effective_from=rule.effective_from.isoformat(),
        effective_to=rule.effective_to.isoformat() if rule.effective_to else None,
        treatment=rule.treatment.value,
        reason=rule.reason,
        created_by=rule.created_by,
        at=rule.created_at,
    )


def _rule(item: TaxItem) -> TaxRule:
    assert item.effective_from is not None and item.rate is not None and item.unit is not None
    return TaxRule(
        rule_id=keys.tax_rule.id_of(item.sk),
        name=item.name or "",
        jurisdiction=item.jurisdiction or "",
        rate=Decimal(item.rate),
        unit=Unit.parse(item.unit),
        effective_from=date.fromisoformat(item.effective_from),
        effective_to=date.fromisoformat(item.effective_to) if item.effective_to else None,
        treatment=Treatment(item.treatment or Treatment.STANDARD),
        reason=item.reason,
        created_at=item.at,
        created_by=item.created_by,
        version=int(item.version),
    )


class DynamoTaxStore(DynamoStore):
    def _partition(self) -> list[TaxItem]:
        return list(TaxItem.query(keys.TAX_PARTITION, consistent_read=True))

    def rules(self) -> RuleSet:
        revision = 0
        found: list[TaxRule] = []
        for item in self._partition():
            if item.sk == keys.TAX_RULES:
                revision = int(item.version)
            elif item.sk.startswith(keys.tax_rule.prefix):
                found.append(_rule(item))
        return RuleSet(tuple(sorted(found, key=lambda r: r.rule_id)), revision)

    def save_rule(self, rule: TaxRule, *, read_at: int, audit: AuditEntry) -> TaxRule:
        header = TaxItem(pk=keys.TAX_PARTITION, sk=keys.TAX_RULES, version=read_at + 1)
        try:
            with self._tx() as tx:
                tx.save(
                    header,
                    condition=(TaxItem.version == read_at)
                    if read_at
                    else TaxItem.pk.does_not_exist(),
                )
                tx.save(_rule_item(rule))
                append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in cancel_codes(error):
                raise Conflict(STALE_RULES) from error
            raise
        return rule

    def settings(self) -> TaxSettings:
        try:
            item = TaxItem.get(keys.TAX_PARTITION, keys.TAX_SETTINGS, consistent_read=True)
        except TaxItem.DoesNotExist:
            return TaxSettings()
        return TaxSettings(
            mode=TaxMode(item.mode or TaxMode.ADD),
            rounding=Rounding(item.rounding or Rounding.PER_TOTAL),
            version=int(item.version),
            updated_at=item.at,
            updated_by=item.created_by,
        )

    def save_settings(self, settings: TaxSettings, *, audit: AuditEntry) -> TaxSettings:
        saved = replace(settings, version=settings.version + 1)
        item = TaxItem(
            pk=keys.TAX_PARTITION,
            sk=keys.TAX_SETTINGS,
            version=saved.version,
            mode=saved.mode.value,
            rounding=saved.rounding.value,
            at=saved.updated_at,
            created_by=saved.updated_by,
        )
        try:
            with self._tx() as tx:
                tx.save(
                    item,
                    condition=(TaxItem.version == settings.version)
                    if settings.version
                    else TaxItem.pk.does_not_exist(),
                )
                append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in cancel_codes(error):
                raise Conflict(STALE_SETTINGS) from error
            raise
        return saved


class MemoryTaxStore:
    def __init__(self, audit: MemoryAuditLog) -> None:
        self._audit = audit
        self._rules: dict[str, TaxRule] = {}
        self._revision = 0
        self._settings = TaxSettings()
        self._lock = threading.Lock()

    def rules(self) -> RuleSet:
        with self._lock:
            return RuleSet(tuple(self._rules[k] for k in sorted(self._rules)), self._revision)

    def save_rule(self, rule: TaxRule, *, read_at: int, audit: AuditEntry) -> TaxRule:
        with self._lock:
            if read_at != self._revision:
                raise Conflict(STALE_RULES)
            self._revision += 1
            self._rules[rule.rule_id] = rule
            self._audit.append(audit)
        return rule

    def settings(self) -> TaxSettings:
        return self._settings

    def save_settings(self, settings: TaxSettings, *, audit: AuditEntry) -> TaxSettings:
        with self._lock:
            if settings.version != self._settings.version:
                raise Conflict(STALE_SETTINGS)
            self._settings = replace(settings, version=settings.version + 1)
            self._audit.append(audit)
            return self._settings


def dynamodb_store(settings: Settings) -> TaxStore:
    return DynamoTaxStore(settings)


def memory_store(audit: MemoryAuditLog) -> TaxStore:
    return MemoryTaxStore(audit)
