"""Cost anomalies: what detection finds (``Finding``), what is stored and shown (``Anomaly``)
and the rules detection follows (``AnomalyRules``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from tally.models import Metric


class AnomalyStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AnomalyRules:
    """How detection judges a day. Defaults are the documented settings."""

    # Below this excess (in the costs' currency) nobody is told: cents page no one.
    min_impact: Decimal = Decimal("10.00")
    # Days judged on each run, yesterday backwards: a first run after a long ingest (the local
    # demo's 90 days) still finds what happened lately; the store makes re-judging idempotent.
    lookback_days: int = 14
    baseline_weeks: int = 8  # history a day is judged against
    min_history_days: int = 14  # fewer days of history than this: not judged
    threshold: float = 4.5  # robust z-score (MAD-scaled) a day must exceed (see make bench)
    large_share: Decimal = Decimal("0.20")  # resources judged on their own above this share
    metric: Metric = Metric.EFFECTIVE


@dataclass(frozen=True)
class Finding:
    """One day of one series judged anomalous, with its root cause."""

    day: date
    service: str
    resource_id: str | None  # the resource behind most of the excess; None: no resource
    usage_unit: str | None
    currency: str
    expected: Decimal
    actual: Decimal
    score: Decimal  # (actual - expected) / robust scale

    @property
    def impact(self) -> Decimal:
        return self.actual - self.expected

    @property
    def cause(self) -> str:
        return cause_key(self.service, self.resource_id, self.currency)


@dataclass(frozen=True)
class Anomaly:
    """One episode: consecutive anomalous days of one root cause for one user. ``day`` is its
    first day, ``last_day`` its latest; the amounts are the episode's totals and ``score`` its
    highest day's."""

    anomaly_id: str
    user_id: str
    day: date
    last_day: date
    service: str
    resource_id: str | None
    usage_unit: str | None
    currency: str
    expected: Decimal
    actual: Decimal
    score: Decimal
    status: AnomalyStatus
    detected_at: datetime
    updated_at: datetime

    @property
    def impact(self) -> Decimal:
        return self.actual - self.expected

    @property
    def cause(self) -> str:
        return cause_key(self.service, self.resource_id, self.currency)

    def covers(self, day: date) -> bool:
        return self.day <= day <= self.last_day


def cause_key(service: str, resource_id: str | None, currency: str) -> str:
    """A short fixed-width key of a root cause (service, resource, currency): ARNs are long and
    hold characters a path or a sort key would rather not."""
    text = "\n".join([service, resource_id or "", currency])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def anomaly_id(user_id: str, day: date, cause: str) -> str:
    """``<user, base64url>.<YYYYMMDD>.<cause>``: safe in a URL path, and it names the user, so
    the store reads it by key (consistently) without an index."""
    user = base64.urlsafe_b64encode(user_id.encode()).decode().rstrip("=")
    return f"{user}.{day:%Y%m%d}.{cause}"


def parse_anomaly_id(value: str) -> tuple[str, date, str] | None:
    """(user id, first day, cause) of an id; None when it is not one."""
    parts = value.split(".")
    if len(parts) != 3 or len(parts[2]) != 16 or len(parts[1]) != 8:
        return None
    user, day, cause = parts
    try:
        user_id = base64.urlsafe_b64decode(user + "=" * (-len(user) % 4)).decode()
        first = date(int(day[:4]), int(day[4:6]), int(day[6:]))
        int(cause, 16)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not user_id or anomaly_id(user_id, first, cause) != value:
        return None
    return user_id, first, cause
