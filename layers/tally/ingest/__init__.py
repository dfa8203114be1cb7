"""Applying a cost source's lines: allocate, replace each day read, recompute roll-ups.

Idempotent by construction: a day's records are replaced as a set (deterministic line ids,
stale lines deleted) and roll-ups are recomputed whole from the stored records, so running
the same window twice, or a retry after a failure half-way, converges to the same tables.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from tally.allocation import OwnerTagRule, allocate, merge_lines
from tally.calendar import month_days, month_of, previous_month, previous_month_start
from tally.commitments.amortise import amortised
from tally.commitments.focus import recording_uses
from tally.models import ORG, CostLine, CostRecord, Metric, MonthlyRollup
from tally.names import line_names, record_name
from tally.rollups import compute_rollup
from tally.sources import CostFetch, CostSource
from tally.store import Stores
from tally.users import every_user

DEFAULT_RESTATEMENT_DAYS = 3


def restatement_window(
    today: date, *, days: int = DEFAULT_RESTATEMENT_DAYS, estimated: Iterable[date] = ()
) -> tuple[date, date]:
    """[start, today): the last ``days`` days, extended back to the earliest day still marked
    estimated, but never before the first day of the previous month."""
    floor = previous_month_start(today)
    start = today - timedelta(days=days)
    for d in estimated:
        if floor <= d < start:
            start = d
    return max(start, floor), today


@dataclass
class IngestResult:
    days: list[date]
    records: int = 0
    # The source's lines read, and the newest day that had any (the ingest's lag metric).
    lines: int = 0
    newest_day: date | None = None
    owners: set[str] = field(default_factory=set)
    months: set[str] = field(default_factory=set)
    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    restated: list[dict[str, object]] = field(default_factory=list)
    names_written: int = 0  # name directory entries new or changed (tally.store.names)


def restatement_history(
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
    metric: Metric = Metric.EFFECTIVE,
) -> IngestResult:
    """Replace the records of each day in ``days`` with the allocation of ``lines``."""
    day_list = sorted(set(days))
    result = IngestResult(days=day_list)
    by_day: dict[date, list[CostLine]] = defaultdict(list)
    for line in lines:
        by_day[line.day].append(line)
        result.lines += 1
    result.newest_day = max(by_day, default=None)
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
        org_records = organisation_records(
            by_day.get(day, []), owner_tag_key=rule.key, source=source, fetched_at=now
        )
        touched[month_of(day)] |= stores.costs.replace_day(day, [*records, *org_records])
        if progress is not None:
            progress(n + 1, len(day_list))
    # Once per resource a run, after its records: only a new or changed name is written.
    result.names_written = stores.names.remember(
        line_names(line for day in day_list for line in by_day.get(day, []))
    )
    current_month = month_of(now.date())
    for month, owners in sorted(touched.items()):
        first, nxt = month_days(month)
        # ORG is an owner like the others: its roll-up is computed from its own records, so
        # the organisation's totals, days and top resources are exact and agree with its lines.
        for owner in sorted(owners):
            old = stores.rollups.get(owner, month)
            fresh = compute_rollup(owner, month, stores.costs.for_owner(owner, first, nxt), now=now)
            history = restatement_history(old, fresh, closed=month < current_month, now=now)
            if owner != ORG:
                result.restated.extend(history[len(old.restatements) if old else 0 :])
            stores.rollups.put(
                replace(fresh, restatements=history, forecast=old.forecast if old else None)
            )
        result.owners |= owners - {ORG}
        result.months.add(month)
    # Every run, not only when it read this month: on the 1st it reads last month's days alone.
    refresh_forecasts(
        stores, sorted(touched.get(current_month, set()) | {ORG}), now=now, metric=metric
    )
    return result


def organisation_records(
    lines: Iterable[CostLine], *, owner_tag_key: str, source: str, fetched_at: datetime
) -> list[CostRecord]:
    """The organisation's own records of a day: each line as billed, before allocation.

    Stored under the owner ``ORG`` beside the allocated records, so the organisation's cost
    lines are one Query like anyone's, and the day's conservation (ORG == users + unallocated)
    can be checked in storage."""
    return organisation_records_merged(
        merge_lines(lines, owner_tag_key), source=source, fetched_at=fetched_at
    )


def organisation_records_merged(
    merged: Mapping[tuple[str, ...], CostLine], *, source: str, fetched_at: datetime
) -> list[CostRecord]:
    """``organisation_records`` of lines already merged (``merge_lines``)."""
    records = []
    for identity, line in merged.items():
        line_id = hashlib.sha256("\x1f".join((*identity, ORG)).encode()).hexdigest()[:24]
        records.append(
            CostRecord(
                owner=ORG,
                day=line.day,
                line_id=line_id,
                service=line.service,
                resource_id=line.resource_id,
                usage_quantity=line.usage_quantity,
                usage_unit=line.usage_unit,
                billed_cost=line.billed_cost,
                effective_cost=line.effective_cost,
                currency=line.currency,
                charge_category=line.charge_category,
                estimated=line.estimated,
                source=source,
                fetched_at=fetched_at,
                allocation="organisation",
                resource_name=record_name(line),
            )
        )
    return records


FORECAST_HISTORY_MONTHS = 3  # this month and the three before: a 28-day window, recurring charges


def _series(
    rollups: list[MonthlyRollup], currency: str, metric: Metric, until: date
) -> tuple[dict[date, Decimal], dict[date, dict[str, Decimal]]]:
    """The daily usage and the other charges per day and category, up to ``until``.

    A day's usage is its total less its other charges, so a roll-up stored before the per-day
    split existed counts wholly as usage instead of losing its figures."""
    from tally.forecast import USAGE

    usage: dict[date, Decimal] = {}
    charges: dict[date, dict[str, Decimal]] = {}
    for r in rollups:
        section = r.sections.get(currency)
        if not section:
            continue
        for d, amounts in section.daily.items():
            day = date.fromisoformat(d)
            if day > until:
                continue
            other = {
                category: split.amount(metric)
                for category, split in section.daily_by_category.get(d, {}).items()
                if category != USAGE and split.amount(metric) != 0
            }
            usage[day] = amounts.amount(metric) - sum(other.values(), Decimal(0))
            if other:
                charges[day] = other
    return usage, charges


def forecast_months(now: datetime) -> tuple[str, str]:
    """The roll-up months a forecast made at ``now`` reads: the first of its history, and
    this month (the one it is stored on)."""
    month = month_of(now.date())
    first = month
    for _ in range(FORECAST_HISTORY_MONTHS):
        first = previous_month(first)
    return first, month


def with_forecast(
    owner: str, history: list[MonthlyRollup], *, now: datetime, metric: Metric = Metric.EFFECTIVE
) -> MonthlyRollup | None:
    """This month's roll-up of ``owner`` carrying a fresh forecast, from ``history`` (the
    owner's roll-ups of ``forecast_months(now)``); None when the owner needs none (no roll-up
    this month and no costs last month: see ``refresh_forecasts``)."""
    # Only the ingest job pays for the statistics.
    from tally.forecast import Forecast
    from tally.forecast.projection import forecast

    as_of = now.date() - timedelta(days=1)
    month = month_of(now.date())
    previous = previous_month(month)
    current = next((r for r in history if r.month == month), None)
    last = next((r for r in history if r.month == previous and r.sections), None)
    if current is None:
        if last is None:
            return None
        current = MonthlyRollup(owner, month, {}, False, 0, now)
    # A day with no record is a zero-cost day, not a missing one.
    start = min(
        (date.fromisoformat(d) for r in history for s in r.sections.values() for d in s.daily),
        default=as_of,
    )
    forecasts: dict[str, Forecast] = {}
    for currency in sorted(set(current.sections) | set(last.sections if last else ())):
        usage, charges = _series(history, currency, metric, as_of)
        day = start
        while day <= as_of:
            usage.setdefault(day, Decimal(0))
            day += timedelta(days=1)
        forecasts[currency] = forecast(usage, as_of=as_of, charges=charges)
    return replace(current, forecast=forecasts or None)


def refresh_forecasts(
    stores: Stores, owners: Iterable[str] = (), *, now: datetime, metric: Metric = Metric.EFFECTIVE
) -> None:
    """Forecast this month's end and the next 30 days, per currency, from the daily figures up
    to yesterday (``now`` is the run's time, never the wall clock); stored on this month's
    roll-up.

    Refreshed: ``owners`` (those whose figures this run changed) and every owner with costs
    last month. On the 1st no cost of the new month has arrived yet, so an owner with costs
    last month gets a roll-up with no sections that carries the new month's forecast ("no
    costs yet"); one whose last month was empty gets none, so nobody who left keeps getting
    empty months."""
    first, month = forecast_months(now)
    previous = previous_month(month)
    everyone = set(owners) | {r.owner for r in stores.rollups.of_month(previous) if r.sections}
    for owner in sorted(everyone):
        updated = with_forecast(
            owner, stores.rollups.months(owner, first, month), now=now, metric=metric
        )
        if updated is not None:
            stores.rollups.put(updated)


def run_source(
    source: CostSource,
    start: date,
    end: date,
    *,
    stores: Stores,
    rule: OwnerTagRule,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    metric: Metric = Metric.EFFECTIVE,
) -> tuple[IngestResult, CostFetch]:
    """Read ``[start, end)`` from ``source`` and replace exactly the days it covered.

    A source failure raises before anything is written; a day the source had no data for
    yet is left as stored rather than wiped.
    """
    # Commitment fees are spread over their consumers before anything is allocated; a FOCUS
    # read's commitment uses (utilisation, coverage) are stored once the read is over.
    fetch = amortised(
        recording_uses(source.fetch(start, end), stores.commitments.replace_focus_uses)
    )
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
