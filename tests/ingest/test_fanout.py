"""The fan-out ingest leaves exactly what the single-invocation ingest leaves: the same records,
the same roll-ups (the organisation's included: totals, days, top resources, record count,
forecast, restatements), whatever the partition sizes; and it survives failed, retried,
duplicated and resumed batches without doubling anything."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tally.allocation import OwnerTagRule
from tally.ingest import IngestResult, run_source
from tally.ingest.blobs import MemoryBlobs
from tally.ingest.fanout import InlineDispatch, Worker, dispatch_run
from tally.ingest.partition import PartitionPlan, partition_run
from tally.ingest.runs import IngestRun
from tally.models import ORG, UNALLOCATED, CostLine
from tally.store import Stores
from tests.ingest import fanout_data as data

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RULE = OwnerTagRule()


def snapshot(s: Stores) -> tuple[list[Any], list[Any]]:
    records = sorted(
        (k, replace(r, fetched_at=EPOCH))
        for k, r in s.costs.records.items()  # type: ignore[attr-defined]
    )
    rollups = sorted(
        (k, replace(r, updated_at=EPOCH))
        for k, r in s.rollups.items.items()  # type: ignore[attr-defined]
    )
    return records, rollups


def single(s: Stores, lines: list[CostLine], now: datetime, start: date, end: date) -> IngestResult:
    result, _ = run_source(data.ListSource(lines), start, end, stores=s, rule=RULE, now=now)
    return result


class Announced:
    def __init__(self) -> None:
        self.runs: list[tuple[IngestRun, IngestResult]] = []
        self.plans: list[PartitionPlan] = []

    def __call__(self, run: IngestRun, result: IngestResult) -> dict[str, Any]:
        self.runs.append((run, result))
        return {"runId": run.run_id}


def fan_out(
    s: Stores,
    lines: list[CostLine],
    now: datetime,
    start: date,
    end: date,
    *,
    run_id: str = "run-1",
    owners_per_partition: int = 2,
    org_records_per_partition: int = 40,
    blobs: MemoryBlobs | None = None,
) -> Announced:
    blobs = blobs or MemoryBlobs()
    announced = Announced()
    dispatch = InlineDispatch()
    dispatch.worker = Worker(s, blobs, dispatch, announced)
    plan = partition_run(
        data.ListSource(lines).fetch(start, end),
        run_id=run_id,
        job={"start": start.isoformat(), "end": end.isoformat()},
        stores=s,
        blobs=blobs,
        rule=RULE,
        now=now,
        owners_per_partition=owners_per_partition,
        org_records_per_partition=org_records_per_partition,
    )
    announced.plans.append(plan)
    dispatch_run(plan.run, plan.pending, dispatch)
    return announced


@pytest.mark.parametrize(
    ("owners", "org", "processes"), [(1, 1, 1), (2, 40, 1), (2, 40, 3), (250, 20_000, 2)]
)
def test_a_fan_out_run_stores_what_the_single_run_stores(
    owners: int, org: int, processes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The allocation in this process, or split between forked ones (as on the vCPUs of the
    # coordinator): the same records either way.
    monkeypatch.setenv("TALLY_INGEST_PROCESSES", str(processes))
    lines = data.lines(1)
    a, b = data.stores(), data.stores()
    expected = single(a, lines, data.NOW, data.START, data.END)
    announced = fan_out(
        b,
        lines,
        data.NOW,
        data.START,
        data.END,
        owners_per_partition=owners,
        org_records_per_partition=org,
    )
    assert snapshot(b) == snapshot(a)
    [(run, result)] = announced.runs
    assert result.days == expected.days and result.months == expected.months
    assert result.owners == expected.owners and result.records == expected.records
    assert result.lines == expected.lines and result.newest_day == expected.newest_day
    assert dict(result.totals) == dict(expected.totals)
    assert len(run.partitions) > 1
    assert len(announced.plans[0].allocation_cpu) == processes


def test_an_allocation_process_that_fails_fails_the_run_before_anything_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tally.ingest import partition

    monkeypatch.setenv("TALLY_INGEST_PROCESSES", "2")
    real = partition.allocate_merged

    def allocate_merged(merged: Any, **kwargs: Any) -> Any:
        # Forked after this patch: a process fails on the first slice holding such a line.
        if any(line.resource_id and line.resource_id.endswith("1") for line in merged.values()):
            raise MemoryError("the process ran out of memory")
        return real(merged, **kwargs)

    monkeypatch.setattr(partition, "allocate_merged", allocate_merged)
    s = data.stores()
    with pytest.raises(RuntimeError, match="MemoryError: the process ran out of memory"):
        fan_out(s, data.lines(1), data.NOW, data.START, data.END)
    assert s.ingest_runs.get("run-1") is None
    assert snapshot(s) == snapshot(data.stores())


def test_restated_days_replace_alike_then_nothing_is_rewritten() -> None:
    """A second run over restated data (amounts changed, a resource gone, a tag moved) on both
    paths; then the same data once more: the fan-out writes only roll-ups with a new forecast."""
    a, b = data.stores(), data.stores()
    for s, run in ((a, single), (b, None)):
        if run:
            run(s, data.lines(1), data.NOW, data.START, data.END)
        else:
            fan_out(s, data.lines(1), data.NOW, data.START, data.END)
    later = data.NOW + timedelta(days=2)
    restated = [
        line
        for line in data.lines(2, start=date(2026, 11, 1), end=date(2026, 11, 6))
        if line.resource_id != "i-0003"
    ]
    expected = single(a, restated, later, date(2026, 11, 1), date(2026, 11, 6))
    announced = fan_out(b, restated, later, date(2026, 11, 1), date(2026, 11, 6), run_id="run-2")
    assert snapshot(b) == snapshot(a)
    assert announced.runs[0][1].restated == expected.restated

    dispatch_outcomes = InlineDispatch()
    dispatch_outcomes.worker = Worker(b, MemoryBlobs(), dispatch_outcomes, Announced())
    blobs = MemoryBlobs()
    dispatch_outcomes.worker.blobs = blobs
    plan = partition_run(
        data.ListSource(restated).fetch(date(2026, 11, 1), date(2026, 11, 6)),
        run_id="run-3",
        job={},
        stores=b,
        blobs=blobs,
        rule=RULE,
        now=later,
        owners_per_partition=2,
        org_records_per_partition=40,
    )
    dispatch_run(plan.run, plan.pending, dispatch_outcomes)
    # Nothing changed: no record written or deleted, only roll-ups (this month's forecast).
    record_writes = sum(
        o.written for o in dispatch_outcomes.outcomes if o.partition.startswith("o")
    )
    assert record_writes == 0
    assert snapshot(b) == snapshot(a)


def test_conservation_holds_per_day_after_a_fan_out_run() -> None:
    s = data.stores()
    fan_out(s, data.lines(3), data.NOW, data.START, data.END)
    org: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    owners: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for (owner, day, _), r in s.costs.records.items():  # type: ignore[attr-defined]
        (org if owner == ORG else owners)[(day, r.currency)] += r.billed_cost
    ingested: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for line in data.lines(3):
        ingested[(line.day, line.currency)] += line.billed_cost
    assert org == owners == ingested
    assert any(o == UNALLOCATED for o, _, _ in s.costs.records)  # type: ignore[attr-defined]


class FailingCosts:
    """The cost store, failing the first ``times`` writes that touch ``owner``'s records."""

    def __init__(self, inner: Any, owner: str, times: int) -> None:
        self._inner = inner
        self._owner = owner
        self.left = times

    def apply(self, puts: Any, deletes: Any) -> int:
        puts = list(puts)
        if self.left and any(r.owner == self._owner for r in puts):
            self.left -= 1
            raise ConnectionError("DynamoDB went away")
        return int(self._inner.apply(puts, deletes))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class Queue:
    """SQS as the worker function sees it: a failed message comes back until its third
    receive, then goes to the dead-letter queue."""

    MAX_RECEIVES = 3

    def __init__(self) -> None:
        self.messages: list[tuple[dict[str, str], int]] = []
        self.dead: list[dict[str, str]] = []
        self.sent: list[str] = []

    def partitions(self, run_id: str, partitions: Any) -> None:
        self.sent += list(partitions)
        self.messages += [
            ({"kind": "partition", "runId": run_id, "partition": p}, 0) for p in partitions
        ]

    def finalize(self, run_id: str) -> None:
        self.messages.append(({"kind": "finalize", "runId": run_id}, 0))

    def drain(self, worker: Worker) -> None:
        while self.messages:
            message, receives = self.messages.pop(0)
            try:
                worker.handle(message)
            except ConnectionError:
                if receives + 1 >= self.MAX_RECEIVES:
                    self.dead.append(message)
                else:
                    self.messages.append((message, receives + 1))


