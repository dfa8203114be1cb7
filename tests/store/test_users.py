"""The user directory store contract, run against DynamoDB (moto) and the in-memory fake alike
(the ``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from tally.store import Stores
from tests.conftest import ALICE, BOB, profile


class TestUsers:
    def test_directory_lists_by_name(self, stores: Stores) -> None:
        for c in (BOB, ALICE):
            stores.users.put(profile(c))
        assert [u.username for u in stores.users.list(10).items] == ["alice", "bob"]
        assert stores.users.get("u-alice") == profile(ALICE)
        assert stores.users.get("u-nobody") is None


def test_directory_remove(stores: Stores) -> None:
    stores.users.put(profile(ALICE))
    stores.users.remove("u-alice")
    stores.users.remove("u-never-there")
    assert stores.users.get("u-alice") is None and stores.users.list(10).items == []


def test_directory_reads_many_profiles_at_once(stores: Stores) -> None:
    for c in (ALICE, BOB):
        stores.users.put(profile(c))
    found = stores.users.get_many(["u-bob", "u-nobody", "u-alice", "u-bob"])
    assert found == {"u-alice": profile(ALICE), "u-bob": profile(BOB)}
    assert stores.users.get_many([]) == {}
