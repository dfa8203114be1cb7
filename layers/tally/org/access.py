"""A person's effective access: every role they hold and why (directly, by default, through
a team, as a team's manager), and every permission with the grants that give it, as Cedar's
reasons say. Anyone reads their own; reading someone else's takes roles:read on them."""

from __future__ import annotations

from dataclasses import dataclass

from tally.access import authorizer_of, require
from tally.authz import AccessLine, GrantSource, Target
from tally.authz.permissions import role_of
from tally.errors import NotFound
from tally.identity import Role
from tally.org.model import AccessProfile, OrgSnapshot
from tally.users import UserSource
from tally.view import View

NO_SUCH_USER = "no such user"


@dataclass(frozen=True)
class EffectiveAccess:
    user_id: str
    # Every grant held, with why; grants of a deleted role are listed (via their source) but
    # give nothing: ``deleted`` names their role ids.
    roles: tuple[GrantSource, ...]
    permissions: tuple[AccessLine, ...]
    deleted: frozenset[str] = frozenset()


def effective_access(
    view: View, user_id: str, *, user_source: UserSource | None = None
) -> EffectiveAccess:
    caller = view.caller
    if user_id == caller.user_id:
        # As the caller's own decisions see them (an admin still to turn on two-step sign-in
        # is a member until they do).
        authorizer = authorizer_of(caller)
        engine, profile = authorizer.engine, authorizer.profile
        token_admin = authorizer.token_admin
        snapshot = authorizer.snapshot
    else:
        # Addressed like an entity: someone else's, without roles:read on them, is not found,
        # as a user who does not exist is.
        require(caller, "roles:read", Target.user(user_id), not_found=NO_SUCH_USER)
        user = view.stores.users.get(user_id)
        if user is None and user_source is not None:
            user = user_source.find(user_id)
        if user is None:
            raise NotFound(NO_SUCH_USER)
        from tally.authz.engine import PolicyEngine  # Cedar loads with the first decision

        snapshot = view.stores.access.snapshot()
        engine = PolicyEngine.for_snapshot(snapshot)
        profile = view.stores.access.profiles([user_id])[user_id]
        token_admin = user.role is Role.ADMIN
    sources = engine.sources(profile, token_admin=token_admin)
    roles = [s for given in sources.values() for s in given]
    deleted = _deleted(profile, snapshot)
    roles += [GrantSource(g, "direct") for g in profile.grants or () if g.role_id in deleted]
    return EffectiveAccess(
        user_id=user_id,
        roles=tuple(roles),
        permissions=tuple(engine.effective_access(profile, token_admin=token_admin)),
        deleted=deleted,
    )


def _deleted(profile: AccessProfile, snapshot: OrgSnapshot) -> frozenset[str]:
    return frozenset(
        g.role_id for g in profile.grants or () if role_of(snapshot, g.role_id) is None
    )
