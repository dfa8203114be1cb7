"""The reserved-capacity store: the latest snapshot replaced whole, Decimals and dates kept
exactly; an expiry notice claimed once (DynamoDB and the fake alike)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tally.commitments.model import (
    Commitment,
    CommitmentSnapshot,
    Coverage,
    PurchaseRecommendation,
    Utilisation,
)
from tally.store import Stores
from tests.conftest import NOW

SNAPSHOT = CommitmentSnapshot(
    read_at=NOW,
    source="cost-explorer",
    utilisation=(
        Utilisation(
            "savings-plan",
            date(2026, 11, 1),
            Decimal("95.5"),
            Decimal("720.00"),
            Decimal("687.60"),
            Decimal("32.40"),
            "USD",
            Decimal("210.4"),
        ),
    ),
    coverage=(Coverage("reservation", date(2026, 11, 1), Decimal("40"), Decimal("120.00"), "USD"),),
    commitments=(
        Commitment(
            "ri-1", "reservation", "Reserved m6i.large x2", None, date(2028, 2, 29), "active"
        ),
    ),
    recommendations=(
        PurchaseRecommendation(
            "savings-plan",
            "Compute Savings Plan",
            "ONE_YEAR",
            "NO_UPFRONT",
            Decimal("0"),
            Decimal("120.45"),
            None,
            Decimal("0.0"),
            "USD",
        ),
    ),
    notes=("Cost Explorer has no reservation coverage data yet",),
)


def test_the_snapshot_comes_back_exactly(stores: Stores) -> None:
    assert stores.commitments.snapshot() is None
    stores.commitments.replace_snapshot(SNAPSHOT)
    assert stores.commitments.snapshot() == SNAPSHOT
    emptier = CommitmentSnapshot(read_at=NOW, source="cost-explorer")
    stores.commitments.replace_snapshot(emptier)
    assert stores.commitments.snapshot() == emptier


def test_a_notice_is_claimed_once(stores: Stores) -> None:
    end = date(2028, 2, 29)
    assert stores.commitments.claim_notice("ri-1", end, 30, at=NOW) is True
    assert stores.commitments.claim_notice("ri-1", end, 30, at=NOW) is False
    assert stores.commitments.claim_notice("ri-1", end, 7, at=NOW) is True
    # A renewal (another end date) is another commitment term: told again.
    assert stores.commitments.claim_notice("ri-1", date(2029, 2, 28), 30, at=NOW) is True


def test_focus_uses_are_replaced_per_day_and_read_by_range(stores: Stores) -> None:
    from tally.commitments.focus import CommitmentUse

    sp = "arn:aws:savingsplans::123456789012:savingsplan/sp-1"
    may1, may2, may31 = (date(2026, 5, d) for d in (1, 2, 31))
    june1 = date(2026, 6, 1)
    first = [
        CommitmentUse(may1, sp, "AmazonEC2", "USD", "used", Decimal("1.0000000001")),
        CommitmentUse(may1, None, "AmazonEC2", "EUR", "on-demand", Decimal("2.5")),
        CommitmentUse(may31, sp, "AmazonEC2", "USD", "unused", Decimal("3")),
        CommitmentUse(june1, sp, "AmazonEC2", "USD", "used", Decimal("4")),
    ]
    stores.commitments.replace_focus_uses([may1, may2, may31, june1], first)
    assert stores.commitments.focus_uses(may1, june1) == first[:3]  # the end is exclusive
    assert stores.commitments.focus_uses(june1, may1) == []

    # A later read of May 1 and 2 replaces those days only; a day read empty stays empty.
    again = [CommitmentUse(may2, sp, "AmazonEC2", "USD", "used", Decimal("5"))]
    stores.commitments.replace_focus_uses([may1, may2], again)
    assert stores.commitments.focus_uses(may1, date(2026, 6, 2)) == [again[0], *first[2:]]
    # The snapshot and the notices live beside them untouched.
    assert stores.commitments.snapshot() is None
