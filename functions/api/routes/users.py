"""A person's roles (roles:read, roles:assign on them) and effective access (their own, or
roles:read on them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from api import context
from api.lazy import lazy_module
from api.problems import responses
from api.routes.roles import access_changed, if_match, with_etag
from api.schemas import (
    AccessOut,
    AccessPermissionOut,
    AccessRoleOut,
    GrantOut,
    HeldRoleOut,
    UserId,
    UserRolesIn,
    UserRolesOut,
)

if TYPE_CHECKING:
    from tally.authz import GrantSource
    from tally.org import access, grants
else:
    access = lazy_module("tally.org.access")
    grants = lazy_module("tally.org.grants")

router = Router()


def _roles_out(r: grants.UserRoles) -> UserRolesOut:
    return UserRolesOut(
        user_id=r.user_id,
        roles=[GrantOut(role_id=g.role_id, scope=g.scope.key) for g in r.grants],
        explicit=r.explicit,
        version=r.version,
    )


def _held(s: GrantSource) -> HeldRoleOut:
    return HeldRoleOut(
        role_id=s.grant.role_id, scope=s.grant.scope.key, via=s.via, team_id=s.team_id
    )


@router.get(
    "/users/<userId>/roles",
    summary="A person's own roles (roles:read on them)",
    description="`explicit` false: never set, these are the defaults.",
    responses=responses(200, UserRolesOut, 403, 404),
    tags=["roles"],
)
def get_user_roles(userId: Annotated[UserId, Path()]) -> Response[str]:
    found = grants.get_user_roles(context.view(router), userId, user_source=context.user_source())
    return with_etag(_roles_out(found), found.version)


@router.put(
    "/users/<userId>/roles",
    summary="Replace a person's roles (roles:assign on them)",
    description="Each role at a scope: org, self or team:<teamId>; admin only at org. You can "
    "only give permissions you hold at that scope, and the organisation always keeps an admin "
    "(403 otherwise). If-Match with the ETag of your read refuses to overwrite a newer change "
    "(409). In force from the person's next request after the cache time.",
    responses=responses(200, UserRolesOut, 403, 404, 409),
    tags=["roles"],
)
def set_user_roles(
    userId: Annotated[UserId, Path()], body: Annotated[UserRolesIn, Body()]
) -> Response[str]:
    saved = grants.set_user_roles(
        context.view(router),
        userId,
        [(g.role_id, g.scope) for g in body.roles],
        expected_version=if_match(router),
        user_source=context.user_source(),
    )
    access_changed()
    return with_etag(_roles_out(saved), saved.version)


@router.get(
    "/users/<userId>/access",
    summary="A person's effective access (their own; anyone's with roles:read on them)",
    description="Every role they hold and how (direct, default, through a team, managing a "
    "team), and every permission at each scope with the roles whose policies allow it.",
    responses=responses(200, AccessOut, 403, 404),
    tags=["roles"],
)
def effective_access(userId: Annotated[UserId, Path()]) -> AccessOut:
    found = access.effective_access(context.view(router), userId, user_source=context.user_source())
    return AccessOut(
        user_id=found.user_id,
        roles=[
            AccessRoleOut(**_held(s).model_dump(), deleted=s.grant.role_id in found.deleted)
            for s in found.roles
        ],
        permissions=[
            AccessPermissionOut(
                permission=line.permission,
                scope=line.scope.key,
                granted_by=[_held(s) for s in line.sources],
            )
            for line in found.permissions
        ],
    )
