"""Teams and departments: nested (a team may sit under a department or another team), with
members, managers (who hold team-manager on the team and every team under it), an optional
cost center and roles every member holds. Created, changed and deleted with teams:write;
read with teams:read (a member reads their own teams)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tally.access import allows, authorizer_of, require
from tally.authz import Target
from tally.clock import Clock, utc_now
from tally.errors import Conflict, Invalid, NotFound
from tally.identifiers import ISO_4217
from tally.org.common import (
    audit_entry,
    check_name,
    grant_doc,
    manager_grant,
    new_id,
    parse_grants,
    require_change,
)
from tally.org.model import Grant, OrgSnapshot, ScopeKind, Team, TeamKind, team_owner
from tally.org.snapshots import with_team
from tally.users import UserSource
from tally.view import View

if TYPE_CHECKING:
    from tally.store.access import AccessStore

NO_SUCH_TEAM = "no such team"
COST_CENTER_MAX = 64


@dataclass(frozen=True)
class TeamInput:
    name: str
    kind: TeamKind = TeamKind.TEAM
    parent_id: str | None = None
    cost_center: str | None = None
    members: frozenset[str] = frozenset()
    managers: frozenset[str] = frozenset()
    roles: tuple[tuple[str, str], ...] = ()  # (roleId, scope) every member holds
    team_id: str | None = None  # a new team's id; made from the name when not given


def team_doc(team: Team) -> dict[str, object]:
    """A team as the audit log keeps it."""
    return {
        "teamId": team.team_id,
        "name": team.name,
        "kind": team.kind.value,
        "parentId": team.parent_id,
        "costCenter": team.cost_center,
        "members": sorted(team.members),
        "managers": sorted(team.managers),
        "roles": [grant_doc(g) for g in team.grants],
        "displayCurrency": team.display_currency,
    }


# --- reads -------------------------------------------------------------------------------


def list_teams(view: View) -> list[Team]:
    """Every team, in name order, for whoever reads teams at the organisation; anyone else
    sees the teams they may read: their own (and the departments above them), those they
    manage or hold a team role on, and the teams under those."""
    caller, store = view.caller, view.stores.access
    teams = store.list_teams()
    if allows(caller, "teams:read", Target.org()):
        return teams
    authorizer = authorizer_of(caller)
    snapshot, profile = authorizer.snapshot, authorizer.profile
    reach: set[str] = set(profile.manages)
    for given in authorizer.engine.sources(profile, token_admin=authorizer.token_admin).values():
        reach |= {
            s.grant.scope.team_id
            for s in given
            if s.grant.scope.kind is ScopeKind.TEAM and s.grant.scope.team_id
        }
    candidates = set(reach) | set(profile.teams)
    for team_id in reach:
        candidates |= snapshot.descendants(team_id)
    for team_id in profile.teams:
        candidates.update(snapshot.ancestors(team_id))
    visible = {t for t in candidates if allows(caller, "teams:read", Target.team(t))}
    return [t for t in teams if t.team_id in visible]


def get_team(view: View, team_id: str) -> Team:
    require(view.caller, "teams:read", Target.team(team_id))
    team = view.stores.access.get_team(team_id)
    if team is None:
        raise NotFound(NO_SUCH_TEAM)
    return team


# --- changes -----------------------------------------------------------------------------


def create_team(
    view: View,
    team: TeamInput,
    *,
    user_source: UserSource | None = None,
    clock: Clock = utc_now,
) -> Team:
    caller, store = view.caller, view.stores.access
    require(caller, "teams:write", Target.org())
    name = check_name(team.name)
    team_id = new_id(team.team_id, name, field="teamId")
    snapshot = store.snapshot()
    if team_id in snapshot.teams:
        raise Conflict(f"the team id {team_id!r} is taken")
    now = clock()
    draft = Team(
        team_id=team_id,
        name=name,
        kind=team.kind,
        parent_id=team.parent_id,
        cost_center=_cost_center(team.cost_center),
        members=frozenset(team.members),
        managers=frozenset(team.managers),
        created_at=now,
        updated_at=now,
    )
    after = _checked(view, draft, None, snapshot, team.roles, user_source)
    require_change(
        caller,
        "teams:write",
        Target.org(),
        with_team(snapshot, after),
        granted=_given(after, None, with_team(snapshot, after)),
    )
    return store.save_team(
        after,
        previous=None,
        snapshot=snapshot,
        audit=audit_entry(
            caller,
            team_owner(team_id),
            "team.created",
            team_id,
            None,
            team_doc(after),
            now,
        ),
    )


def _to_change(store: AccessStore, team_id: str, expected_version: int | None) -> Team:
    """The team a change or deletion applies to, as the caller last read it (If-Match)."""
    current = store.get_team(team_id)
    if current is None:
        raise NotFound(NO_SUCH_TEAM)
    if expected_version is not None and expected_version != current.version:
        raise Conflict("the team was changed by someone else; reload and retry")
    return current


def update_team(
    view: View,
    team_id: str,
    changes: TeamInput,
    *,
    expected_version: int | None = None,
    user_source: UserSource | None = None,
    clock: Clock = utc_now,
) -> Team:
    """Replace a team's name, kind, parent, cost center, members, managers and roles."""
    caller, store = view.caller, view.stores.access
    require(caller, "teams:write", Target.team(team_id))
    current = _to_change(store, team_id, expected_version)
    snapshot = store.snapshot()
    now = clock()
    draft = replace(
        current,
        name=check_name(changes.name),
        kind=changes.kind,
        parent_id=changes.parent_id,
        cost_center=_cost_center(changes.cost_center),
        members=frozenset(changes.members),
        managers=frozenset(changes.managers),
        updated_at=now,
    )
    after = _checked(view, draft, current, snapshot, changes.roles, user_source)
    if after.parent_id != current.parent_id:
        # Moving a team is writing into where it goes, too.
        require(
            caller,
            "teams:write",
            Target.team(after.parent_id) if after.parent_id else Target.org(),
        )
    require_change(
        caller,
        "teams:write",
        Target.team(team_id),
        with_team(snapshot, after),
        granted=_given(after, current, with_team(snapshot, after)),
    )
    return store.save_team(
        after,
        previous=current,
        snapshot=snapshot,
        audit=audit_entry(
            caller,
            team_owner(team_id),
            "team.updated",
            team_id,
            team_doc(current),
            team_doc(after),
            now,
        ),
    )


