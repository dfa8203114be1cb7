"""The chargeback arithmetic on plain values: equal splits and the proportional distribution
are exact, and the units partition the organisation to the cent whatever the organisation
(Hypothesis: people in 0-3 teams, split shares, unallocated costs, several currencies)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.chargeback import (
    NO_TEAM,
    NO_UNIT,
    Chargeback,
    GroupBy,
    OwnerMonth,
    UnallocatedRule,
    distribute,
    partition,
    split_equally,
)
from tally.chargeback.partition import round_to_cents
from tally.models import Metric
from tally.money import CENT, to_cents
from tally.org.model import Team, TeamKind

D = Decimal
MONTH = "2026-10"


def run(
    teams: list[Team],
    owners: dict[str, dict[str, OwnerMonth]],
    unallocated: dict[str, Decimal],
    *,
    group_by: GroupBy = GroupBy.TEAM,
    rule: UnallocatedRule = UnallocatedRule.PROPORTIONAL,
) -> Chargeback:
    org: dict[str, Decimal] = dict(unallocated)
    for currencies in owners.values():
        for currency, month in currencies.items():
            org[currency] = org.get(currency, D(0)) + month.total
    return partition(
        month=MONTH,
        group_by=group_by,
        rule=rule,
        metric=Metric.EFFECTIVE,
        teams=teams,
        owners=owners,
        unallocated=unallocated,
        organisation_total=org,
        final=True,
    )


def assert_partition(report: Chargeback) -> None:
    for currency in report.currencies:
        units = sum((u.in_currency(currency).total for u in report.units), D(0))
        whole = units + report.no_team.in_currency(currency).total
        assert whole + report.unallocated[currency] == report.organisation_total[currency]
        for u in (*report.units, report.no_team):
            f = u.in_currency(currency)
            assert f.total == f.allocated + f.shared + f.unallocated
            for amount in (f.allocated, f.shared, f.unallocated):
                assert amount == amount.quantize(CENT), "a statement is in cents"


# -- splits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "parts", "expected"),
    [
        (D("10.00"), 3, [D("3.34"), D("3.33"), D("3.33")]),
        (D("0.01"), 2, [D("0.01"), D("0.00")]),
        (D("-10.00"), 3, [D("-3.34"), D("-3.33"), D("-3.33")]),  # a credit: toward zero
        (D("1.2345678901"), 2, [D("0.6245678901"), D("0.61")]),  # storage precision kept
        (D("7"), 1, [D("7")]),
    ],
)
def test_an_equal_split_gives_the_remainder_to_the_first(
    amount: Decimal, parts: int, expected: list[Decimal]
) -> None:
    assert split_equally(amount, parts) == expected
    assert sum(expected, D(0)) == amount


def test_rounding_to_cents_keeps_the_rounded_sum() -> None:
    values = {"a": D("0.333"), "b": D("0.333"), "c": D("0.334"), "d": D("-0.004")}
    rounded = round_to_cents(values)
    assert sum(rounded.values(), D(0)) == D("1.00")  # 0.996 -> 1.00
    # Floors .33 .33 .33 -.01 leave two cents: to the largest remainders (d .006, c .004).
    assert rounded == {"a": D("0.33"), "b": D("0.33"), "c": D("0.34"), "d": D("0.00")}
    assert round_to_cents({"x": D("2.50")}) == {"x": D("2.50")}


def test_distribute_follows_the_weights_and_gives_the_cents_left_to_the_largest() -> None:
    # 10.00 over 1:1:1 -> 3.33 each and one cent left, to the largest (a tie: by key).
    assert distribute(D("10.00"), [("b", D(5)), ("a", D(5)), ("c", D(5))]) == {
        "a": D("3.34"),
        "b": D("3.33"),
        "c": D("3.33"),
    }
    # Proportional: 30 over 100 and 200 -> 10 and 20.
    assert distribute(D("30"), [("x", D(100)), ("y", D(200))]) == {"x": D("10"), "y": D("20")}
    # The cents left go to the largest first.
    parts = distribute(D("0.05"), [("small", D(1)), ("big", D(2)), ("mid", D("1.5"))])
    assert parts == {"big": D("0.03"), "mid": D("0.01"), "small": D("0.01")}
    # A sub-cent tail of the stored precision goes to the largest as well.
    parts = distribute(D("1.00005"), [("x", D(1)), ("y", D(3))])
    assert parts == {"x": D("0.25"), "y": D("0.75005")}


def test_distribute_ignores_units_without_a_positive_total() -> None:
    assert distribute(D("9"), [("credit", D(-5)), ("zero", D(0)), ("one", D(1))]) == {"one": D(9)}
    assert distribute(D("9"), [("credit", D(-5))]) == {}


# -- the rules ------------------------------------------------------------------------------

PAYMENTS = Team(
    "payments", "Payments", parent_id="eng", cost_center="CC-PAY",
    members=frozenset({"alice", "bob"}),
)  # fmt: skip
DATA = Team("data", "Data", members=frozenset({"bob", "carol"}))
ENG = Team("eng", "Engineering", TeamKind.DEPARTMENT, cost_center="CC-ENG",
           members=frozenset({"dave"}))  # fmt: skip
TEAMS = [PAYMENTS, DATA, ENG]
OWNERS = {
    "alice": {"USD": OwnerMonth(D("100.00"), D("30.00"))},
    "bob": {"USD": OwnerMonth(D("50.01"), D("10.00")), "EUR": OwnerMonth(D("8.00"))},
    "carol": {"USD": OwnerMonth(D("20.00"))},
    "dave": {"USD": OwnerMonth(D("5.00"))},
    "eve": {"USD": OwnerMonth(D("7.00"))},  # in no team
    "team:payments": {"USD": OwnerMonth(D("40.00"))},  # the team's own resource
    "team:gone": {"USD": OwnerMonth(D("1.00"))},  # a team since deleted
}


def test_a_person_in_two_teams_is_split_equally_first_team_by_id_takes_the_cent() -> None:
    report = run(TEAMS, OWNERS, {}, rule=UnallocatedRule.SEPARATE)
    data, payments = report.unit("data"), report.unit("payments")
    assert data is not None and payments is not None
    # bob: 50.01 (10.00 shared) -> data (first by id) 20.01 + 5.00 shared, payments 20.00 + 5.00.
    assert data.in_currency("USD").allocated == D("20.01") + D("20.00")  # bob's half + carol
    assert data.in_currency("USD").shared == D("5.00")
    assert payments.in_currency("USD").shared == D("30.00") + D("5.00")
    assert data.in_currency("EUR").total == D("4.00") == payments.in_currency("EUR").total
    assert (data.people, payments.people) == (2, 2)
    assert_partition(report)


def test_a_team_owned_resource_is_the_teams_and_a_deleted_teams_is_no_teams() -> None:
    report = run(TEAMS, OWNERS, {}, rule=UnallocatedRule.SEPARATE)
    payments = report.unit("payments")
    assert payments is not None
    # alice 70 + 30 shared, bob's half 20 + 5 shared, the team's own 40.
    assert payments.in_currency("USD").allocated == D("70.00") + D("20.00") + D("40.00")
    assert report.no_team.unit_id == NO_TEAM
    assert report.no_team.in_currency("USD").total == D("7.00") + D("1.00")
    assert report.no_team.people == 1


def test_separate_keeps_the_unallocated_cost_on_its_own_line() -> None:
    report = run(TEAMS, OWNERS, {"USD": D("12.34")}, rule=UnallocatedRule.SEPARATE)
    assert report.unallocated == {"EUR": D(0), "USD": D("12.34")}
    assert all(u.in_currency("USD").unallocated == 0 for u in report.units)
    assert_partition(report)


def test_proportional_spreads_the_unallocated_cost_over_the_units_and_no_team() -> None:
    report = run(TEAMS, OWNERS, {"USD": D("100.00")})
    assert report.rule is UnallocatedRule.PROPORTIONAL
    assert report.unallocated["USD"] == 0
    totals = {u.unit_id: u.in_currency("USD") for u in (*report.units, report.no_team)}
    before = {k: f.allocated + f.shared for k, f in totals.items()}
    whole = sum(before.values(), D(0))
    for key, figures in totals.items():
        exact = D("100.00") * before[key] / whole
        assert abs(figures.unallocated - exact) < D("0.02"), key
    assert sum((f.unallocated for f in totals.values()), D(0)) == D("100.00")
    assert_partition(report)


def test_proportional_with_no_positive_unit_keeps_the_line() -> None:
    credits = {"alice": {"USD": OwnerMonth(D("-5.00"))}}
    report = run(TEAMS, credits, {"USD": D("3.00")})
    assert report.unallocated["USD"] == D("3.00")
    assert_partition(report)


def test_departments_take_their_members_and_the_teams_under_them() -> None:
    report = run(TEAMS, OWNERS, {}, group_by=GroupBy.DEPARTMENT, rule=UnallocatedRule.SEPARATE)
    assert [u.unit_id for u in report.units] == ["eng", NO_UNIT]
    eng, none = report.units
    # dave directly, payments (alice, bob's half, the team's resource).
    assert eng.in_currency("USD").total == D("5.00") + D("100.00") + D("25.00") + D("40.00")
    assert eng.kind == "department" and eng.people == 3
    assert (none.name, none.kind) == ("No department", "none")
    assert none.in_currency("USD").total == D("25.01") + D("20.00")  # data: bob's half, carol
    assert_partition(report)


def test_a_person_in_two_teams_of_one_department_counts_once_there() -> None:
    both = Team("web", "Web", parent_id="eng", members=frozenset({"alice"}))
    report = run([PAYMENTS, ENG, both], {"alice": {"USD": OwnerMonth(D("9.99"))}}, {},
                 group_by=GroupBy.DEPARTMENT)  # fmt: skip
    eng = report.unit("eng")
    assert eng is not None and eng.in_currency("USD").total == D("9.99") and eng.people == 1


def test_a_nested_team_goes_to_its_nearest_department() -> None:
    sub = Team("sub", "Sub", TeamKind.DEPARTMENT, parent_id="eng")
    leaf = Team("leaf", "Leaf", parent_id="mid", members=frozenset({"alice"}))
    mid = Team("mid", "Mid", parent_id="sub")
    owners = {"alice": {"USD": OwnerMonth(D("4"))}}
    report = run([ENG, sub, mid, leaf], owners, {}, group_by=GroupBy.DEPARTMENT)
    sub_unit = report.unit("sub")
    assert sub_unit is not None and sub_unit.in_currency("USD").total == D("4")
    assert report.unit(NO_UNIT) is None  # every team has a department


def test_cost_centers_sum_the_teams_that_carry_them() -> None:
    report = run(TEAMS, OWNERS, {}, group_by=GroupBy.COST_CENTER, rule=UnallocatedRule.SEPARATE)
    assert [u.unit_id for u in report.units] == ["CC-ENG", "CC-PAY", NO_UNIT]
    cc_eng, cc_pay, none = report.units
    assert cc_eng.in_currency("USD").total == D("5.00")  # not inherited by payments
    assert cc_pay.in_currency("USD").total == D("100.00") + D("25.00") + D("40.00")
    assert (cc_pay.kind, cc_pay.cost_center) == ("costCenter", "CC-PAY")
    assert none.name == "No cost center"
    assert none.in_currency("USD").total == D("45.01")
    assert_partition(report)


def test_currencies_are_never_added_together() -> None:
    report = run(TEAMS, OWNERS, {"EUR": D("1.00")})
    assert report.currencies == ("EUR", "USD")
    assert report.organisation_total["EUR"] == D("9.00")
    eur = sum((u.in_currency("EUR").total for u in report.units), D(0))
    assert eur + report.no_team.in_currency("EUR").total == D("9.00")


# -- the property ---------------------------------------------------------------------------

PEOPLE = [f"p{n}" for n in range(8)]
TEAM_IDS = ["t0", "t1", "t2", "t3", "t4"]
amounts = st.decimals(min_value=D("-50"), max_value=D("500"), places=4, allow_nan=False)


@st.composite
def organisations(draw: st.DrawFn) -> tuple[list[Team], dict[str, dict[str, OwnerMonth]],
                                             dict[str, Decimal]]:  # fmt: skip
    memberships = {p: draw(st.lists(st.sampled_from(TEAM_IDS), max_size=3, unique=True))
                   for p in PEOPLE}  # fmt: skip
    teams = []
    for n, team_id in enumerate(TEAM_IDS):
        department = n < 2
        parent = None if department else draw(st.sampled_from([None, "t0", "t1", "t2"]))
        teams.append(
            Team(
                team_id,
                f"Team {team_id}",
                TeamKind.DEPARTMENT if department else TeamKind.TEAM,
                parent_id=parent,
                cost_center=draw(st.sampled_from([None, "CC-A", "CC-B"])),
                members=frozenset(p for p, ts in memberships.items() if team_id in ts),
            )
        )
    currencies = draw(st.lists(st.sampled_from(["USD", "EUR", "JPY"]), min_size=1, unique=True))
    owners: dict[str, dict[str, OwnerMonth]] = {}
    for owner in [*PEOPLE, "team:t2", "team:t4", "team:gone"]:
        mine = {}
        for currency in draw(st.lists(st.sampled_from(currencies), unique=True)):
            total = draw(amounts)
            shared = draw(st.sampled_from([D(0), total, (total / 3).quantize(D("0.0000000001"))]))
            mine[currency] = OwnerMonth(total, shared)
        if mine:
            owners[owner] = mine
    unallocated = {c: draw(amounts) for c in draw(st.lists(st.sampled_from(currencies)))}
    return teams, owners, unallocated


@settings(max_examples=200, deadline=None)
@given(
    organisations(),
    st.sampled_from(list(GroupBy)),
    st.sampled_from(list(UnallocatedRule)),
)
def test_the_units_partition_the_organisation_to_the_cent(
    org: tuple[list[Team], dict[str, dict[str, OwnerMonth]], dict[str, Decimal]],
    group_by: GroupBy,
    rule: UnallocatedRule,
) -> None:
    teams, owners, unallocated = org
    report = run(teams, owners, unallocated, group_by=group_by, rule=rule)
    assert_partition(report)
    if rule is UnallocatedRule.SEPARATE:
        # Its own line, to the cent (at most a cent from the exact figure: rounding shares).
        for currency in report.currencies:
            exact = unallocated.get(currency, D(0))
            assert abs(report.unallocated[currency] - exact) < CENT
    # The shared costs are never lost or invented either (each owner's to the cent).
    for currency in report.currencies:
        shared = sum((to_cents(m[currency].shared) for m in owners.values() if currency in m), D(0))
        units = [*report.units, report.no_team]
        assert sum((u.in_currency(currency).shared for u in units), D(0)) == shared
