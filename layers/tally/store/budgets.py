"""Budgets: one per user, with its history, versioned for optimistic locking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any, Protocol

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import TransactWriteError

from tally import tables
from tally.errors import Conflict
from tally.models import AuditEntry, Budget, BudgetTerms
from tally.settings import Settings
from tally.store import keys
from tally.store.attributes import DecimalAttribute, DecimalJSONAttribute
from tally.store.audit import MemoryAuditLog, append_audit
from tally.store.base import DynamoStore, PartitionItem, cancel_codes


class BudgetStore(Protocol):
    def create(self, budget: Budget, audit: AuditEntry) -> None:
        """Raises ``Conflict`` when the user already has a budget."""

    def update(self, budget: Budget, audit: AuditEntry) -> Budget:
        """Saves ``budget`` if the stored version is still ``budget.version``; returns the
        saved budget (version + 1). Raises ``Conflict`` on a stale version."""

    def get_for_user(self, user_id: str) -> Budget | None: ...
    def version_for_user(self, user_id: str) -> int | None:
        """The version of ``user_id``'s budget (None without one), read without the budget:
        every change raises it, so it stands for the budget and its history."""

    def get_many(self, user_ids: Sequence[str]) -> dict[str, Budget]: ...
    def user_of(self, budget_id: str) -> str | None: ...


HAS_ONE = "this user already has a budget; update it instead"
STALE = "the budget was changed by someone else; reload and retry"


# --- items -----------------------------------------------------------------------------


class BudgetItem(PartitionItem):
    """pk USER#<user>: the user's one budget and its history, read in one GetItem by the
    summary."""

    spec = tables.BUDGETS

    budget_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    monthly_limit = DecimalAttribute()
    alert_threshold = NumberAttribute()
    currency = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
    # Every change with its effective month, oldest first: [{effectiveFrom, monthlyLimit,
    # alertThreshold, currency}]. Small (one entry per month changed at most), so it rides on
    # the budget item and a month's terms cost no extra read. Absent on items stored before
    # history was kept.
    history = DecimalJSONAttribute(null=True)


class BudgetPointerItem(PartitionItem):
    """pk BUDGET#<id>: resolves a budget id to its user with a strongly consistent read."""

    spec = tables.BUDGETS

    user_id = UnicodeAttribute()


# --- mapping ---------------------------------------------------------------------------


def _terms(doc: dict[str, Any]) -> BudgetTerms:
    return BudgetTerms(
        effective_from=str(doc["effectiveFrom"]),
        monthly_limit=Decimal(str(doc["monthlyLimit"])),
        alert_threshold=int(doc["alertThreshold"]),
        currency=str(doc["currency"]),
    )


def _terms_doc(t: BudgetTerms) -> dict[str, Any]:
    return {
        "effectiveFrom": t.effective_from,
        "monthlyLimit": t.monthly_limit,
        "alertThreshold": t.alert_threshold,
        "currency": t.currency,
    }


def _budget(item: BudgetItem) -> Budget:
    return Budget(
        budget_id=item.budget_id,
        user_id=item.user_id,
        monthly_limit=item.monthly_limit,
        alert_threshold=int(item.alert_threshold),
        currency=item.currency,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
        history=tuple(_terms(d) for d in item.history or ()),
    )


def _budget_item(budget: Budget) -> BudgetItem:
    return BudgetItem(
        pk=keys.user(budget.user_id),
        budget_id=budget.budget_id,
        user_id=budget.user_id,
        monthly_limit=budget.monthly_limit,
        alert_threshold=budget.alert_threshold,
        currency=budget.currency,
        created_at=budget.created_at,
        updated_at=budget.updated_at,
        history=[_terms_doc(t) for t in budget.history] or None,
    )


# --- DynamoDB --------------------------------------------------------------------------


class DynamoBudgetStore(DynamoStore):
    def create(self, budget: Budget, audit: AuditEntry) -> None:
        item = _budget_item(budget)
        try:
            with self._tx() as tx:
                # VersionAttribute adds "version does not exist" and writes version 1.
                tx.save(item)
                tx.save(
                    BudgetPointerItem(pk=keys.budget(budget.budget_id), user_id=budget.user_id),
                    condition=BudgetPointerItem.pk.does_not_exist(),
                )
                append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in cancel_codes(error):
                raise Conflict(HAS_ONE) from error
            raise

    def update(self, budget: Budget, audit: AuditEntry) -> Budget:
        item = _budget_item(budget)
        item.version = budget.version  # the version read: the save is conditional on it
        try:
            with self._tx() as tx:
                tx.save(item)
                append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in cancel_codes(error):
                raise Conflict(STALE) from error
            raise
        return _budget(item)

    def get_for_user(self, user_id: str) -> Budget | None:
        try:
            return _budget(BudgetItem.get(keys.user(user_id), consistent_read=True))
        except BudgetItem.DoesNotExist:
            return None

    def version_for_user(self, user_id: str) -> int | None:
        # Consistent, like ``get_for_user``: a reader must see the edit it just made.
        try:
            item = BudgetItem.get(
                keys.user(user_id), consistent_read=True, attributes_to_get=["version"]
            )
        except BudgetItem.DoesNotExist:
            return None
        return int(item.version or 0)

    def get_many(self, user_ids: Sequence[str]) -> dict[str, Budget]:
        pks = [keys.user(u) for u in dict.fromkeys(user_ids)]
        return {b.user_id: _budget(b) for b in BudgetItem.batch_get(pks)} if pks else {}

    def user_of(self, budget_id: str) -> str | None:
        try:
            return BudgetPointerItem.get(keys.budget(budget_id), consistent_read=True).user_id
        except BudgetPointerItem.DoesNotExist:
            return None


# --- in memory -------------------------------------------------------------------------


class MemoryBudgetStore:
    def __init__(self, audit: MemoryAuditLog) -> None:
        self.by_user: dict[str, Budget] = {}
        self._audit = audit

    def create(self, budget: Budget, audit: AuditEntry) -> None:
        if budget.user_id in self.by_user:
            raise Conflict(HAS_ONE)
        self.by_user[budget.user_id] = replace(budget, version=1)
        self._audit.append(audit)

    def update(self, budget: Budget, audit: AuditEntry) -> Budget:
        current = self.by_user.get(budget.user_id)
        if current is None or current.version != budget.version:
            raise Conflict(STALE)
        saved = replace(budget, version=budget.version + 1)
        self.by_user[budget.user_id] = saved
        self._audit.append(audit)
        return saved

    def get_for_user(self, user_id: str) -> Budget | None:
        return self.by_user.get(user_id)

    def version_for_user(self, user_id: str) -> int | None:
        found = self.by_user.get(user_id)
        return found.version if found else None

    def get_many(self, user_ids: Sequence[str]) -> dict[str, Budget]:
        return {u: self.by_user[u] for u in user_ids if u in self.by_user}

    def user_of(self, budget_id: str) -> str | None:
        return next((b.user_id for b in self.by_user.values() if b.budget_id == budget_id), None)


def dynamodb_store(settings: Settings) -> BudgetStore:
    return DynamoBudgetStore(settings)


def memory_store(audit: MemoryAuditLog) -> BudgetStore:
    return MemoryBudgetStore(audit)
