"""Who am I, and what can I call."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from api import context
from api.problems import responses
from api.schemas import LimitsOut, MeOut, PermissionsOut, ResourceTypeOut

router = Router()


@router.get("/me", summary="The signed-in caller", responses=responses(200, MeOut), tags=["me"])
def me() -> MeOut:
    caller = context.current_caller(router)
    # The dashboard calls /me first: this keeps the user directory in step with Cognito.
    from tally.access import permissions_of
    from tally.reports import MAX_LINES_RANGE_DAYS, MAX_RANGE_DAYS
    from tally.resource_types import RESOURCE_TYPES
    from tally.users import remember_caller

    profile = remember_caller(caller, context.stores().users)
    return MeOut(
        user_id=caller.user_id,
        username=caller.username,
        email=profile.email,
        role=caller.role.value,
        groups=sorted(caller.groups),
        today=context.today().isoformat(),
        budget_metric=context.settings().budget_metric,
        mfa_setup_required=caller.admin_needs_mfa,
        permissions=PermissionsOut.model_validate(asdict(permissions_of(caller))),
        limits=LimitsOut(cost_lines_max_days=MAX_LINES_RANGE_DAYS, costs_max_days=MAX_RANGE_DAYS),
        resource_types=[
            ResourceTypeOut(key=t.key, name=t.display_name, service_names=list(t.service_names))
            for t in RESOURCE_TYPES
        ],
    )


@router.get(
    "/openapi.json",
    summary="This API's OpenAPI 3 document",
    responses=responses(200, None),
    tags=["me"],
)
def openapi() -> dict[str, Any]:
    context.current_caller(router)
    from api.openapi import document

    return document()
