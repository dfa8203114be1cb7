"""The policy engine: Cedar (cedarpy) decides, with the organisation's entities and the
templates of its roles.

Parsed once per process: the base policies and the built-in roles' templates. Once per
organisation snapshot (``PolicyEngine.for_snapshot``, keyed by the snapshot's version): each
team's entity (a member of its parent, or of the organisation, and of the Role groups of its
grants). Per decision: the entities the request touches (the principal, the target, their
teams and the teams above them: a dozen, not the whole tree) and the policy set of the
caller's grants: the base, the templates of the custom roles they hold and one link per
grant. That set is kept per distinct set of grants (most people share theirs), so it is made
once per warm container, and a custom role nobody in this container holds is never parsed.

Why not one parsed ``Entities`` of the whole tree per snapshot plus a per-request delta
(``with_added_json_str``)? Adding a delta clones the base: with 1,000 teams that clone costs
about 0.8 ms (median; 1.9 ms mean) a request, where parsing the dozen entities a request
needs costs 0.05 ms. ``make bench`` (section authz) prints both.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from threading import Lock
from typing import Any

from tally.authz.cedar import cedarpy
from tally.authz.decision import AccessLine, Decision, GrantSource, Via
from tally.authz.permissions import (
    ACTIONS,
    ADMIN,
    BUILTIN_ROLES,
    MEMBER,
    PERMISSIONS,
    SELF_SERVICE,
    TEAM_MANAGER,
)
from tally.authz.policies import ORG_UID, base_text, link_of, templates_of, uid
from tally.authz.target import Target
from tally.org.model import (
    ORG_SCOPE,
    SELF_SCOPE,
    AccessProfile,
    Grant,
    OrgSnapshot,
    Scope,
    ScopeKind,
)

DEFAULT_ADMIN = Grant(ADMIN, ORG_SCOPE)
DEFAULT_MEMBER = Grant(MEMBER, SELF_SCOPE)

# Distinct grant sets whose linked policy sets one engine keeps.
LINKED_SETS = 256
# Engines (one per snapshot version) a process keeps: the current one and a few just before.
ENGINES = 4


@lru_cache(maxsize=1)
def _base_policies() -> cedarpy.PolicySet:
    return cedarpy.PolicySet.from_str(base_text() + templates_of(BUILTIN_ROLES.values()))


def default_grant(*, token_admin: bool) -> Grant:
    """The grant of someone whose grants were never set: today's access."""
    return DEFAULT_ADMIN if token_admin else DEFAULT_MEMBER


def holds_admin(grant: Grant) -> bool:
    return grant.role_id == ADMIN and grant.scope == ORG_SCOPE


