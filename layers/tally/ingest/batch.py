"""The fan-out's second stage: one worker replaces one partition's share of the window.

An owner partition: for each owner and each month the run touches, one Query reads the owner's
month; the window's days are replaced in memory (stale lines deleted, new and changed ones
written, unchanged ones left alone), the month's roll-up is recomputed from the merged set and
this month's forecast refreshed, and only what changed is written. What the organisation's
roll-up needs from these owners (their sections summed, their resources' amounts) goes to the
work bucket for the finalize step.

An ORG partition: the organisation's own records of the window whose line id falls in its
slice of prefixes are replaced the same way (no roll-up: the finalize step makes it).

Everything a batch writes is derived from the partition and the stored state alone, so a
retried or duplicated batch converges to the same tables; the partition is marked done only
after its writes, so a failure half-way leaves it to be redone whole.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from tally.calendar import month_days, month_of, previous_month
from tally.ingest import forecast_months, restatement_history, with_forecast
from tally.ingest.blobs import Blobs, part_key, resources_key, result_key
from tally.ingest.codec import gunzip_lines, gzip_json, gzip_lines, record_of
from tally.ingest.runs import IngestRun, is_org_partition, org_slot_range
from tally.models import ORG, ZERO_AMOUNTS, Amounts, CostRecord, Metric, MonthlyRollup
from tally.rollups import SectionSum, compute_rollup
from tally.store import Stores
from tally.store.codec import section_to_doc

# The organisation's per-resource amounts are summed per bucket of resources in the finalize
# step, so its memory holds one bucket's resources at a time, not the organisation's.
RESOURCE_BUCKETS = 16
_ZERO = Decimal("0")  # sums start from it, as ``Amounts`` sums do (same digits)


def resource_bucket(resource_id: str, service: str) -> int:
    return zlib.crc32(f"{resource_id}\x1f{service}".encode()) % RESOURCE_BUCKETS


@dataclass
class BatchOutcome:
    partition: str
    duplicate: bool = False  # done already: nothing was read or written
    records: int = 0  # records of the partition
    written: int = 0  # items put or deleted
    write_requests: int = 0  # DynamoDB write requests (BatchWriteItem, PutItem)
    done: int = 0  # the run's done partitions after this one
    complete: bool = False  # this batch's mark completed the run


@dataclass
class _Partial:
    """What the finalize step needs from one partition (``result_key``)."""

    owners: set[str] = field(default_factory=set)
    restated: list[dict[str, object]] = field(default_factory=list)
    sections: dict[tuple[str, str], SectionSum] = field(default_factory=dict)
    estimated_days: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    org_records: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    resources: dict[tuple[str, str, str, str], Amounts] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # resource id -> name (tally.names)

    def add_rollup(self, r: MonthlyRollup, resources: dict[tuple[str, str, str], Amounts]) -> None:
        for currency, section in r.sections.items():
            self.sections.setdefault((r.month, currency), SectionSum()).add(section)
        self.estimated_days[r.month] |= set(r.estimated_days)
        for (currency, rid, svc), a in resources.items():
            key = (r.month, currency, rid, svc)
            self.resources[key] = self.resources.get(key, ZERO_AMOUNTS) + a

    def doc(self, resource_buckets: list[int]) -> dict[str, object]:
        return {
            # Which resource buckets this partition wrote: the finalize step reads those keys
            # and lists nothing (the functions may not list the work bucket).
            "resourceBuckets": resource_buckets,
            "owners": sorted(self.owners),
            "restated": self.restated,
            "sections": [
                {"month": m, "currency": c, "section": section_to_doc(s.build([]))}
                for (m, c), s in sorted(self.sections.items())
            ],
            "estimatedDays": {m: sorted(d) for m, d in self.estimated_days.items()},
            "orgRecords": dict(self.org_records),
        }


def _unchanged(old: CostRecord | None, new: CostRecord) -> bool:
    # When it was fetched is not a figure: an unchanged line is not rewritten for it.
    return old is not None and replace(new, fetched_at=old.fetched_at) == old


def _same_rollup(old: MonthlyRollup | None, new: MonthlyRollup) -> bool:
    return old is not None and replace(new, updated_at=old.updated_at) == old


def _resource_amounts(records: Iterable[CostRecord]) -> dict[tuple[str, str, str], Amounts]:
    # Summed in place (``Amounts`` is frozen: adding makes a new object per record).
    sums: dict[tuple[str, str, str], list[Decimal]] = {}
    for r in records:
        if r.resource_id:
            key = (r.currency, r.resource_id, r.service)
            s = sums.get(key)
            if s is None:
                sums[key] = [_ZERO + r.billed_cost, _ZERO + r.effective_cost]
            else:
                s[0] += r.billed_cost
                s[1] += r.effective_cost
    return {k: Amounts(s[0], s[1]) for k, s in sums.items()}


def run_batch(
    run_id: str,
    partition: str,
    *,
    stores: Stores,
    blobs: Blobs,
    metric: Metric = Metric.EFFECTIVE,
) -> BatchOutcome:
    """Do one partition of ``run_id``, once: a partition already done is not read again."""
    run = stores.ingest_runs.get(run_id)
    if run is None:
        raise LookupError(f"no ingest run {run_id}")
    if partition not in run.partitions:
        raise LookupError(f"run {run_id} has no partition {partition}")
    if partition in stores.ingest_runs.done_partitions(run_id):
        return BatchOutcome(partition, duplicate=True, done=run.done, complete=run.complete)
    rows = gunzip_lines(blobs.get(part_key(run_id, partition)))
    header = next(rows)
    records = [record_of(row) for row in rows]
    partial = _Partial()
    outcome = BatchOutcome(partition, records=len(records))
    if is_org_partition(partition):
        _org_batch(run, partition, records, stores=stores, partial=partial, outcome=outcome)
    else:
        _owners_batch(
            run,
            header["owners"],
            records,
            stores=stores,
            partial=partial,
            outcome=outcome,
            metric=metric,
        )
    _write_partial(blobs, run_id, partition, partial)
    done = stores.ingest_runs.mark_done(run_id, partition)
    if done is None:  # a concurrent duplicate finished first: its writes equal ours
        after = stores.ingest_runs.get(run_id)
        outcome.duplicate = True
        outcome.done = after.done if after else 0
        return outcome
    outcome.done = done
    outcome.complete = done >= len(run.partitions)
    return outcome


def _write_partial(blobs: Blobs, run_id: str, partition: str, partial: _Partial) -> None:
    by_bucket: dict[int, list[list[object]]] = defaultdict(list)
    for (month, currency, rid, svc), a in sorted(partial.resources.items()):
        by_bucket[resource_bucket(rid, svc)].append(
            # The name last: the finalize step reads rows written before names were kept.
            [month, currency, rid, svc, str(a.billed), str(a.effective), partial.names.get(rid)]
        )
    for bucket, rows in sorted(by_bucket.items()):
        blobs.put(resources_key(run_id, bucket, partition), gzip_lines(rows))
    blobs.put(result_key(run_id, partition), gzip_json(partial.doc(sorted(by_bucket))))


def _owners_batch(
    run: IngestRun,
    owners: list[str],
    records: list[CostRecord],
    *,
    stores: Stores,
    partial: _Partial,
    outcome: BatchOutcome,
    metric: Metric,
) -> None:
    by_owner: dict[str, list[CostRecord]] = defaultdict(list)
    for r in records:
        by_owner[r.owner].append(r)
    window = set(run.days)
    now = run.now
    current = month_of(now.date())
    history_first, _ = forecast_months(now)
    first_month = min([*run.months, history_first])
    last_month = max([*run.months, current])
    # The partition's changes, written together at the end: full batches of 25 across owners
    # (an owner's day of changes is rarely a multiple of 25).
    puts: list[CostRecord] = []
    deletes: list[tuple[str, date, str]] = []
    changed_rollups: list[MonthlyRollup] = []
    for owner in owners:
        stored_rollups = {r.month: r for r in stores.rollups.months(owner, first_month, last_month)}
        rollups = dict(stored_rollups)
        touched_current = False
        for month in run.months:
            first, nxt = month_days(month)
            stored = stores.costs.for_owner(owner, first, nxt)
            old_window = {(r.day, r.line_id): r for r in stored if r.day in window}
            new_window = {
                (r.day, r.line_id): r for r in by_owner.get(owner, ()) if month_of(r.day) == month
            }
            deletes += [(owner, d, line) for d, line in old_window.keys() - new_window.keys()]
            puts += [r for k, r in new_window.items() if not _unchanged(old_window.get(k), r)]
            merged = [r for r in stored if r.day not in window] + list(new_window.values())
            touched = bool(old_window or new_window)
            if touched:
                partial.owners.add(owner)
                touched_current |= month == current
            old = stored_rollups.get(month)
            if old is None and not merged:
                continue
            fresh = compute_rollup(owner, month, merged, now=now)
            history = restatement_history(old, fresh, closed=month < current, now=now)
            partial.restated.extend(history[len(old.restatements) if old else 0 :])
            rollups[month] = replace(
                fresh, restatements=history, forecast=old.forecast if old else None
            )
            partial.add_rollup(fresh, _resource_amounts(merged))
            partial.names.update(
                (r.resource_id, r.resource_name)
                for r in merged
                if r.resource_id and r.resource_name
            )
        # The forecast rule of ``refresh_forecasts``: owners whose figures this run changed
        # this month, and every owner with costs last month.
        last = rollups.get(previous_month(current))
        if touched_current or (last is not None and last.sections):
            history_months = [
                r for m, r in sorted(rollups.items()) if history_first <= m <= current
            ]
            forecasted = with_forecast(owner, history_months, now=now, metric=metric)
            if forecasted is not None:
                rollups[current] = forecasted
        changed_rollups += [
            rollup
            for month, rollup in sorted(rollups.items())
            if not _same_rollup(stored_rollups.get(month), rollup)
        ]
    # Records first, roll-ups after: a failure in between leaves roll-ups behind their records
    # until the retry, never ahead of them.
    if puts or deletes:
        outcome.write_requests += stores.costs.apply(puts, deletes)
        outcome.written += len(puts) + len(deletes)
    if changed_rollups:
        outcome.write_requests += stores.rollups.put_many(changed_rollups)
        outcome.written += len(changed_rollups)


def _org_batch(
    run: IngestRun,
    partition: str,
    records: list[CostRecord],
    *,
    stores: Stores,
    partial: _Partial,
    outcome: BatchOutcome,
) -> None:
    low, high = org_slot_range(partition)
    by_day: dict[date, dict[str, CostRecord]] = defaultdict(dict)
    for r in records:
        by_day[r.day][r.line_id] = r
    puts: list[CostRecord] = []
    deletes: list[tuple[str, date, str]] = []
    for day in run.days:
        old = {r.line_id: r for r in stores.costs.lines_between(ORG, day, low, high)}
        new = by_day.get(day, {})
        deletes += [(ORG, day, line) for line in old.keys() - new.keys()]
        puts += [r for line, r in new.items() if not _unchanged(old.get(line), r)]
        partial.org_records[month_of(day)] += len(new) - len(old)
    if puts or deletes:
        outcome.write_requests += stores.costs.apply(puts, deletes)
        outcome.written += len(puts) + len(deletes)
