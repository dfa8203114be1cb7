"""The one clock: every business date in Tally (the API's "today", the ingest window, the
forecast's "as of", the demo's data) comes from here, never from ``datetime.now`` elsewhere.

Deployed functions run on the real date. The local stack may pin a *business date* with
``TALLY_TODAY=YYYY-MM-DD`` (``make run TODAY=...``): "now" is then that day at the real time
of day, so timestamps still move while the date stands still. Security time (token expiry,
idempotency records) deliberately stays on the real clock and does not come through here.
CDK never passes ``TALLY_TODAY`` to a Lambda function (``tests/infra`` proves it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]

TODAY_VARIABLE = "TALLY_TODAY"


class ClockError(RuntimeError):
    """``TALLY_TODAY`` is set but is not a date: fail loudly rather than run on another day."""


def pinned_today(environ: os._Environ[str] | dict[str, str] | None = None) -> date | None:
    """The pinned business date, if any (read on each call, so tests can pin per test)."""
    raw = (environ if environ is not None else os.environ).get(TODAY_VARIABLE, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ClockError(f"{TODAY_VARIABLE} must be YYYY-MM-DD, not {raw!r}") from None


def system_now() -> datetime:
    """The real time, for what must not follow a pinned date (token expiry)."""
    return datetime.now(UTC)


def utc_now() -> datetime:
    """The business "now": the real time, on the pinned date when one is set."""
    real = system_now()
    pinned = pinned_today()
    if pinned is None:
        return real
    return datetime.combine(pinned, real.timetz())


def utc_today(clock: Clock = utc_now) -> date:
    return clock().astimezone(UTC).date()


def fixed_clock(moment: datetime) -> Clock:
    """A clock that always says ``moment`` (tests, replays)."""
    return lambda: moment
