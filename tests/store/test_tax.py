"""The tax store contract, against DynamoDB (moto) and the in-memory fake alike: rules and
settings read back as written, a write on a stale rule set or stale settings is a conflict,
and every write is audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from tally.errors import Conflict
from tally.store import Stores
from tally.tax.model import Rounding, TaxMode, TaxRule, TaxSettings, Treatment, Unit, UnitKind
from tests.conftest import NOW
from tests.store.conftest import audit, every_page

VAT = TaxRule(
    rule_id="vat-de",
    name="VAT",
    jurisdiction="DE",
    rate=Decimal("19.00"),
    unit=Unit.org(),
    effective_from=date(2026, 1, 1),
    effective_to=None,
    created_at=NOW,
    created_by="u-admin",
)
EXPORT = TaxRule(
    rule_id="zero-export",
    name="VAT",
    jurisdiction="DE",
    rate=Decimal(0),
    unit=Unit(UnitKind.COST_CENTER, "CC-100"),
    effective_from=date(2026, 3, 1),
    effective_to=date(2026, 7, 1),
    treatment=Treatment.ZERO_RATED,
    reason="Export of services",
    created_at=NOW,
    created_by="u-admin",
)


def test_no_rules_and_the_default_settings_at_first(stores: Stores) -> None:
    assert stores.tax.rules().rules == ()
    assert stores.tax.rules().revision == 0
    assert stores.tax.settings() == TaxSettings()


def test_rules_read_back_as_written_and_end_dating_replaces(stores: Stores) -> None:
    stores.tax.save_rule(VAT, read_at=0, audit=audit("tax:vat-de", "tax.rule.created"))
    stores.tax.save_rule(EXPORT, read_at=1, audit=audit("tax:zero-export", "tax.rule.created"))
    found = stores.tax.rules()
    assert found.revision == 2
    assert found.rules == (VAT, EXPORT)
    ended = replace(VAT, effective_to=date(2026, 12, 1), version=2)
    stores.tax.save_rule(ended, read_at=2, audit=audit("tax:vat-de", "tax.rule.ended"))
    assert stores.tax.rules().rules == (ended, EXPORT)
    actions = [e.action for e in every_page(lambda k: stores.audit.list_all(10, k))]
    assert sorted(actions) == ["tax.rule.created", "tax.rule.created", "tax.rule.ended"]


def test_a_write_on_a_stale_rule_set_is_a_conflict_and_writes_nothing(stores: Stores) -> None:
    stores.tax.save_rule(VAT, read_at=0, audit=audit("tax:vat-de"))
    with pytest.raises(Conflict):
        stores.tax.save_rule(EXPORT, read_at=0, audit=audit("tax:zero-export"))
    assert stores.tax.rules().rules == (VAT,)


def test_settings_are_versioned(stores: Stores) -> None:
    wanted = TaxSettings(TaxMode.REPLACE, Rounding.PER_LINE, 0, NOW, "u-admin")
    saved = stores.tax.save_settings(wanted, audit=audit("tax:settings"))
    assert saved.version == 1
    assert stores.tax.settings() == saved
    with pytest.raises(Conflict):
        stores.tax.save_settings(wanted, audit=audit("tax:settings"))
    assert stores.tax.settings() == saved
