"""``make bench``: how long a Cedar decision takes with a realistic organisation (figures,
no assertion): 100 custom roles, 1,000 teams in a three-level tree (10 departments, 90
groups, 900 teams) with a custom role on every tenth team, and a caller with 3 grants in 2
teams. Also the two ways to link the roles' templates, measured (docs/authorization.md says
which one the engine uses and why)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

ROLES = 100
DEPARTMENTS, GROUPS_PER_DEPARTMENT, TEAMS_PER_GROUP = 10, 9, 10


def organisation() -> Any:
    from tally.authz.permissions import PERMISSIONS
    from tally.org.model import Grant, OrgSnapshot, RoleDef, Scope, ScopeKind, TeamKind, TeamNode

    names = list(PERMISSIONS)
    roles = {
        f"role-{n}": RoleDef(
            f"role-{n}", f"Role {n}", "", frozenset(names[n % 5 : n % 5 + 3 + n % 7])
        )
        for n in range(ROLES)
    }
    teams: dict[str, TeamNode] = {}

    def add(team_id: str, parent: str | None, kind: TeamKind) -> None:
        n = len(teams)
        grants = (
            (Grant(f"role-{n % ROLES}", Scope(ScopeKind.TEAM, team_id)),) if n % 10 == 0 else ()
        )
        teams[team_id] = TeamNode(team_id, team_id, kind, parent, None, grants)

    for d in range(DEPARTMENTS):
        add(f"d{d}", None, TeamKind.DEPARTMENT)
        for g in range(GROUPS_PER_DEPARTMENT):
            add(f"d{d}-g{g}", f"d{d}", TeamKind.DEPARTMENT)
            for t in range(TEAMS_PER_GROUP):
                add(f"d{d}-g{g}-t{t}", f"d{d}-g{g}", TeamKind.TEAM)
    return OrgSnapshot(roles=roles, teams=teams, version=1)


def _median_ms(run: Callable[[], object], times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def decisions(runs: int = 2000) -> Iterator[tuple[str, str]]:
    from tally.authz import Target
    from tally.authz.engine import PolicyEngine
    from tally.org.model import ORG_SCOPE, SELF_SCOPE, AccessProfile, Grant, Scope, ScopeKind

    snapshot = organisation()
    started = time.perf_counter()
    engine = PolicyEngine(snapshot)
    built = (time.perf_counter() - started) * 1000
    yield (
        f"engine for a snapshot ({len(snapshot.teams)} teams, {ROLES} custom roles) (ms)",
        f"{built:.1f}  (once per snapshot version and container)",
    )
    caller = AccessProfile(
        "caller",
        grants=(
            Grant("role-7", ORG_SCOPE),
            Grant("team-manager", Scope(ScopeKind.TEAM, "d3-g1")),
            Grant("member", SELF_SCOPE),
        ),
        teams=frozenset({"d1-g0-t0", "d3-g1-t4"}),
    )
    member = AccessProfile("m", teams=frozenset({"d3-g1-t2"}))
    asks = [
        ("costs:read", Target.user("caller"), None),
        ("budgets:write", Target.user("m"), member),
        ("costs:read", Target.org(), None),
        ("budgets:read", Target.team("d3-g1-t9"), None),
        ("audit:read", Target.org(), None),
    ]
    engine.decide(caller, "costs:read", Target.org())  # links this grant set once

    samples = []
    for n in range(runs):
        action, target, profile = asks[n % len(asks)]
        started = time.perf_counter()
        engine.decide(caller, action, target, target_profile=profile)
        samples.append(time.perf_counter() - started)
    per = statistics.median(samples) * 1000
    yield "decision, caller with 3 grants in 2 teams (median ms, target < 2)", f"{per:.3f}"
    held = len(engine.sources(caller))
    yield "  grants linked for that caller (direct, team, manager)", str(held)

    # The other way: link per request, without keeping linked sets per grant set.
    def unkept() -> None:
        engine._linked.clear()
        engine.decide(caller, "budgets:write", Target.user("m"), target_profile=member)

    yield (
        "decision linking the caller's grants afresh (median ms)",
        f"{_median_ms(unkept, 300):.3f}",
    )

    # The alternative layout: every grant the organisation uses linked once per snapshot
    # (every team's grants, here), so a request only links the caller's direct grants.
    import cedarpy as cedar

    from tally.authz.policies import link_of

    used = {g.key: g for node in snapshot.teams.values() for g in node.grants}
    links = [link_of(g, engine.roles[g.role_id]) for g in used.values()]
    started = time.perf_counter()
    from tally.authz.engine import _base_policies
    from tally.authz.policies import templates_of

    every_template = _base_policies().with_added_str(templates_of(snapshot.roles.values()))
    everything = every_template.with_linked_batch([link for link in links if link])
    yield (
        f"  parsing all templates and linking all {len(used)} team grants once (ms)",
        f"{(time.perf_counter() - started) * 1000:.1f}",
    )
    sources = engine.sources(caller)
    entities = engine._with_people(caller, sources, Target.user("m"), member)
    from tally.authz.engine import _request

    request = _request("caller", "budgets:write", Target.user("m"), None)

    def all_linked() -> None:
        direct = [link_of(g, engine.roles[g.role_id]) for g in caller.grants or ()]
        policies = everything.with_linked_batch([link for link in direct if link])
        cedar.is_authorized(request, policies, entities)

    yield "decision with all team grants linked (median ms)", f"{_median_ms(all_linked, 300):.3f}"

    # The other entity layout: the whole tree parsed once per snapshot, the people added per
    # request (``with_added_json_str`` clones the base).
    import json

    from tally.authz.engine import _org_entities

    whole = cedar.Entities.from_json_str(json.dumps(_org_entities(snapshot)))
    people = json.dumps(
        [
            {"uid": {"type": "Tally::User", "id": "caller"}, "attrs": {}, "parents": []},
            {"uid": {"type": "Tally::User", "id": "m"}, "attrs": {}, "parents": []},
        ]
    )
    linked = engine._policies_for(sources)

    def whole_tree() -> None:
        cedar.is_authorized(request, linked, whole.with_added_json_str(people))

    yield (
        "decision on the whole tree + a per-request delta (median ms)",
        f"{_median_ms(whole_tree, 300):.3f}",
    )

    started = time.perf_counter()
    lines = engine.effective_access(caller)
    yield (
        f"effective access of that caller ({len(lines)} lines) (ms)",
        f"{(time.perf_counter() - started) * 1000:.1f}",
    )
