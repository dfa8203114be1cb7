"""What the route table and the built-in roles say a caller may do, worked out in plain Python
from ``policies/roles.json`` and ``api.permissions.ROUTES``, without Cedar: the expectation
the authorization matrices (tests/api in process, tests/e2e through the local stack) hold the
policy engine's decisions to.

A caller holds one role at one scope. A permission at ``org`` reaches everything; at
``team:<t>`` the team, the teams under it and their members; at ``self`` the caller only.
Self-service permissions (``account:use``, ``assignments:release``) are everyone's on their
own data, and anyone reads the teams they belong to (``policies/base.cedar``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from api.permissions import On, Rule

ROLES_FILE = Path(__file__).resolve().parents[1] / "policies" / "roles.json"

Kind = Literal["org", "team", "user"]


@dataclass(frozen=True)
class Subject:
    """A decision's target as the oracle sees it (``tally.authz.Target`` without the import)."""

    kind: Kind
    id: str = "org"

    @classmethod
    def org(cls) -> Subject:
        return cls("org")

    @classmethod
    def user(cls, user_id: str) -> Subject:
        return cls("user", user_id)

    @classmethod
    def team(cls, team_id: str) -> Subject:
        return cls("team", team_id)


@dataclass(frozen=True)
class OrgWorld:
    """Teams (with their parent and members) the oracle places users in."""

    parents: Mapping[str, str | None] = field(default_factory=dict)
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def under(self, team_id: str) -> set[str]:
        """``team_id`` and every team below it."""
        out = {team_id}
        grew = True
        while grew:
            more = {t for t, p in self.parents.items() if p in out} - out
            out |= more
            grew = bool(more)
        return out

    def teams_of(self, user_id: str) -> set[str]:
        """The teams ``user_id`` is in, directly or through the teams above theirs."""
        direct = {t for t, people in self.members.items() if user_id in people}
        out = set(direct)
        for t in direct:
            parent = self.parents.get(t)
            while parent and parent not in out:
                out.add(parent)
                parent = self.parents.get(parent)
        return out


@lru_cache(maxsize=1)
def catalog() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ROLES_FILE.read_text())
    return data


def role_permissions(role_id: str) -> frozenset[str]:
    return frozenset(catalog()["roles"][role_id]["permissions"])


def known_actions() -> frozenset[str]:
    data = catalog()
    return frozenset({*data["permissions"], *data["selfService"]})


def self_service() -> frozenset[str]:
    return frozenset(catalog()["selfService"])


def holds(
    role_id: str, scope: str, action: str, target: Subject, *, caller: str, world: OrgWorld
) -> bool:
    """Whether someone holding ``role_id`` at ``scope`` may do ``action`` on ``target``."""
    if target == Subject.user(caller) and action in self_service():
        return True
    if action == "teams:read" and target.kind == "team" and target.id in world.teams_of(caller):
        return True
    if action not in role_permissions(role_id):
        return False
    if scope == "org":
        return True
    if scope == "self":
        return target == Subject.user(caller)
    team = scope.removeprefix("team:")
    reach = world.under(team)
    if target.kind == "team":
        return target.id in reach
    if target.kind == "user":
        return bool(world.teams_of(target.id) & reach)
    return False


def expected(
    role_id: str,
    scope: str,
    rule: Rule,
    target: Subject | None,
    *,
    caller: str,
    world: OrgWorld,
) -> bool:
    """Whether a route with ``rule`` lets the caller through. ``target``: the path's user or
    team, the request's subject (BODY_SUBJECT; None: the caller) or the entity's owner
    (ENTITY); ignored for ORG, SELF and PUBLIC rules."""
    if rule.on is On.PUBLIC:
        return True
    me = Subject.user(caller)
    subject = {On.ORG: Subject.org(), On.SELF: me}.get(rule.on) or target or me
    decided_on = Subject.org() if rule.org_wide else subject
    if all(
        holds(role_id, scope, action, decided_on, caller=caller, world=world)
        for action in (rule.action, *rule.also)
    ):
        return True
    if any(
        holds(role_id, scope, action, decided_on, caller=caller, world=world)
        for action in rule.instead
    ):
        return True
    return (
        rule.or_self is not None
        and subject == me
        and holds(role_id, scope, rule.or_self, me, caller=caller, world=world)
    )
