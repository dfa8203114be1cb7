"""The audit log: entries are listed newest first, one page after another, in DynamoDB and in
memory alike; and it is append-only in DynamoDB itself: the API role may only PutItem on it
(tests/infra/test_iam.py), and every put is conditional, so no write replaces an entry."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from pynamodb.exceptions import TransactWriteError

from tally.errors import Conflict
from tally.models import AuditEntry, Budget
from tally.store import Stores
from tests.conftest import NOW
from tests.store.conftest import audit, every_page


def budget(user: str) -> Budget:
    return Budget("b-" + user, user, Decimal("100.00"), 80, "USD", NOW, NOW, 0)


def test_entries_are_listed_newest_first_for_their_subject_only(stores: Stores) -> None:
    # Given changes of alice's budget at three times, and one of bob's
    stores.budgets.create(budget("u-alice"), replace(audit("u-alice", "1st"), at=NOW))
    stores.budgets.create(budget("u-bob"), audit("u-bob", "bob's"))
    for n, action in ((2, "3rd"), (1, "2nd")):  # written out of order
        read = stores.budgets.get_for_user("u-alice")
        assert read is not None
        entry = replace(audit("u-alice", action), at=NOW + timedelta(minutes=n))
        stores.budgets.update(read, entry)

    # Then alice's log holds her three, by time, newest first, with what was written
    listed = stores.audit.list_for_user("u-alice", 10).items
    assert [e.action for e in listed] == ["3rd", "2nd", "1st"]
    assert listed[-1] == audit("u-alice", "1st")
    assert stores.audit.list_for_user("u-nobody", 10).items == []


def test_pages_visit_each_entry_once_even_of_one_instant(stores: Stores) -> None:
    # Given five entries of the same instant, subject and entity (only the key keeps them apart)
    stores.budgets.create(budget("u-alice"), audit("u-alice", "a0"))
    for n in range(1, 5):
        read = stores.budgets.get_for_user("u-alice")
        assert read is not None
        stores.budgets.update(read, audit("u-alice", f"a{n}"))

    # When they are read two at a time
    listed = every_page(lambda key: stores.audit.list_for_user("u-alice", 2, key))

    # Then each comes once
    assert sorted(e.action for e in listed) == [f"a{n}" for n in range(5)]


def test_an_audit_entry_is_never_overwritten(
    dynamo_stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two writes whose audit entries get the same key (same subject, time and id)
    fixed = uuid.UUID(int=7)
    monkeypatch.setattr("tally.store.audit.uuid.uuid4", lambda: fixed)
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


def test_an_entry_recorded_on_its_own_is_listed_for_its_subject_and_the_organisation(
    stores: Stores,
) -> None:
    """An estate action changes AWS, not a table: its entry is written alone."""
    entry = AuditEntry("u-alice", NOW, "u-admin", "estate.action", "fn", {"before": "{}"})
    stores.audit.record(entry)
    assert stores.audit.list_for_user("u-alice", 10).items == [entry]
    assert stores.audit.list_all(10).items == [entry]
