"""Notification preferences: one item per user, versioned for optimistic locking like a
budget."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from pynamodb.attributes import (
    BooleanAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import PutError

from tally import tables
from tally.errors import Conflict
from tally.models import DigestCadence, Preferences
from tally.settings import Settings
from tally.store import keys
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, PartitionItem

STALE = "the preferences were changed by someone else; reload and retry"


class PreferenceStore(Protocol):
    def get(self, user_id: str) -> Preferences | None:
        """None when the user never saved any (the defaults of ``Preferences`` apply)."""

    def put(self, preferences: Preferences) -> Preferences:
        """Save if the stored version is still ``preferences.version`` (0: none stored yet);
        returns the saved preferences (version + 1). Raises ``Conflict`` when stale."""


# --- items -----------------------------------------------------------------------------


class PreferencesItem(PartitionItem):
    """pk USER#<user>."""

    spec = tables.PREFERENCES

    user_id = UnicodeAttribute()
    email_alerts = BooleanAttribute()
    digest = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()


# --- mapping ---------------------------------------------------------------------------


def _preferences(item: PreferencesItem) -> Preferences:
    return Preferences(
        user_id=item.user_id,
        email_alerts=bool(item.email_alerts),
        digest=DigestCadence(item.digest),
        updated_at=item.updated_at,
        version=int(item.version or 0),
    )


def _preferences_item(p: Preferences) -> PreferencesItem:
    return PreferencesItem(
        pk=keys.user(p.user_id),
        user_id=p.user_id,
        email_alerts=p.email_alerts,
        digest=DigestCadence(p.digest).value,
        updated_at=p.updated_at,
    )


# --- DynamoDB --------------------------------------------------------------------------


class DynamoPreferenceStore(DynamoStore):
    def get(self, user_id: str) -> Preferences | None:
        try:
            return _preferences(PreferencesItem.get(keys.user(user_id), consistent_read=True))
        except PreferencesItem.DoesNotExist:
            return None

    def put(self, preferences: Preferences) -> Preferences:
        item = _preferences_item(preferences)
        # The version read: the save is conditional on it. Left unset for 0, it makes the save
        # conditional on no item having a version (none stored).
        if preferences.version:
            item.version = preferences.version
        try:
            item.save()
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(STALE) from error
            raise
        return replace(
            preferences,
            digest=DigestCadence(preferences.digest),
            version=preferences.version + 1,
        )


# --- in memory -------------------------------------------------------------------------


class MemoryPreferenceStore:
    def __init__(self) -> None:
        self.by_user: dict[str, Preferences] = {}

    def get(self, user_id: str) -> Preferences | None:
        return self.by_user.get(user_id)

    def put(self, preferences: Preferences) -> Preferences:
        current = self.by_user.get(preferences.user_id)
        if (current.version if current else 0) != preferences.version:
            raise Conflict(STALE)
        saved = replace(
            preferences,
            digest=DigestCadence(preferences.digest),
            version=preferences.version + 1,
        )
        self.by_user[preferences.user_id] = saved
        return saved


def dynamodb_store(settings: Settings) -> PreferenceStore:
    return DynamoPreferenceStore(settings)


def memory_store(audit: MemoryAuditLog) -> PreferenceStore:
    return MemoryPreferenceStore()