class PolicyEngine:
    """Decisions for one organisation snapshot. Immutable; shared by every request."""

    def __init__(self, snapshot: OrgSnapshot) -> None:
        self.snapshot = snapshot
        self.roles = {**snapshot.roles, **BUILTIN_ROLES}
        self._teams = {e["uid"]["id"]: e for e in _org_entities(snapshot)[1:]}
        self._above: dict[str, tuple[str, ...]] = {}
        self._linked: OrderedDict[frozenset[str], cedarpy.PolicySet] = OrderedDict()
        self._lock = Lock()

    # --- construction --------------------------------------------------------------------

    @classmethod
    def for_snapshot(cls, snapshot: OrgSnapshot) -> PolicyEngine:
        """The engine of ``snapshot``, built once per snapshot version and process. A cached
        engine is reused for an equal snapshot only (the same version read twice), so a test
        or a store that reuses a version number with other content gets its own engine."""
        with _engines_lock:
            kept = _engines.get(snapshot.version)
            if kept is not None and (kept.snapshot is snapshot or kept.snapshot == snapshot):
                _engines.move_to_end(snapshot.version)
                return kept
        engine = cls(snapshot)
        with _engines_lock:
            _engines[snapshot.version] = engine
            _engines.move_to_end(snapshot.version)
            while len(_engines) > ENGINES:
                _engines.popitem(last=False)
        return engine

    # --- who holds what ------------------------------------------------------------------

    def sources(
        self, profile: AccessProfile, *, token_admin: bool = False
    ) -> dict[str, tuple[GrantSource, ...]]:
        """Every grant ``profile`` holds, by grant key, with why. Grants of a deleted role
        and admin anywhere but held by a person at the organisation scope are left out:
        they grant nothing."""
        found: dict[str, list[GrantSource]] = {}

        def add(grant: Grant, via: Via, team_id: str | None = None) -> None:
            if grant.role_id not in self.roles:
                return
            if grant.role_id == ADMIN and not (holds_admin(grant) and via in ("direct", "default")):
                return
            found.setdefault(grant.key, []).append(GrantSource(grant, via, team_id))

        if profile.grants is None:
            add(default_grant(token_admin=token_admin), "default")
        else:
            for grant in profile.grants:
                add(grant, "direct")
        for team_id in sorted(profile.manages):
            add(Grant(TEAM_MANAGER, Scope(ScopeKind.TEAM, team_id)), "manager", team_id)
        for team_id in sorted(profile.teams):
            for holder in (team_id, *self.snapshot.ancestors(team_id)):
                node = self.snapshot.teams.get(holder)
                for grant in node.grants if node is not None else ():
                    add(grant, "team", holder)
        return {key: tuple(dict.fromkeys(found_)) for key, found_ in found.items()}

    # --- decisions -----------------------------------------------------------------------

    def decide(
        self,
        principal: AccessProfile,
        action: str,
        target: Target,
        *,
        target_profile: AccessProfile | None = None,
        context: Mapping[str, Any] | None = None,
        token_admin: bool = False,
    ) -> Decision:
        """May ``principal`` do ``action`` on ``target``? ``target_profile`` places a target
        user in their teams (without it they sit directly under the organisation)."""
        if action not in ACTIONS:
            raise ValueError(f"{action!r} is not a permission of policies/roles.json")
        sources = self.sources(principal, token_admin=token_admin)
        policies = self._policies_for(sources)
        entities = self._with_people(principal, sources, target, target_profile)
        result = cedarpy.is_authorized(
            _request(principal.user_id, action, target, context), policies, entities
        )
        return self._decision(result, sources)

    def effective_access(
        self, profile: AccessProfile, *, token_admin: bool = False
    ) -> list[AccessLine]:
        """What ``profile`` may do, permission by permission and scope by scope, with the
        grants that give it: from Cedar's reasons for the organisation, each team a grant
        names and the user's own data. A line is listed at the scope of the grants that give
        it (admin at the organisation is one line per permission, not one per team)."""
        sources = self.sources(profile, token_admin=token_admin)
        scopes = [ORG_SCOPE, *_team_scopes(sources), SELF_SCOPE]
        results = self._batch(profile, sources, [(a, s) for s in scopes for a in ACTIONS])
        lines: list[AccessLine] = []
        for (action, scope), result in results:
            if not result.allowed:
                continue
            given = tuple(
                source
                for key in _grant_reasons(result, sources)
                for source in sources[key]
                if source.grant.scope == scope
            )
            if given or (action in SELF_SERVICE and scope == SELF_SCOPE):
                lines.append(AccessLine(action, scope, given))
        return lines

    def held_permissions(
        self, profile: AccessProfile, scope: Scope, *, token_admin: bool = False
    ) -> frozenset[str]:
        """The grantable permissions ``profile``'s grants give at ``scope`` (for the
        escalation forbid: no one grants what they do not hold there). What everyone may do
        (self-service, reading one's own teams) is not held through a grant, so it is not
        counted."""
        sources = self.sources(profile, token_admin=token_admin)
        results = self._batch(profile, sources, [(p, scope) for p in PERMISSIONS])
        return frozenset(
            action for (action, _), result in results if _grant_reasons(result, sources)
        )

    # --- inside --------------------------------------------------------------------------

    def _batch(
        self,
        profile: AccessProfile,
        sources: Mapping[str, tuple[GrantSource, ...]],
        asks: list[tuple[str, Scope]],
    ) -> list[tuple[tuple[str, Scope], cedarpy.AuthzResult]]:
        policies = self._policies_for(sources)
        me = Target.user(profile.user_id)
        targets = {scope: _scope_target(scope, me) for _, scope in asks}
        teams = [t for t in targets.values() if t.kind == "team"]
        entities = self._with_people(profile, sources, me, None, teams)
        requests = [
            _request(profile.user_id, action, targets[scope], None) for action, scope in asks
        ]
        return list(
            zip(asks, cedarpy.is_authorized_batch(requests, policies, entities), strict=True)
        )

    def _decision(
        self, result: cedarpy.AuthzResult, sources: Mapping[str, tuple[GrantSource, ...]]
    ) -> Decision:
        if result.allowed:
            given = tuple(s for key in _grant_reasons(result, sources) for s in sources[key])
            return Decision(True, given)
        named = result.diagnostics.id_annotations_by_reason
        forbids = tuple(named.get(reason) or reason for reason in result.diagnostics.reasons)
        return Decision(False, (), forbids)

    def _policies_for(self, sources: Mapping[str, tuple[GrantSource, ...]]) -> cedarpy.PolicySet:
        keys = frozenset(sources)
        with self._lock:
            kept = self._linked.get(keys)
            if kept is not None:
                self._linked.move_to_end(keys)
                return kept
        grants = [sources[key][0].grant for key in sorted(keys)]
        custom = {
            g.role_id: self.roles[g.role_id] for g in grants if g.role_id not in BUILTIN_ROLES
        }
        text = templates_of(custom.values())
        policies = _base_policies().with_added_str(text) if text else _base_policies()
        links = [link for g in grants if (link := link_of(g, self.roles[g.role_id])) is not None]
        linked = policies.with_linked_batch(links) if links else policies
        with self._lock:
            self._linked[keys] = linked
            while len(self._linked) > LINKED_SETS:
                self._linked.popitem(last=False)
        return linked

    def _with_people(
        self,
        principal: AccessProfile,
        sources: Mapping[str, tuple[GrantSource, ...]],
        target: Target,
        target_profile: AccessProfile | None,
        extra_teams: Iterable[Target] = (),
    ) -> cedarpy.Entities:
        own_roles = [
            key
            for key, given in sources.items()
            if any(s.via in ("direct", "default", "manager") for s in given)
        ]
        people = [_user(principal.user_id, own_roles, principal.teams)]
        teams = set(principal.teams)
        if target.kind == "user" and target.id != principal.user_id:
            target_teams = target_profile.teams if target_profile is not None else frozenset()
            people.append(_user(target.id, (), target_teams))
            teams |= target_teams
        teams |= {t.id for t in extra_teams}
        if target.kind == "team":
            teams.add(target.id)
        return cedarpy.Entities.from_json_str(
            json.dumps([ORG_ENTITY, *self._team_entities(teams), *people])
        )

    def _team_entities(self, teams: Iterable[str]) -> list[dict[str, Any]]:
        """The entities of ``teams`` and of every team above them (what ``in`` walks)."""
        wanted: dict[str, None] = {}
        for team_id in sorted(teams):
            above = self._above.get(team_id)
            if above is None:
                above = self._above[team_id] = (team_id, *self.snapshot.ancestors(team_id))
            wanted.update(dict.fromkeys(above))
        # A team the snapshot does not know (deleted, or a bad id in a path) sits directly
        # under the organisation: organisation-wide roles decide it (and the route answers
        # 404), no team-scoped grant reaches it.
        return [self._teams.get(t) or _team(t, ORG_UID, ()) for t in wanted]