def queued_run(
    s: Stores, queue: Queue, blobs: MemoryBlobs, announced: Announced, run_id: str
) -> Worker:
    worker = Worker(s, blobs, queue, announced)
    plan = partition_run(
        data.ListSource(data.lines(1)).fetch(data.START, data.END),
        run_id=run_id,
        job={},
        stores=s,
        blobs=blobs,
        rule=RULE,
        now=data.NOW,
        owners_per_partition=2,
        org_records_per_partition=40,
    )
    dispatch_run(plan.run, plan.pending, queue)
    queue.drain(worker)
    return worker


def test_a_batch_that_fails_twice_is_retried_alone_and_the_run_finishes_exactly() -> None:
    expected = data.stores()
    single(expected, data.lines(1), data.NOW, data.START, data.END)
    s = data.stores()
    costs = FailingCosts(s.costs, "u-2", times=2)
    s = replace(s, costs=costs)  # type: ignore[arg-type]
    queue, blobs, announced = Queue(), MemoryBlobs(), Announced()
    queued_run(s, queue, blobs, announced, "run-f")
    assert costs.left == 0 and not queue.dead
    assert snapshot(s) == snapshot(expected)
    assert len(announced.runs) == 1
    failed = [p for (r, p), st in s.ingest_runs.parts.items() if st["attempts"]]  # type: ignore[attr-defined]
    assert len(failed) == 1
    assert s.ingest_runs.parts[("run-f", failed[0])]["status"] == "done"  # type: ignore[attr-defined]


