"""GET /api/commitments and /api/commitments/recommendations: the stored snapshot only, days
left from the business date, money as decimal strings with their currency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tally.commitments.model import (
    Commitment,
    CommitmentSnapshot,
    Coverage,
    PurchaseRecommendation,
    Utilisation,
)
from tests.conftest import ADMIN, NOW, PINNED_TODAY
from tests.harness import Api

SOON = PINNED_TODAY + timedelta(days=12)
LATER = PINNED_TODAY + timedelta(days=400)


@pytest.fixture
def stored(api: Api) -> None:
    api.stores.commitments.replace_snapshot(
        CommitmentSnapshot(
            read_at=NOW,
            source="cost-explorer",
            utilisation=(
                Utilisation(
                    "savings-plan",
                    date(2026, 10, 1),
                    Decimal("95"),
                    Decimal("720"),
                    Decimal("684"),
                    Decimal("36"),
                    "USD",
                    Decimal("210.4"),
                ),
            ),
            coverage=(
                Coverage("reservation", date(2026, 10, 1), Decimal("40"), Decimal("120"), "USD"),
            ),
            commitments=(
                Commitment(
                    "sp-later", "savings-plan", "Compute Savings Plan", None, LATER, "active"
                ),
                Commitment(
                    "ri-soon",
                    "reservation",
                    "Reserved m6i.large x2",
                    date(2024, 1, 1),
                    SOON,
                    "active",
                ),
                Commitment("ri-gone", "reservation", "Ended", None, PINNED_TODAY, "retired"),
            ),
            recommendations=(
                PurchaseRecommendation(
                    "reservation",
                    "Reserve 3 x c7g.xlarge",
                    "ONE_YEAR",
                    "NO_UPFRONT",
                    Decimal("600"),
                    Decimal("80"),
                    Decimal("30"),
                    Decimal("7.5"),
                    "USD",
                ),
                PurchaseRecommendation(
                    "savings-plan",
                    "Compute Savings Plan, 0.5 USD/hour",
                    "ONE_YEAR",
                    "NO_UPFRONT",
                    Decimal("0"),
                    Decimal("120.45"),
                    None,
                    Decimal("0.0"),
                    "USD",
                ),
            ),
        )
    )


def test_finance_reads_utilisation_coverage_and_expiries(api: Api, stored: None) -> None:
    reply = api.call("GET", "/api/commitments", ADMIN)
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["readAt"] == NOW.isoformat() and body["source"] == "cost-explorer"
    assert body["utilisation"] == [
        {
            "kind": "savings-plan",
            "month": "2026-10",
            "percent": "95",
            "commitment": {"amount": "720.00", "currency": "USD"},
            "used": {"amount": "684.00", "currency": "USD"},
            "unused": {"amount": "36.00", "currency": "USD"},
            "netSavings": {"amount": "210.40", "currency": "USD"},
        }
    ]
    assert body["coverage"][0]["onDemandCost"] == {"amount": "120.00", "currency": "USD"}
    # The ended one is gone; the soonest end first, flagged.
    assert [(c["commitmentId"], c["daysLeft"], c["expiringSoon"]) for c in body["commitments"]] == [
        ("ri-soon", 12, True),
        ("sp-later", 400, False),
    ]


def test_recommendations_say_the_saving_and_the_break_even(api: Api, stored: None) -> None:
    body = api.call("GET", "/api/commitments/recommendations", ADMIN).body
    assert [
        (r["kind"], r["monthlySaving"], r["upfrontCost"]["amount"], r["breakEvenMonths"])
        for r in body["recommendations"]
    ] == [
        ("savings-plan", {"amount": "120.45", "currency": "USD"}, "0.00", "0.0"),
        ("reservation", {"amount": "80.00", "currency": "USD"}, "600.00", "7.5"),
    ]


def test_before_the_first_refresh_everything_is_empty(api: Api) -> None:
    body = api.call("GET", "/api/commitments", ADMIN).body
    assert body == {
        "readAt": None,
        "source": None,
        "utilisation": [],
        "coverage": [],
        "commitments": [],
        "notes": [],
    }
    recs = api.call("GET", "/api/commitments/recommendations", ADMIN).body
    assert recs == {"readAt": None, "recommendations": []}
