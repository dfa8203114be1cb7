"""Teams and departments, with their members, managers and roles (teams:read to read, which
a member has on their own teams; teams:write to change)."""

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
    GrantOut,
    TeamDisplayCurrencyIn,
    TeamId,
    TeamIn,
    TeamListOut,
    TeamOut,
    TeamUpdateIn,
)

if TYPE_CHECKING:
    from tally.org import teams
    from tally.org.model import Team
else:
    teams = lazy_module("tally.org.teams")

router = Router()


def team_out(t: Team) -> TeamOut:
    return TeamOut(
        team_id=t.team_id,
        name=t.name,
        kind=t.kind.value,
        parent_id=t.parent_id,
        cost_center=t.cost_center,
        members=sorted(t.members),
        managers=sorted(t.managers),
        roles=[GrantOut(role_id=g.role_id, scope=g.scope.key) for g in t.grants],
        source=t.source,
        version=t.version,
        display_currency=t.display_currency,
    )


def _input(body: TeamIn | TeamUpdateIn, team_id: str | None = None) -> teams.TeamInput:
    from tally.org.model import TeamKind

    return teams.TeamInput(
        name=body.name,
        kind=TeamKind(body.kind),
        parent_id=body.parent_id,
        cost_center=body.cost_center,
        members=frozenset(body.members),
        managers=frozenset(body.managers),
        roles=tuple((g.role_id, g.scope) for g in body.roles),
        team_id=team_id,
    )


@router.get(
    "/teams",
    summary="The teams the caller may read",
    description="Every team, in name order, with teams:read at the organisation; else the "
    "caller's own teams (and the departments above them), those they manage or hold a team "
    "role on, and the teams under those.",
    responses=responses(200, TeamListOut),
    tags=["teams"],
)
def list_teams() -> TeamListOut:
    return TeamListOut(items=[team_out(t) for t in teams.list_teams(context.view(router))])


@router.post(
    "/teams",
    status_code=201,
    summary="Create a team or department (teams:write)",
    description="`teamId` is made from the name when not given (a taken id is 409). Members "
    "and managers must be users; the parent must exist. At most 90 people join in one "
    "change. Roles given to a team (never admin) are held by its members and the members of "
    "the teams under it; you can only give permissions you hold (403).",
    responses=responses(201, TeamOut, 403, 409),
    tags=["teams"],
)
def create_team(body: Annotated[TeamIn, Body()]) -> Response[str]:
    made = teams.create_team(
        context.view(router), _input(body, body.team_id), user_source=context.user_source()
    )
    access_changed()
    return with_etag(team_out(made), made.version, 201)


@router.get(
    "/teams/<teamId>",
    summary="A team (teams:read on it)",
    responses=responses(200, TeamOut, 403, 404),
    tags=["teams"],
)
def get_team(teamId: Annotated[TeamId, Path()]) -> Response[str]:
    found = teams.get_team(context.view(router), teamId)
    return with_etag(team_out(found), found.version)


@router.put(
    "/teams/<teamId>",
    summary="Change a team (teams:write on it)",
    description="Replaces every field but its id, source and display currency (PATCH sets "
    "that). A parent under the team itself "
    "is 422 (parentId). If-Match with the ETag of your read refuses to overwrite a newer "
    "change (409).",
    responses=responses(200, TeamOut, 403, 404, 409),
    tags=["teams"],
)
def update_team(
    teamId: Annotated[TeamId, Path()], body: Annotated[TeamUpdateIn, Body()]
) -> Response[str]:
    changed = teams.update_team(
        context.view(router),
        teamId,
        _input(body),
        expected_version=if_match(router),
        user_source=context.user_source(),
    )
    access_changed()
    return with_etag(team_out(changed), changed.version)


@router.patch(
    "/teams/<teamId>",
    summary="Set or clear a team's display currency",
    description="`displayCurrency`: the ISO 4217 code the team's screens show its figures in "
    "(converted day by day beside the billed ones; nothing stored changes), or null for the "
    "organisation's display currency. For whoever may write the team (teams:write), set its "
    "budget (budgets:write on it: its managers) or set the organisation's display currency "
    "(billing:settings: finance); admins. A code that is not three capitals of ISO 4217 is "
    "422 on displayCurrency. If-Match with the ETag of your read refuses to overwrite a newer "
    "change (409). Audited as a team change.",
    responses=responses(200, TeamOut, 403, 404, 409),
    tags=["teams"],
)
def set_team_display_currency(
    teamId: Annotated[TeamId, Path()], body: Annotated[TeamDisplayCurrencyIn, Body()]
) -> Response[str]:
    changed = teams.set_display_currency(
        context.view(router),
        teamId,
        body.display_currency,
        expected_version=if_match(router),
    )
    return with_etag(team_out(changed), changed.version)


@router.delete(
    "/teams/<teamId>",
    status_code=204,
    summary="Delete a team (teams:write on it)",
    description="A team with teams under it is 409: move or delete them first.",
    responses=responses(204, None, 403, 404, 409),
    tags=["teams"],
)
def delete_team(teamId: Annotated[TeamId, Path()]) -> Response[None]:
    teams.delete_team(context.view(router), teamId, expected_version=if_match(router))
    access_changed()
    return Response(status_code=204)
