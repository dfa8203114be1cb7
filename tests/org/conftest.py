"""The organisation's use cases against the in-memory stores, each caller deciding with a
request-like authorizer bound to the memory access store (its snapshot and profiles, no
cache), so a change is in force for the next call as in the API after the cache time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tally.authz.authorizer import Authorizer
from tally.identity import Caller, Role
from tally.models import UserProfile
from tally.store import Stores, memory_stores
from tally.tables import ADMIN_GROUP, USER_GROUP
from tally.view import View
from tests.conftest import NOW

PEOPLE = {
    "u-admin": Role.ADMIN,
    "u-alice": Role.USER,
    "u-bob": Role.USER,
    "u-carol": Role.USER,
    "u-dave": Role.USER,
    "u-fiona": Role.USER,
    "u-audrey": Role.USER,
}


def clock():  # type: ignore[no-untyped-def]
    return NOW


@pytest.fixture
def org_stores() -> Stores:
    stores = memory_stores()
    for user_id, role in PEOPLE.items():
        stores.users.put(UserProfile(user_id, user_id.removeprefix("u-"), None, role))
    return stores


def caller(user_id: str) -> Caller:
    group = ADMIN_GROUP if PEOPLE.get(user_id) is Role.ADMIN else USER_GROUP
    return Caller(user_id, user_id.removeprefix("u-"), None, frozenset({group}))


def view_of(stores: Stores, user_id: str) -> View:
    """``user_id``'s view, deciding from what the stores hold now."""
    who = caller(user_id)
    return View(replace(who, authorizer=Authorizer(who, stores.access)), stores, NOW.date())
