"""``make bench SECTIONS=fanout``: a daily run of an organisation of N users x M resources
through the fan-out path and through the single-invocation path, side by side.

Both run in this process on the in-memory stores behind a counter that turns each store call
into the DynamoDB requests it makes in AWS (a Query page per 1 MB read, a BatchWriteItem per 25
items, ...). The state before the run is yesterday's run (the restatement window one day
earlier), so today's run finds two of its three days stored and a few lines restated, as a
daily run does. Per stage: peak memory above what the stage started with (tracemalloc; with
``TALLY_BENCH_TRACE=0`` not traced, so that the CPU seconds the model uses are not inflated), CPU
seconds here, requests; then the wall time in AWS modelled from them with the latencies below
and 10 concurrent workers. The coordinator's allocation runs in one process per vCPU of its
function (six at 10,240 MB): each process's CPU time is measured, and the model counts the
longest, as if each had its own vCPU (this machine has two). A traced run allocates in one
process, so its memory figure is the whole allocation's (an upper bound for each process).
"""

from __future__ import annotations

import os
import random
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tally.allocation import OwnerTagRule
from tally.identity import Role
from tally.ingest import run_source
from tally.ingest.blobs import MemoryBlobs
from tally.ingest.fanout import InlineDispatch, Worker, dispatch_run
from tally.ingest.partition import partition_run
from tally.models import CostLine, UserProfile
from tally.sources import CostFetch, FetchLog, iter_days
from tally.store import Stores, memory_stores

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
WINDOW = 3  # the restatement window: a daily run re-reads three days
RESTATED = 0.02  # share of lines whose figures AWS changed since yesterday's read

# Latencies assumed for the model (AWS, same region; typical published figures, not measured).
QUERY_MS = 8.0  # a Query or GetItem page
BATCH_WRITE_MS = 25.0  # a BatchWriteItem of 25 items
WRITE_MS = 6.0  # a PutItem, UpdateItem, transaction
S3_MS = 40.0  # a PutObject or GetObject of a partition
SQS_MS = 20.0  # a message's trip from the queue to a worker
WORKERS = 10
COORDINATOR_VCPUS = 6  # infra.constructs.ingest.COORDINATOR_MEMORY_MB / 1,769

RECORD_BYTES = 420  # a stored cost record (items read per 1 MB Query page)
KEY_BYTES = 90  # a keys-only index entry
ROLLUP_BYTES = 12_000  # a roll-up with a month's days, services and top resources


@dataclass
class Counted:
    """Requests by kind; batch writes are counted apart for the latency model."""

    reads: int = 0
    batch_writes: int = 0
    writes: int = 0
    items_written: int = 0

    def seconds(self) -> float:
        return (
            self.reads * QUERY_MS + self.batch_writes * BATCH_WRITE_MS + self.writes * WRITE_MS
        ) / 1000

    @property
    def write_requests(self) -> int:
        return self.batch_writes + self.writes

    def minus(self, other: Counted) -> Counted:
        return Counted(
            self.reads - other.reads,
            self.batch_writes - other.batch_writes,
            self.writes - other.writes,
            self.items_written - other.items_written,
        )


