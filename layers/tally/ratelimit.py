"""Per-user rate limits of the expensive routes (exports and invoices: each makes a file in the
reports function), enforced by the API before it queues the work.

Each (user, limit) is a token bucket that holds ``burst`` tokens and gains ``per_hour`` an
hour. It is stored as one number, the bucket's *theoretical arrival time* (GCRA): the moment
the bucket would be full again. Taking a token at ``now`` moves it to ``max(tat, now) +
interval``, allowed while ``max(tat, now)`` is at most ``(burst - 1) * interval`` ahead of
``now``; a refused request may come back when that is true again (``Retry-After``). The
arithmetic is here, pure and in whole milliseconds; ``tally.store.rate_limits`` applies it with
conditional writes, so two requests racing for the last token cannot both take it.

Time is real time (``tally.clock.system_now``), not the business date: a pinned
``TALLY_TODAY`` jumps back a day at every midnight, which would empty the buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tally.clock import Clock, system_now
from tally.errors import TallyError

if TYPE_CHECKING:
    from tally.store.rate_limits import RateLimitStore

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class RateLimit:
    """A limit's name (its buckets' key) and size: ``burst`` at once, ``per_hour`` sustained."""

    name: str
    per_hour: int
    burst: int

    def __post_init__(self) -> None:
        if self.per_hour < 1 or self.burst < 1:
            raise ValueError("a rate limit needs per_hour and burst of at least 1")

    @property
    def interval_ms(self) -> int:
        """Time for one token to come back, rounded up: never faster than the setting."""
        return -(-HOUR_MS // self.per_hour)

    @property
    def tolerance_ms(self) -> int:
        """How far ahead of now the bucket's tat may be before a request is refused."""
        return (self.burst - 1) * self.interval_ms

    def describe(self) -> str:
        return f"{self.burst} at once, then {self.per_hour} per hour"


def taken(tat: int | None, now: int, limit: RateLimit) -> int | None:
    """The bucket's tat once one token is taken at ``now`` (epoch milliseconds); None when the
    bucket is empty. ``tat`` None: a bucket never used or expired, which is full."""
    start = now if tat is None else max(tat, now)
    if start - now > limit.tolerance_ms:
        return None
    return start + limit.interval_ms


def retry_after(tat: int, now: int, limit: RateLimit) -> int:
    """Whole seconds until an empty bucket (``tat``) has a token again: at least 1, rounded up,
    so a client that waits exactly this long is let in."""
    wait_ms = tat - limit.tolerance_ms - now
    return max(1, -(-wait_ms // 1000))


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class RateLimited(TallyError):
    """The caller used up a rate limit; ``retry_after`` whole seconds until a token is back."""

    def __init__(self, limit: RateLimit, retry_after: int) -> None:
        super().__init__(
            f"too many {limit.name} requests: the limit is {limit.describe()}; "
            f"try again in {retry_after} seconds"
        )
        self.limit = limit
        self.retry_after = retry_after


def consume(
    store: RateLimitStore, limit: RateLimit, user_id: str, *, clock: Clock | None = None
) -> None:
    """Take one of ``user_id``'s tokens of ``limit``, or raise ``RateLimited``. ``clock``
    defaults to the real time (read at the call, so a test may pin it)."""
    now = epoch_ms((clock or system_now)())
    refused_by = store.take(user_id, limit, now)
    if refused_by is not None:
        raise RateLimited(limit, retry_after(refused_by, now, limit))
