"""Data access. Interfaces in ``interfaces``; DynamoDB (pynamodb) in ``dynamodb``; in-memory
fakes in ``memory``. pynamodb items never leave this package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tally.settings import Settings
    from tally.store.interfaces import (
        AssignmentStore,
        AuditLog,
        BudgetStore,
        ClaimStore,
        CostStore,
        RollupStore,
        UserDirectory,
    )


@dataclass(frozen=True)
class Stores:
    users: UserDirectory
    assignments: AssignmentStore
    budgets: BudgetStore
    costs: CostStore
    rollups: RollupStore
    audit: AuditLog
    claims: ClaimStore


def dynamodb_stores(settings: Settings) -> Stores:
    from tally.store import dynamodb as d

    return Stores(
        users=d.DynamoUserDirectory(settings),
        assignments=d.DynamoAssignmentStore(settings),
        budgets=d.DynamoBudgetStore(settings),
        costs=d.DynamoCostStore(settings),
        rollups=d.DynamoRollupStore(settings),
        audit=d.DynamoAuditLog(settings),
        claims=d.DynamoClaimStore(settings),
    )


def memory_stores() -> Stores:
    from tally.store import memory as m

    audit = m.MemoryAuditLog()
    return Stores(
        users=m.MemoryUserDirectory(),
        assignments=m.MemoryAssignmentStore(audit),
        budgets=m.MemoryBudgetStore(audit),
        costs=m.MemoryCostStore(),
        rollups=m.MemoryRollupStore(),
        audit=audit,
        claims=m.MemoryClaimStore(audit),
    )
