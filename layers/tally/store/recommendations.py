"""Savings recommendations: each owner's set, and the organisation's, replaced whole by every
refresh (``tally.recommendations.refresh_recommendations``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Protocol

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from tally import tables
from tally.models import Recommendation
from tally.settings import Settings
from tally.store import keys
from tally.store.attributes import DecimalAttribute
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem


class RecommendationStore(Protocol):
    def for_owner(self, owner: str) -> list[Recommendation]:
        """The owner's recommendations (a user id or ``UNALLOCATED``), in id order."""

    def all(self) -> list[Recommendation]:
        """Every owner's recommendations, in id order."""

    def replace_all(self, recommendations: Iterable[Recommendation]) -> tuple[int, int]:
        """Make ``recommendations`` the whole stored set: those not in it are deleted, the
        others written as given. Returns (written, deleted)."""


def _sorted(items: Iterable[Recommendation]) -> list[Recommendation]:
    return sorted(items, key=lambda r: r.recommendation_id)


class EveryRecommendation(GlobalSecondaryIndex["RecommendationItem"]):
    class Meta:
        index_name = tables.RECOMMENDATIONS.indexes[0].name
        projection = AllProjection()

    listed = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class RecommendationItem(KeyedItem):
    """pk OWNER#<owner>, sk REC#<recommendation id>."""

    spec = tables.RECOMMENDATIONS

    listed = UnicodeAttribute()  # keys.DIRECTORY: every item is in the "all" index
    owner = UnicodeAttribute()
    kind = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    resource_type = UnicodeAttribute()
    service = UnicodeAttribute()
    title = UnicodeAttribute()
    detail = UnicodeAttribute()
    monthly_saving = DecimalAttribute()
    currency = UnicodeAttribute()
    evidence = UnicodeAttribute()  # a JSON object of strings, read whole
    detected_at = UTCDateTimeAttribute()
    every = EveryRecommendation()


def _item(r: Recommendation) -> RecommendationItem:
    return RecommendationItem(
        pk=keys.owner(r.owner),
        sk=keys.recommendation(r.recommendation_id),
        listed=keys.DIRECTORY,
        owner=r.owner,
        kind=r.kind,
        resource_id=r.resource_id,
        resource_type=r.resource_type,
        service=r.service,
        title=r.title,
        detail=r.detail,
        monthly_saving=r.monthly_saving,
        currency=r.currency,
        evidence=json.dumps(r.evidence, sort_keys=True),
        detected_at=r.detected_at,
    )


def _recommendation(i: RecommendationItem) -> Recommendation:
    return Recommendation(
        recommendation_id=keys.recommendation.id_of(i.sk),
        owner=i.owner,
        kind=i.kind,
        resource_id=i.resource_id,
        resource_type=i.resource_type,
        service=i.service,
        title=i.title,
        detail=i.detail,
        monthly_saving=i.monthly_saving,
        currency=i.currency,
        evidence=json.loads(i.evidence),
        detected_at=i.detected_at,
    )


class DynamoRecommendationStore(DynamoStore):
    def for_owner(self, owner: str) -> list[Recommendation]:
        found = RecommendationItem.query(
            keys.owner(owner), RecommendationItem.sk.startswith(keys.recommendation(""))
        )
        return _sorted(map(_recommendation, found))

    def all(self) -> list[Recommendation]:
        return _sorted(map(_recommendation, RecommendationItem.every.query(keys.DIRECTORY)))

    def replace_all(self, recommendations: Iterable[Recommendation]) -> tuple[int, int]:
        fresh = {(i.pk, i.sk): i for i in map(_item, recommendations)}
        stale = [
            key
            for key in ((i.pk, i.sk) for i in RecommendationItem.every.query(keys.DIRECTORY))
            if key not in fresh
        ]
        # Puts overwrite and deletes of gone items are harmless: a retried refresh converges.
        with RecommendationItem.batch_write() as batch:
            for pk, sk in stale:
                batch.delete(RecommendationItem(pk=pk, sk=sk))
            for item in fresh.values():
                batch.save(item)
        return len(fresh), len(stale)


class MemoryRecommendationStore:
    def __init__(self) -> None:
        self.items: dict[str, Recommendation] = {}

    def for_owner(self, owner: str) -> list[Recommendation]:
        return _sorted(r for r in self.items.values() if r.owner == owner)

    def all(self) -> list[Recommendation]:
        return _sorted(self.items.values())

    def replace_all(self, recommendations: Iterable[Recommendation]) -> tuple[int, int]:
        fresh = {r.recommendation_id: r for r in recommendations}
        deleted = len(self.items.keys() - fresh.keys())
        self.items = fresh
        return len(fresh), deleted


def dynamodb_store(settings: Settings) -> RecommendationStore:
    return DynamoRecommendationStore(settings)


def memory_store(audit: MemoryAuditLog) -> RecommendationStore:
    return MemoryRecommendationStore()
