"""GET /api/commitments and /api/commitments/recommendations: the stored snapshot only, days
left from the business date, money as decimal strings with their currency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tally.commitments.focus import CommitmentUse
from tally.commitments.model import (
    Commitment,
    CommitmentSnapshot,
    Coverage,
    PurchaseRecommendation,
    Utilisation,
)
from tests.conftest import ADMIN, ALICE, NOW, PINNED_TODAY
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
            "source": "cost-explorer",
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
        "commitmentUtilisation": [],
        "commitments": [],
        "notes": [],
    }
    recs = api.call("GET", "/api/commitments/recommendations", ADMIN).body
    assert recs == {"readAt": None, "recommendations": []}


SP = "arn:aws:savingsplans::123456789012:savingsplan/sp-1"
RI = "arn:aws:ec2:us-east-1:123456789012:reservation/ri-1"


def _focus_uses(api: Api) -> None:
    """A FOCUS ingest's stored uses: this period and the one before (and one too old to show)."""
    this = PINNED_TODAY.replace(day=1)
    last = (this - timedelta(days=1)).replace(day=1)
    too_old = date(this.year - 1, this.month, 1)
    uses = [
        CommitmentUse(last, SP, "AmazonEC2", "USD", "used", Decimal("75.50")),
        CommitmentUse(last, SP, "AmazonEC2", "USD", "unused", Decimal("24.50")),
        CommitmentUse(last, None, "AmazonEC2", "USD", "on-demand", Decimal("25.50")),
        CommitmentUse(this, RI, "AmazonEC2", "USD", "used", Decimal("10")),
        CommitmentUse(this, RI, "AmazonEC2", "USD", "unused", Decimal("30")),
        CommitmentUse(too_old, SP, "AmazonEC2", "USD", "used", Decimal("1")),
    ]
    api.stores.commitments.replace_focus_uses([last, this, too_old], uses)


def test_focus_figures_stand_beside_cost_explorers(api: Api, stored: None) -> None:
    # Given Cost Explorer's snapshot and the uses a FOCUS ingest stored
    _focus_uses(api)
    this = PINNED_TODAY.strftime("%Y-%m")
    last = (PINNED_TODAY.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    # When finance reads the commitments
    body = api.call("GET", "/api/commitments", ADMIN).body
    # Then each figure says where it comes from; the export's are per period shown
    assert [(u["source"], u["kind"], u["month"], u["percent"]) for u in body["utilisation"]] == [
        ("cost-explorer", "savings-plan", "2026-10", "95"),
        ("focus", "savings-plan", last, "75.50"),
        ("focus", "reservation", this, "25.00"),
    ]
    focus_sp = body["utilisation"][1]
    assert focus_sp["used"] == {"amount": "75.50", "currency": "USD"}
    assert focus_sp["unused"] == {"amount": "24.50", "currency": "USD"}
    assert focus_sp["netSavings"] is None
    assert [
        (c["source"], c["kind"], c["percent"], c["covered"], c["onDemandCost"])
        for c in body["coverage"]
    ] == [
        ("cost-explorer", "reservation", "40", None, {"amount": "120.00", "currency": "USD"}),
        # 75.50 / (75.50 + 25.50)
        (
            "focus",
            "savings-plan",
            "74.75",
            {"amount": "75.50", "currency": "USD"},
            {"amount": "25.50", "currency": "USD"},
        ),
        # The reservation covered all of this period's EC2 usage.
        (
            "focus",
            "reservation",
            "100.00",
            {"amount": "10.00", "currency": "USD"},
            {"amount": "0.00", "currency": "USD"},
        ),
    ]
    assert [
        (u["commitmentId"], u["month"], u["percent"]) for u in body["commitmentUtilisation"]
    ] == [
        (SP, last, "75.50"),
        (RI, this, "25.00"),
    ]


def test_focus_figures_alone_when_cost_explorer_has_none(api: Api) -> None:
    _focus_uses(api)
    body = api.call("GET", "/api/commitments", ADMIN).body
    assert body["readAt"] is None and body["source"] is None
    assert {u["source"] for u in body["utilisation"]} == {"focus"}
    assert len(body["commitmentUtilisation"]) == 2
    # Members see none of it, as before.
    assert api.call("GET", "/api/commitments", ALICE).status == 403
