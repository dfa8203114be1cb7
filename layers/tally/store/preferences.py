"""Notification preferences: one item per user, versioned for optimistic locking like a
budget.

The sparse "by-digest" index lists the subscribers of each digest cadence (only an item whose
digest is not off carries ``digest_listed``). An email suppression is set by SES feedback, not by
the user: that write is unconditional but bumps the version, so a user's save based on an older
read is a conflict rather than a silent undo of the suppression.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from pynamodb.attributes import (
    BooleanAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import PutError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from tally import tables
from tally.errors import Conflict
from tally.models import DigestCadence, EmailSuppression, Preferences, StoredWebhook
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

    def subscribers(self, cadence: DigestCadence) -> list[str]:
        """The ids of the users whose digest is ``cadence`` (not off), sorted."""

    def set_suppression(
        self, user_id: str, suppression: EmailSuppression | None, *, at: datetime
    ) -> None:
        """Set (or, with None, lift) the user's email suppression whatever the stored version,
        bumping it; creates the user's item with the defaults if there is none."""


# --- items -----------------------------------------------------------------------------


class DigestIndex(GlobalSecondaryIndex["PreferencesItem"]):
    class Meta:
        index_name = tables.PREFERENCES.indexes[0].name
        projection = KeysOnlyProjection()

    digest_listed = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)


class PreferencesItem(PartitionItem):
    """pk USER#<user>. ``digest_listed`` (= the digest) only while the digest is not off; the
    webhook's and the suppression's attributes only while there is one."""

    spec = tables.PREFERENCES

    user_id = UnicodeAttribute()
    email_alerts = BooleanAttribute()
    digest = UnicodeAttribute()
    digest_listed = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    webhook_ciphertext = UnicodeAttribute(null=True)
    webhook_hint = UnicodeAttribute(null=True)
    webhook_flavour = UnicodeAttribute(null=True)
    suppressed_address = UnicodeAttribute(null=True)
    suppressed_reason = UnicodeAttribute(null=True)
    suppressed_at = UTCDateTimeAttribute(null=True)
    display_currency = UnicodeAttribute(null=True)
    version = VersionAttribute()
    by_digest = DigestIndex()


# --- mapping ---------------------------------------------------------------------------


def _preferences(item: PreferencesItem) -> Preferences:
    webhook = (
        StoredWebhook(
            ciphertext=item.webhook_ciphertext,
            hint=item.webhook_hint or "",
            flavour=item.webhook_flavour or "generic",
        )
        if item.webhook_ciphertext
        else None
    )
    suppressed = (
        EmailSuppression(
            address=item.suppressed_address,
            reason=item.suppressed_reason or "bounce",
            at=item.suppressed_at,
        )
        if item.suppressed_address and item.suppressed_at
        else None
    )
    return Preferences(
        user_id=item.user_id,
        email_alerts=bool(item.email_alerts),
        digest=DigestCadence(item.digest),
        updated_at=item.updated_at,
        version=int(item.version or 0),
        webhook=webhook,
        email_suppressed=suppressed,
        display_currency=item.display_currency,
    )


def _listed(digest: DigestCadence) -> str | None:
    return None if digest is DigestCadence.OFF else digest.value


def _preferences_item(p: Preferences) -> PreferencesItem:
    digest = DigestCadence(p.digest)
    hook, stopped = p.webhook, p.email_suppressed
    return PreferencesItem(
        pk=keys.user(p.user_id),
        user_id=p.user_id,
        email_alerts=p.email_alerts,
        digest=digest.value,
        digest_listed=_listed(digest),
        updated_at=p.updated_at,
        webhook_ciphertext=hook.ciphertext if hook else None,
        webhook_hint=hook.hint if hook else None,
        webhook_flavour=hook.flavour if hook else None,
        suppressed_address=stopped.address if stopped else None,
        suppressed_reason=stopped.reason if stopped else None,
        suppressed_at=stopped.at if stopped else None,
        display_currency=p.display_currency,
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

    def subscribers(self, cadence: DigestCadence) -> list[str]:
        listed = _listed(DigestCadence(cadence))
        if listed is None:
            raise ValueError("nobody subscribes to digest off")
        return sorted(i.user_id for i in PreferencesItem.by_digest.query(listed))

    def set_suppression(
        self, user_id: str, suppression: EmailSuppression | None, *, at: datetime
    ) -> None:
        item = PreferencesItem
        actions: list[Any] = [
            # A user who never saved preferences gets the defaults with the suppression.
            item.user_id.set(user_id),
            item.email_alerts.set(item.email_alerts | True),
            item.digest.set(item.digest | DigestCadence.OFF.value),
            item.updated_at.set(at),
            item.version.add(1),
        ]
        if suppression is None:
            actions += [
                item.suppressed_address.remove(),
                item.suppressed_reason.remove(),
                item.suppressed_at.remove(),
            ]
        else:
            actions += [
                item.suppressed_address.set(suppression.address),
                item.suppressed_reason.set(suppression.reason),
                item.suppressed_at.set(suppression.at),
            ]
        # The connection's update, not the item's: the item's would be conditional on a version.
        item._get_connection().update_item(keys.user(user_id), actions=actions)


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

    def subscribers(self, cadence: DigestCadence) -> list[str]:
        if DigestCadence(cadence) is DigestCadence.OFF:
            raise ValueError("nobody subscribes to digest off")
        return sorted(u for u, p in self.by_user.items() if p.digest is DigestCadence(cadence))

    def set_suppression(
        self, user_id: str, suppression: EmailSuppression | None, *, at: datetime
    ) -> None:
        current = self.by_user.get(user_id) or Preferences(user_id=user_id)
        self.by_user[user_id] = replace(
            current, email_suppressed=suppression, updated_at=at, version=current.version + 1
        )


def dynamodb_store(settings: Settings) -> PreferenceStore:
    return DynamoPreferenceStore(settings)


def memory_store(audit: MemoryAuditLog) -> PreferenceStore:
    return MemoryPreferenceStore()
