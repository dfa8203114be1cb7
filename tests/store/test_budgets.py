"""The budget store contract, run against DynamoDB (moto) and the in-memory fake alike
(the ``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from tally.errors import Conflict
from tally.models import Budget, BudgetTerms
from tally.store import Stores
from tests.conftest import NOW
from tests.store.conftest import audit


def budget(user: str = "u-alice", limit: str = "100.00") -> Budget:
    return Budget("b-" + user, user, Decimal(limit), 80, "USD", NOW, NOW, 0)


class TestBudgets:
    def test_one_budget_per_user(self, stores: Stores) -> None:
        stores.budgets.create(budget(), audit("u-alice"))
        with pytest.raises(Conflict):
            stores.budgets.create(replace(budget(), budget_id="b-other"), audit("u-alice"))
        got = stores.budgets.get_for_user("u-alice")
        assert got is not None and got.version == 1 and got.monthly_limit == Decimal("100.00")
        assert isinstance(got.monthly_limit, Decimal)
        assert stores.budgets.user_of("b-u-alice") == "u-alice"
        assert stores.budgets.user_of("b-other") is None

    def test_stale_update_conflicts(self, stores: Stores) -> None:
        stores.budgets.create(budget(), audit("u-alice"))
        read = stores.budgets.get_for_user("u-alice")
        assert read is not None
        saved = stores.budgets.update(replace(read, monthly_limit=Decimal("200")), audit("u-alice"))
        assert saved.version == 2
        with pytest.raises(Conflict):
            stores.budgets.update(replace(read, monthly_limit=Decimal("300")), audit("u-alice"))
        final = stores.budgets.get_for_user("u-alice")
        assert final is not None and final.monthly_limit == Decimal("200")

    def test_get_many(self, stores: Stores) -> None:
        stores.budgets.create(budget("u-alice"), audit("u-alice"))
        stores.budgets.create(budget("u-bob", "0"), audit("u-bob"))
        got = stores.budgets.get_many(["u-alice", "u-bob", "u-nobody"])
        assert set(got) == {"u-alice", "u-bob"} and got["u-bob"].monthly_limit == 0

    def test_history_is_kept_with_the_budget(self, stores: Stores) -> None:
        first = BudgetTerms("2026-09", Decimal("100.00"), 80, "USD")
        stores.budgets.create(replace(budget(), history=(first,)), audit("u-alice"))
        read = stores.budgets.get_for_user("u-alice")
        assert read is not None and read.history == (first,)
        second = BudgetTerms("2026-11", Decimal("250.50"), 60, "USD")
        saved = stores.budgets.update(
            replace(read, monthly_limit=Decimal("250.50"), history=(first, second)),
            audit("u-alice"),
        )
        for got in (saved, stores.budgets.get_for_user("u-alice")):
            assert got is not None and got.history == (first, second)
            assert all(isinstance(t.monthly_limit, Decimal) for t in got.history)
        assert stores.budgets.get_many(["u-alice"])["u-alice"].history == (first, second)

    def test_a_budget_without_history_reads_back_without_one(self, stores: Stores) -> None:
        stores.budgets.create(budget(), audit("u-alice"))
        got = stores.budgets.get_for_user("u-alice")
        assert got is not None and got.history == ()
        assert got.changes == (BudgetTerms(NOW.strftime("%Y-%m"), Decimal("100.00"), 80, "USD"),)


def test_version_for_user_follows_every_change(stores: Stores) -> None:
    """Read by the summary's ETag without the budget itself."""
    assert stores.budgets.version_for_user("u-alice") is None
    stores.budgets.create(budget(), audit("u-alice"))
    assert stores.budgets.version_for_user("u-alice") == 1
    read = stores.budgets.get_for_user("u-alice")
    assert read is not None
    stores.budgets.update(replace(read, monthly_limit=Decimal("200")), audit("u-alice"))
    assert stores.budgets.version_for_user("u-alice") == 2
    assert stores.budgets.version_for_user("u-bob") is None
