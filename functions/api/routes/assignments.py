"""Resource assignments: assign, list (with costs), unassign."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from api import context, convert
from api.lazy import lazy_module
from api.problems import responses
from api.schemas import AssignmentOut, AssignResourceIn, ResourceListOut, UserId
from tally.paging import decode_token, encode_token

if TYPE_CHECKING:
    from tally import assignments
else:  # loaded when one of these routes first runs, not on every cold start
    assignments = lazy_module("tally.assignments")

router = Router()


@router.post(
    "/assign-resource",
    status_code=201,
    summary="Assign an AWS resource (or a share of it) to a user",
    description="Admins assign to anyone; users to themselves. The resource must exist in the "
    "account (EC2 instance, S3 bucket, RDS instance, Lambda function); other types are "
    "accepted by ARN. The assignment is in force from effectiveFrom (default today; up to 400 "
    "days back, 366 ahead): each day's costs go to the assignments in force that day. A "
    "resource's shares add up to at most 100% on every day, and a new assignment may not "
    "start before the day an earlier assignment of the resource ended (409).",
    responses=responses(201, AssignmentOut, 403, 409),
    tags=["assignments"],
)
def assign_resource(body: Annotated[AssignResourceIn, Body()]) -> AssignmentOut:
    caller = context.current_caller(router)
    created = assignments.assign_resource(
        caller,
        assignments.AssignRequest(
            user_id=body.user_id,
            resource_type=body.resource_type,
            resource_id=body.resource_id,
            cost_center=body.cost_center,
            share_pct=body.share_pct,
            effective_from=body.effective_from,
        ),
        stores=context.stores(),
        catalog=context.resource_catalog(),
        user_source=context.user_source(),
    )
    return convert.assignment_out(created)


@router.get(
    "/user/<userId>/resources",
    summary="A user's assigned resources with their cost over the last 30 complete days",
    description="The assignments in force today, and those starting later (`scheduled`); "
    "ended ones are not listed. Each resource's cost is the user's share of it over the last "
    "30 complete days, ending yesterday (today's costs have not arrived yet).",
    responses=responses(200, ResourceListOut, 403),
    tags=["assignments"],
)
def list_resources(
    userId: Annotated[UserId, Path()],
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    nextToken: Annotated[str | None, Query(max_length=4096)] = None,
) -> ResourceListOut:
    caller = context.current_caller(router)
    secret = context.settings().page_token_secret
    scope = f"resources:{caller.user_id}:{userId}"
    page = assignments.list_user_resources(
        caller,
        userId,
        stores=context.stores(),
        limit=limit,
        start_key=decode_token(nextToken, secret=secret, scope=scope),
        metric=context.settings().budget_metric,
        today=context.today(),
    )
    return ResourceListOut(
        metric=context.settings().budget_metric,
        items=[convert.assigned_resource_out(r) for r in page.items],
        next_token=encode_token(page.next_key, secret=secret, scope=scope),
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
    assignments.unassign_resource(
        context.current_caller(router), assignmentId, stores=context.stores()
    )
    return Response(status_code=204)