def test_a_batch_that_keeps_failing_goes_to_the_dead_letters_and_a_re_run_finishes_the_rest() -> (
    None
):
    expected = data.stores()
    single(expected, data.lines(1), data.NOW, data.START, data.END)
    base = data.stores()
    costs = FailingCosts(base.costs, "u-2", times=3)
    s = replace(base, costs=costs)  # type: ignore[arg-type]
    queue, blobs, announced = Queue(), MemoryBlobs(), Announced()
    queued_run(s, queue, blobs, announced, "run-d")
    assert [m["kind"] for m in queue.dead] == ["partition"]
    run = s.ingest_runs.get("run-d")
    assert run is not None and run.done == len(run.partitions) - 1 and not run.finalized
    assert not announced.runs  # no CostsIngested for a run that did not finish
    part = s.ingest_runs.parts[("run-d", queue.dead[0]["partition"])]  # type: ignore[attr-defined]
    assert part["attempts"] == 3 and "ConnectionError" in part["error"]

    # The operator re-runs the same run (the same execution id): only that partition is redone.
    queue2 = Queue()
    queued_run(s, queue2, blobs, announced, "run-d")
    assert queue2.sent == [queue.dead[0]["partition"]]
    assert not queue2.dead and len(announced.runs) == 1
    assert snapshot(s) == snapshot(expected)


