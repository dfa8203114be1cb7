"""The user directory: who exists, with their role, listed by name for the admins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from tally import tables
from tally.identity import Role
from tally.models import Page, UserProfile
from tally.settings import Settings
from tally.store import PageKey, keys
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem, page, paginate


class UserDirectory(Protocol):
    def get(self, user_id: str) -> UserProfile | None: ...
    def put(self, profile: UserProfile) -> None: ...
    def list(self, limit: int, start_key: PageKey | None = None) -> Page[UserProfile]: ...
    def get_many(self, user_ids: Sequence[str]) -> dict[str, UserProfile]:
        """The profiles of those of ``user_ids`` that exist, by id, in one batch read."""

    def remove(self, user_id: str) -> None:
        """Forget a user (deleted from the pool); their cost records stay."""


class UserNameIndex(GlobalSecondaryIndex["UserItem"]):
    class Meta:
        index_name = tables.USERS.indexes[0].name
        projection = AllProjection()

    directory = UnicodeAttribute(hash_key=True)
    sort_name = UnicodeAttribute(range_key=True)


class UserItem(KeyedItem):
    """pk USER#<sub>, sk PROFILE."""

    spec = tables.USERS

    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    role = UnicodeAttribute()
    directory = UnicodeAttribute(default=keys.DIRECTORY)
    sort_name = UnicodeAttribute()
    by_name = UserNameIndex()


def _user(item: UserItem) -> UserProfile:
    return UserProfile(item.user_id, item.username, item.email, Role(item.role))


class DynamoUserDirectory(DynamoStore):
    def get(self, user_id: str) -> UserProfile | None:
        try:
            return _user(UserItem.get(keys.user(user_id), keys.PROFILE))
        except UserItem.DoesNotExist:
            return None

    def put(self, profile: UserProfile) -> None:
        UserItem(
            pk=keys.user(profile.user_id),
            sk=keys.PROFILE,
            user_id=profile.user_id,
            username=profile.username,
            email=profile.email,
            role=profile.role.value,
            sort_name=keys.sort_name(profile.username, profile.user_id),
        ).save()

    def list(self, limit: int, start_key: PageKey | None = None) -> Page[UserProfile]:
        it = UserItem.by_name.query(keys.DIRECTORY, limit=limit, last_evaluated_key=start_key)
        return page([_user(i) for i in it], it)

    def get_many(self, user_ids: Sequence[str]) -> dict[str, UserProfile]:
        ids = [(keys.user(u), keys.PROFILE) for u in dict.fromkeys(user_ids)]
        # pynamodb splits a BatchGetItem past 100 keys and retries unprocessed ones.
        return {i.user_id: _user(i) for i in UserItem.batch_get(ids)} if ids else {}

    def remove(self, user_id: str) -> None:
        UserItem(pk=keys.user(user_id), sk=keys.PROFILE).delete()


class MemoryUserDirectory:
    def __init__(self) -> None:
        self.users: dict[str, UserProfile] = {}

    def get(self, user_id: str) -> UserProfile | None:
        return self.users.get(user_id)

    def put(self, profile: UserProfile) -> None:
        self.users[profile.user_id] = profile

    def list(self, limit: int, start_key: PageKey | None = None) -> Page[UserProfile]:
        ordered = sorted(self.users.values(), key=lambda u: keys.sort_name(u.username, u.user_id))
        return paginate(ordered, limit, start_key, lambda u: u.user_id)

    def get_many(self, user_ids: Sequence[str]) -> dict[str, UserProfile]:
        return {u: self.users[u] for u in user_ids if u in self.users}

    def remove(self, user_id: str) -> None:
        self.users.pop(user_id, None)


def dynamodb_store(settings: Settings) -> UserDirectory:
    return DynamoUserDirectory(settings)


def memory_store(audit: MemoryAuditLog) -> UserDirectory:
    return MemoryUserDirectory()