_engines: OrderedDict[int, PolicyEngine] = OrderedDict()
_engines_lock = Lock()


ORG_ENTITY: dict[str, Any] = {"uid": ORG_UID, "attrs": {}, "parents": []}


def _org_entities(snapshot: OrgSnapshot) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = [ORG_ENTITY]
    for node in snapshot.teams.values():
        parent = uid("Team", node.parent_id) if node.parent_id else ORG_UID
        # Admin is held by people at the organisation scope only.
        roles = [grant.key for grant in node.grants if grant.role_id != ADMIN]
        entities.append(_team(node.team_id, parent, roles))
    return entities


def _team(team_id: str, parent: dict[str, str], role_keys: Iterable[str]) -> dict[str, Any]:
    parents = [parent, *(uid("Role", key) for key in role_keys)]
    return {"uid": uid("Team", team_id), "attrs": {}, "parents": parents}


def _user(user_id: str, role_keys: Iterable[str], teams: Collection[str]) -> dict[str, Any]:
    parents = [
        *(uid("Role", key) for key in role_keys),
        *(uid("Team", team) for team in sorted(teams)),
        ORG_UID,
    ]
    return {"uid": uid("User", user_id), "attrs": {}, "parents": parents}


def _resource(target: Target) -> dict[str, str]:
    if target.kind == "org":
        return ORG_UID
    return uid("Team" if target.kind == "team" else "User", target.id)


def _request(
    user_id: str, action: str, target: Target, context: Mapping[str, Any] | None
) -> dict[str, Any]:
    return {
        "principal": uid("User", user_id),
        "action": uid("Action", action),
        "resource": _resource(target),
        "context": _context(context),
    }


def _context(context: Mapping[str, Any] | None) -> dict[str, Any]:
    # Cedar has no set type in JSON: a list is a set. Sorted, so the request text is stable.
    return {
        name: sorted(value) if isinstance(value, set | frozenset) else value
        for name, value in (context or {}).items()
    }


def _scope_target(scope: Scope, me: Target) -> Target:
    if scope.kind is ScopeKind.ORG:
        return Target.org()
    if scope.kind is ScopeKind.TEAM:
        return Target.team(scope.team_id or "")
    return me


def _team_scopes(sources: Mapping[str, tuple[GrantSource, ...]]) -> list[Scope]:
    scopes = {s.grant.scope for given in sources.values() for s in given}
    return sorted(scope for scope in scopes if scope.kind is ScopeKind.TEAM)


def _grant_reasons(
    result: cedarpy.AuthzResult, sources: Mapping[str, tuple[GrantSource, ...]]
) -> list[str]:
    """The reasons that are grant links (their id is the grant key), in Cedar's order."""
    return [reason for reason in result.diagnostics.reasons if reason in sources]
