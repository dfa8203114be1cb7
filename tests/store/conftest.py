"""The store contract runs every test against DynamoDB (moto) and the in-memory fakes alike,
so the fakes the domain tests use cannot drift from the real thing: a test takes ``stores``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import pytest

from tally.models import AuditEntry, Page
from tally.store import PageKey, Stores, memory_stores
from tests.conftest import NOW

NOV20 = date(2026, 11, 20)
T = TypeVar("T")


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "memory":
        return memory_stores()
    return request.getfixturevalue("dynamo_stores")


def audit(user: str, action: str = "x") -> AuditEntry:
    return AuditEntry(user, NOW, "u-admin", action, "e1", {"k": "v"})


def every_page(read: Callable[[PageKey | None], Page[T]]) -> list[T]:
    """Everything a list gives, page after page, until it says there is no more."""
    seen: list[T] = []
    key: PageKey | None = None
    while True:
        page = read(key)
        seen += page.items
        key = page.next_key
        if not key:
            return seen
