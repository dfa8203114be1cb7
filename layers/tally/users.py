"""The user directory: who exists, for validation and the admin's all-users view.

The directory is filled from Cognito (synced by the daily job, and on each user's own
``/api/me``); a user the directory has not seen yet is looked up in the pool once.
"""

from __future__ import annotations

from typing import Any, Protocol

from tally.errors import Invalid
from tally.identity import Caller, Role
from tally.models import UserProfile
from tally.store.users import UserDirectory
from tally.tables import ADMIN_GROUP


class UserSource(Protocol):
    def find(self, user_id: str) -> UserProfile | None: ...


def remember_caller(caller: Caller, directory: UserDirectory) -> UserProfile:
    """Upsert the caller's profile when the token says something the directory does not."""
    known = directory.get(caller.user_id)
    profile = UserProfile(
        caller.user_id,
        caller.username,
        caller.email or (known.email if known else None),  # moto's ID token has no email
        caller.role,
    )
    if profile != known:
        directory.put(profile)
    return profile


def require_known_user(
    user_id: str, directory: UserDirectory, source: UserSource | None, *, field: str = "userId"
) -> UserProfile:
    found = directory.get(user_id)
    if found is None and source is not None:
        found = source.find(user_id)
        if found is not None:
            directory.put(found)
    if found is None:
        raise Invalid.field(field, "no user with this id")
    return found


class CognitoUserSource:
    """Finds users in the Cognito pool by ``sub`` (ListUsers with a filter: one call)."""

    def __init__(self, client: Any, user_pool_id: str) -> None:
        self._client = client
        self._pool = user_pool_id

    def _profile(self, user: dict[str, Any]) -> UserProfile | None:
        attrs = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
        sub = attrs.get("sub")
        if not sub:
            return None
        groups = self._client.admin_list_groups_for_user(
            UserPoolId=self._pool, Username=user["Username"]
        )["Groups"]
        admin = any(g["GroupName"] == ADMIN_GROUP for g in groups)
        return UserProfile(
            sub, user["Username"], attrs.get("email"), Role.ADMIN if admin else Role.USER
        )

    def find(self, user_id: str) -> UserProfile | None:
        if '"' in user_id or "\\" in user_id:
            return None  # cannot be a sub, and must not break the filter expression
        users = self._client.list_users(
            UserPoolId=self._pool, Filter=f'sub = "{user_id}"', Limit=1
        )["Users"]
        return self._profile(users[0]) if users else None

    def all(self) -> list[UserProfile]:
        """Every user in the pool, for the daily directory sync."""
        out: list[UserProfile] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"UserPoolId": self._pool, "Limit": 60}
            if token:
                kwargs["PaginationToken"] = token
            page = self._client.list_users(**kwargs)
            out.extend(p for p in map(self._profile, page["Users"]) if p)
            token = page.get("PaginationToken")
            if not token:
                return out


def every_user(directory: UserDirectory) -> list[UserProfile]:
    """The whole directory, page by page (the daily job's reads; never a request path)."""
    users: list[UserProfile] = []
    key = None
    while True:
        page = directory.list(100, key)
        users.extend(page.items)
        if not page.next_key:
            return users
        key = page.next_key


def sync_directory(source: CognitoUserSource, directory: UserDirectory) -> int:
    """Bring the directory in step with the user pool (the daily job): add and update pool
    users, forget those deleted from it. Returns how many entries changed."""
    in_pool = {p.user_id: p for p in source.all()}
    changed = 0
    for profile in in_pool.values():
        if directory.get(profile.user_id) != profile:
            directory.put(profile)
            changed += 1
    stale = [u.user_id for u in every_user(directory) if u.user_id not in in_pool]
    for user_id in stale:  # removed after the walk, so the walk's page keys stay valid
        directory.remove(user_id)
    return changed + len(stale)
