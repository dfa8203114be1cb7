"""The claim store contract, run against DynamoDB (moto) and the in-memory fake alike
(the ``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from tally.errors import Conflict, NotFound
from tally.models import Claim, ClaimStatus
from tally.store import Stores
from tests.conftest import NOW
from tests.store.conftest import audit


def a_claim(cid: str, claimant: str, approvers: tuple[str, ...], seconds: int = 0) -> Claim:
    return Claim(
        claim_id=cid,
        claimant_id=claimant,
        resource_type="ec2",
        resource_id="i-0abc",
        share_pct=Decimal("50"),
        note="mine since May",
        status=ClaimStatus.PENDING,
        approver_ids=approvers,
        created_at=NOW + timedelta(seconds=seconds),
    )


def test_claims_are_listed_by_claimant_approver_and_pending(stores: Stores) -> None:
    c1 = a_claim("c1", "u-bob", ("u-alice",), 0)
    c2 = a_claim("c2", "u-bob", (), 1)
    c3 = a_claim("c3", "u-carol", ("u-alice", "u-dave"), 2)
    for c in (c1, c2, c3):
        stores.claims.create(c, audit(c.claimant_id, "claim.created"))
    assert stores.claims.get("c1") == c1
    assert stores.claims.get("nope") is None

    def ids(page) -> list[str]:  # type: ignore[no-untyped-def]
        return [c.claim_id for c in page.items]

    assert ids(stores.claims.list_by_claimant("u-bob", 10)) == ["c2", "c1"]
    assert ids(stores.claims.list_for_approver("u-alice", 10)) == ["c3", "c1"]
    assert ids(stores.claims.list_for_approver("u-dave", 10)) == ["c3"]
    assert ids(stores.claims.list_pending(10)) == ["c3", "c2", "c1"]
    # Pages: one at a time, in the same order.
    first = stores.claims.list_pending(1)
    second = stores.claims.list_pending(1, first.next_key)
    assert ids(first) + ids(second) == ["c3", "c2"]


def test_a_claim_is_decided_once(stores: Stores) -> None:
    c = a_claim("c1", "u-bob", ("u-alice",))
    stores.claims.create(c, audit("u-bob", "claim.created"))
    approved = replace(
        c,
        status=ClaimStatus.APPROVED,
        decided_at=NOW,
        decided_by="u-alice",
        assignment_id="a9",
    )
    assert stores.claims.decide(approved, audit("u-bob", "claim.approved")) == approved
    assert stores.claims.get("c1") == approved
    assert stores.claims.list_for_approver("u-alice", 10).items == []
    assert stores.claims.list_pending(10).items == []
    assert [x.status for x in stores.claims.list_by_claimant("u-bob", 10).items] == [
        ClaimStatus.APPROVED
    ]
    rejected = replace(c, status=ClaimStatus.REJECTED, decided_at=NOW, decided_by="u-admin")
    with pytest.raises(Conflict):
        stores.claims.decide(rejected, audit("u-bob", "claim.rejected"))
    assert stores.claims.get("c1") == approved
    with pytest.raises(NotFound):
        stores.claims.decide(replace(rejected, claim_id="ghost"), audit("u-bob"))
    actions = [e.action for e in stores.audit.list_for_user("u-bob", 10).items]
    assert sorted(actions) == ["claim.approved", "claim.created"]


def test_a_claim_approved_at_once_is_in_no_queue(stores: Stores) -> None:
    c = replace(
        a_claim("c1", "u-bob", ()),
        status=ClaimStatus.APPROVED,
        decided_at=NOW,
        decided_by="u-bob",
        assignment_id="a1",
    )
    stores.claims.create(c, audit("u-bob", "claim.created"))
    assert stores.claims.get("c1") == c
    assert stores.claims.list_pending(10).items == []
