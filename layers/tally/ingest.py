"""Applying a cost source's lines: allocate, replace each day read, recompute roll-ups.

Idempotent by construction: a day's records are replaced as a set (deterministic line ids,
stale lines deleted) and roll-ups are recomputed whole from the stored records, so running
the same window twice, or a retry after a failure half-way, converges to the same tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from tally.allocation import OwnerTagRule, allocate
from tally.models import ORG, CostLine, MonthlyRollup
from tally.reports import month_days, month_of
from tally.rollups import compute_rollup, organisation_rollup
from tally.sources import CostFetch, CostSource
from tally.store import Stores
from tally.users import every_user

DEFAULT_RESTATEMENT_DAYS = 3


def restatement_window(
    today: date, *, days: int = DEFAULT_RESTATEMENT_DAYS, estimated: Iterable[date] = ()
) -> tuple[date, date]:
    """[start, today): the last ``days`` days, extended back to the earliest day still marked
    estimated, but never before the first day of the previous month."""
    floor = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    start = today - timedelta(days=days)
    for d in estimated:
        if floor <= d < start:
            start = d
    return max(start, floor), today


@dataclass
class IngestResult:
    days: list[date]
    records: int = 0
    owners: set[str] = field(default_factory=set)
    months: set[str] = field(default_factory=set)
    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    restated: list[dict[str, object]] = field(default_factory=list)


def _restatements(
    old: MonthlyRollup | None, new: MonthlyRollup, *, closed: bool, now: datetime
) -> list[dict[str, object]]:
    history = list(old.restatements) if old else []
    if not closed or old is None:
        return history
    for currency in sorted(set(old.sections) | set(new.sections)):
        before = old.sections[currency].totals.billed if currency in old.sections else Decimal(0)
        after = new.sections[currency].totals.billed if currency in new.sections else Decimal(0)
        if before != after:
            history.append(
                {
                    "at": now.isoformat(),
                    "month": new.month,
                    "currency": currency,
                    "old": before,
                    "new": after,
                }
            )
    return history


def ingest_days(
    lines: Iterable[CostLine],
    days: Iterable[date],
    *,
    stores: Stores,
    rule: OwnerTagRule,
    source: str,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    metric: str = "billed",
) -> IngestResult:
    """Replace the records of each day in ``days`` with the allocation of ``lines``."""
    day_list = sorted(set(days))
    result = IngestResult(days=day_list)
    by_day: dict[date, list[CostLine]] = defaultdict(list)
    for line in lines:
        by_day[line.day].append(line)
    stray = set(by_day) - set(day_list)
    if stray:
        raise ValueError(f"source returned days outside the window: {sorted(stray)[:3]}")
    assignments = stores.assignments.all()
    tag_owners = rule.resolver(every_user(stores.users))
    touched: dict[str, set[str]] = defaultdict(set)  # month -> owners
    for n, day in enumerate(day_list):
        records = allocate(
            by_day.get(day, []),
            assignments=assignments,
            tag_owners=tag_owners,
            owner_tag_key=rule.key,
            source=source,
            fetched_at=now,
        )
        for r in records:
            result.totals[r.currency] += r.billed_cost
        result.records += len(records)
        touched[month_of(day)] |= stores.costs.replace_day(day, records)
        if progress is not None:
            progress(n + 1, len(day_list))
    current_month = month_of(now.date())
    for month, owners in sorted(touched.items()):
        first, nxt = month_days(month)
        for owner in sorted(owners):
            old = stores.rollups.get(owner, month)
            fresh = compute_rollup(owner, month, stores.costs.for_owner(owner, first, nxt), now=now)
            history = _restatements(old, fresh, closed=month < current_month, now=now)
            result.restated.extend(history[len(old.restatements) if old else 0 :])
            stores.rollups.put(
                replace(fresh, restatements=history, forecast=old.forecast if old else None)
            )
        result.owners |= owners
        result.months.add(month)
        org_old = stores.rollups.get(ORG, month)
        org = organisation_rollup(month, stores.rollups.of_month(month), now=now)
        stores.rollups.put(
            replace(
                org,
                restatements=_restatements(org_old, org, closed=month < current_month, now=now),
                forecast=org_old.forecast if org_old else None,
            )
        )
    if current_month in touched:
        refresh_forecasts(stores, [*sorted(touched[current_month]), ORG], now=now, metric=metric)
    return result


FORECAST_HISTORY_MONTHS = 2  # this month and the two before: enough for a 28-day window


def _series(
    rollups: list[MonthlyRollup], currency: str, metric: str, until: date
) -> dict[date, Decimal]:
    series: dict[date, Decimal] = {}
    for r in rollups:
        section = r.sections.get(currency)
        if section:
            for d, amounts in section.daily.items():
                day = date.fromisoformat(d)
                if day <= until:
                    series[day] = amounts.metric(metric)
    return series


def refresh_forecasts(
    stores: Stores, owners: Iterable[str], *, now: datetime, metric: str = "billed"
) -> None:
    """Forecast this month's end and the next 30 days for each owner, per currency, from the
    daily figures up to yesterday; stored on this month's roll-up."""
    from tally.forecast import forecast  # only the ingest job pays for the statistics

    as_of = now.date() - timedelta(days=1)
    month = month_of(now.date())
    first = month_of(now.date().replace(day=1) - timedelta(days=32 * FORECAST_HISTORY_MONTHS))
    for owner in owners:
        history = stores.rollups.months(owner, first, month)
        current = next((r for r in history if r.month == month), None)
        if current is None:
            continue
        # A day with no record is a zero-cost day, not a missing one.
        start = min(
            (date.fromisoformat(d) for r in history for s in r.sections.values() for d in s.daily),
            default=as_of,
        )
        forecasts: dict[str, object] = {}
        for currency in current.sections:
            series = _series(history, currency, metric, as_of)
            day = start
            while day <= as_of:
                series.setdefault(day, Decimal(0))
                day += timedelta(days=1)
            forecasts[currency] = forecast(series, as_of=as_of).to_dict()
        stores.rollups.put(replace(current, forecast=forecasts or None))


def run_source(
    source: CostSource,
    start: date,
    end: date,
    *,
    stores: Stores,
    rule: OwnerTagRule,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    metric: str = "billed",
) -> tuple[IngestResult, CostFetch]:
    """Read ``[start, end)`` from ``source`` and replace exactly the days it covered.

    A source failure raises before anything is written; a day the source had no data for
    yet is left as stored rather than wiped.
    """
    fetch = source.fetch(start, end)
    lines = list(fetch)
    covered = fetch.covered_days
    result = ingest_days(
        (line for line in lines if line.day in covered),
        covered,
        stores=stores,
        rule=rule,
        source=fetch.source_name,
        now=now,
        progress=progress,
        metric=metric,
    )
    return result, fetch
