"""A small organisation for the engine's and the authorizer's tests.

org
├── engineering (department)      grants: auditor@team:engineering to its members
│   └── payments                  alice, bob; managed by dave
└── data                          dave (member); managed by carol
"""

from __future__ import annotations

from tally.org.model import (
    AccessProfile,
    Grant,
    OrgSnapshot,
    RoleDef,
    Scope,
    ScopeKind,
    TeamKind,
    TeamNode,
)


def team_scope(team_id: str) -> Scope:
    return Scope(ScopeKind.TEAM, team_id)


def org_snapshot(
    *, version: int = 1, roles: dict[str, RoleDef] | None = None, **team_grants: tuple[Grant, ...]
) -> OrgSnapshot:
    teams = {
        "engineering": TeamNode("engineering", "Engineering", TeamKind.DEPARTMENT, None, None),
        "payments": TeamNode("payments", "Payments", TeamKind.TEAM, "engineering", "CC-1"),
        "data": TeamNode("data", "Data", TeamKind.TEAM, None, "CC-2"),
    }
    for team_id, grants in team_grants.items():
        node = teams[team_id]
        teams[team_id] = TeamNode(
            node.team_id, node.name, node.kind, node.parent_id, node.cost_center, grants
        )
    return OrgSnapshot(roles=roles or {}, teams=teams, admins=frozenset({"root"}), version=version)


# Where each person sits (their stored profile without grants).
PLACES = {
    "alice": AccessProfile("alice", grants=None, teams=frozenset({"payments"})),
    "bob": AccessProfile("bob", grants=None, teams=frozenset({"payments"})),
    "dave": AccessProfile(
        "dave", grants=None, teams=frozenset({"data"}), manages=frozenset({"payments"})
    ),
    "carol": AccessProfile("carol", grants=None, manages=frozenset({"data"})),
    "zed": AccessProfile("zed", grants=None),
}
