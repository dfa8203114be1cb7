"""Anomaly detection, the pure part: a user's cost records in, anomalous days out.

Each series is one (service, currency) of the user's usage, and one per large resource (at
least ``large_share`` of the user's last four weeks). A day is judged against the weeks
before it with a robust, weekday-aware model:

- weekday profile: the median of each weekday over the baseline, as a factor of their mean
  (a quiet weekend is not an anomaly, and a busy Monday is not either);
- level: the median of the seven days before the day, with the weekday profile taken out.
  Seven days, not the whole baseline: a trend or a permanent step is followed within days,
  so a step up is anomalous on its first three or four days (one episode) and then the new
  normal, while a one- or two-day spike cannot move a median of seven;
- scale: 1.4826 x the median absolute deviation of the baseline's own day-on-level residuals
  (a standard deviation where the noise is normal, unmoved by past spikes), never below
  ``RELATIVE_FLOOR`` of the expected cost (a flat series would otherwise flag a cent).

A day is anomalous when ``(actual - expected) / scale > threshold`` and the excess is at least
``min_impact``: increases only, spend that drops alarms no one. The root cause of a service's
anomalous day is the resource with the largest excess over its own expectation that day.

Only ``Usage`` lines count: tax, credits, refunds and purchases are one-off by nature (a
monthly tax line would otherwise be an anomaly every month).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import median

from tally.anomalies.model import AnomalyRules, Finding
from tally.models import CostRecord

MAD_TO_SIGMA = 1.4826
LEVEL_DAYS = 7
RELATIVE_FLOOR = 0.05
ABSOLUTE_FLOOR = 0.01
LARGE_SHARE_DAYS = 28
_CENT = Decimal("0.01")

Series = Mapping[date, float]


@dataclass(frozen=True)
class Baseline:
    expected: float
    scale: float


def baseline(
    values: Series, day: date, *, first: date, weeks: int, min_days: int
) -> Baseline | None:
    """What ``day`` is expected to cost from the days before it (back ``weeks`` weeks, not
    before ``first``, the start of the history; a day without a value cost nothing). None
    with fewer than ``min_days`` days of history."""
    start = max(first, day - timedelta(weeks=weeks))
    count = (day - start).days
    if count < max(min_days, 1):
        return None
    days = [start + timedelta(days=n) for n in range(count)]
    xs = [values.get(d, 0.0) for d in days]
    profile = weekday_profile(days, xs)
    # A weekday that usually costs nothing carries no level information.
    ys = [
        x / profile[d.weekday()] if profile[d.weekday()] > 0 else None
        for d, x in zip(days, xs, strict=True)
    ]

    def level(end: int) -> float | None:
        window = [y for y in ys[max(0, end - LEVEL_DAYS) : end] if y is not None]
        return median(window) if window else None

    residuals = []
    for n in range(LEVEL_DAYS, count):
        y, at = ys[n], level(n)
        if y is not None and at is not None:
            residuals.append(y - at)
    now = level(count) or 0.0
    spread = 0.0
    if residuals:
        centre = median(residuals)
        spread = MAD_TO_SIGMA * median(abs(r - centre) for r in residuals)
    factor = profile[day.weekday()]
    expected = max(0.0, now * factor)
    scale = max(spread * factor, RELATIVE_FLOOR * expected, ABSOLUTE_FLOOR)
    return Baseline(expected, scale)


def weekday_profile(days: list[date], xs: list[float]) -> dict[int, float]:
    """Each weekday's cost as a factor of its week's: the median over the baseline of the day
    against the mean of the seven days centred on it (which holds each weekday once, so the
    rhythm cancels out of it). Against the local mean, not the whole baseline's: a step or a
    trend inside the baseline does not bend the rhythm. Factors average 1; without enough days
    (or spend), no rhythm."""
    half = LEVEL_DAYS // 2
    ratios: dict[int, list[float]] = defaultdict(list)
    for n in range(half, len(days) - half):
        week = sum(xs[n - half : n + half + 1]) / LEVEL_DAYS
        if week > 0:
            ratios[days[n].weekday()].append(xs[n] / week)
    if len(ratios) < 7:
        return {w: 1.0 for w in range(7)}
    medians = {w: median(v) for w, v in ratios.items()}
    mean = sum(medians.values()) / 7
    if mean <= 0:
        return {w: 1.0 for w in range(7)}
    return {w: medians[w] / mean for w in range(7)}


def score(actual: float, base: Baseline) -> float:
    return (actual - base.expected) / base.scale


def is_anomalous(actual: Decimal, base: Baseline, rules: AnomalyRules) -> bool:
    excess = actual - _money(base.expected)
    return excess >= rules.min_impact and score(float(actual), base) > rules.threshold


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_CENT, rounding=ROUND_HALF_EVEN)


def _add(group: dict[date, Decimal], day: date, amount: Decimal) -> None:
    group[day] = group.get(day, Decimal(0)) + amount


def judged_days(today: date, rules: AnomalyRules) -> list[date]:
    """The days a run judges: the ``lookback_days`` before ``today``, oldest first."""
    return [today - timedelta(days=n) for n in range(rules.lookback_days, 0, -1)]


def history_start(today: date, rules: AnomalyRules) -> date:
    """The first day of cost records a run needs."""
    return today - timedelta(days=rules.lookback_days + 7 * rules.baseline_weeks)


def detect(records: Iterable[CostRecord], *, today: date, rules: AnomalyRules) -> list[Finding]:
    """The anomalous days among ``judged_days(today)`` of one user's ``records`` (which cover
    ``history_start(today)`` to ``today``), each with its root cause; by day, then cause.
    Pure and deterministic."""
    usage = [r for r in records if r.charge_category == "Usage" and r.day < today]
    if not usage:
        return []
    first = min(r.day for r in usage)
    services: dict[tuple[str, str], dict[date, Decimal]] = defaultdict(dict)
    resources: dict[tuple[str, str | None, str], dict[date, Decimal]] = defaultdict(dict)
    units: dict[tuple[str, str | None, str, date], dict[str, Decimal]] = defaultdict(dict)
    for r in usage:
        amount = r.amount(rules.metric)
        _add(services[(r.service, r.currency)], r.day, amount)
        _add(resources[(r.service, r.resource_id, r.currency)], r.day, amount)
        if r.usage_unit:
            spent = units[(r.service, r.resource_id, r.currency, r.day)]
            spent[r.usage_unit] = spent.get(r.usage_unit, Decimal(0)) + abs(amount)

    def unit_of(service: str, resource: str | None, currency: str, day: date) -> str | None:
        spent = units.get((service, resource, currency, day))
        return max(sorted(spent), key=lambda u: spent[u]) if spent else None

    def judge(amounts: dict[date, Decimal], day: date) -> tuple[Baseline, Decimal] | None:
        base = baseline(
            {d: float(a) for d, a in amounts.items()},
            day,
            first=first,
            weeks=rules.baseline_weeks,
            min_days=rules.min_history_days,
        )
        if base is None:
            return None
        return base, amounts.get(day, Decimal(0))

    found: dict[tuple[date, str], Finding] = {}

    def keep(finding: Finding) -> None:
        key = (finding.day, finding.cause)
        held = found.get(key)
        if held is None or finding.score > held.score:
            found[key] = finding

    days = judged_days(today, rules)
    for (service, currency), amounts in sorted(services.items()):
        for day in days:
            judged = judge(amounts, day)
            if judged is None or not is_anomalous(judged[1], judged[0], rules):
                continue
            base, actual = judged
            resource = _root_cause(resources, service, currency, day, judge)
            keep(
                Finding(
                    day=day,
                    service=service,
                    resource_id=resource,
                    usage_unit=unit_of(service, resource, currency, day),
                    currency=currency,
                    expected=_money(base.expected),
                    actual=actual,
                    score=_score(actual, base),
                )
            )
    for service, resource, currency in _large_resources(usage, today, rules):
        amounts = resources[(service, resource, currency)]
        for day in days:
            judged = judge(amounts, day)
            if judged is None or not is_anomalous(judged[1], judged[0], rules):
                continue
            base, actual = judged
            keep(
                Finding(
                    day=day,
                    service=service,
                    resource_id=resource,
                    usage_unit=unit_of(service, resource, currency, day),
                    currency=currency,
                    expected=_money(base.expected),
                    actual=actual,
                    score=_score(actual, base),
                )
            )
    return [found[key] for key in sorted(found)]


def _score(actual: Decimal, base: Baseline) -> Decimal:
    return Decimal(repr(round(score(float(actual), base), 2))).quantize(_CENT)


def _root_cause(
    resources: Mapping[tuple[str, str | None, str], dict[date, Decimal]],
    service: str,
    currency: str,
    day: date,
    judge: Callable[[dict[date, Decimal], date], tuple[Baseline, Decimal] | None],
) -> str | None:
    """The resource of ``service`` whose cost on ``day`` exceeds its own expectation most;
    None when that is the lines without a resource."""
    best: tuple[Decimal, str] | None = None
    cause: str | None = None
    for (svc, resource, cur), amounts in resources.items():
        if svc != service or cur != currency:
            continue
        judged = judge(amounts, day)
        if judged is None:
            continue
        base, actual = judged
        excess = actual - _money(base.expected)
        rank = (excess, resource or "")
        if best is None or rank > best:
            best, cause = rank, resource
    return cause


def _large_resources(
    usage: list[CostRecord], today: date, rules: AnomalyRules
) -> list[tuple[str, str | None, str]]:
    """Resources with at least ``large_share`` of the user's usage in the last four weeks
    (per currency), sorted."""
    since = today - timedelta(days=LARGE_SHARE_DAYS)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    by_resource: dict[tuple[str, str | None, str], Decimal] = defaultdict(Decimal)
    for r in usage:
        if r.day < since or r.resource_id is None:
            continue
        amount = r.amount(rules.metric)
        totals[r.currency] += amount
        by_resource[(r.service, r.resource_id, r.currency)] += amount
    return sorted(
        key
        for key, amount in by_resource.items()
        if totals[key[2]] > 0 and amount >= rules.large_share * totals[key[2]]
    )