def test_duplicate_deliveries_count_once_and_finalize_once() -> None:
    s = data.stores()
    blobs, announced = MemoryBlobs(), Announced()
    queue = Queue()
    worker = Worker(s, blobs, queue, announced)
    plan = partition_run(
        data.ListSource(data.lines(1)).fetch(data.START, data.END),
        run_id="run-x",
        job={},
        stores=s,
        blobs=blobs,
        rule=RULE,
        now=data.NOW,
        owners_per_partition=2,
        org_records_per_partition=40,
    )
    dispatch_run(plan.run, plan.pending, queue)
    queue.messages += list(queue.messages)  # every message delivered twice
    queue.drain(worker)
    run = s.ingest_runs.get("run-x")
    assert run is not None and run.done == len(run.partitions) and run.finalized
    assert len(announced.runs) == 1


def test_spill_files_too_large_are_split_again_and_lines_that_merge_stay_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tally.ingest import partition

    # Files of at most five lines: every file splits, some twice; duplicates still merge.
    monkeypatch.setattr(partition, "CHUNK_LINES", 5)
    monkeypatch.setenv("TALLY_INGEST_PROCESSES", "1")  # the chunks are counted in this process
    chunks: list[int] = []
    real = partition.merge_lines

    def merge_lines(lines: Any, tag_key: str) -> Any:
        lines = list(lines)
        chunks.append(len(lines))
        return real(lines, tag_key)

    monkeypatch.setattr(partition, "merge_lines", merge_lines)
    lines = data.lines(4)
    a, b = data.stores(), data.stores()
    single(a, lines, data.NOW, data.START, data.END)
    fan_out(b, lines, data.NOW, data.START, data.END)
    assert snapshot(b) == snapshot(a)
    assert len(chunks) > partition.SPILL_SLOTS and max(chunks) <= 5


def _named(lines: list[CostLine]) -> list[CostLine]:
    """Every third resource carries a Name tag (EC2 instances) or a source name (buckets)."""
    out = []
    for line in lines:
        rid = line.resource_id or ""
        if rid.startswith("i-") and int(rid[2:]) % 3 == 0:
            line = replace(line, tags={**line.tags, "Name": f"web-{rid[2:]}"})
        elif rid.startswith("arn:aws:s3") and rid.endswith(("21", "24")):
            line = replace(line, resource_name=f"Bucket {rid[-2:]}")
        out.append(line)
    return out


def test_both_paths_remember_each_name_once_and_a_re_run_writes_none() -> None:
    lines = _named(data.lines(1))
    a, b = data.stores(), data.stores()
    first = single(a, lines, data.NOW, data.START, data.END)
    [(_, fanned)] = fan_out(b, lines, data.NOW, data.START, data.END).runs
    # By match key, as claims and assignments look them up.
    expected = {f"ec2:i-{n:04d}": f"web-{n:04d}" for n in range(0, 20, 3)}
    expected |= {"s3:bucket-21": "Bucket 21", "s3:bucket-24": "Bucket 24"}
    assert a.names.names == expected  # type: ignore[attr-defined]
    assert b.names.names == expected  # type: ignore[attr-defined]
    assert first.names_written == fanned.names_written == len(expected)
    # The same day again, on either path: nothing is written.
    again = single(a, lines, data.NOW, data.START, data.END)
    [(_, fanned_again)] = fan_out(b, lines, data.NOW, data.START, data.END, run_id="run-2").runs
    assert again.names_written == fanned_again.names_written == 0
    assert a.names.writes == b.names.writes == len(expected)  # type: ignore[attr-defined]
    # A rename is written, once.
    renamed = [
        replace(x, tags={**x.tags, "Name": "web-renamed"}) if x.resource_id == "i-0003" else x
        for x in lines
    ]
    assert single(a, renamed, data.NOW, data.START, data.END).names_written == 1
    assert a.names.names["ec2:i-0003"] == "web-renamed"  # type: ignore[attr-defined]
