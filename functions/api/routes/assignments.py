"""Resource assignments: assign, list (with costs), unassign."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel

from api import context, convert
from api.lazy import lazy_module
from api.problems import responses
from api.schemas import AssignmentOut, AssignResourceIn, ClaimOut, ResourceListOut, UserId
from tally.access import require_user_access
from tally.errors import FieldError, Invalid
from tally.identity import Caller
from tally.paging import decode_token, encode_token

if TYPE_CHECKING:
    from tally import assignments
else:  # loaded when one of these routes first runs, not on every cold start
    assignments = lazy_module("tally.assignments")

router = Router()


@router.post(
    "/assign-resource",
    status_code=201,
    summary="Assign an AWS resource (or a share of it) to a user; a user's own becomes a claim",
    description="Admins assign to anyone (201 with the assignment). A user asking for "
    "themselves makes a claim instead (see POST /api/billing/claims): 202 with the pending "
    "claim, or 201 with the assignment when the claim was accepted at once (a resource nobody "
    "owns, where the deployment accepts those); costCenter and effectiveFrom are for admins "
    "only (422). The resource must exist in the account (EC2 instance, S3 bucket, RDS "
    "instance, Lambda function); other types are accepted by ARN, and ARNs of AWS accounts "
    "outside the organisation are refused (422). The assignment is in force from "
    "effectiveFrom (default today; up to 400 days back, 366 ahead): each day's costs go to the "
    "assignments in force that day. A resource's shares add up to at most 100% on every day, "
    "and a new assignment may not start before the day an earlier assignment of the resource "
    "ended (409).",
    responses={**responses(201, AssignmentOut, 403, 409), **responses(202, ClaimOut)},
    tags=["assignments"],
)
def assign_resource(body: Annotated[AssignResourceIn, Body()]) -> Response[Any]:
    caller = context.current_caller(router)
    if not caller.is_admin:
        require_user_access(caller, body.user_id)
        return _claim_instead(caller, body)
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
        org_accounts=context.org_accounts(router),
    )
    return _json(201, convert.assignment_out(created))


def _claim_instead(caller: Caller, body: AssignResourceIn) -> Response[Any]:
    """A user's own assignment is a claim: nobody takes a colleague's resource unasked."""
    from tally import claims

    admin_only = [
        FieldError(name, "only admins set this; a claim takes effect on the day it is approved")
        for name, value in (
            ("costCenter", body.cost_center),
            ("effectiveFrom", body.effective_from),
        )
        if value is not None
    ]
    if admin_only:
        raise Invalid("; ".join(f"{e.field}: {e.message}" for e in admin_only), errors=admin_only)
    claim = claims.create_claim(
        caller,
        claims.ClaimRequest(body.resource_type, body.resource_id, body.share_pct),
        stores=context.stores(),
        catalog=context.resource_catalog(),
        policy=context.claim_policy(router),
        notifier=context.claim_notifier(),
    )
    if claim.assignment_id is None:
        return _json(202, convert.claim_out(claim))
    created = context.stores().assignments.get(claim.assignment_id)
    assert created is not None  # written before the claim that names it
    return _json(201, convert.assignment_out(created))


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
