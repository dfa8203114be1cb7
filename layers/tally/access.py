"""Who may act on which user's data. Deny by default; the token's identity is the only truth."""

from __future__ import annotations

from tally.errors import Forbidden
from tally.identity import Caller
from tally.models import ORG, UNALLOCATED

# Owners that are not people: the whole organisation, and what nobody owns. Admins only.
ORGANISATION_OWNERS = frozenset({ORG, UNALLOCATED})


def require_user_access(caller: Caller, user_id: str) -> None:
    """A path's user id is a selector: the caller's own, or any for an admin.

    The refusal is identical whether or not that user exists, so ids cannot be probed.
    """
    if caller.is_admin or caller.user_id == user_id:
        return
    raise Forbidden("you may only access your own data")


def require_admin(caller: Caller) -> None:
    if caller.admin_needs_mfa:
        raise Forbidden(
            "admins must turn on two-step sign-in (an authenticator app) first: "
            "see Security in the dashboard"
        )
    if not caller.is_admin:
        raise Forbidden("this needs the admins group")


def may_see(caller: Caller, owner_user_id: str) -> bool:
    """For entities addressed by their own id: someone else's is reported as not found."""
    return caller.is_admin or caller.user_id == owner_user_id


def require_owner_access(caller: Caller, owner: str) -> None:
    """Figures of an owner: a user (as ``require_user_access``), or the organisation or its
    unallocated costs, which only admins see. The API addresses the last two by their own
    routes (``/organisation/...``, ``/unallocated/...``), never as a user id."""
    if owner in ORGANISATION_OWNERS:
        require_admin(caller)
        return
    require_user_access(caller, owner)
