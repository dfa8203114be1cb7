"""The chargeback from the stores, on a month ingested for real (tests/chargeback/world.py):
the shared costs come from the owners' split-assignment records, the totals from the
roll-ups, and the units add up to the organisation's roll-up to the cent; who may read it."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from tally.calendar import month_days
from tally.chargeback import (
    NO_UNIT,
    RULE_VARIABLE,
    Chargeback,
    GroupBy,
    UnallocatedRule,
    build_chargeback,
    chargeback,
    is_shared,
    unallocated_rule,
)
from tally.errors import Forbidden, Invalid
from tally.models import ORG, UNALLOCATED, Metric
from tally.money import to_cents
from tally.settings import ConfigurationError
from tally.store import Stores
from tally.view import View
from tests.chargeback.world import MONTH, TODAY, world
from tests.conftest import ADMIN, ALICE

D = Decimal


@pytest.fixture(scope="module")
def stores() -> Stores:
    return world()


def build(
    stores: Stores, group_by: GroupBy, rule: UnallocatedRule, metric: Metric = Metric.EFFECTIVE
) -> Chargeback:
    return build_chargeback(
        stores, month=MONTH, group_by=group_by, metric=metric, today=TODAY, rule=rule
    )


def month_total(stores: Stores, owner: str, metric: Metric) -> dict[str, Decimal]:
    rollup = stores.rollups.get(owner, MONTH)
    assert rollup is not None
    return {c: s.totals.amount(metric) for c, s in rollup.sections.items()}


@pytest.mark.parametrize("group_by", list(GroupBy))
@pytest.mark.parametrize("rule", list(UnallocatedRule))
@pytest.mark.parametrize("metric", list(Metric))
def test_the_units_add_up_to_the_organisation_roll_up(
    stores: Stores, group_by: GroupBy, rule: UnallocatedRule, metric: Metric
) -> None:
    report = build(stores, group_by, rule, metric)
    org = {c: to_cents(v) for c, v in month_total(stores, ORG, metric).items()}
    assert report.organisation_total == org  # a statement is in cents
    for currency, total in org.items():
        units = sum((u.in_currency(currency).total for u in report.units), D(0))
        assert (
            units + report.no_team.in_currency(currency).total + report.unallocated[currency]
            == total
        )
    if rule is UnallocatedRule.SEPARATE:
        unowned = month_total(stores, UNALLOCATED, metric)["USD"]
        assert abs(report.unallocated["USD"] - unowned) < D("0.01")
        assert report.unallocated["EUR"] == 0
    else:
        assert report.unallocated == {"EUR": D(0), "USD": D(0)}
    assert report.final


def test_shared_costs_are_the_split_assignment_records(stores: Stores) -> None:
    report = build(stores, GroupBy.TEAM, UnallocatedRule.SEPARATE)
    start, end = month_days(MONTH)
    shared: dict[str, Decimal] = defaultdict(Decimal)
    for owner in ("u-alice", "u-carol"):
        for r in stores.costs.for_owner(owner, start, end):
            if is_shared(r):
                shared[owner] += r.effective_cost
    assert shared["u-alice"] == D("13.02") and shared["u-carol"] == D("8.68")  # 60/40 of 21.70
    payments, data = report.unit("payments"), report.unit("data")
    assert payments is not None and data is not None
    assert payments.in_currency("USD").shared == shared["u-alice"]
    assert data.in_currency("USD").shared == shared["u-carol"]
    # The team's own function (100%: sole) is in its allocated cost, with alice and half of bob.
    function = D("0.45") * 31
    alice = month_total(stores, "u-alice", Metric.EFFECTIVE)["USD"] - shared["u-alice"]
    bob = month_total(stores, "u-bob", Metric.EFFECTIVE)["USD"]
    bob_halves = (bob / 2).quantize(D("0.01"), "ROUND_DOWN")
    assert payments.in_currency("USD").allocated == alice + bob_halves + function


def test_bob_in_two_teams_is_split_and_eve_has_no_team(stores: Stores) -> None:
    report = build(stores, GroupBy.TEAM, UnallocatedRule.SEPARATE)
    payments, data = report.unit("payments"), report.unit("data")
    assert payments is not None and data is not None
    bob_eur = month_total(stores, "u-bob", Metric.EFFECTIVE)["EUR"]
    assert payments.in_currency("EUR").total + data.in_currency("EUR").total == bob_eur
    assert report.no_team.people == 1
    assert (
        report.no_team.in_currency("USD").total
        == month_total(stores, "u-eve", Metric.EFFECTIVE)["USD"]
    )


def test_departments_and_cost_centers(stores: Stores) -> None:
    by_team = build(stores, GroupBy.TEAM, UnallocatedRule.SEPARATE)
    teams = {u.unit_id: u.in_currency("USD").total for u in by_team.units}
    departments = build(stores, GroupBy.DEPARTMENT, UnallocatedRule.SEPARATE)
    assert [u.unit_id for u in departments.units] == ["engineering", NO_UNIT]
    engineering, none = departments.units
    assert engineering.in_currency("USD").total == teams["engineering"] + teams["payments"]
    assert none.in_currency("USD").total == teams["data"]
    centers = build(stores, GroupBy.COST_CENTER, UnallocatedRule.SEPARATE)
    assert {u.unit_id: u.in_currency("USD").total for u in centers.units} == {
        "ENG": teams["engineering"],
        "PAY": teams["payments"],
        NO_UNIT: teams["data"],
    }


def test_a_month_that_has_not_begun_or_is_malformed_is_refused(stores: Stores) -> None:
    for month in ("2026-12", "2026-13", "october"):
        with pytest.raises(Invalid) as raised:
            build_chargeback(stores, month=month, group_by=GroupBy.TEAM,
                             metric=Metric.EFFECTIVE, today=TODAY,
                             rule=UnallocatedRule.SEPARATE)  # fmt: skip
        assert raised.value.errors[0].field == "month"


def test_a_month_without_costs_is_empty_and_provisional(stores: Stores) -> None:
    report = build_chargeback(stores, month="2026-11", group_by=GroupBy.TEAM,
                              metric=Metric.EFFECTIVE, today=TODAY,
                              rule=UnallocatedRule.PROPORTIONAL)  # fmt: skip
    assert report.currencies == () and not report.final
    assert [u.unit_id for u in report.units] == ["data", "engineering", "payments"]


def test_only_readers_of_every_cost_see_it(stores: Stores) -> None:
    admin = View(caller=ADMIN, stores=stores, today=TODAY)
    assert chargeback(admin, month=MONTH, group_by="department").group_by is GroupBy.DEPARTMENT
    with pytest.raises(Forbidden):
        chargeback(View(caller=ALICE, stores=stores, today=TODAY), month=MONTH, group_by="team")


def test_the_rule_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert unallocated_rule({}) is UnallocatedRule.PROPORTIONAL
    assert unallocated_rule({RULE_VARIABLE: "separate"}) is UnallocatedRule.SEPARATE
    with pytest.raises(ConfigurationError, match=RULE_VARIABLE):
        unallocated_rule({RULE_VARIABLE: "evenly"})
    monkeypatch.setenv(RULE_VARIABLE, "separate")
    assert unallocated_rule() is UnallocatedRule.SEPARATE
