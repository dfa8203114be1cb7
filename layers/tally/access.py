"""Who may do what: the domain's one entry point to the policy engine's decisions.

Every check names an action (a permission of ``policies/roles.json``) and a target
(``tally.authz.Target``: the organisation, a team or a user); the caller's ``Authorizer``
(bound by the API for the request, or one built from the token alone) asks Cedar. Deny by
default; the token's identity is the only truth about who is asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tally.authz import Target
from tally.authz.authorizer import FORBIDDEN, FORBIDDEN_USER
from tally.errors import Forbidden, NotFound
from tally.identity import Caller

if TYPE_CHECKING:
    from tally.authz.authorizer import Authorizer

# The refusal of everything the caller may not do: the same words whether the other user,
# team or entity exists or not (a user target keeps the words the API always answered).
DENIED = FORBIDDEN
# An admin who has not turned on two-step sign-in acts as a member until they do
# (``tally.mfa``); what they are refused says why, as it always has.
ADMIN_NEEDS_MFA = (
    "admins must turn on two-step sign-in (an authenticator app) first: "
    "see Security in the dashboard"
)


def authorizer_of(caller: Caller) -> Authorizer:
    """The caller's request-bound authorizer, or one that knows only the token (the default
    roles of its groups): code run outside the API (tests, scripts) decides the same way."""
    if caller.authorizer is not None:
        return caller.authorizer
    return _token_only(caller)


@lru_cache(maxsize=64)
def _token_only(caller: Caller) -> Authorizer:
    from tally.authz.authorizer import Authorizer

    return Authorizer(caller, None)


def allows(
    caller: Caller, action: str, target: Target, *, context: dict[str, Any] | None = None
) -> bool:
    """Whether the caller may do ``action`` on ``target``."""
    return authorizer_of(caller).allows(action, target, context=context)


def require(
    caller: Caller,
    action: str,
    target: Target,
    *,
    context: dict[str, Any] | None = None,
    not_found: str | None = None,
) -> None:
    """``Forbidden`` unless the caller may do ``action`` on ``target``; ``NotFound(not_found)``
    instead when given (entities addressed by their own id: someone else's is not found)."""
    if allows(caller, action, target, context=context):
        return
    if not_found is not None:
        raise NotFound(not_found)
    if caller.admin_needs_mfa:
        raise Forbidden(ADMIN_NEEDS_MFA)
    raise Forbidden(FORBIDDEN_USER if target.kind == "user" else FORBIDDEN)


@dataclass(frozen=True)
class Permissions:
    """What the caller may do, for clients that show or hide what they offer (GET /api/me).

    Read from the same decisions the API makes, so a client never works roles out itself.
    """

    view_all_users: bool  # every user's and the organisation's figures, the user directory
    manage_assignments: bool  # assign any resource to anyone (others ask: a claim)
    decide_any_claim: bool  # approve or reject any pending claim, not only their own resources'


def permissions_of(caller: Caller) -> Permissions:
    """The caller's organisation-wide permissions (an admin who still needs two-step sign-in
    acts as a member, so has none of them)."""
    org = Target.org()
    return Permissions(
        view_all_users=allows(caller, "users:read", org) and allows(caller, "costs:read", org),
        manage_assignments=allows(caller, "assignments:write", org),
        decide_any_claim=allows(caller, "claims:decide", org),
    )
