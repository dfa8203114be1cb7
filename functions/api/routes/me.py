"""Who am I, and what can I call."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from api import context, payment_channels
from api.problems import responses
from api.schemas import (
    GrantedPermissionOut,
    HeldRoleOut,
    LimitsOut,
    MeOut,
    PermissionsOut,
    ResourceTypeOut,
)

if TYPE_CHECKING:
    from tally.identity import Caller

router = Router()


@router.get("/me", summary="The signed-in caller", responses=responses(200, MeOut), tags=["me"])
def me() -> MeOut:
    caller = context.current_caller(router)
    # The dashboard calls /me first: this keeps the user directory in step with Cognito.
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
        permissions=_permissions(caller),
        limits=LimitsOut(cost_lines_max_days=MAX_LINES_RANGE_DAYS, costs_max_days=MAX_RANGE_DAYS),
        resource_types=[
            ResourceTypeOut(key=t.key, name=t.display_name, service_names=list(t.service_names))
            for t in RESOURCE_TYPES
        ],
        payment_provider=payment_channels.provider_name(),  # type: ignore[arg-type]
    )


def _permissions(caller: Caller) -> PermissionsOut:
    """What the caller may do, from the same decisions the API makes on each request."""
    from tally.access import authorizer_of, permissions_of
    from tally.authz.permissions import SELF_SERVICE

    lines = authorizer_of(caller).effective_access()
    granted = {(line.permission, line.scope.key) for line in lines}
    granted |= {(permission, "self") for permission in SELF_SERVICE}
    sources = {source for line in lines for source in line.sources}
    return PermissionsOut(
        **asdict(permissions_of(caller)),
        granted=[GrantedPermissionOut(permission=p, scope=s) for p, s in sorted(granted)],
        roles=[
            HeldRoleOut(
                role_id=source.grant.role_id,
                scope=source.grant.scope.key,
                via=source.via,
                team_id=source.team_id,
            )
            for source in sorted(sources, key=lambda g: (g.grant.key, g.via, g.team_id or ""))
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
