"""The token buckets of the per-user rate limits (``tally.ratelimit``): one item per (user,
limit), pk USER#<user>, sk LIMIT#<limit name>, in the ratelimits table.

The item holds the bucket's theoretical arrival time (``tat``, epoch milliseconds) and is
changed only by conditional UpdateItems, never read first, so racing requests cannot both take
the last token. DynamoDB's update expressions have no ``max``, so the two cases of
``max(tat, now) + interval`` are two conditions:

1. a full bucket (no item, or ``tat <= now``): ``SET tat = now + interval``;
2. a bucket in a burst (``now < tat <= now + tolerance``): ``SET tat = tat + interval``.

The first is tried first: it is the usual case of an expensive route (used now and then). When
its condition fails, DynamoDB hands back the item (ReturnValuesOnConditionCheckFailure), so a
refusal costs that one request and says how long to wait; only a request inside a burst takes
a second. The TTL (``expires``) is when the bucket is surely full again: after that the item
says nothing a missing one would not.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

from botocore.exceptions import ClientError
from pynamodb.attributes import NumberAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from tally import tables
from tally.ratelimit import RateLimit, taken
from tally.settings import Settings
from tally.store import keys
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem

_FAILED_CONDITION = "ConditionalCheckFailedException"
# Each round is at most two writes; another round only when other requests moved the bucket
# between them in a way that fits neither condition (an item expiring in between).
_ROUNDS = 3


class RateLimitStore(Protocol):
    def take(self, user_id: str, limit: RateLimit, now: int) -> int | None:
        """Take one token of ``user_id``'s ``limit`` bucket at ``now`` (epoch milliseconds):
        None when taken; else the bucket's tat, which refused it (nothing changed)."""


class RateLimitItem(KeyedItem):
    """pk USER#<user>, sk LIMIT#<limit name>."""

    spec = tables.RATE_LIMITS

    tat = NumberAttribute()
    expires = NumberAttribute()


def _expires(limit: RateLimit, now: int) -> int:
    """Epoch seconds by which a bucket taken from at ``now`` is full again (its tat is at most
    ``now + tolerance + interval`` after the take)."""
    return -(-(now + limit.tolerance_ms + limit.interval_ms) // 1000)


class DynamoRateLimitStore(DynamoStore):
    def take(self, user_id: str, limit: RateLimit, now: int) -> int | None:
        tat = RateLimitItem.tat
        expires = RateLimitItem.expires.set(_expires(limit, now))
        full = tat.does_not_exist() | (tat <= now)
        in_burst = (tat > now) & (tat <= now + limit.tolerance_ms)
        for _ in range(_ROUNDS):
            for actions, condition in (
                ([tat.set(now + limit.interval_ms), expires], full),
                ([tat.add(limit.interval_ms), expires], in_burst),
            ):
                applied, seen = self._update(user_id, limit, actions, condition)
                if applied:
                    return None
                if seen is not None and taken(seen, now, limit) is None:
                    return seen  # empty: refused, with the tat that says for how long
        raise RuntimeError(f"the {limit.name} bucket of {user_id} kept changing; try again")

    def _update(
        self, user_id: str, limit: RateLimit, actions: Sequence[Action], condition: Condition
    ) -> tuple[bool, int | None]:
        """Apply ``actions`` if ``condition`` holds: (applied, the tat a failed condition saw,
        None when there was no item)."""
        connection = RateLimitItem._get_connection()
        request = connection.get_operation_kwargs(
            keys.user(user_id),
            keys.rate_limit(limit.name),
            actions=actions,
            condition=condition,
            return_values_on_condition_failure="ALL_OLD",
        )
        # pynamodb's own update drops the item DynamoDB returns with a failed condition: the
        # request goes through its botocore client instead (the same serialisation).
        try:
            connection.connection.client.update_item(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != _FAILED_CONDITION:
                raise
            item: dict[str, Any] = error.response.get("Item") or {}
            return False, int(item["tat"]["N"]) if "tat" in item else None
        return True, None


class MemoryRateLimitStore:
    def __init__(self) -> None:
        self.buckets: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()  # a conditional update is atomic; so is this one

    def take(self, user_id: str, limit: RateLimit, now: int) -> int | None:
        with self._lock:
            tat = self.buckets.get((user_id, limit.name))
            after = taken(tat, now, limit)
            if after is None:
                assert tat is not None  # a missing bucket is full
                return tat
            self.buckets[(user_id, limit.name)] = after
            return None


def dynamodb_store(settings: Settings) -> RateLimitStore:
    return DynamoRateLimitStore(settings)


def memory_store(audit: MemoryAuditLog) -> RateLimitStore:
    return MemoryRateLimitStore()