def _pages(items: int, size: int) -> int:
    return max(1, -(-items * size // 1_000_000))


class _CountingCosts:
    def __init__(self, inner: Any, c: Counted) -> None:
        self._inner, self._c = inner, c

    def replace_day(self, day: date, records: Any) -> set[str]:
        records = list(records)
        old = {
            (r.owner, r.line_id)
            for o in self._inner.owners_of(day)
            for r in self._inner.lines_between(o, day, "00", "ff")
        }
        self._c.reads += _pages(len(old), KEY_BYTES)  # the by-day index, keys only
        # Every record is put again, and the stale ones deleted, in one batch writer.
        items = len(records) + len(old - {(r.owner, r.line_id) for r in records})
        self._c.batch_writes += -(-items // 25)
        self._c.items_written += items
        return set(self._inner.replace_day(day, records))

    def for_owner(self, owner: str, start: date, end: date) -> Any:
        found = self._inner.for_owner(owner, start, end)
        self._c.reads += _pages(len(found), RECORD_BYTES)
        return found

    def lines_between(self, owner: str, day: date, low: str, high: str) -> Any:
        found = self._inner.lines_between(owner, day, low, high)
        self._c.reads += _pages(len(found), RECORD_BYTES)
        return found

    def apply(self, puts: Any, deletes: Any) -> int:
        puts, deletes = list(puts), list(deletes)
        n = int(self._inner.apply(puts, deletes))
        self._c.batch_writes += n
        self._c.items_written += len(puts) + len(deletes)
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _CountingRollups:
    def __init__(self, inner: Any, c: Counted) -> None:
        self._inner, self._c = inner, c

    def put(self, rollup: Any) -> None:
        self._c.writes += 1
        self._c.items_written += 1
        self._inner.put(rollup)

    def put_many(self, rollups: Any) -> int:
        n = int(self._inner.put_many(rollups))
        self._c.batch_writes += n
        self._c.items_written += len(rollups)
        return n

    def get(self, owner: str, month: str) -> Any:
        self._c.reads += 1
        return self._inner.get(owner, month)

    def months(self, owner: str, first: str, last: str) -> Any:
        found = self._inner.months(owner, first, last)
        self._c.reads += _pages(len(found), ROLLUP_BYTES)
        return found

    def of_month(self, month: str) -> Any:
        found = self._inner.of_month(month)
        self._c.reads += _pages(len(found), ROLLUP_BYTES)
        return found

    def of_month_page(self, month: str, *, limit: int, start_key: Any) -> Any:
        self._c.reads += _pages(limit, ROLLUP_BYTES)
        return self._inner.of_month_page(month, limit=limit, start_key=start_key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _CountingRuns:
    def __init__(self, inner: Any, c: Counted) -> None:
        self._inner, self._c = inner, c

    def begin(self, run: Any) -> Any:
        self._c.writes += 1
        return self._inner.begin(run)

    def get(self, run_id: str) -> Any:
        self._c.reads += 1
        return self._inner.get(run_id)

    def done_partitions(self, run_id: str) -> Any:
        self._c.reads += 1
        return self._inner.done_partitions(run_id)

    def mark_done(self, run_id: str, partition: str) -> Any:
        self._c.writes += 1  # one transaction
        self._c.reads += 2  # the header before and after
        return self._inner.mark_done(run_id, partition)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if callable(attr):
            self._c.writes += 1
        return attr


def counted(s: Stores, c: Counted) -> Stores:
    return replace(
        s,
        costs=_CountingCosts(s.costs, c),  # type: ignore[arg-type]
        rollups=_CountingRollups(s.rollups, c),  # type: ignore[arg-type]
        ingest_runs=_CountingRuns(s.ingest_runs, c),  # type: ignore[arg-type]
    )


class Generated:
    """N users x M resources, each with its Owner tag, a cost a day; ``restate`` changes a
    share of the figures (what AWS does to recent days)."""

    source_name = "bench"

    def __init__(self, users: int, resources: int, *, seed: int, restated: float = 0.0) -> None:
        self.users, self.resources, self.seed, self.restated = users, resources, seed, restated

    def fetch(self, start: date, end: date) -> CostFetch:
        def produce(log: FetchLog) -> Iterator[CostLine]:
            for day in iter_days(start, end):
                log.returned(day, estimated=False)
                rng = random.Random(f"{self.seed}-{day}")
                for u in range(self.users):
                    tags = {"Owner": f"user{u:05}"}
                    for r in range(self.resources):
                        cents = 50 + (u * 7 + r * 13 + day.day) % 900
                        if rng.random() < self.restated:
                            cents += 1
                        cost = Decimal(cents) / 100
                        yield CostLine(
                            day=day,
                            service="AmazonEC2" if r % 3 else "AmazonS3",
                            resource_id=f"i-{u:05}{r:03}",
                            billed_cost=cost,
                            effective_cost=cost,
                            currency="USD",
                            usage_quantity=Decimal(24),
                            usage_unit="Hrs",
                            tags=tags,
                        )

        return CostFetch(self.source_name, start, end, produce)


@dataclass
class Stage:
    name: str
    peak_mb: float = 0.0
    cpu_s: float = 0.0
    requests: Counted = field(default_factory=Counted)
    s3: int = 0


# tracemalloc makes allocation-heavy code several times slower: a run either measures memory
# (TALLY_BENCH_TRACE=1, the default) or CPU time for the model (TALLY_BENCH_TRACE=0).
TRACE = os.environ.get("TALLY_BENCH_TRACE", "1") != "0"


def _measure(c: Counted) -> tuple[float, Counted]:
    """Trace from here: what the stage allocates (the stores it reads are already there)."""
    if TRACE:
        tracemalloc.start()
    return 0.0, Counted(**vars(c))


def _done(stage: Stage, start: tuple[float, Counted], c: Counted, t0: float) -> None:
    current_start, before = start
    peak = tracemalloc.get_traced_memory()[1] if TRACE else 0
    if TRACE:
        tracemalloc.stop()
    stage.peak_mb = max(stage.peak_mb, (peak - current_start) / 1e6)
    stage.cpu_s += time.process_time() - t0
    delta = c.minus(before)
    stage.requests = Counted(
        stage.requests.reads + delta.reads,
        stage.requests.batch_writes + delta.batch_writes,
        stage.requests.writes + delta.writes,
        stage.requests.items_written + delta.items_written,
    )


def _stores(users: int) -> Stores:
    s = memory_stores()
    for u in range(users):
        s.users.put(UserProfile(f"u-{u:05}", f"user{u:05}", None, Role.USER))
    return s


def _fan_out(
    s: Stores, source: Generated, start: date, end: date, now: datetime, run_id: str
) -> None:
    blobs = MemoryBlobs()
    dispatch = InlineDispatch()
    dispatch.worker = Worker(s, blobs, dispatch, lambda run, result: {})
    plan = partition_run(
        source.fetch(start, end),
        run_id=run_id,
        job={},
        stores=s,
        blobs=blobs,
        rule=OwnerTagRule(),
        now=now,
    )
    dispatch_run(plan.run, plan.pending, dispatch)


def fanout_figures(users: int = 10_000, resources: int = 50) -> list[tuple[str, str]]:
    """The figures, as (label, value) rows."""
    today = NOW.date()
    start, end = today - timedelta(days=WINDOW), today
    yesterday = NOW - timedelta(days=1)
    rows: list[tuple[str, str]] = []
    # --- fan-out -----------------------------------------------------------------
    s = _stores(users)
    _fan_out(
        s,
        Generated(users, resources, seed=1),
        start - timedelta(days=1),
        end - timedelta(days=1),
        yesterday,
        "yesterday",
    )
    c = Counted()
    cs = counted(s, c)
    blobs = MemoryBlobs()
    read = Stage("read + partition (coordinator)")
    os.environ["TALLY_INGEST_PROCESSES"] = "1" if TRACE else str(COORDINATOR_VCPUS)
    t0 = time.process_time()
    mark = _measure(c)
    plan = partition_run(
        Generated(users, resources, seed=1, restated=RESTATED).fetch(start, end),
        run_id="today",
        job={},
        stores=cs,
        blobs=blobs,
        rule=OwnerTagRule(),
        now=NOW,
    )
    _done(read, mark, c, t0)
    del os.environ["TALLY_INGEST_PROCESSES"]
    read.s3 = len(plan.pending)
    # The parent's CPU counts the read and the upload; the allocation, in its own processes
    # (when more than one), is as long as the longest of them.
    allocation_processes = len(plan.allocation_cpu)
    if allocation_processes > 1:
        read.cpu_s += max(plan.allocation_cpu)
    allocation_total = sum(plan.allocation_cpu)
    records = plan.run.records
    workers = Stage("per-partition batch (worker, the largest)")
    batch_seconds: list[float] = []
    finalize = Stage("organisation roll-up + event (finalize)")

    class Timed(InlineDispatch):
        def partitions(self, run_id: str, partitions: Any) -> None:
            for p in partitions:
                one = Stage(p)
                t = time.process_time()
                m = _measure(c)
                assert self.worker is not None
                self.worker.handle({"kind": "partition", "runId": run_id, "partition": p})
                _done(one, m, c, t)
                batch_seconds.append(one.cpu_s + one.requests.seconds() + 3 * S3_MS / 1000)
                workers.peak_mb = max(workers.peak_mb, one.peak_mb)
                workers.cpu_s = max(workers.cpu_s, one.cpu_s)
                workers.requests = Counted(
                    workers.requests.reads + one.requests.reads,
                    workers.requests.batch_writes + one.requests.batch_writes,
                    workers.requests.writes + one.requests.writes,
                    workers.requests.items_written + one.requests.items_written,
                )

        def finalize(self, run_id: str) -> None:
            # Asked for inside the last batch: measured on its own, after it.
            self.finalize_asked = run_id

    dispatch = Timed()
    dispatch.worker = Worker(cs, blobs, dispatch, lambda run, result: {})
    dispatch_run(plan.run, plan.pending, dispatch)
    t = time.process_time()
    m = _measure(c)
    dispatch.worker.handle({"kind": "finalize", "runId": dispatch.finalize_asked})
    _done(finalize, m, c, t)
    partitions = len(plan.pending)
    del s, cs, blobs

    # --- single invocation ---------------------------------------------------------
    s1 = _stores(users)
    run_source(
        Generated(users, resources, seed=1),
        start - timedelta(days=1),
        end - timedelta(days=1),
        stores=s1,
        rule=OwnerTagRule(),
        now=yesterday,
    )
    c1 = Counted()
    single = Stage("single invocation (today's path)")
    t0 = time.process_time()
    mark = _measure(c1)
    run_source(
        Generated(users, resources, seed=1, restated=RESTATED),
        start,
        end,
        stores=counted(s1, c1),
        rule=OwnerTagRule(),
        now=NOW,
    )
    _done(single, mark, c1, t0)
    del s1

    # --- the model -----------------------------------------------------------------------
    lanes = [0.0] * WORKERS
    for seconds in sorted(batch_seconds, reverse=True):
        lanes[lanes.index(min(lanes))] += seconds + SQS_MS / 1000
    coordinator = read.cpu_s + read.requests.seconds() + read.s3 * S3_MS / 1000
    fan_wall = coordinator + max(lanes) + finalize.cpu_s + finalize.requests.seconds()
    single_wall = single.cpu_s + single.requests.seconds()
    per_k = 1000 / records
    total = Counted(
        read.requests.reads + workers.requests.reads + finalize.requests.reads,
        read.requests.batch_writes + workers.requests.batch_writes + finalize.requests.batch_writes,
        read.requests.writes + workers.requests.writes + finalize.requests.writes,
        read.requests.items_written
        + workers.requests.items_written
        + finalize.requests.items_written,
    )
    rows += [
        (
            "organisation",
            f"{users:,} users x {resources} resources, {WINDOW}-day window, "
            f"{RESTATED:.0%} of lines restated",
        ),
        ("records of the window (allocated)", f"{records:,}"),
        ("partitions (owner batches + organisation slices)", f"{partitions}"),
    ]
    for stage in (read, workers, finalize, single):
        rows.append(
            (
                f"{stage.name}: peak memory (MB above its start)",
                f"{stage.peak_mb:,.0f}" if TRACE else "not traced (TALLY_BENCH_TRACE=0)",
            )
        )
    for label, cc in (("fan-out", total), ("single invocation", c1)):
        rows.append(
            (
                f"{label}: DynamoDB write requests per 1,000 records",
                f"{cc.write_requests * per_k:.1f} "
                f"({cc.batch_writes:,} batch + {cc.writes:,} single)",
            )
        )
        rows.append(
            (f"{label}: DynamoDB read requests per 1,000 records", f"{cc.reads * per_k:.1f}")
        )
        rows.append(
            (f"{label}: items written per 1,000 records", f"{cc.items_written * per_k:,.0f}")
        )
    traced = " (under tracemalloc: several times the real figure)" if TRACE else ""
    rows += [
        (
            "coordinator: allocation processes (CPU seconds of all of them together)",
            f"{allocation_processes} ({allocation_total:.1f})",
        ),
        (
            "CPU seconds here: coordinator (read, upload and the longest allocation process)"
            " / largest batch / finalize" + traced,
            f"{read.cpu_s:.1f} / {workers.cpu_s:.1f} / {finalize.cpu_s:.1f}",
        ),
        ("CPU seconds here: single invocation" + traced, f"{single.cpu_s:.1f}"),
        (
            f"modelled wall time in AWS, fan-out ({WORKERS} workers)" + traced,
            f"{fan_wall / 60:.1f} min",
        ),
        (
            "modelled wall time in AWS, single invocation" + traced,
            f"{single_wall / 60:.1f} min" + (" (over Lambda's 15)" if single_wall > 900 else ""),
        ),
    ]
    return rows
