"""Reserved capacity: utilisation, coverage, expiries and purchase recommendations, from what
the daily refresh stored (finance and admins: commitments:read)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.api_gateway import Router

from api import context
from api.commitment_schemas import (
    CommitmentOut,
    CommitmentsOut,
    CommitmentUtilisationOut,
    CoverageOut,
    PurchaseRecommendationOut,
    PurchaseRecommendationsOut,
    UtilisationOut,
)
from api.convert import money
from api.lazy import commitments
from api.problems import responses

if TYPE_CHECKING:
    from tally.commitments.listing import CommitmentsOverview
    from tally.commitments.model import PurchaseRecommendation

router = Router()
FOCUS = "focus"  # tally.commitments.focus.SOURCE (not imported: the handler imports lazily)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _overview_out(o: CommitmentsOverview) -> CommitmentsOut:
    s = o.snapshot
    focus = o.focus
    return CommitmentsOut(
        read_at=s.read_at.isoformat() if s else None,
        source=s.source if s else None,
        utilisation=[
            UtilisationOut(
                kind=u.kind,
                month=u.start.isoformat()[:7],
                percent=format(u.percent, "f"),
                commitment=money(u.commitment, u.currency),
                used=money(u.used, u.currency),
                unused=money(u.unused, u.currency),
                net_savings=None if u.net_savings is None else money(u.net_savings, u.currency),
                source=s.source if s else "cost-explorer",
            )
            for u in (s.utilisation if s else ())
        ]
        + [
            UtilisationOut(
                kind=u.kind,
                month=u.month,
                percent=format(u.percent, "f"),
                commitment=money(u.commitment, u.currency),
                used=money(u.used, u.currency),
                unused=money(u.unused, u.currency),
                net_savings=None,
                source=FOCUS,
            )
            for u in focus.utilisation
        ],
        coverage=[
            CoverageOut(
                kind=c.kind,
                month=c.start.isoformat()[:7],
                percent=format(c.percent, "f"),
                on_demand_cost=money(c.on_demand_cost, c.currency),
                covered=None,
                source=s.source if s else "cost-explorer",
            )
            for c in (s.coverage if s else ())
        ]
        + [
            CoverageOut(
                kind=c.kind,
                month=c.month,
                percent=format(c.percent, "f"),
                on_demand_cost=money(c.on_demand_cost, c.currency),
                covered=money(c.covered, c.currency),
                source=FOCUS,
            )
            for c in focus.coverage
        ],
        commitment_utilisation=[
            CommitmentUtilisationOut(
                commitment_id=str(u.commitment_id),
                kind=u.kind,
                month=u.month,
                percent=format(u.percent, "f"),
                commitment=money(u.commitment, u.currency),
                used=money(u.used, u.currency),
                unused=money(u.unused, u.currency),
                source=FOCUS,
            )
            for u in focus.by_commitment
        ],
        commitments=[
            CommitmentOut(
                commitment_id=c.commitment.commitment_id,
                kind=c.commitment.kind,
                description=c.commitment.description,
                start=c.commitment.start.isoformat() if c.commitment.start else None,
                end=c.commitment.end.isoformat(),
                state=c.commitment.state,
                days_left=c.days_left,
                expiring_soon=c.expiring_soon,
            )
            for c in sorted(o.commitments, key=lambda c: (c.days_left, c.commitment.commitment_id))
        ],
        notes=list(s.notes if s else ()),
    )


def _recommendation_out(r: PurchaseRecommendation) -> PurchaseRecommendationOut:
    return PurchaseRecommendationOut(
        kind=r.kind,
        description=r.description,
        term=r.term,
        payment_option=r.payment_option,
        upfront_cost=money(r.upfront_cost, r.currency),
        monthly_saving=money(r.monthly_saving, r.currency),
        saving_percent=_text(r.saving_percent),
        break_even_months=_text(r.break_even_months),
    )


@router.get(
    "/commitments",
    summary="Reserved capacity: utilisation, coverage and expiries",
    description="Savings Plans and reservations as Cost Explorer reported them at the last "
    "daily refresh (readAt): utilisation and coverage per month and kind, and every "
    "commitment still running with its end date and days left (expiringSoon within 30 "
    "days). When the cost source is a FOCUS export, utilisation (per kind and per "
    "commitment) and coverage derived from its commitment columns at ingest are listed "
    "beside Cost Explorer's, or alone when it has none: each figure's source says which. "
    "Finance and admins (commitments:read on the organisation). Cost Explorer's amounts are "
    "in its reporting currency; the export's in its billing currency, one figure per "
    "currency.",
    responses=responses(200, CommitmentsOut, 403),
    tags=["commitments"],
)
def list_commitments() -> CommitmentsOut:
    return _overview_out(commitments.overview(context.view(router)))


@router.get(
    "/commitments/recommendations",
    summary="Savings Plan and reservation purchase recommendations",
    description="Cost Explorer's recommendations at the last refresh (a Compute Savings Plan "
    "and EC2 reservations, one year, no upfront, from the last 30 days), each with its "
    "estimated monthly saving and break-even in months. Finance and admins.",
    responses=responses(200, PurchaseRecommendationsOut, 403),
    tags=["commitments"],
)
def list_purchase_recommendations() -> PurchaseRecommendationsOut:
    snapshot, found = commitments.recommendations(context.view(router))
    return PurchaseRecommendationsOut(
        read_at=snapshot.read_at.isoformat() if snapshot else None,
        recommendations=[_recommendation_out(r) for r in found],
    )
