"""API models of reserved capacity (``GET /api/commitments`` and its recommendations): kept
apart from ``api.schemas`` so the parts of issue 17 grow without meeting."""

from __future__ import annotations

from pydantic import Field

from api.schemas import Money, Out


class UtilisationOut(Out):
    kind: str = Field(description="savings-plan | reservation")
    month: str = Field(description="YYYY-MM")
    percent: str = Field(description="decimal string: the share of the commitment used")
    commitment: Money
    used: Money
    unused: Money
    net_savings: Money | None = Field(description="what the commitments saved, net of their cost")


class CoverageOut(Out):
    kind: str
    month: str
    percent: str = Field(description="decimal string: the share of eligible usage covered")
    on_demand_cost: Money = Field(description="what the uncovered usage cost on demand")


class CommitmentOut(Out):
    commitment_id: str = Field(description="the Savings Plan's ARN or the reservation's id")
    kind: str
    description: str
    start: str | None = Field(description="YYYY-MM-DD")
    end: str = Field(description="YYYY-MM-DD: the day it ends")
    state: str
    days_left: int
    expiring_soon: bool = Field(description="ends within 30 days (finance is notified)")


class CommitmentsOut(Out):
    read_at: str | None = Field(description="when Cost Explorer was read; null before the first")
    source: str | None
    utilisation: list[UtilisationOut]
    coverage: list[CoverageOut]
    commitments: list[CommitmentOut] = Field(description="soonest end first")
    notes: list[str] = Field(description="what could not be read at the last refresh")


class PurchaseRecommendationOut(Out):
    kind: str
    description: str
    term: str = Field(description="ONE_YEAR | THREE_YEARS")
    payment_option: str = Field(description="NO_UPFRONT | PARTIAL_UPFRONT | ALL_UPFRONT")
    upfront_cost: Money
    monthly_saving: Money = Field(description="Cost Explorer's estimated monthly saving")
    saving_percent: str | None
    break_even_months: str | None = Field(
        description="decimal string: upfront cost over monthly saving (0 without upfront); "
        "null when nothing is saved"
    )


class PurchaseRecommendationsOut(Out):
    read_at: str | None
    recommendations: list[PurchaseRecommendationOut] = Field(
        description="highest monthly saving first"
    )
