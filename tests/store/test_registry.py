"""``Stores`` finds each aggregate's module by its field name: each module's factories must
return the field's type, and each item must be bound to its table, keys from the base."""

from __future__ import annotations

import importlib
import typing

import pytest

from tally import store, tables
from tally.settings import Settings
from tally.store import Stores, base


@pytest.mark.parametrize("aggregate", store.aggregates())
def test_each_aggregate_module_builds_the_type_of_its_field(aggregate: str) -> None:
    module = importlib.import_module(f"tally.store.{aggregate}")
    # The field's annotation names the aggregate's Protocol (imported for type checking only).
    field_type = getattr(module, Stores.__annotations__[aggregate])
    for factory in (module.dynamodb_store, module.memory_store):
        assert typing.get_type_hints(factory)["return"] is field_type


def test_the_memory_stores_share_one_audit_log() -> None:
    stores = store.memory_stores()
    assert stores.assignments._audit is stores.audit  # type: ignore[attr-defined]
    assert stores.budgets._audit is stores.audit  # type: ignore[attr-defined]
    assert stores.claims._audit is stores.audit  # type: ignore[attr-defined]


def test_every_item_is_bound_to_its_own_table(aws: Settings) -> None:
    store.dynamodb_stores(aws)
    items = list(base._bound_items())
    # Every table but the ingest's idempotency records (Powertools writes those).
    assert {i.spec for i in items} == set(tables.ALL_TABLES) - {tables.IDEMPOTENCY}
    for item in items:
        assert item.Meta.table_name == aws.table_names[item.spec.key]
        assert item.Meta is not base.StoredItem.Meta
        # The key schema comes from the base, as the table spec says.
        assert item._hash_keyname == item.spec.hash_key
        assert item._range_keyname == item.spec.range_key
