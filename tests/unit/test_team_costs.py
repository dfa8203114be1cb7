"""A team's costs (tally.org.costs): its people once each across the subtree, its own
resources, currencies apart, months by their UTC days; and the team summary built on them.
Domain only: in-memory stores, explicit dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count

import pytest

from tally.calendar import month_of
from tally.errors import Forbidden, Invalid, NotFound
from tally.forecast.result import DailyForecast, Forecast, MonthEndProjection
from tally.identity import Caller, Role
from tally.models import AuditEntry, Budget, BudgetStatus, BudgetTerms, CostRecord, Metric
from tally.org.costs import (
    combine_forecasts,
    combine_rollups,
    team_months,
    team_scope,
    team_summary,
    team_totals,
)
from tally.org.model import Team, TeamKind, team_owner
from tally.rollups import compute_rollup
from tally.store import Stores, memory_stores
from tally.tables import ADMIN_GROUP, USER_GROUP
from tally.view import View

ADMIN = Caller("u-admin", "admin", "admin@example.com", frozenset({ADMIN_GROUP}))
ALICE = Caller("u-alice", "alice", "alice@example.com", frozenset({USER_GROUP}))
NOW = datetime(2026, 11, 20, 1, tzinfo=UTC)
_lines = count(1)


def record(owner: str, day: date, amount: str, currency: str = "USD", resource: str = "i-1"):
    return CostRecord(
        owner=owner,
        day=day,
        line_id=f"l{next(_lines)}",
        service="EC2",
        resource_id=resource,
        usage_quantity=Decimal(1),
        usage_unit="Hrs",
        billed_cost=Decimal(amount),
        effective_cost=Decimal(amount),
        currency=currency,
        charge_category="Usage",
        estimated=False,
        source="test",
        fetched_at=NOW,
        allocation="assignment",
    )


def put(stores: Stores, owner: str, *records: CostRecord) -> None:
    """Every month of ``records`` rolled up for ``owner``, as the ingest writes them."""
    for month in sorted({month_of(r.day) for r in records}):
        mine = [r for r in records if month_of(r.day) == month]
        stores.rollups.put(compute_rollup(owner, month, mine, now=NOW))


def team(
    stores: Stores,
    team_id: str,
    *,
    members: tuple[str, ...] = (),
    managers: tuple[str, ...] = (),
    parent: str | None = None,
    kind: TeamKind = TeamKind.TEAM,
) -> Team:
    t = Team(
        team_id,
        team_id.title(),
        kind,
        parent,
        members=frozenset(members),
        managers=frozenset(managers),
    )
    audit = AuditEntry(team_owner(team_id), NOW, "u-admin", "team.created", team_id, {})
    return stores.access.save_team(t, previous=None, snapshot=stores.access.snapshot(), audit=audit)


@pytest.fixture
def org() -> Stores:
    """engineering (department) > payments {alice, bob}, data {bob, carol}; dave manages data."""
    stores = memory_stores()
    team(stores, "engineering", kind=TeamKind.DEPARTMENT)
    team(stores, "payments", members=("u-alice", "u-bob"), parent="engineering")
    team(stores, "data", members=("u-bob", "u-carol"), managers=("u-dave",), parent="engineering")
    team(stores, "other", members=("u-erin",))
    return stores


def teams(stores: Stores) -> dict[str, Team]:
    return {t.team_id: t for t in stores.access.list_teams()}


def total(stores: Stores, team_id: str, month: str = "2026-11") -> dict[str, Decimal]:
    return team_totals(stores.rollups, team_scope(team_id, teams(stores)), month, Metric.EFFECTIVE)


def test_a_person_in_two_teams_counts_once_in_the_department(org: Stores) -> None:
    put(org, "u-alice", record("u-alice", date(2026, 11, 2), "10"))
    put(org, "u-bob", record("u-bob", date(2026, 11, 2), "100"))
    put(org, "u-carol", record("u-carol", date(2026, 11, 2), "1000"))
    put(org, "u-erin", record("u-erin", date(2026, 11, 2), "5"))

    assert total(org, "payments") == {"USD": Decimal("110")}
    assert total(org, "data") == {"USD": Decimal("1100")}
    # Bob is in both teams: once in the department, not 1210.
    assert total(org, "engineering") == {"USD": Decimal("1110")}
    assert team_scope("engineering", teams(org)).people == {"u-alice", "u-bob", "u-carol"}
    assert total(org, "other") == {"USD": Decimal("5")}


def test_resources_of_a_team_count_for_it_and_the_teams_above_it_once(org: Stores) -> None:
    put(org, "u-alice", record("u-alice", date(2026, 11, 3), "10"))
    put(org, team_owner("payments"), record("team:payments", date(2026, 11, 3), "7", resource="db"))
    put(org, team_owner("engineering"), record("team:engineering", date(2026, 11, 3), "3"))

    assert total(org, "payments") == {"USD": Decimal("17")}
    assert total(org, "data") == {}  # nothing of its own, nobody spent
    assert total(org, "engineering") == {"USD": Decimal("20")}
    month = team_months(org.rollups, team_scope("engineering", teams(org)), ["2026-11"])
    assert month["2026-11"].resources_total("USD", Metric.EFFECTIVE) == Decimal("10")
    assert set(month["2026-11"].people) == {"u-alice"}


def test_currencies_are_never_added_together(org: Stores) -> None:
    put(org, "u-alice", record("u-alice", date(2026, 11, 4), "10", "USD"))
    put(org, "u-bob", record("u-bob", date(2026, 11, 4), "8", "EUR"))
    put(
        org,
        "u-carol",
        record("u-carol", date(2026, 11, 4), "1", "USD"),
        record("u-carol", date(2026, 11, 5), "2", "EUR"),
    )

    assert total(org, "engineering") == {"USD": Decimal("11"), "EUR": Decimal("10")}


@pytest.mark.parametrize(
    ("days", "month", "expected"),
    [
        # The 1st and the 31st belong to their own month, whatever the time zone of a reader.
        ((date(2026, 12, 1), date(2026, 12, 31)), "2026-12", "3"),
        ((date(2026, 11, 30), date(2026, 12, 1)), "2026-11", "1"),
        ((date(2026, 12, 31), date(2027, 1, 1)), "2027-01", "2"),
        # 29 February 2028 is February's last day; 1 March starts March.
        ((date(2028, 2, 29), date(2028, 3, 1)), "2028-02", "1"),
        ((date(2028, 2, 29), date(2028, 3, 1)), "2028-03", "2"),
    ],
)
def test_month_edges(org: Stores, days: tuple[date, date], month: str, expected: str) -> None:
    first, second = days
    put(org, "u-alice", record("u-alice", first, "1"), record("u-alice", second, "2"))
    put(org, "u-bob", record("u-bob", first, "0"))

    assert total(org, "payments", month) == {"USD": Decimal(expected)}


def test_the_combined_rollup_adds_each_part_by_service_day_and_resource() -> None:
    a = compute_rollup(
        "u-a", "2026-11", [record("u-a", date(2026, 11, 2), "1", resource="r")], now=NOW
    )
    b = compute_rollup(
        "u-b",
        "2026-11",
        [
            record("u-b", date(2026, 11, 2), "2", resource="r"),
            record("u-b", date(2026, 11, 3), "4"),
        ],
        now=NOW,
    )

    both = combine_rollups("team:t", "2026-11", [a, b])

    assert both is not None
    section = both.sections["USD"]
    assert section.totals.effective == Decimal("7")
    assert section.daily["2026-11-02"].effective == Decimal("3")
    assert section.by_service["EC2"].effective == Decimal("7")
    # A resource the two share is the sum of their shares.
    assert {(r.resource_id, r.amounts.effective) for r in section.top_resources} == {
        ("r", Decimal("3")),
        ("i-1", Decimal("4")),
    }
    assert both.record_count == 3
    assert combine_rollups("team:t", "2026-11", []) is None


def forecast(point: str, low: str, high: str, model: str = "linear") -> Forecast:
    p, lo, hi = Decimal(point), Decimal(low), Decimal(high)
    end = MonthEndProjection("2026-11", Decimal(0), p, p, lo, hi, lo, hi, 19, 11)
    day = DailyForecast(date(2026, 11, 20), p, lo, hi, lo, hi)
    return Forecast(date(2026, 11, 19), model, 40, end, (day,))


def test_forecasts_add_points_and_combine_intervals_as_independent_parts() -> None:
    both = combine_forecasts([forecast("100", "70", "130"), forecast("100", "60", "140")])

    assert both is not None
    assert both.month_end.projected_total == Decimal("200")
    # sqrt(30² + 40²) = 50 either side, not 70 (the bounds' sum).
    assert (both.month_end.lower80, both.month_end.upper80) == (
        Decimal("150.00"),
        Decimal("250.00"),
    )
    assert both.daily[0].amount == Decimal("200")
    assert both.model == "linear"


def test_a_young_forecast_makes_the_teams_one_young() -> None:
    both = combine_forecasts([forecast("100", "70", "130"), forecast("5", "1", "9", "mean")])
    assert both is not None and both.model == "mean"
    mixed = combine_forecasts([forecast("1", "0", "2"), forecast("1", "0", "2", "weekday")])
    assert mixed is not None and mixed.model == "combined"


# --- the team summary ------------------------------------------------------------------


def view(stores: Stores, caller: Caller = ADMIN, today: date = date(2026, 11, 20)) -> View:
    """The request of ``caller``, decided on the organisation the access store holds."""
    from tally.authz.authorizer import Authorizer

    bound = replace(caller, authorizer=None)
    bound = replace(bound, authorizer=Authorizer(bound, stores.access))
    return View(bound, stores, today, Metric.EFFECTIVE, "USD")


def team_budget(stores: Stores, team_id: str, limit: str, since: str = "2026-11") -> None:
    terms = BudgetTerms(since, Decimal(limit), 80, "USD")
    owner = team_owner(team_id)
    stores.budgets.create(
        Budget("b-" + team_id, owner, terms.monthly_limit, 80, "USD", NOW, NOW, 0, (terms,)),
        AuditEntry(owner, NOW, "u-admin", "budget.created", "b-" + team_id, {}),
    )


def test_the_team_summary_judges_the_team_budget_and_lists_each_person_once(org: Stores) -> None:
    from tally.models import UserProfile

    org.users.put(UserProfile("u-bob", "bob", None, Role.USER))
    put(org, "u-alice", record("u-alice", date(2026, 11, 2), "10"))
    put(org, "u-bob", record("u-bob", date(2026, 11, 2), "60"))
    put(org, team_owner("data"), record("team:data", date(2026, 11, 2), "20"))
    team_budget(org, "engineering", "100")

    result = team_summary(view(org), "engineering")

    s = result.summary
    assert (s.user_id, s.month, s.total) == ("team:engineering", "2026-11", Decimal("90"))
    assert s.status is BudgetStatus.WARNING and s.percent_used == Decimal("90.0")
    assert [(m.user_id, m.username, m.amount) for m in result.members] == [
        ("u-bob", "bob", Decimal("60")),
        ("u-alice", None, Decimal("10")),
        ("u-carol", None, Decimal("0")),
    ]
    assert result.team_resources == Decimal("20")
    assert sum(m.amount for m in result.members) + result.team_resources == s.total


def test_the_team_summary_of_an_earlier_month_and_its_limits(org: Stores) -> None:
    put(
        org,
        "u-alice",
        record("u-alice", date(2028, 2, 29), "4"),
        record("u-alice", date(2028, 3, 1), "1"),
    )

    feb = team_summary(view(org, today=date(2028, 3, 1)), "payments", month="2028-02")
    assert (feb.summary.month, feb.summary.total) == ("2028-02", Decimal("4"))
    march = team_summary(view(org, today=date(2028, 3, 1)), "payments")
    assert (march.summary.month, march.summary.total) == ("2028-03", Decimal("1"))
    assert march.summary.previous_month is not None
    assert march.summary.previous_month.total == Decimal("4")

    with pytest.raises(Invalid):
        team_summary(view(org, today=date(2028, 3, 1)), "payments", month="2028-04")
    with pytest.raises(NotFound):
        team_summary(view(org), "ghost")


def test_who_may_read_a_team_summary(org: Stores) -> None:
    dave = Caller("u-dave", "dave", None, frozenset({USER_GROUP}))
    assert team_summary(view(org, dave), "data").team.team_id == "data"  # its manager
    with pytest.raises(Forbidden):
        team_summary(view(org, dave), "payments")  # not their team
    with pytest.raises(Forbidden):
        team_summary(view(org, ALICE), "other")  # a member of another team
    with pytest.raises(Forbidden):
        team_summary(view(org, dave), "ghost")  # the same refusal for a team that is not


def test_a_team_summary_reads_the_rollups_in_one_batch(org: Stores) -> None:
    calls: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    real = org.rollups.get_many_months

    def spy(owners, months):  # type: ignore[no-untyped-def]
        calls.append((tuple(owners), tuple(months)))
        return real(owners, months)

    org = replace(org, rollups=replace_rollups(org.rollups, spy))
    team_summary(view(org), "engineering")
    assert len(calls) == 1
    owners, months = calls[0]
    assert sorted(owners) == sorted(
        ["u-alice", "u-bob", "u-carol", "team:engineering", "team:payments", "team:data"]
    )
    assert months == ("2026-10", "2026-11")


def replace_rollups(store, get_many_months):  # type: ignore[no-untyped-def]
    store.get_many_months = get_many_months
    return store
