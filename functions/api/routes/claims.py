"""Claims of resources: make one, list mine or those waiting for me, approve or reject."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from api import context, convert
from api.lazy import claims
from api.paging import page_cursor
from api.problems import responses
from api.schemas import ClaimIn, ClaimListOut, ClaimOut, NextToken, PageLimit
from tally.names import directory_names

if TYPE_CHECKING:
    from tally.models import Claim
    from tally.view import View

router = Router()

ClaimId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


def claims_out(view: View, found: list[Claim]) -> list[ClaimOut]:
    """The claims named as their cost lines name them: the name directory's names (one
    BatchGetItem for the page), else the name the id gives; and their claimants by user name
    (one more), so an owner deciding a claim sees who asks, not an id."""
    names = directory_names(view.stores.names, [(c.resource_type, c.resource_id) for c in found])
    claimants = sorted({c.claimant_id for c in found})
    people = view.stores.users.get_many(claimants) if claimants else {}
    return [
        convert.claim_out(
            c,
            names.get((c.resource_type, c.resource_id)),
            people[c.claimant_id].username if c.claimant_id in people else None,
        )
        for c in found
    ]


@router.post(
    "/claims",
    status_code=201,
    summary="Claim an AWS resource (or a share of it) for yourself",
    description="A claim of a resource someone else owns (an assignment in force today, or "
    "its owner tag) waits for that owner or someone with claims:decide (status pending). A "
    "claim of a resource nobody owns waits for someone with claims:decide, or is approved at "
    "once where the deployment accepts unowned claims (TALLY_CLAIM_UNOWNED=accept); the claim "
    "of someone with claims:decide for the organisation is approved at once. "
    "A pending claim changes no allocation; approved, the claimant's assignment is in force "
    "from the day of approval. ARNs of AWS accounts outside the organisation are refused "
    "(422). 409 when the caller already has an assignment of the resource.",
    responses=responses(201, ClaimOut, 409),
    tags=["claims"],
)
def create_claim(body: Annotated[ClaimIn, Body()]) -> ClaimOut:
    view = context.view(router)
    claim = claims.create_claim(
        view,
        claims.ClaimRequest(
            resource_type=body.resource_type,
            resource_id=body.resource_id,
            share_pct=body.share_pct,
            note=body.note,
        ),
        catalog=context.resource_catalog(),
        policy=context.claim_policy(router),
        notifier=context.claim_notifier(),
    )
    return claims_out(view, [claim])[0]


@router.get(
    "/claims",
    summary="Claims: mine, or those waiting for my decision",
    description="view=mine: the caller's claims, any status, newest first. view=to-approve: "
    "pending claims of resources the caller owns; with claims:decide for the organisation, "
    "every pending claim.",
    responses=responses(200, ClaimListOut),
    tags=["claims"],
)
def list_claims(
    view: Annotated[Literal["mine", "to-approve"], Query()] = "mine",
    limit: PageLimit = 50,
    nextToken: NextToken = None,
) -> ClaimListOut:
    # Each view is a listing of its own (scope "claims:<view>:<caller>", as tokens carry it).
    pages = page_cursor(router, f"claims:{view}")
    seen_by = context.view(router)
    page = claims.list_claims(
        seen_by,
        view,
        limit=limit,
        start_key=pages.read_token(nextToken),
    )
    return ClaimListOut(
        view=view,
        items=claims_out(seen_by, page.items),
        next_token=pages.next_token(page.next_key),
    )


@router.post(
    "/claims/<claimId>/approve",
    summary="Approve a pending claim",
    description="By the resource's owner (an approver of the claim) or someone with "
    "claims:decide for the organisation. The "
    "claimant's assignment is in force from today; where the shares would pass 100%, the "
    "other owners' assignments end (or shrink) from today, so earlier days stay theirs. "
    "404 for a claim the caller may not see, 403 for one they may see but not decide (their "
    "own), 409 once decided.",
    responses=responses(200, ClaimOut, 403, 409),
    tags=["claims"],
)
def approve_claim(claimId: ClaimId) -> ClaimOut:
    view = context.view(router)
    claim = claims.approve_claim(view, claimId, notifier=context.claim_notifier())
    return claims_out(view, [claim])[0]


@router.post(
    "/claims/<claimId>/reject",
    summary="Reject a pending claim",
    description="By the resource's owner (an approver of the claim) or someone with "
    "claims:decide for the organisation; nothing "
    "else changes. 404 for a claim the caller may not see, 403 for one they may see but not "
    "decide (their own), 409 once decided.",
    responses=responses(200, ClaimOut, 403, 409),
    tags=["claims"],
)
def reject_claim(claimId: ClaimId) -> ClaimOut:
    view = context.view(router)
    claim = claims.reject_claim(view, claimId, notifier=context.claim_notifier())
    return claims_out(view, [claim])[0]
