"""``make bench``, anomalies section: how well ``tally.anomalies.detect`` finds anomalies
planted in synthetic daily cost series, and how often it cries wolf.

Each series is ``DAYS`` days of one service's cost: a level between $20 and $500 a day, a
weekly rhythm (quiet weekends at 30-80% of a weekday, or none), a trend (-0.3% to +0.5% a
day), multiplicative normal noise (3-8%), and planted events: one to three spikes (one or two
days, each adding 0.3 to 3 times the day's level: the smallest are near the noise) and, in one
series of three, a permanent step up (x1.6-2.5). Every day from the ninth week on is judged
as the daily run would judge it, from the days before it only.

- detection rate: planted events found (a spike on one of its days; a step on one of its
  first four days: it is meant to become the new normal after that);
- false positives per 1,000 judged days: anomalous days outside every planted event (the
  week after a step, while the level catches up, belongs to the step).

Deterministic (a seeded generator); ``tests/unit/test_anomalies_quality.py`` asserts the
figures on a smaller draw.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from tally.anomalies.detect import LEVEL_DAYS, baseline, is_anomalous
from tally.anomalies.model import AnomalyRules

DAYS = 140
FIRST_JUDGED = 56
START = date(2026, 5, 4)  # a Monday
STEP_WINDOW = 4


@dataclass
class Series:
    values: dict[date, float]
    spikes: list[list[date]] = field(default_factory=list)
    step: date | None = None


def generate(count: int, *, seed: int = 12) -> list[Series]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        level = rng.uniform(20, 500)
        weekend = rng.uniform(0.3, 0.8) if rng.random() < 0.6 else 1.0
        trend = rng.uniform(-0.003, 0.005)
        noise = rng.uniform(0.03, 0.08)
        step_at = FIRST_JUDGED + rng.randrange(5, DAYS - FIRST_JUDGED - 10) if n % 3 == 0 else None
        step = rng.uniform(1.6, 2.5)
        spike_days: list[list[int]] = []
        taken: set[int] = set()
        for _ in range(rng.randint(1, 3)):
            first = rng.randrange(FIRST_JUDGED, DAYS - 2)
            length = rng.choice((1, 2))
            days = list(range(first, first + length))
            near = set(range(first - 8, first + length + 8))
            if near & taken or (step_at is not None and abs(first - step_at) < 10):
                continue
            taken |= set(days)
            spike_days.append(days)
        values: dict[date, float] = {}
        for t in range(DAYS):
            day = START + timedelta(days=t)
            today = level * (1 + trend) ** t * (step if step_at is not None and t >= step_at else 1)
            season = weekend if day.weekday() >= 5 else 1.0
            x = today * season * max(0.0, rng.gauss(1.0, noise))
            if any(t in s for s in spike_days):
                x += today * rng.uniform(0.3, 3.0)
            values[day] = x
        out.append(
            Series(
                values=values,
                spikes=[[START + timedelta(days=t) for t in s] for s in spike_days],
                step=START + timedelta(days=step_at) if step_at is not None else None,
            )
        )
    return out


@dataclass(frozen=True)
class Score:
    events: int
    found: int
    judged_days: int
    false_positives: int

    @property
    def detection_rate(self) -> float:
        return self.found / self.events if self.events else 1.0

    @property
    def false_positives_per_1000(self) -> float:
        return 1000 * self.false_positives / self.judged_days


def evaluate(series: list[Series], rules: AnomalyRules | None = None) -> Score:
    rules = rules or AnomalyRules()
    events = found = judged = false = 0
    for s in series:
        flagged = set()
        for t in range(FIRST_JUDGED, DAYS):
            day = START + timedelta(days=t)
            base = baseline(
                s.values,
                day,
                first=START,
                weeks=rules.baseline_weeks,
                min_days=rules.min_history_days,
            )
            judged += 1
            actual = Decimal(repr(round(s.values[day], 2)))
            if base is not None and is_anomalous(actual, base, rules):
                flagged.add(day)
        explained: set[date] = set()
        for spike in s.spikes:
            events += 1
            found += bool(flagged & set(spike))
            explained |= set(spike)
        if s.step is not None:
            events += 1
            first_days = {s.step + timedelta(days=n) for n in range(STEP_WINDOW)}
            found += bool(flagged & first_days)
            explained |= {s.step + timedelta(days=n) for n in range(LEVEL_DAYS + 1)}
        false += len(flagged - explained)
    return Score(events, found, judged, false)


def run(count: int = 300) -> list[tuple[str, str]]:
    score = evaluate(generate(count))
    return [
        ("series x judged days", f"{count} x {DAYS - FIRST_JUDGED} = {score.judged_days:,}"),
        ("planted events (spikes, steps)", f"{score.events}"),
        ("detection rate", f"{score.detection_rate:.1%}"),
        ("false positives per 1,000 judged days", f"{score.false_positives_per_1000:.2f}"),
    ]
