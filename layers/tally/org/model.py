"""The organisation's entities: teams, roles, grants (a role held at a scope) and each user's
access profile. Plain values; the access table (``tally.store.access``) stores them and the
policy engine (``tally.authz``) turns them into Cedar entities and policies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# Team and custom role ids: readable slugs, chosen by the admin who creates them (or made from
# the name). They appear in URLs and in Cedar entity ids, so the alphabet is small on purpose.
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")

# An owner id of a team, in the owner namespace of assignments, cost records, roll-ups and
# budgets (users are Cognito subs, which never hold a colon; ORG and UNALLOCATED are constants).
TEAM_OWNER_PREFIX = "team:"


def team_owner(team_id: str) -> str:
    return TEAM_OWNER_PREFIX + team_id


def team_of_owner(owner: str) -> str | None:
    """The team id an owner id names, or None for a user (or the organisation)."""
    return owner.removeprefix(TEAM_OWNER_PREFIX) if owner.startswith(TEAM_OWNER_PREFIX) else None


# The owner id of a cost center's budget (a cost center owns no resources and no roll-ups of
# its own: its figures are those of the teams that name it). Neither a user id (no colon) nor
# a team's ("team:" prefix) can take this form.
COST_CENTER_OWNER_PREFIX = "costcenter:"


def cost_center_owner(code: str) -> str:
    return COST_CENTER_OWNER_PREFIX + code


def cost_center_of_owner(owner: str) -> str | None:
    """The cost center code an owner id names, or None."""
    if owner.startswith(COST_CENTER_OWNER_PREFIX):
        return owner.removeprefix(COST_CENTER_OWNER_PREFIX)
    return None


class ScopeKind(StrEnum):
    ORG = "org"  # the whole organisation
    TEAM = "team"  # a team and every team under it, with their members
    SELF = "self"  # the holder's own data only


@dataclass(frozen=True, order=True)
class Scope:
    kind: ScopeKind
    team_id: str | None = None  # only for TEAM

    def __post_init__(self) -> None:
        if (self.kind is ScopeKind.TEAM) != (self.team_id is not None):
            raise ValueError("a team scope names its team, and only a team scope does")

    @property
    def key(self) -> str:
        """ "org", "self" or "team:<id>": the form the API and the store use."""
        return f"team:{self.team_id}" if self.kind is ScopeKind.TEAM else self.kind.value

    @classmethod
    def parse(cls, text: str) -> Scope:
        """The scope ``text`` names; ``ValueError`` if it names none."""
        if text in (ScopeKind.ORG.value, ScopeKind.SELF.value):
            return cls(ScopeKind(text))
        team = text.removeprefix("team:")
        if text.startswith("team:") and SLUG.fullmatch(team):
            return cls(ScopeKind.TEAM, team)
        raise ValueError(f"{text!r} is not a scope: org, self or team:<teamId>")


ORG_SCOPE = Scope(ScopeKind.ORG)
SELF_SCOPE = Scope(ScopeKind.SELF)


@dataclass(frozen=True, order=True)
class Grant:
    """A role held at a scope: by a user directly, or by every member of a team."""

    role_id: str
    scope: Scope

    @property
    def key(self) -> str:
        """ "<roleId>@<scope key>": the id of the Cedar principal group of everyone holding it."""
        return f"{self.role_id}@{self.scope.key}"


@dataclass(frozen=True)
class RoleDef:
    """A named set of permissions (``tally.authz.permissions``). Built-in roles come from
    ``policies/roles.json`` and cannot change; custom ones are stored and versioned."""

    role_id: str
    name: str
    description: str
    permissions: frozenset[str]
    builtin: bool = False
    version: int = 0
    updated_at: datetime | None = None


class TeamKind(StrEnum):
    DEPARTMENT = "department"
    TEAM = "team"


@dataclass(frozen=True)
class Team:
    team_id: str
    name: str
    kind: TeamKind = TeamKind.TEAM
    parent_id: str | None = None  # the department (or team) it belongs to
    cost_center: str | None = None
    members: frozenset[str] = frozenset()  # user ids
    managers: frozenset[str] = frozenset()  # user ids; hold team-manager on this team
    grants: tuple[Grant, ...] = ()  # roles every member holds (scoped as each grant says)
    source: str = "tally"  # "tally" (admin UI/API) or "cognito" (synced from a group)
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # The currency the team's figures are shown in (ISO 4217); None: the organisation's.
    display_currency: str | None = None


@dataclass(frozen=True)
class TeamNode:
    """A team as the organisation snapshot keeps it: enough to place it in the tree and to
    know the roles it gives, without its member lists."""

    team_id: str
    name: str
    kind: TeamKind
    parent_id: str | None
    cost_center: str | None
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True)
class AccessProfile:
    """Everything about one user that a decision needs, in one item (one read): the roles they
    hold directly, the teams they belong to and the teams they manage."""

    user_id: str
    # None: never set, so the defaults apply (admin at the organisation for a member of the
    # Cognito admins group, member of self for everyone else: today's access, before the
    # migration gives everyone explicit grants). () is "no roles at all".
    grants: tuple[Grant, ...] | None = None
    teams: frozenset[str] = frozenset()
    manages: frozenset[str] = frozenset()
    version: int = 0


@dataclass(frozen=True)
class OrgSnapshot:
    """The organisation's access facts in one item (one read, cached in a warm container):
    custom roles, the team tree with each team's grants, and who holds admin (for the
    last-admin rule). Changed in the same transaction as every role or team change."""

    roles: Mapping[str, RoleDef] = field(default_factory=dict)  # custom roles only
    teams: Mapping[str, TeamNode] = field(default_factory=dict)
    admins: frozenset[str] = frozenset()  # users holding admin at the organisation scope
    version: int = 0

    def ancestors(self, team_id: str) -> list[str]:
        """``team_id``'s parents, nearest first (a cycle, which the use cases refuse, stops)."""
        out: list[str] = []
        node = self.teams.get(team_id)
        while node is not None and node.parent_id and node.parent_id not in out:
            out.append(node.parent_id)
            node = self.teams.get(node.parent_id)
        return out

    def descendants(self, team_id: str) -> set[str]:
        """Every team under ``team_id`` (not itself)."""
        children: dict[str, list[str]] = {}
        for node in self.teams.values():
            if node.parent_id:
                children.setdefault(node.parent_id, []).append(node.team_id)
        out: set[str] = set()
        todo = list(children.get(team_id, ()))
        while todo:
            t = todo.pop()
            if t not in out:
                out.add(t)
                todo.extend(children.get(t, ()))
        return out
