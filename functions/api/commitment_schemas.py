"""API models of reserved capacity (``GET /api/commitments`` and its recommendations): kept
apart from ``api.schemas`` so the parts of issue 17 grow without meeting."""

from __future__ import annotations

from pydantic import Field

from api.schemas import Money, Out

SOURCE = Field(
    description="where the figure comes from: cost-explorer (Cost Explorer's daily refresh; "
    "calendar months, its reporting currency) or focus (the organisation's FOCUS export, "
    "derived from its commitment columns at ingest; the organisation's periods, the billing "
    "currency)"
)


class UtilisationOut(Out):
    kind: str = Field(description="savings-plan | reservation")
    month: str = Field(description="YYYY-MM")
    percent: str = Field(description="decimal string: the share of the commitment used")
    commitment: Money
    used: Money
    unused: Money
    net_savings: Money | None = Field(
        description="what the commitments saved, net of their cost (Cost Explorer only)"
    )
    source: str = SOURCE


class CommitmentUtilisationOut(Out):
    commitment_id: str = Field(description="the export's CommitmentDiscountId")
    kind: str = Field(description="savings-plan | reservation")
    month: str = Field(description="YYYY-MM")
    percent: str = Field(description="decimal string: the share of the commitment used")
    commitment: Money
    used: Money
    unused: Money
    source: str = SOURCE


class CoverageOut(Out):
    kind: str
    month: str
    percent: str = Field(description="decimal string: the share of eligible usage covered")
    on_demand_cost: Money = Field(description="what the uncovered eligible usage cost")
    covered: Money | None = Field(
        description="the eligible usage the commitments covered (focus only: Cost Explorer's "
        "coverage says the percentage and the uncovered cost)"
    )
    source: str = SOURCE


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
    commitment_utilisation: list[CommitmentUtilisationOut] = Field(
        description="each commitment's utilisation per month, from a FOCUS export (empty "
        "without one)"
    )
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
