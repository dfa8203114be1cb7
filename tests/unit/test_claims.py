"""Claims with approval, in the domain, on in-memory stores (issue 9, finding 1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from tally import assignments, claims
from tally.allocation import OwnerTagRule
from tally.clock import Clock, fixed_clock
from tally.errors import Conflict, Forbidden, Invalid, NotFound
from tally.identity import Caller
from tally.ingest import ingest_days
from tally.models import Claim, ClaimStatus, CostLine
from tally.store import Stores, memory_stores
from tally.tables import USER_GROUP
from tally.view import View
from tests.conftest import ADMIN, ALICE, BOB, PINNED_TODAY, profile

CAROL = Caller("u-carol", "carol", "carol@example.com", frozenset({USER_GROUP}))
CAROLS = "i-0carol"
ACCOUNT = "123456789012"


class Catalog:
    """Every resource exists; tags as given."""

    def __init__(self, tags: dict[str, dict[str, str]] | None = None) -> None:
        self.tags = tags or {}

    def exists(self, resource_type: str, resource_id: str) -> bool:
        return True

    def owner_tag(self, resource_type: str, resource_id: str, key: str) -> str | None:
        return self.tags.get(resource_id, {}).get(key)


class Notes:
    def __init__(self) -> None:
        self.created: list[Claim] = []
        self.decided: list[Claim] = []

    def claim_created(self, claim: Claim) -> None:
        self.created.append(claim)

    def claim_decided(self, claim: Claim) -> None:
        self.decided.append(claim)


def at(day: date) -> Clock:
    return fixed_clock(datetime.combine(day, time(9, 0), tzinfo=UTC))


def on(caller: Caller, s: Stores, day: date = PINNED_TODAY) -> View:
    """``caller``'s request on ``day``."""
    return View(caller, s, day)


@pytest.fixture
def s() -> Stores:
    stores = memory_stores()
    for c in (ALICE, BOB, CAROL, ADMIN):
        stores.users.put(profile(c))
    return stores


CATALOG = Catalog({CAROLS: {"Owner": "carol@example.com"}})
POLICY = claims.ClaimPolicy(org_accounts=frozenset({ACCOUNT}))


def claim(
    s: Stores,
    who: Caller,
    rid: str = CAROLS,
    day: date = date(2026, 11, 10),
    *,
    policy: claims.ClaimPolicy = POLICY,
    share: str = "100",
    notifier: Notes | None = None,
) -> Claim:
    return claims.create_claim(
        on(who, s, day),
        claims.ClaimRequest("ec2", rid, Decimal(share)),
        catalog=CATALOG,
        policy=policy,
        notifier=notifier,
        clock=at(day),
    )


def ingest(s: Stores, first: date, last: date) -> None:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    lines = [
        CostLine(
            day=d,
            service="Amazon Elastic Compute Cloud - Compute",
            resource_id=CAROLS,
            billed_cost=Decimal("10.00"),
            effective_cost=Decimal("10.00"),
            currency="USD",
            tags={"Owner": "carol@example.com"},
        )
        for d in days
    ]
    now = datetime.combine(last + timedelta(days=1), time(1), tzinfo=UTC)
    ingest_days(lines, days, stores=s, rule=OwnerTagRule(), source="test", now=now)


def owners_by_day(s: Stores, first: date, last: date) -> dict[date, str]:
    out: dict[date, str] = {}
    for user in ("u-carol", "u-bob"):
        for r in s.costs.for_owner(user, first, last + timedelta(days=1)):
            assert r.day not in out, "a day's cost went to two owners"
            out[r.day] = user
    return out


