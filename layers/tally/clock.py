"""Time, injectable: the domain never calls ``datetime.now`` directly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_today(clock: Clock = utc_now) -> date:
    return clock().astimezone(UTC).date()
