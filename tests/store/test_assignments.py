"""The assignment store contract, run against DynamoDB (moto) and the in-memory fake alike
(the ``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tally.errors import Conflict, NotFound
from tally.models import Assignment
from tally.store import Stores
from tests.conftest import NOW
from tests.store.conftest import NOV20, audit, every_page


def assignment(
    aid: str,
    user: str,
    rid: str = "i-0abc",
    share: str = "100",
    *,
    start: date = date(2026, 11, 1),
) -> Assignment:
    return Assignment(aid, user, "ec2", rid, Decimal(share), "cc-1", "u-admin", NOW, start)


class TestAssignments:
    def test_create_get_list_end(self, stores: Stores) -> None:
        a = assignment("a1", "u-alice")
        stores.assignments.create(a, audit("u-alice"))
        assert stores.assignments.get("a1") == a
        assert stores.assignments.list_for_user("u-alice", 10).items == [a]
        assert stores.assignments.list_for_user("u-bob", 10).items == []
        ended = stores.assignments.end(a, date(2026, 11, 20), audit("u-alice"))
        assert ended == replace(a, effective_to=date(2026, 11, 20))
        # The record stays (the ingest allocates the days it was in force) but leaves the list.
        assert stores.assignments.get("a1") == ended
        assert stores.assignments.all() == [ended]
        assert stores.assignments.list_for_user("u-alice", 10).items == []
        with pytest.raises(NotFound):
            stores.assignments.end(a, date(2026, 11, 21), audit("u-alice"))
        with pytest.raises(NotFound):
            stores.assignments.end(assignment("a-none", "u-alice"), NOV20, audit("u-alice"))

    def test_same_resource_same_user_conflicts_even_by_arn(self, stores: Stores) -> None:
        stores.assignments.create(assignment("a1", "u-alice", "i-0abc", "50"), audit("u-alice"))
        arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"
        with pytest.raises(Conflict):
            stores.assignments.create(assignment("a2", "u-alice", arn, "10"), audit("u-alice"))

    def test_shares_never_exceed_100_and_free_up_on_end(self, stores: Stores) -> None:
        first = assignment("a1", "u-alice", share="60")
        stores.assignments.create(first, audit("u-alice"))
        with pytest.raises(Conflict, match="100"):
            stores.assignments.create(assignment("a2", "u-bob", share="40.01"), audit("u-bob"))
        stores.assignments.create(assignment("a3", "u-bob", share="40"), audit("u-bob"))
        stores.assignments.end(first, NOV20, audit("u-alice"))
        stores.assignments.create(
            assignment("a4", "u-carol", share="60", start=NOV20), audit("u-carol")
        )
        assert {a.assignment_id for a in stores.assignments.all()} == {"a1", "a3", "a4"}

    def test_a_new_assignment_may_not_start_inside_the_settled_past(self, stores: Stores) -> None:
        """alice 60% ended on the 20th: bob 60% from the 10th would make 120% on 10-19."""
        alice = assignment("a1", "u-alice", share="60")
        stores.assignments.create(alice, audit("u-alice"))
        stores.assignments.end(alice, NOV20, audit("u-alice"))
        with pytest.raises(Conflict, match="2026-11-20") as refused:
            stores.assignments.create(
                assignment("a2", "u-bob", share="60", start=date(2026, 11, 10)), audit("u-bob")
            )
        assert [e.field for e in refused.value.errors] == ["effectiveFrom"]
        assert stores.assignments.get("a2") is None
        assert stores.audit.list_for_user("u-bob", 10).items == []
        stores.assignments.create(
            assignment("a3", "u-bob", share="60", start=NOV20), audit("u-bob")
        )
        assert stores.assignments.list_for_user("u-bob", 10).items[0].effective_from == NOV20

    def test_shares_are_refused_before_the_settled_past(self, stores: Stores) -> None:
        # Both rules broken: the share message, the one a client can act on first.
        alice = assignment("a1", "u-alice", share="60")
        stores.assignments.create(alice, audit("u-alice"))
        stores.assignments.create(assignment("a2", "u-bob", share="40"), audit("u-bob"))
        stores.assignments.end(alice, NOV20, audit("u-alice"))
        with pytest.raises(Conflict, match="100"):
            stores.assignments.create(
                assignment("a3", "u-carol", share="61", start=date(2026, 11, 2)), audit("u-carol")
            )

    def test_the_same_user_may_take_the_resource_again_after_it_ended(self, stores: Stores) -> None:
        first = assignment("a1", "u-alice")
        stores.assignments.create(first, audit("u-alice"))
        stores.assignments.end(first, NOV20, audit("u-alice"))
        again = assignment("a2", "u-alice", start=date(2026, 11, 25))
        stores.assignments.create(again, audit("u-alice"))
        assert stores.assignments.list_for_user("u-alice", 10).items == [again]
        assert sorted(a.assignment_id for a in stores.assignments.all()) == ["a1", "a2"]

    def test_an_assignment_ended_before_it_began_settles_nothing(self, stores: Stores) -> None:
        planned = assignment("a1", "u-alice", start=date(2026, 12, 1))
        stores.assignments.create(planned, audit("u-alice"))
        stores.assignments.end(planned, date(2026, 12, 1), audit("u-alice"))
        stores.assignments.create(assignment("a2", "u-bob"), audit("u-bob"))  # from 1 Nov

    def test_the_settled_past_keeps_the_latest_end(self, stores: Stores) -> None:
        """Ends arriving out of order (a business date pinned back) never move it earlier."""
        a = assignment("a1", "u-alice", share="50")
        b = assignment("a2", "u-bob", share="50")
        stores.assignments.create(a, audit("u-alice"))
        stores.assignments.create(b, audit("u-bob"))
        stores.assignments.end(a, NOV20, audit("u-alice"))
        ended = stores.assignments.end(b, date(2026, 11, 10), audit("u-bob"))
        assert ended.effective_to == date(2026, 11, 10)
        assert stores.assignments.get("a2") == ended
        with pytest.raises(Conflict, match="2026-11-20"):
            stores.assignments.create(
                assignment("a3", "u-carol", start=date(2026, 11, 15)), audit("u-carol")
            )

    def test_failed_create_stores_nothing(self, stores: Stores) -> None:
        stores.assignments.create(assignment("a1", "u-alice"), audit("u-alice"))
        with pytest.raises(Conflict):
            stores.assignments.create(assignment("a2", "u-bob"), audit("u-bob"))
        assert stores.assignments.get("a2") is None
        assert stores.audit.list_for_user("u-bob", 10).items == []

    def test_pagination_visits_each_once(self, stores: Stores) -> None:
        for n in range(7):
            a = replace(
                assignment(f"a{n}", "u-alice", f"i-{n}"), assigned_at=NOW + timedelta(seconds=n)
            )
            stores.assignments.create(a, audit("u-alice"))
        stores.assignments.end(stores.assignments.get("a3"), NOV20, audit("u-alice"))  # type: ignore[arg-type]
        listed = every_page(lambda key: stores.assignments.list_for_user("u-alice", 3, key))
        seen = [a.assignment_id for a in listed]
        assert seen == [f"a{n}" for n in range(7) if n != 3]

    def test_audit_written_with_each_change(self, stores: Stores) -> None:
        a = assignment("a1", "u-alice")
        stores.assignments.create(a, audit("u-alice", "assignment.created"))
        stores.assignments.end(a, NOV20, audit("u-alice", "assignment.ended"))
        actions = [e.action for e in stores.audit.list_for_user("u-alice", 10).items]
        assert sorted(actions) == ["assignment.created", "assignment.ended"]


def test_assignments_for_resource_are_those_not_ended_by_any_name(stores: Stores) -> None:
    stores.assignments.create(assignment("a1", "u-alice", share="60"), audit("u-alice"))
    stores.assignments.create(
        replace(assignment("a2", "u-bob", share="40"), assigned_at=NOW + timedelta(seconds=1)),
        audit("u-bob"),
    )
    arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"
    assert [a.assignment_id for a in stores.assignments.for_resource("ec2", arn)] == ["a1", "a2"]
    first = stores.assignments.get("a1")
    assert first is not None
    stores.assignments.end(first, NOV20, audit("u-alice"))
    assert [a.assignment_id for a in stores.assignments.for_resource("ec2", "i-0abc")] == ["a2"]
    assert stores.assignments.for_resource("ec2", "i-0other") == []
