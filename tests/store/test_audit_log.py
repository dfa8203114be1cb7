"""The audit log is append-only in DynamoDB itself: the API role may only PutItem on it
(tests/infra/test_iam.py), and every put is conditional, so no write replaces an entry."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from pynamodb.exceptions import TransactWriteError

from tally.errors import Conflict
from tally.models import AuditEntry, Budget
from tally.store import Stores
from tests.conftest import NOW


def test_an_audit_entry_is_never_overwritten(
    dynamo_stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two writes whose audit entries get the same key (same subject, time and id)
    fixed = uuid.UUID(int=7)
    monkeypatch.setattr("tally.store.dynamodb.uuid.uuid4", lambda: fixed)
    budget = Budget("b-alice", "u-alice", Decimal("100.00"), 80, "USD", NOW, NOW, 0)
    first = AuditEntry("u-alice", NOW, "u-admin", "budget.created", "b-alice", {"n": "1"})
    dynamo_stores.budgets.create(budget, first)
    read = dynamo_stores.budgets.get_for_user("u-alice")
    assert read is not None

    # When the second write would land on the first entry
    second = replace(first, action="budget.updated", details={"n": "2"})
    with pytest.raises((Conflict, TransactWriteError)):
        dynamo_stores.budgets.update(replace(read, monthly_limit=Decimal("5")), second)

    # Then the whole transaction is refused: the entry and the budget are as they were
    assert dynamo_stores.audit.list_for_user("u-alice", 10).items == [first]
    kept = dynamo_stores.budgets.get_for_user("u-alice")
    assert kept is not None and kept.monthly_limit == Decimal("100.00")
