"""Assignments in time: when they start, how they end, what the resource list shows, and the
"last 30 days" that means the last 30 complete days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from tally import assignments, reports
from tally.assignments import AssignRequest
from tally.clock import Clock, fixed_clock
from tally.errors import Conflict, Invalid, NotFound
from tally.identity import Caller
from tally.models import CostRecord
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ADMIN, ALICE, BOB, profile


class AnyResource:
    def exists(self, resource_type: str, resource_id: str) -> bool:
        return True


def at(day: date) -> Clock:
    return fixed_clock(datetime.combine(day, time(15, 30), tzinfo=UTC))


def on(day: date, caller: Caller, stores: Stores) -> View:
    """``caller``'s request on ``day``."""
    return View(caller, stores, day)


@pytest.fixture
def stores() -> Stores:
    s = memory_stores()
    s.users.put(profile(ALICE))
    s.users.put(profile(BOB))
    return s


def assign(
    stores: Stores, day: date, *, start: date | None = None, user: str = "u-alice", rid: str = "i-1"
) -> assignments.Assignment:
    return assignments.assign_resource(
        on(day, ADMIN, stores),
        AssignRequest(user, "ec2", rid, effective_from=start),
        catalog=AnyResource(),
        clock=at(day),
    )


def test_starts_on_the_day_of_the_request(stores: Stores) -> None:
    made = assign(stores, date(2028, 2, 29))
    assert (made.effective_from, made.effective_to) == (date(2028, 2, 29), None)
    assert stores.assignments.get(made.assignment_id) == made


@pytest.mark.parametrize(
    ("today", "start", "allowed"),
    [
        (date(2026, 11, 20), date(2026, 8, 22), True),  # the demo's 90-day history
        (date(2026, 11, 20), date(2026, 11, 20) - timedelta(days=400), True),
        (date(2026, 11, 20), date(2026, 11, 20) - timedelta(days=401), False),
        (date(2027, 1, 1), date(2027, 1, 1) + timedelta(days=366), True),
        (date(2027, 1, 1), date(2027, 1, 1) + timedelta(days=367), False),
        (date(2028, 3, 1), date(2028, 2, 29), True),
    ],
)
def test_start_may_be_backdated_or_planned_within_bounds(
    stores: Stores, today: date, start: date, allowed: bool
) -> None:
    if allowed:
        assert assign(stores, today, start=start).effective_from == start
        return
    with pytest.raises(Invalid) as refused:
        assign(stores, today, start=start)
    assert [e.field for e in refused.value.errors] == ["effectiveFrom"]
    assert stores.assignments.all() == []


def test_removing_ends_it_today_and_keeps_the_record(stores: Stores) -> None:
    made = assign(stores, date(2026, 11, 1), start=date(2026, 10, 1))
    ended = assignments.unassign_resource(
        on(date(2026, 11, 15), ALICE, stores), made.assignment_id, clock=at(date(2026, 11, 15))
    )
    assert (ended.effective_from, ended.effective_to) == (date(2026, 10, 1), date(2026, 11, 15))
    assert ended.in_force(date(2026, 11, 14)) and not ended.in_force(date(2026, 11, 15))
    assert stores.assignments.all() == [ended]
    assert stores.assignments.list_for_user("u-alice", 10).items == []
    with pytest.raises(NotFound):
        assignments.unassign_resource(
            on(date(2026, 11, 16), ALICE, stores), made.assignment_id, clock=at(date(2026, 11, 16))
        )
    actions = [e.action for e in stores.audit.list_for_user("u-alice", 10).items]
    assert sorted(actions) == ["assignment.created", "assignment.ended"]


def test_removing_a_planned_assignment_means_it_was_never_in_force(stores: Stores) -> None:
    made = assign(stores, date(2026, 11, 20), start=date(2026, 12, 1))
    ended = assignments.unassign_resource(
        on(date(2026, 11, 20), ADMIN, stores), made.assignment_id, clock=at(date(2026, 11, 20))
    )
    assert ended.effective_to == date(2026, 12, 1)
    assert not any(ended.in_force(date(2026, 11, 20) + timedelta(days=n)) for n in range(400))
    # It settled nothing: someone else may take the resource from before its planned start.
    assign(stores, date(2026, 11, 20), start=date(2026, 11, 1), user="u-bob")


