"""Who may act on which user's data. Deny by default; the token's identity is the only truth."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Permissions:
    """What the caller may do, for clients that show or hide what they offer (GET /api/me).

    The checks above stay the API's own; this only tells a client which ones will pass, so it
    never works roles out from group names itself.
    """

    view_all_users: bool  # every user's and the organisation's figures, the user directory
    manage_assignments: bool  # assign any resource to anyone (others ask: a claim)
    decide_any_claim: bool  # approve or reject any pending claim, not only their own resources'


def permissions_of(caller: Caller) -> Permissions:
    """The caller's permissions, from their role (an admin who still needs two-step sign-in
    is not an admin yet, as ``require_admin`` says)."""
    admin = caller.is_admin and not caller.admin_needs_mfa
    return Permissions(view_all_users=admin, manage_assignments=admin, decide_any_claim=admin)
