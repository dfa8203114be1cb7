"""What the organisation's use cases (teams, roles, grants) share: names and ids, reading
grants from input, the audit entry of a change, and the decision on a change that grants
something (the Cedar forbids need the permissions granted, those the caller holds at that
scope, and, when someone loses admin, how many admins are left)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from tally.access import allows, authorizer_of, require
from tally.authz import Target
from tally.authz.permissions import ADMIN, TEAM_MANAGER, role_of
from tally.errors import Forbidden, Invalid
from tally.identity import Caller
from tally.models import AuditEntry
from tally.org.model import SLUG, Grant, OrgSnapshot, Scope, ScopeKind

NAME_MAX = 80


def check_name(name: str, *, field: str = "name") -> str:
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= NAME_MAX:
        raise Invalid.field(field, f"a name has 1 to {NAME_MAX} characters")
    return cleaned


def slug_of(name: str) -> str:
    """An id made from a name: "Data Platform" -> "data-platform"."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40].rstrip("-")


def new_id(given: str | None, name: str, *, field: str) -> str:
    """The id of a new team or role: the one given, or one made from its name."""
    chosen = given if given is not None else slug_of(name)
    if not SLUG.fullmatch(chosen):
        raise Invalid.field(
            field,
            "an id has 1 to 40 lower-case letters, digits and inner hyphens"
            + ("" if given is not None else ": give one, the name makes none"),
        )
    return chosen


def grant_doc(grant: Grant) -> dict[str, str]:
    return {"roleId": grant.role_id, "scope": grant.scope.key}


def parse_grants(
    raw: Sequence[tuple[str, str]],
    snapshot: OrgSnapshot,
    *,
    field: str = "roles",
    to_team: bool = False,
) -> tuple[Grant, ...]:
    """The grants ``raw`` names ((roleId, scope text) pairs), each checked: a role that
    exists, a scope that parses and names a team that exists, admin only to a person at the
    organisation scope. Duplicates count once."""
    out: list[Grant] = []
    for n, (role_id, scope_text) in enumerate(raw):
        if role_of(snapshot, role_id) is None:
            raise Invalid.field(f"{field}.{n}.roleId", f"there is no role {role_id!r}")
        try:
            scope = Scope.parse(scope_text)
        except ValueError as error:
            raise Invalid.field(f"{field}.{n}.scope", str(error)) from None
        if scope.kind is ScopeKind.TEAM and scope.team_id not in snapshot.teams:
            raise Invalid.field(f"{field}.{n}.scope", f"there is no team {scope.team_id!r}")
        if role_id == ADMIN and (to_team or scope.kind is not ScopeKind.ORG):
            raise Invalid.field(
                f"{field}.{n}.scope" if not to_team else f"{field}.{n}.roleId",
                "admin is only given to people, at the organisation scope",
            )
        grant = Grant(role_id, scope)
        if grant not in out:
            out.append(grant)
    return tuple(out)


def audit_entry(
    caller: Caller,
    subject: str,
    action: str,
    entity_id: str,
    before: Any,
    after: Any,
    now: datetime,
) -> AuditEntry:
    """The audit entry of a change: the before and after as JSON text (None: did not exist)."""
    return AuditEntry(
        subject_user_id=subject,
        at=now,
        actor=caller.user_id,
        action=action,
        entity_id=entity_id,
        details={
            "before": json.dumps(before, sort_keys=True),
            "after": json.dumps(after, sort_keys=True),
        },
    )


def require_change(
    caller: Caller,
    action: str,
    target: Target,
    snapshot: OrgSnapshot,
    *,
    granted: Iterable[Grant] = (),
    remaining_admins: int | None = None,
) -> None:
    """``require(caller, action, target)`` with the context the Cedar forbids read: for each
    scope ``granted`` reaches, the permissions granted there and those the caller holds there
    (no one grants what they do not hold); ``remaining_admins`` when the change takes admin
    from someone (the organisation always keeps one). A self scope is the subject's own data:
    what the caller holds on the subject (``target``) counts there. ``snapshot`` is the
    organisation with the change applied (roles and teams it names are in it)."""
    by_scope: dict[Scope, set[str]] = {}
    for grant in granted:
        role = role_of(snapshot, grant.role_id)
        by_scope.setdefault(grant.scope, set()).update(role.permissions if role else ())
    base: dict[str, Any] = {}
    if remaining_admins is not None:
        base["remainingAdmins"] = remaining_admins
    if not by_scope:
        _require(caller, action, target, base, missing=set())
        return
    authorizer = authorizer_of(caller)
    for scope, permissions in sorted(by_scope.items()):
        if scope.kind is ScopeKind.SELF:
            # A self grant reaches the subject's own data: what the caller holds on them.
            held = frozenset(p for p in permissions if authorizer.allows(p, target))
        else:
            held = authorizer.engine.held_permissions(
                authorizer.profile,
                _known_scope(scope, snapshot, authorizer.snapshot),
                token_admin=authorizer.token_admin,
            )
        context = {**base, "grantedPermissions": permissions, "heldPermissions": held}
        _require(caller, action, target, context, missing=permissions - held)


def _require(
    caller: Caller, action: str, target: Target, context: dict[str, Any], *, missing: set[str]
) -> None:
    """``require``, saying which forbid refused a caller who may otherwise do ``action``."""
    if authorizer_of(caller).decision(action, target, context=context).allowed:
        return
    if not allows(caller, action, target):
        require(caller, action, target)  # the refusal anyone without the action gets
    if context.get("remainingAdmins", 1) < 1:
        raise Forbidden("the organisation must keep at least one admin")
    raise Forbidden(
        "you can only give permissions you hold yourself at that scope; you do not hold "
        + ", ".join(sorted(missing))
    )


def _known_scope(scope: Scope, changed: OrgSnapshot, decided: OrgSnapshot) -> Scope:
    """``scope``, or for a team the decisions' snapshot does not hold yet (made by this
    change, or too recently for the cached one) the nearest team above it that it holds, else
    the organisation: what holds there holds in the new team too."""
    if scope.kind is not ScopeKind.TEAM or scope.team_id in decided.teams:
        return scope
    for team_id in changed.ancestors(scope.team_id or ""):
        if team_id in decided.teams:
            return Scope(ScopeKind.TEAM, team_id)
    return Scope(ScopeKind.ORG)


def manager_grant(team_id: str) -> Grant:
    """What managing a team gives (derived: never stored as a grant)."""
    return Grant(TEAM_MANAGER, Scope(ScopeKind.TEAM, team_id))