def test_acceptance_bob_claims_carols_tagged_instance(s: Stores) -> None:
    # Given carol's instance, tagged with her email, and a month of its costs
    notes = Notes()
    first, last = date(2026, 11, 1), date(2026, 11, 19)
    ingest(s, first, last)
    assert set(owners_by_day(s, first, last).values()) == {"u-carol"}

    # When bob claims it: pending, waiting for carol, nothing allocated differently
    pending = claim(s, BOB, notifier=notes)
    assert pending.status is ClaimStatus.PENDING
    assert pending.approver_ids == ("u-carol",)
    assert notes.created == [pending]
    ingest(s, first, last)
    assert set(owners_by_day(s, first, last).values()) == {"u-carol"}
    assert s.assignments.for_resource("ec2", CAROLS) == []

    # When carol approves on the 15th, the next ingest moves the cost from the 15th on
    approved = claims.approve_claim(
        on(CAROL, s, date(2026, 11, 15)),
        pending.claim_id,
        notifier=notes,
        clock=at(date(2026, 11, 15)),
    )
    assert approved.status is ClaimStatus.APPROVED and approved.decided_by == "u-carol"
    assert notes.decided == [approved]
    made = s.assignments.get(approved.assignment_id or "")
    assert made is not None and made.user_id == "u-bob"
    assert made.effective_from == date(2026, 11, 15)
    ingest(s, first, last)
    by_day = owners_by_day(s, first, last)
    assert {d for d, u in by_day.items() if u == "u-carol"} == {
        first + timedelta(days=n) for n in range(14)
    }
    assert {d for d, u in by_day.items() if u == "u-bob"} == {
        date(2026, 11, 15) + timedelta(days=n) for n in range(5)
    }

    # And it is decided once; every step is in the audit log
    with pytest.raises(Conflict):
        claims.approve_claim(
            on(CAROL, s, date(2026, 11, 16)), pending.claim_id, clock=at(date(2026, 11, 16))
        )
    with pytest.raises(Conflict):
        claims.reject_claim(
            on(ADMIN, s, date(2026, 11, 16)), pending.claim_id, clock=at(date(2026, 11, 16))
        )
    actions = [e.action for e in s.audit.list_for_user("u-bob", 10).items]
    assert actions[:3] == ["claim.approved", "assignment.created", "claim.created"]


def test_a_rejected_claim_changes_nothing_ever(s: Stores) -> None:
    first, last = date(2026, 11, 1), date(2026, 11, 19)
    pending = claim(s, BOB)
    rejected = claims.reject_claim(
        on(CAROL, s, date(2026, 11, 12)), pending.claim_id, clock=at(date(2026, 11, 12))
    )
    assert rejected.status is ClaimStatus.REJECTED and rejected.assignment_id is None
    ingest(s, first, last)
    assert set(owners_by_day(s, first, last).values()) == {"u-carol"}
    assert s.assignments.all() == []
    with pytest.raises(Conflict):
        claims.approve_claim(
            on(CAROL, s, date(2026, 11, 13)), pending.claim_id, clock=at(date(2026, 11, 13))
        )
    assert s.assignments.all() == []
    assert s.audit.list_for_user("u-bob", 10).items[0].action == "claim.rejected"


def test_an_admins_assignment_is_not_blocked_by_a_pending_claim(s: Stores) -> None:
    claim(s, BOB)
    made = assignments.assign_resource(
        on(ADMIN, s, date(2026, 11, 11)),
        assignments.AssignRequest("u-alice", "ec2", CAROLS),
        catalog=CATALOG,
        clock=at(date(2026, 11, 11)),
    )
    assert [a.assignment_id for a in s.assignments.for_resource("ec2", CAROLS)] == [
        made.assignment_id
    ]


def test_who_sees_and_who_decides(s: Stores) -> None:
    pending = claim(s, BOB)
    # The claimant sees it but may not decide it; a stranger does not see it at all.
    assert claims.get_claim(on(BOB, s), pending.claim_id) == pending
    with pytest.raises(Forbidden):
        claims.approve_claim(
            on(BOB, s, date(2026, 11, 11)), pending.claim_id, clock=at(date(2026, 11, 11))
        )
    with pytest.raises(NotFound):
        claims.approve_claim(
            on(ALICE, s, date(2026, 11, 11)), pending.claim_id, clock=at(date(2026, 11, 11))
        )
    with pytest.raises(NotFound):
        claims.reject_claim(on(ALICE, s), "no-such-claim")
    # Lists: bob's own, carol's queue, the admin's queue of every pending claim.
    assert [
        c.claim_id for c in claims.list_claims(on(BOB, s), "mine", limit=10, start_key=None).items
    ] == [pending.claim_id]
    assert claims.list_claims(on(BOB, s), "to-approve", limit=10, start_key=None).items == []
    assert [
        c.claim_id
        for c in claims.list_claims(on(CAROL, s), "to-approve", limit=10, start_key=None).items
    ] == [pending.claim_id]
    assert [
        c.claim_id
        for c in claims.list_claims(on(ADMIN, s), "to-approve", limit=10, start_key=None).items
    ] == [pending.claim_id]
    # An admin decides any claim; decided, it leaves every queue.
    claims.reject_claim(
        on(ADMIN, s, date(2026, 11, 11)), pending.claim_id, clock=at(date(2026, 11, 11))
    )
    for who in (CAROL, ADMIN):
        assert claims.list_claims(on(who, s), "to-approve", limit=10, start_key=None).items == []


