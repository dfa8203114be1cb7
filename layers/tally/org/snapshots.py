"""The organisation snapshot after a change: what the access store writes with every team,
role or grant change, and what the use cases check that change against (the team tree without
cycles, the admins left). Pure functions of the snapshot read; the version is the store's."""

from __future__ import annotations

from dataclasses import replace

from tally.org.model import ORG_SCOPE, Grant, OrgSnapshot, RoleDef, Team, TeamNode

ADMIN_ROLE = "admin"  # the built-in role the last-admin rule guards
ADMIN_AT_ORG = Grant(ADMIN_ROLE, ORG_SCOPE)


def team_node(team: Team) -> TeamNode:
    return TeamNode(
        team_id=team.team_id,
        name=team.name,
        kind=team.kind,
        parent_id=team.parent_id,
        cost_center=team.cost_center,
        grants=team.grants,
    )


def with_team(snapshot: OrgSnapshot, team: Team) -> OrgSnapshot:
    return replace(snapshot, teams={**snapshot.teams, team.team_id: team_node(team)})


def without_team(snapshot: OrgSnapshot, team_id: str) -> OrgSnapshot:
    return replace(snapshot, teams={k: v for k, v in snapshot.teams.items() if k != team_id})


def with_role(snapshot: OrgSnapshot, role: RoleDef) -> OrgSnapshot:
    return replace(snapshot, roles={**snapshot.roles, role.role_id: role})


def without_role(snapshot: OrgSnapshot, role_id: str) -> OrgSnapshot:
    return replace(snapshot, roles={k: v for k, v in snapshot.roles.items() if k != role_id})


def with_grants(snapshot: OrgSnapshot, user_id: str, grants: tuple[Grant, ...]) -> OrgSnapshot:
    """``user_id`` holding exactly ``grants``: in ``admins`` exactly when admin@org is one."""
    admins = snapshot.admins - {user_id}
    if ADMIN_AT_ORG in grants:
        admins |= {user_id}
    return replace(snapshot, admins=admins)
