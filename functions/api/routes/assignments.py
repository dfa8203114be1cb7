"""Resource assignments: assign, list (with costs), unassign."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel

from api import context, convert
from api.lazy import assignments, claims
from api.paging import page_cursor
from api.problems import responses
from api.routes.claims import claims_out
from api.schemas import (
    AssignmentOut,
    AssignResourceIn,
    ClaimOut,
    NextToken,
    PageLimit,
    ResourceIdQuery,
    ResourceListOut,
    UserId,
)
from tally.names import directory_names
from tally.org.model import team_owner

if TYPE_CHECKING:
    from tally.view import View

router = Router()


@router.post(
    "/assign-resource",
    status_code=201,
    summary="Assign an AWS resource (or a share of it) to a user; a user's own becomes a claim",
    description="Whoever holds assignments:write on the person (or team) assigns (201 "
    "with the assignment). A user asking for "
    "themselves makes a claim instead (see POST /api/billing/claims): 202 with the pending "
    "claim, or 201 with the assignment when the claim was accepted at once (a resource nobody "
    "owns, where the deployment accepts those); costCenter and effectiveFrom are for those "
    "who assign (422 on a claim). The resource must exist in the account (EC2 instance, S3 "
    "bucket, RDS instance, Lambda function); other types are accepted by ARN, and ARNs of AWS "
    "accounts outside the organisation are refused (422). The assignment is in force from "
    "effectiveFrom (default today; up to 400 days back, 366 ahead): each day's costs go to the "
    "assignments in force that day. A resource's shares add up to at most 100% on every day, "
    "and a new assignment may not start before the day an earlier assignment of the resource "
    "ended (409).",
    responses={**responses(201, AssignmentOut, 403, 409), **responses(202, ClaimOut)},
    tags=["assignments"],
)
def assign_resource(body: Annotated[AssignResourceIn, Body()]) -> Response[Any]:
    view = context.view(router)
    if body.team_id is not None:
        return _json(201, _assignment_out(view, _assign_to_team(body, body.team_id)))
    made = claims.assign_or_claim(
        view,
        assignments.AssignRequest(
            user_id=body.user_id or "",
            resource_type=body.resource_type,
            resource_id=body.resource_id,
            cost_center=body.cost_center,
            share_pct=body.share_pct,
            effective_from=body.effective_from,
        ),
        catalog=context.resource_catalog(),
        policy=context.claim_policy(router),
        user_source=context.user_source(),
        notifier=context.claim_notifier(),
    )
    if isinstance(made, claims.Claim):
        return _json(202, claims_out(view, [made])[0])
    return _json(201, _assignment_out(view, made))


def _assignment_out(view: View, made: assignments.Assignment) -> AssignmentOut:
    """The assignment named by the name directory (one BatchGetItem), as its costs are."""
    pair = (made.resource_type, made.resource_id)
    return convert.assignment_out(made, directory_names(view.stores.names, [pair]).get(pair))


def _assign_to_team(body: AssignResourceIn, team_id: str) -> assignments.Assignment:
    """A team's own resource: assigned by someone with assignments:write on the team (never a
    claim: a team asks through its managers)."""
    return assignments.assign_resource(
        context.view(router),
        assignments.AssignRequest(
            user_id=team_owner(team_id),
            resource_type=body.resource_type,
            resource_id=body.resource_id,
            cost_center=body.cost_center,
            share_pct=body.share_pct,
            effective_from=body.effective_from,
        ),
        catalog=context.resource_catalog(),
        org_accounts=context.org_accounts(router),
    )


def _json(status: int, model: BaseModel) -> Response[Any]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=model.model_dump_json(by_alias=True),
    )


@router.get(
    "/user/<userId>/resources",
    summary="A user's assigned resources with their cost over the last 30 complete days",
    description="The assignments in force today, and those starting later (`scheduled`); "
    "ended ones are not listed. Each resource's cost is the user's share of it over the last "
    "30 complete days, ending yesterday (today's costs have not arrived yet). `resourceId`: "
    "only the assignments of that resource among the page's (by any of its names: an "
    "instance id or its ARN); a page may then be empty and still have a `nextToken`.",
    responses=responses(200, ResourceListOut, 403),
    tags=["assignments"],
)
def list_resources(
    userId: Annotated[UserId, Path()],
    limit: PageLimit = 50,
    nextToken: NextToken = None,
    resourceId: ResourceIdQuery = None,
) -> ResourceListOut:
    pages = page_cursor(router, "resources", userId)
    page = assignments.list_user_resources(
        context.view(router),
        userId,
        limit=limit,
        start_key=pages.read_token(nextToken),
        resource_id=resourceId,
    )
    return ResourceListOut(
        metric=context.settings().budget_metric,
        items=[convert.assigned_resource_out(r) for r in page.items],
        next_token=pages.next_token(page.next_key),
    )


@router.delete(
    "/unassign/<assignmentId>",
    status_code=204,
    summary="Remove an assignment (it ends today)",
    description="Ends the assignment effective today: days before today stay allocated to it, "
    "today's and later costs are not. The record stays for history. An assignment already "
    "ended is not found (404).",
    responses=responses(204, None, 403, 404),
    tags=["assignments"],
)
def unassign(
    assignmentId: Annotated[str, Path(min_length=1, max_length=64)],
) -> Response[None]:
    assignments.unassign_resource(context.view(router), assignmentId)
    return Response(status_code=204)