def test_unowned_resource_is_held_or_accepted_by_the_setting(s: Stores) -> None:
    held = claim(s, BOB, "i-0nobody")
    assert held.status is ClaimStatus.PENDING and held.approver_ids == ()
    accepted = claim(
        s,
        ALICE,
        "i-0nobody2",
        policy=claims.ClaimPolicy(unowned="accept", org_accounts=frozenset({ACCOUNT})),
    )
    assert accepted.status is ClaimStatus.APPROVED
    made = s.assignments.get(accepted.assignment_id or "")
    assert made is not None and made.user_id == "u-alice"
    assert made.effective_from == date(2026, 11, 10)
    # A resource someone owns waits even under "accept".
    still = claim(
        s, BOB, policy=claims.ClaimPolicy(unowned="accept", org_accounts=frozenset({ACCOUNT}))
    )
    assert still.status is ClaimStatus.PENDING


def test_an_assignment_owner_approves_and_their_share_ends_from_that_day(s: Stores) -> None:
    # Carol holds 100% by assignment since 1 November; bob claims 40%.
    carol = assignments.assign_resource(
        on(ADMIN, s, date(2026, 11, 1)),
        assignments.AssignRequest("u-carol", "ec2", "i-0shared", effective_from=date(2026, 11, 1)),
        catalog=CATALOG,
        clock=at(date(2026, 11, 1)),
    )
    pending = claim(s, BOB, "i-0shared", share="40")
    assert pending.approver_ids == ("u-carol",)
    claims.approve_claim(
        on(CAROL, s, date(2026, 11, 30)), pending.claim_id, clock=at(date(2026, 11, 30))
    )
    ended = s.assignments.get(carol.assignment_id)
    assert ended is not None and ended.effective_to == date(2026, 11, 30)
    now = {a.user_id: a for a in s.assignments.for_resource("ec2", "i-0shared")}
    assert {u: a.share_pct for u, a in now.items()} == {"u-carol": 60, "u-bob": 40}
    assert {a.effective_from for a in now.values()} == {date(2026, 11, 30)}


def test_claims_of_other_accounts_are_refused(s: Stores) -> None:
    other = "arn:aws:lambda:us-east-1:999999999999:function:theirs"
    with pytest.raises(Invalid) as refused:
        claims.create_claim(
            on(BOB, s), claims.ClaimRequest("lambda", other), catalog=CATALOG, policy=POLICY
        )
    assert refused.value.errors[0].field == "resourceId"
    with pytest.raises(Invalid):
        assignments.assign_resource(
            on(ADMIN, s),
            assignments.AssignRequest("u-bob", "sqs", "arn:aws:sqs:us-east-1:999999999999:q"),
            catalog=CATALOG,
            org_accounts=POLICY.org_accounts,
        )
    ours = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:ours"
    assert (
        claims.create_claim(
            on(BOB, s), claims.ClaimRequest("lambda", ours), catalog=CATALOG, policy=POLICY
        ).status
        is ClaimStatus.PENDING
    )


def test_a_claim_of_a_resource_one_already_has_is_a_conflict(s: Stores) -> None:
    assignments.assign_resource(
        on(ADMIN, s), assignments.AssignRequest("u-bob", "ec2", "i-0bobs"), catalog=CATALOG
    )
    with pytest.raises(Conflict):
        claim(s, BOB, "i-0bobs")
