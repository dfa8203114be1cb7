"""The invoice template store contract, against DynamoDB (moto) and the in-memory fake alike:
versions are written once and read back whole, a stale version is a conflict and changes
nothing, the list is every template's latest; and the numbering sequences of the invoice
number store."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tally.errors import Conflict
from tally.invoice_templates.model import InvoiceTemplate, Logo, TemplateContent
from tally.store import Stores
from tests.conftest import NOW
from tests.store.conftest import audit

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00rest"


def version(n: int, template_id: str = "org", name: str = "Org") -> InvoiceTemplate:
    content = TemplateContent(
        name=f"{name} v{n}",
        language="de",
        colours={"accent": "#112233"},
        header="Rechnung {{ number }}",
        footer="Fuß",
        terms="30 Tage",
        number_prefix="ACME-",
        columns=("service", "amount"),
        logo=Logo(PNG, "image/png"),
    )
    return InvoiceTemplate(template_id, n, content, NOW, "u-admin")


def test_versions_are_read_back_whole_and_old_ones_stay(stores: Stores) -> None:
    store = stores.invoice_templates
    assert store.get("org") is None
    for n in (1, 2, 3):
        store.save(version(n), audit("invoice-template:org"))
    assert store.get("org") == version(3)
    assert store.get("org", 1) == version(1)
    assert store.get("org", 2) == version(2)
    assert store.get("org", 4) is None


def test_a_stale_or_repeated_version_is_a_conflict_and_changes_nothing(stores: Stores) -> None:
    store = stores.invoice_templates
    store.save(version(1), audit("invoice-template:org"))
    store.save(version(2), audit("invoice-template:org"))
    with pytest.raises(Conflict):  # someone else saved 2 since this editor read 1
        store.save(replace(version(2), content=TemplateContent(name="late")), audit("x"))
    with pytest.raises(Conflict):  # a gap: 4 before 3
        store.save(version(4), audit("x"))
    with pytest.raises(Conflict):  # a second "first" version of the same scope
        store.save(version(1), audit("x"))
    assert store.get("org") == version(2)
    assert store.get("org", 2) == version(2)


def test_the_list_holds_each_templates_latest(stores: Stores) -> None:
    store = stores.invoice_templates
    store.save(version(1), audit("a"))
    store.save(version(2), audit("a"))
    store.save(version(1, "team-data", "Data"), audit("a"))
    found = sorted(store.latest(), key=lambda t: t.template_id)
    assert found == [version(2), version(1, "team-data", "Data")]


def test_sequence_numbers_are_taken_once_per_prefix_and_year(stores: Stores) -> None:
    store = stores.invoice_numbers
    assert store.latest_sequence("ACME-", 2026) == 0
    for n in range(1, 12):
        assert store.claim_sequence("ACME-", 2026, n, subject=f"user:u{n}", month="2026-11")
    assert not store.claim_sequence("ACME-", 2026, 3, subject="user:x", month="2026-11")
    assert store.latest_sequence("ACME-", 2026) == 11
    assert store.latest_sequence("ACME-", 2027) == 0
    assert store.latest_sequence("OTHER-", 2026) == 0
