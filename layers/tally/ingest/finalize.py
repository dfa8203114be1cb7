"""The fan-out's last stage, once every partition is done: the organisation's roll-up of
each month the run touched, its forecast, and the run's result for ``CostsIngested``.

The organisation's figures are the sum of its owners' (every line is allocated whole, to users
or to ``UNALLOCATED``), so they come from the partitions' partial results without reading the
organisation's records: additive figures summed per month and currency, top resources from
the resources' amounts summed one bucket of resources at a time (a resource's amounts from
every owner land in the same bucket, so each bucket's top list is exact and the top of the
buckets' tops is the organisation's). Its record count moves by what the ORG partitions
replaced.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from tally.calendar import month_of
from tally.ingest import IngestResult, forecast_months, restatement_history, with_forecast
from tally.ingest.batch import RESOURCE_BUCKETS
from tally.ingest.blobs import Blobs, resources_key, result_key
from tally.ingest.codec import gunzip_json, gunzip_lines
from tally.ingest.runs import IngestRun
from tally.models import ORG, ZERO_AMOUNTS, Amounts, Metric, MonthlyRollup, ResourceCost
from tally.resources import line_match_key
from tally.rollups import SectionSum, top_resources
from tally.store import Stores
from tally.store.codec import section_from_doc

if TYPE_CHECKING:
    from tally.store.names import NameDirectory


class RunNotComplete(RuntimeError):
    """Finalize was asked for before every partition was done (retried later)."""


def _top_per_bucket(
    blobs: Blobs, run_id: str, written: dict[int, list[str]], directory: NameDirectory
) -> tuple[dict[tuple[str, str], list[ResourceCost]], int]:
    """(month, currency) -> the organisation's top resources, one bucket in memory at a time,
    and the name directory's entries written. ``written``: bucket -> the partitions that wrote
    resources into it. A resource's rows all land in one bucket, so each bucket's names are
    remembered once, as the bucket is read."""
    candidates: dict[tuple[str, str], list[tuple[tuple[str, str], Amounts]]] = defaultdict(list)
    names: dict[str, str] = {}
    names_written = 0
    for bucket in range(RESOURCE_BUCKETS):
        sums: dict[tuple[str, str], dict[tuple[str, str], Amounts]] = defaultdict(dict)
        bucket_names: dict[str, str] = {}
        for key in (resources_key(run_id, bucket, p) for p in written.get(bucket, ())):
            for month, currency, rid, svc, billed, effective, *rest in gunzip_lines(blobs.get(key)):
                if rest and rest[0]:
                    names[rid] = rest[0]
                    bucket_names[line_match_key(svc, rid)] = rest[0]
                per = sums[(month, currency)]
                per[(rid, svc)] = per.get((rid, svc), ZERO_AMOUNTS) + Amounts(
                    Decimal(billed), Decimal(effective)
                )
        for group, per in sums.items():
            candidates[group] += [
                ((r.resource_id, r.service), r.amounts) for r in top_resources(per.items())
            ]
        names_written += directory.remember(bucket_names)
    return {group: top_resources(c, names) for group, c in candidates.items()}, names_written


def finalize_run(
    run_id: str, *, stores: Stores, blobs: Blobs, metric: Metric = Metric.EFFECTIVE
) -> tuple[IngestRun, IngestResult] | None:
    """Write the organisation's roll-ups and forecast; the run and its result, or None when
    the run was finalized already (a duplicate finalize message). Marking it finalized is the
    caller's, after it has announced the result."""
    run = stores.ingest_runs.get(run_id)
    if run is None:
        raise LookupError(f"no ingest run {run_id}")
    if run.finalized:
        return None
    if not run.complete:
        raise RunNotComplete(f"run {run_id}: {run.done} of {len(run.partitions)} partitions done")
    sums: dict[tuple[str, str], SectionSum] = {}
    estimated: dict[str, set[str]] = defaultdict(set)
    org_delta: dict[str, int] = defaultdict(int)
    written: dict[int, list[str]] = defaultdict(list)
    result = IngestResult(
        days=list(run.days),
        records=run.records,
        lines=run.lines,
        newest_day=run.newest_day,
        months=set(run.months),
    )
    result.totals.update(run.totals)
    for partition in run.partitions:
        doc = gunzip_json(blobs.get(result_key(run_id, partition)))
        result.owners.update(doc["owners"])
        result.restated.extend(doc["restated"])
        for s in doc["sections"]:
            sums.setdefault((s["month"], s["currency"]), SectionSum()).add(
                section_from_doc(s["section"])
            )
        for month, days in doc["estimatedDays"].items():
            estimated[month] |= set(days)
        for month, n in doc["orgRecords"].items():
            org_delta[month] += n
        for bucket in doc["resourceBuckets"]:
            written[bucket].append(partition)
    tops, result.names_written = _top_per_bucket(blobs, run_id, written, stores.names)
    now = run.now
    current = month_of(now.date())
    for month in run.months:
        old = stores.rollups.get(ORG, month)
        sections = {
            currency: s.build(tops.get((m, currency), []))
            for (m, currency), s in sorted(sums.items())
            if m == month
        }
        if old is None and not sections:
            continue
        fresh = MonthlyRollup(
            owner=ORG,
            month=month,
            sections=sections,
            estimated=bool(estimated[month]),
            record_count=max(0, (old.record_count if old else 0) + org_delta[month]),
            updated_at=now,
            estimated_days=sorted(estimated[month]),
        )
        history = restatement_history(old, fresh, closed=month < current, now=now)
        stores.rollups.put(
            replace(fresh, restatements=history, forecast=old.forecast if old else None)
        )
    # The organisation's forecast is refreshed every run, as ``refresh_forecasts`` does.
    first, month = forecast_months(now)
    forecasted = with_forecast(
        ORG, stores.rollups.months(ORG, first, month), now=now, metric=metric
    )
    if forecasted is not None:
        stores.rollups.put(forecasted)
    return run, result