def delete_team(
    view: View, team_id: str, *, expected_version: int | None = None, clock: Clock = utc_now
) -> None:
    """Delete a team without teams under it (409 otherwise); its people leave it."""
    caller, store = view.caller, view.stores.access
    require(caller, "teams:write", Target.team(team_id))
    current = _to_change(store, team_id, expected_version)
    snapshot = store.snapshot()
    if snapshot.descendants(team_id):
        raise Conflict("teams sit under this one: move or delete them first")
    store.delete_team(
        current,
        snapshot=snapshot,
        audit=audit_entry(
            caller, team_owner(team_id), "team.deleted", team_id, team_doc(current), None, clock()
        ),
    )


# Who may set a team's display currency: who may rewrite the team (teams:write), who sets its
# budget (budgets:write on it: its managers, admins) and who sets the organisation's display
# currency (billing:settings: finance, admins). No permission of its own: it is a display
# setting that changes no figure, and these already decide how the team's money is shown.
DISPLAY_CURRENCY_PERMISSIONS = ("teams:write", "budgets:write", "billing:settings")


def may_set_display_currency(view: View, team_id: str) -> bool:
    """Whether the caller may set ``team_id``'s display currency."""
    target = Target.team(team_id)
    return any(allows(view.caller, p, target) for p in DISPLAY_CURRENCY_PERMISSIONS)


