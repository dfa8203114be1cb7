"""The token bucket arithmetic (GCRA in whole milliseconds) at its edges, and ``consume``
with an injected clock: the 429's Retry-After is whole seconds, rounded up, at least 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tally.clock import fixed_clock
from tally.ratelimit import RateLimit, RateLimited, consume, epoch_ms, retry_after, taken
from tally.store.rate_limits import MemoryRateLimitStore

LIMIT = RateLimit("reports", per_hour=10, burst=5)
NOW = 1_000_000


def test_the_interval_is_the_hour_over_the_rate_rounded_up() -> None:
    assert LIMIT.interval_ms == 360_000
    assert LIMIT.tolerance_ms == 4 * 360_000
    # 3,600,000 / 7 = 514,285.71...: never faster than 7 an hour.
    assert RateLimit("x", per_hour=7, burst=1).interval_ms == 514_286
    assert RateLimit("x", per_hour=7, burst=1).tolerance_ms == 0


@pytest.mark.parametrize(("per_hour", "burst"), [(0, 5), (10, 0), (-1, 1)])
def test_a_limit_needs_a_rate_and_a_burst(per_hour: int, burst: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimit("x", per_hour=per_hour, burst=burst)


def test_a_full_bucket_starts_from_now() -> None:
    assert taken(None, NOW, LIMIT) == NOW + LIMIT.interval_ms
    assert taken(NOW - 1, NOW, LIMIT) == NOW + LIMIT.interval_ms  # idle: no credit saved up
    assert taken(NOW, NOW, LIMIT) == NOW + LIMIT.interval_ms


def test_a_bucket_in_a_burst_takes_until_the_tolerance_and_not_one_ms_more() -> None:
    edge = NOW + LIMIT.tolerance_ms
    assert taken(edge, NOW, LIMIT) == edge + LIMIT.interval_ms
    assert taken(edge + 1, NOW, LIMIT) is None


def test_burst_one_is_one_request_per_interval() -> None:
    one = RateLimit("x", per_hour=60, burst=1)
    tat = taken(None, NOW, one)
    assert tat == NOW + 60_000
    assert taken(tat, NOW + 59_999, one) is None
    assert taken(tat, NOW + 60_000, one) == NOW + 120_000


@pytest.mark.parametrize(
    ("wait_ms", "seconds"),
    [(1, 1), (999, 1), (1000, 1), (1001, 2), (359_000, 359), (360_000, 360), (0, 1)],
)
def test_retry_after_is_whole_seconds_rounded_up(wait_ms: int, seconds: int) -> None:
    tat = NOW + LIMIT.tolerance_ms + wait_ms
    assert retry_after(tat, NOW, LIMIT) == seconds


def test_consume_refuses_with_the_wait_and_names_the_limit() -> None:
    store = MemoryRateLimitStore()
    at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    for _ in range(5):
        consume(store, LIMIT, "u-alice", clock=fixed_clock(at))
    with pytest.raises(RateLimited) as refused:
        consume(store, LIMIT, "u-alice", clock=fixed_clock(at + timedelta(seconds=10)))
    assert refused.value.retry_after == 350
    assert "5 at once, then 10 per hour" in refused.value.detail
    assert "350 seconds" in refused.value.detail
    # Waiting exactly Retry-After lets the next one in.
    consume(store, LIMIT, "u-alice", clock=fixed_clock(at + timedelta(seconds=360)))


@pytest.mark.parametrize(
    "midnight",
    [
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2028, 2, 29, tzinfo=UTC),
        datetime(2028, 3, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    ],
)
def test_a_bucket_runs_on_through_midnight_and_month_ends(midnight: datetime) -> None:
    store = MemoryRateLimitStore()
    before = midnight - timedelta(seconds=1)
    for _ in range(5):
        consume(store, LIMIT, "u-alice", clock=fixed_clock(before))
    with pytest.raises(RateLimited) as refused:
        consume(store, LIMIT, "u-alice", clock=fixed_clock(midnight))
    assert refused.value.retry_after == 359
    assert epoch_ms(midnight) - epoch_ms(before) == 1000
