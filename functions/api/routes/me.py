"""Who am I, and what can I call."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from api import context
from api.problems import responses
from api.schemas import MeOut

router = Router()


@router.get("/me", summary="The signed-in caller", responses=responses(200, MeOut), tags=["me"])
def me() -> MeOut:
    caller = context.current_caller(router)
    # The dashboard calls /me first: this keeps the user directory in step with Cognito.
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