def set_display_currency(
    view: View,
    team_id: str,
    currency: str | None,
    *,
    expected_version: int | None = None,
    clock: Clock = utc_now,
) -> Team:
    """Set (an ISO 4217 code) or clear (None: the organisation's again) the currency the team's
    figures are shown in. It converts nothing stored: the team's screens ask for their figures
    converted into it, beside the billed ones. Audited as a team change (``team.updated``)."""
    caller, store = view.caller, view.stores.access
    if not may_set_display_currency(view, team_id):
        if store.get_team(team_id) is None and allows(caller, "teams:read", Target.org()):
            raise NotFound(NO_SUCH_TEAM)
        # The same answer as any refusal (an admin still to sign in twice is told why).
        require(caller, DISPLAY_CURRENCY_PERMISSIONS[0], Target.team(team_id))
    if currency is not None and currency not in ISO_4217:
        raise Invalid.field("displayCurrency", f"{currency!r} is not an ISO 4217 currency code")
    current = _to_change(store, team_id, expected_version)
    if currency == current.display_currency:
        return current  # nothing to change: no write, no audit entry
    now = clock()
    after = replace(current, display_currency=currency, updated_at=now)
    return store.save_team(
        after,
        previous=current,
        snapshot=store.snapshot(),
        audit=audit_entry(
            caller,
            team_owner(team_id),
            "team.updated",
            team_id,
            team_doc(current),
            team_doc(after),
            now,
        ),
    )


# --- checks ------------------------------------------------------------------------------


def _cost_center(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text.strip()) > COST_CENTER_MAX:
        raise Invalid.field("costCenter", f"at most {COST_CENTER_MAX} characters")
    return text.strip()


def _checked(
    view: View,
    draft: Team,
    current: Team | None,
    snapshot: OrgSnapshot,
    roles: Iterable[tuple[str, str]],
    user_source: UserSource | None,
) -> Team:
    """``draft`` with its roles read, once its parent, people and roles pass the checks."""
    parent = draft.parent_id
    if parent is not None:
        if parent not in snapshot.teams:
            raise Invalid.field("parentId", f"there is no team {parent!r}")
        if parent == draft.team_id or parent in snapshot.descendants(draft.team_id):
            raise Invalid.field("parentId", "a team cannot sit under itself or a team under it")
    old_members = current.members if current else frozenset()
    old_managers = current.managers if current else frozenset()
    _require_known(view, draft.members - old_members, "members", user_source)
    _require_known(view, draft.managers - old_managers, "managers", user_source)
    # A team's roles may be scoped to the team itself, new or not.
    grants = parse_grants(list(roles), with_team(snapshot, draft), to_team=True)
    return replace(draft, grants=grants)


def _require_known(
    view: View, user_ids: Collection[str], field: str, user_source: UserSource | None
) -> None:
    """Every one of ``user_ids`` is a user of the pool (the directory, else Cognito): one
    batch read of the directory, the pool only for those it has not seen."""
    if not user_ids:
        return
    known = view.stores.users.get_many(sorted(user_ids))
    for user_id in sorted(set(user_ids) - known.keys()):
        found = user_source.find(user_id) if user_source is not None else None
        if found is None:
            raise Invalid.field(field, f"no user with id {user_id!r}")
        view.stores.users.put(found)


def _given(after: Team, before: Team | None, snapshot: OrgSnapshot) -> list[Grant]:
    """What the change gives anyone: its new roles; every role of the team and the teams
    above it to people who join (or to everyone, when the team moves); team-manager to new
    managers."""
    given = [g for g in after.grants if before is None or g not in before.grants]
    joined = after.members - (before.members if before else frozenset())
    moved = before is not None and before.parent_id != after.parent_id
    if joined or moved:
        for holder in (after.team_id, *snapshot.ancestors(after.team_id)):
            node = snapshot.teams.get(holder)
            given += node.grants if node is not None else ()
    if after.managers - (before.managers if before else frozenset()):
        given.append(manager_grant(after.team_id))
    return list(dict.fromkeys(given))