def test_a_handover_on_the_same_day_and_a_backdated_one(stores: Stores) -> None:
    alice = assign(stores, date(2026, 10, 1))
    assignments.unassign_resource(
        on(date(2026, 10, 10), ADMIN, stores), alice.assignment_id, clock=at(date(2026, 10, 10))
    )
    with pytest.raises(Conflict) as refused:
        assign(stores, date(2026, 10, 10), start=date(2026, 10, 9), user="u-bob")
    assert [e.field for e in refused.value.errors] == ["effectiveFrom"]
    bob = assign(stores, date(2026, 10, 10), user="u-bob")
    assert bob.effective_from == date(2026, 10, 10)


def test_someone_else_cannot_end_it(stores: Stores) -> None:
    made = assign(stores, date(2026, 11, 1))
    with pytest.raises(NotFound):
        assignments.unassign_resource(
            on(made.effective_from, BOB, stores), made.assignment_id, clock=at(made.effective_from)
        )
    assert stores.assignments.get(made.assignment_id) == made


def record(day: date, amount: str, rid: str = "i-1") -> CostRecord:
    return CostRecord(
        owner="u-alice",
        day=day,
        line_id=f"{rid}-{day}",
        service="AmazonEC2",
        resource_id=rid,
        usage_quantity=Decimal(1),
        usage_unit="Hrs",
        billed_cost=Decimal(amount),
        effective_cost=Decimal(amount),
        currency="USD",
        charge_category="Usage",
        estimated=False,
        source="t",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        allocation="assignment",
    )


# The first of a month, 1 January, the day after 29 February, and the 15th.
EDGES = [date(2026, 12, 1), date(2027, 1, 1), date(2028, 3, 1), date(2026, 11, 15)]


@pytest.mark.parametrize("today", EDGES, ids=str)
def test_resource_list_costs_the_last_30_complete_days(stores: Stores, today: date) -> None:
    assign(stores, today - timedelta(days=60), start=today - timedelta(days=60))
    planned = assign(stores, today, start=today + timedelta(days=3), rid="i-2")
    first, last = today - timedelta(days=30), today - timedelta(days=1)
    stores.costs.replace_day(first - timedelta(days=1), [record(first - timedelta(days=1), "1000")])
    stores.costs.replace_day(first, [record(first, "1")])
    stores.costs.replace_day(last, [record(last, "2")])
    # Today's figure is partial (a day's costs arrive a day or two later): never counted.
    stores.costs.replace_day(today, [record(today, "500")])
    page = assignments.list_user_resources(
        on(today, ALICE, stores), "u-alice", limit=10, start_key=None
    )
    current, later = page.items
    assert current.cost is not None and not current.scheduled
    assert (current.cost.last_30_days, current.cost.latest_day, current.cost.latest_daily) == (
        Decimal(3),
        last,
        Decimal(2),
    )
    assert later.assignment == planned and later.scheduled and later.cost is None


@pytest.mark.parametrize("today", EDGES, ids=str)
def test_default_report_range_is_the_last_30_complete_days(today: date) -> None:
    start, end = reports.resolve_range(None, None, today)
    assert end == today - timedelta(days=1)
    assert (end - start).days + 1 == 30
    # Only a start: 30 days from it, cut at yesterday, never before the start.
    assert reports.resolve_range(today - timedelta(days=5), None, today) == (
        today - timedelta(days=5),
        today - timedelta(days=1),
    )
    assert reports.resolve_range(today, None, today) == (today, today)
    # Only an end: the 30 days up to it.
    assert reports.resolve_range(None, today, today) == (today - timedelta(days=29), today)


def test_default_range_across_a_year_end_and_29_february() -> None:
    assert reports.resolve_range(None, None, date(2027, 1, 1)) == (
        date(2026, 12, 2),
        date(2026, 12, 31),
    )
    assert reports.resolve_range(None, None, date(2028, 3, 1)) == (
        date(2028, 1, 31),
        date(2028, 2, 29),
    )
