"""Admin rights as the user pool holds them now, not as the token held them at sign-in.

A Cognito ID token carries the groups of its sign-in and stays valid for up to an hour (the
pool's ID token validity); API Gateway's authorizer checks its signature and expiry, nothing
else. So an admin removed from the admins group would keep admin rights until the token
expires. The API therefore confirms the admins group of a token that claims it with the pool
(``AdminListGroupsForUser``) and keeps a yes for ``CONFIRMED_FOR_SECONDS`` per warm container:
removing someone from the group takes their admin rights within that time. A token without the
group costs nothing: rights are only ever taken away here, never granted.

The roles work will generalise this seam (a role store instead of one group).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from tally.identity import Caller
from tally.tables import ADMIN_GROUP

# A confirmed admin is believed this long per warm container; a refusal is never kept.
CONFIRMED_FOR_SECONDS = 300.0


class BriefYes:
    """A yes remembered for ``confirmed_for`` seconds per key; a no is never remembered, so
    rights taken away are gone on the next check and rights given are there at once. Used for
    the pool's answers the API asks on every request (admins group, TOTP)."""

    def __init__(self, monotonic: Callable[[], float], confirmed_for: float) -> None:
        self._monotonic = monotonic  # a cache's age, not a business date
        self._confirmed_for = confirmed_for
        self._confirmed: dict[str, float] = {}

    def ask(self, key: str, check: Callable[[], bool]) -> bool:
        seen = self._confirmed.get(key)
        if seen is not None and self._monotonic() - seen < self._confirmed_for:
            return True
        if check():
            self._confirmed[key] = self._monotonic()
            return True
        self._confirmed.pop(key, None)
        return False


class AdminMembership(Protocol):
    def is_admin(self, username: str) -> bool: ...


class CognitoAdminMembership:
    """Whether a pool user is in the admins group now: ``AdminListGroupsForUser``, a yes
    cached briefly. A user deleted from the pool is in no group."""

    def __init__(
        self,
        client: Any,
        user_pool_id: str,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        confirmed_for: float = CONFIRMED_FOR_SECONDS,
    ) -> None:
        self._client = client
        self._pool = user_pool_id
        self._yes = BriefYes(monotonic, confirmed_for)

    def is_admin(self, username: str) -> bool:
        return self._yes.ask(username, lambda: ADMIN_GROUP in self._groups(username))

    def _groups(self, username: str) -> set[str]:
        groups: set[str] = set()
        request = {"UserPoolId": self._pool, "Username": username}
        try:
            while True:
                page = self._client.admin_list_groups_for_user(**request)
                groups.update(g["GroupName"] for g in page.get("Groups", []))
                if not page.get("NextToken"):
                    return groups
                request["NextToken"] = page["NextToken"]
        except self._client.exceptions.UserNotFoundException:
            return set()


def confirm_admin(caller: Caller, membership: AdminMembership | None) -> Caller:
    """The caller as the API should treat them: a token's admins group counts only while the
    pool still has the user in it. ``membership=None``: the token is taken at its word (tests
    that build requests without a user pool)."""
    if membership is None or not caller.is_admin or membership.is_admin(caller.username):
        return caller
    return replace(caller, groups=caller.groups - {ADMIN_GROUP})
