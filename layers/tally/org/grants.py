"""The roles a person holds directly, each at a scope: read (roles:read on them) and replaced
(roles:assign on them). Someone whose roles were never set holds the defaults (admin at the
organisation for the admins group, member of self for everyone else) until they are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tally.access import require
from tally.authz import Target
from tally.clock import Clock, utc_now
from tally.errors import Conflict, NotFound
from tally.identity import Role
from tally.models import UserProfile
from tally.org.common import audit_entry, grant_doc, parse_grants, require_change
from tally.org.model import ORG_SCOPE, SELF_SCOPE, Grant
from tally.org.snapshots import ADMIN_AT_ORG, with_grants
from tally.users import UserSource
from tally.view import View

DEFAULT_MEMBER = Grant("member", SELF_SCOPE)
NO_SUCH_USER = "no such user"


@dataclass(frozen=True)
class UserRoles:
    user_id: str
    grants: tuple[Grant, ...]
    explicit: bool  # False: never set, ``grants`` are the defaults
    version: int


def default_grants(user: UserProfile) -> tuple[Grant, ...]:
    return (Grant("admin", ORG_SCOPE),) if user.role is Role.ADMIN else (DEFAULT_MEMBER,)


def _known_user(view: View, user_id: str, user_source: UserSource | None) -> UserProfile:
    found = view.stores.users.get(user_id)
    if found is None and user_source is not None:
        found = user_source.find(user_id)
        if found is not None:
            view.stores.users.put(found)
    if found is None:
        raise NotFound(NO_SUCH_USER)
    return found


def get_user_roles(view: View, user_id: str, *, user_source: UserSource | None = None) -> UserRoles:
    require(view.caller, "roles:read", Target.user(user_id))
    user = _known_user(view, user_id, user_source)
    profile = view.stores.access.profiles([user_id])[user_id]
    if profile.grants is None:
        return UserRoles(user_id, default_grants(user), False, profile.version)
    return UserRoles(user_id, profile.grants, True, profile.version)


def set_user_roles(
    view: View,
    user_id: str,
    roles: Sequence[tuple[str, str]],
    *,
    expected_version: int | None = None,
    user_source: UserSource | None = None,
    clock: Clock = utc_now,
) -> UserRoles:
    """Make ``roles`` ((roleId, scope) pairs) the user's direct roles. The caller must hold
    every permission they give at its scope, and the organisation keeps an admin (Cedar's
    forbids, with the context made here); an empty list leaves them only what their teams
    give."""
    caller, store = view.caller, view.stores.access
    require(caller, "roles:assign", Target.user(user_id))
    user = _known_user(view, user_id, user_source)
    snapshot = store.snapshot()
    grants = parse_grants(roles, snapshot)
    previous = store.profiles([user_id])[user_id]
    if expected_version is not None and expected_version != previous.version:
        raise Conflict("the user's roles were changed by someone else; reload and retry")
    held = previous.grants if previous.grants is not None else default_grants(user)
    after = with_grants(snapshot, user_id, grants)
    # Admin by default (admins group, roles never set) counts as admin until the migration
    # makes it explicit: demoting such an admin counts the explicit ones left.
    was_admin = user_id in snapshot.admins or (previous.grants is None and ADMIN_AT_ORG in held)
    require_change(
        caller,
        "roles:assign",
        Target.user(user_id),
        snapshot,
        granted=[g for g in grants if g not in held],
        remaining_admins=len(after.admins) if was_admin and user_id not in after.admins else None,
    )
    saved = store.set_grants(
        user_id,
        grants,
        previous=previous,
        snapshot=snapshot,
        audit=audit_entry(
            caller,
            user_id,
            "roles.assigned",
            user_id,
            {"roles": [grant_doc(g) for g in held], "explicit": previous.grants is not None},
            {"roles": [grant_doc(g) for g in grants], "explicit": True},
            clock(),
        ),
    )
    return UserRoles(user_id, grants, True, saved.version)
