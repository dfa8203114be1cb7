"""Roles: the built-in ones and the organisation's custom roles (roles:read to read,
roles:write to create, change and delete a custom role)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel

from api import context
from api.lazy import lazy_module
from api.problems import responses
from api.schemas import PermissionOut, RoleId, RoleIn, RoleListOut, RoleOut, RoleUpdateIn
from tally.errors import Invalid

if TYPE_CHECKING:
    from tally.org import roles
    from tally.org.model import RoleDef
else:
    roles = lazy_module("tally.org.roles")

router = Router()


def if_match(app: BaseRouter) -> int | None:
    """The version an If-Match header names (the ETag a read returned); None without one."""
    headers = app.current_event.headers or {}
    raw = next((v for k, v in headers.items() if k.lower() == "if-match"), None)
    if raw is None or raw.strip() == "*":
        return None
    try:
        return int(raw.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise Invalid.field("If-Match", "If-Match must be the ETag a read returned") from None


def with_etag(model: BaseModel, version: int, status: int = 200) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=model.model_dump_json(by_alias=True),
        headers={"ETag": f'"{version}"'},
    )


def access_changed() -> None:
    """This container decides on the change from its next request; others within the cache
    time (TALLY_ACCESS_CACHE_SECONDS)."""
    forget = getattr(context.access_source(), "forget", None)
    if forget is not None:  # a cache (CachedAccessSource), not the store itself
        forget()


def role_out(r: RoleDef) -> RoleOut:
    return RoleOut(
        role_id=r.role_id,
        name=r.name,
        description=r.description,
        permissions=sorted(r.permissions),
        builtin=r.builtin,
        version=r.version,
    )


@router.get(
    "/roles",
    summary="Every role and the permissions roles are made of (roles:read)",
    responses=responses(200, RoleListOut, 403),
    tags=["roles"],
)
def list_roles() -> RoleListOut:
    from tally.authz.permissions import PERMISSIONS

    found = roles.list_roles(context.view(router))
    return RoleListOut(
        items=[role_out(r) for r in found],
        permissions=[
            PermissionOut(id=name, description=info.description, read_only=info.read_only)
            for name, info in PERMISSIONS.items()
        ],
    )


@router.post(
    "/roles",
    status_code=201,
    summary="Create a custom role (roles:write)",
    description="From grantable permissions you hold yourself at the organisation (403 "
    "otherwise). `roleId` is made from the name when not given; a taken id is 409.",
    responses=responses(201, RoleOut, 403, 409),
    tags=["roles"],
)
def create_role(body: Annotated[RoleIn, Body()]) -> Response[str]:
    made = roles.create_role(
        context.view(router),
        roles.RoleInput(
            name=body.name,
            description=body.description,
            permissions=frozenset(body.permissions),
            role_id=body.role_id,
        ),
    )
    access_changed()
    return with_etag(role_out(made), made.version, 201)


@router.get(
    "/roles/<roleId>",
    summary="A role (roles:read)",
    responses=responses(200, RoleOut, 403, 404),
    tags=["roles"],
)
def get_role(roleId: Annotated[RoleId, Path()]) -> Response[str]:
    found = roles.get_role(context.view(router), roleId)
    return with_etag(role_out(found), found.version)


@router.put(
    "/roles/<roleId>",
    summary="Change a custom role (roles:write)",
    description="Replaces its name, description and permissions; everyone holding it has the "
    "new permissions from their next request after the cache time. Built-in roles: 409. "
    "If-Match with the ETag of your read refuses to overwrite a newer change (409).",
    responses=responses(200, RoleOut, 403, 404, 409),
    tags=["roles"],
)
def update_role(
    roleId: Annotated[RoleId, Path()], body: Annotated[RoleUpdateIn, Body()]
) -> Response[str]:
    changed = roles.update_role(
        context.view(router),
        roleId,
        roles.RoleInput(
            name=body.name, description=body.description, permissions=frozenset(body.permissions)
        ),
        expected_version=if_match(router),
    )
    access_changed()
    return with_etag(role_out(changed), changed.version)


@router.delete(
    "/roles/<roleId>",
    status_code=204,
    summary="Delete a custom role (roles:write)",
    description="Its grants stay where they are and give nothing (access views show a deleted "
    "role). Built-in roles: 409.",
    responses=responses(204, None, 403, 404, 409),
    tags=["roles"],
)
def delete_role(roleId: Annotated[RoleId, Path()]) -> Response[None]:
    roles.delete_role(context.view(router), roleId, expected_version=if_match(router))
    access_changed()
    return Response(status_code=204)
