"""The recommendations store contract, run against DynamoDB (moto) and the in-memory fake
alike (the ``stores`` fixture): per-owner and organisation reads, and a replace that makes
the given set the whole stored set."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tally.models import UNALLOCATED, Recommendation
from tally.store import Stores
from tests.conftest import NOW


def rec(rec_id: str, owner: str, saving: str = "10.50", **kw: object) -> Recommendation:
    base = Recommendation(
        recommendation_id=rec_id,
        owner=owner,
        kind="idle-ec2",
        resource_id="i-0123456789abcdef0",
        resource_type="ec2",
        service="AmazonEC2",
        title="Stop idle instance runner",
        detail="Idle for 14 days.",
        monthly_saving=Decimal(saving),
        currency="USD",
        evidence={"maxCpuPercent": "1.20", "days": "14"},
        detected_at=NOW,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_reads_back_exactly_what_was_stored(stores: Stores) -> None:
    given = rec("idle-ec2-a", "u-alice", "42.5600000001")
    stores.recommendations.replace_all([given])
    assert stores.recommendations.for_owner("u-alice") == [given]
    assert stores.recommendations.all() == [given]
    assert isinstance(stores.recommendations.all()[0].monthly_saving, Decimal)


def test_owners_see_their_own_and_the_organisation_sees_all(stores: Stores) -> None:
    items = [rec("b", "u-bob"), rec("a", "u-alice"), rec("c", UNALLOCATED), rec("d", "u-alice")]
    stores.recommendations.replace_all(items)
    assert [r.recommendation_id for r in stores.recommendations.for_owner("u-alice")] == ["a", "d"]
    assert [r.recommendation_id for r in stores.recommendations.for_owner(UNALLOCATED)] == ["c"]
    assert stores.recommendations.for_owner("u-carol") == []
    assert [r.recommendation_id for r in stores.recommendations.all()] == ["a", "b", "c", "d"]


def test_replace_removes_what_no_longer_holds_and_is_idempotent(stores: Stores) -> None:
    stores.recommendations.replace_all([rec("a", "u-alice"), rec("b", "u-bob")])
    changed = rec("a", "u-alice", "3.00", title="Changed")
    assert stores.recommendations.replace_all([changed]) == (1, 1)
    assert stores.recommendations.all() == [changed]
    assert stores.recommendations.replace_all([changed]) == (1, 0)
    assert stores.recommendations.all() == [changed]
    assert stores.recommendations.replace_all([]) == (0, 1)
    assert stores.recommendations.all() == []


def test_more_than_one_batch_is_replaced_whole(stores: Stores) -> None:
    many = [rec(f"r{n:03}", f"u-{n % 7}") for n in range(60)]
    stores.recommendations.replace_all(many)
    assert len(stores.recommendations.all()) == 60
    stores.recommendations.replace_all(many[:5])
    assert [r.recommendation_id for r in stores.recommendations.all()] == [
        f"r{n:03}" for n in range(5)
    ]
