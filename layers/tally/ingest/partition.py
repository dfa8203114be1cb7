"""The fan-out's first stage: read the source once, allocate, and cut the work into
partitions that each fit one worker invocation, whatever the organisation's size.

Memory stays bounded by a slice, never the window: lines are streamed from the source into
spill files on local disk (Lambda's /tmp), grouped by a hash of the line's identity, so all the
lines that ``merge_lines`` must add up land in the same file; each file is then allocated on
its own (the assignments and the owner-tag map are loaded once) and its records are spilled
again, by owner partition and, for the organisation's own records, by line-id prefix. Each
partition is uploaded as one gzip JSON-lines object; the run's header goes to the runs table.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import shutil
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import IO, Any

from tally.allocation import OwnerTagRule, allocate_merged, line_identity, merge_lines
from tally.calendar import month_of, previous_month
from tally.ingest import organisation_records_merged
from tally.ingest.blobs import Blobs, part_key
from tally.ingest.codec import dumps, line_of, line_row, record_row
from tally.ingest.runs import (
    ORG_RECORDS_PER_PARTITION,
    ORG_SLOTS,
    OWNERS_PER_PARTITION,
    IngestRun,
    is_org_partition,
    org_partition,
    org_slot_range,
    owner_partition,
)
from tally.models import ORG, CostLine
from tally.sources import CostFetch
from tally.store import Stores
from tally.users import every_user

# Lines are grouped into this many spill files by identity: each is allocated in memory alone,
# so the peak is about the window's lines / SPILL_SLOTS (a daily run of 10,000 users x 50
# resources x 3 days: ~23,000 lines a file).
SPILL_SLOTS = 64
# A spill file with more lines than this is split again (16 ways) before it is allocated.
CHUNK_LINES = 50_000
RESPLIT_SLOTS = 16
MAX_SPLITS = 4  # 16**4 more files: past that, lines that share an identity are the bulk
ROLLUP_PAGE = 200


class _SpillFiles:
    """Append-only JSON-lines files by slot, under one directory, opened on first write."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._open: dict[str, IO[str]] = {}
        self.counts: dict[str, int] = defaultdict(int)

    def write(self, slot: str, row: Any) -> None:
        handle = self._open.get(slot)
        if handle is None:
            handle = self._open[slot] = open(self.root / slot, "a", encoding="utf-8")  # noqa: SIM115
        handle.write(dumps(row) + "\n")
        self.counts[slot] += 1

    def close(self) -> None:
        for handle in self._open.values():
            handle.close()
        self._open.clear()

    def path(self, slot: str) -> Path:
        return self.root / slot

    def rows(self, slot: str) -> Iterator[Any]:
        path = self.path(slot)
        if not path.exists():
            return
        with open(path, encoding="utf-8") as handle:
            for raw in handle:
                yield json.loads(raw)


def _identity_slot(line: CostLine, tag_key: str, salt: str, slots: int) -> str:
    identity = line_identity(line, line.tags.get(tag_key))
    return f"{zlib.crc32((salt + chr(31).join(identity)).encode()) % slots:02d}"


def _chunks(
    spill: _SpillFiles,
    scratch: Path,
    covered: frozenset[date],
    tag_key: str,
    depth: int = 0,
    slots: Iterable[str] | None = None,
) -> Iterator[list[CostLine]]:
    """The spill files' lines (of ``slots``, or all) of the covered days, at most
    ``CHUNK_LINES`` at a time: a file that holds more is split again by another hash of the
    same identity (lines that merge stay together), so the memory it takes does not grow with
    the organisation."""
    for slot in sorted(spill.counts) if slots is None else slots:
        if spill.counts[slot] <= CHUNK_LINES or depth >= MAX_SPLITS:
            chunk = [line for line in map(line_of, spill.rows(slot)) if line.day in covered]
            if chunk:
                yield chunk
            continue
        finer = _SpillFiles(scratch / f"{depth}-{slot}")
        for line in map(line_of, spill.rows(slot)):
            finer.write(_identity_slot(line, tag_key, f"{depth}:", RESPLIT_SLOTS), line_row(line))
        finer.close()
        spill.path(slot).unlink()
        yield from _chunks(finer, scratch, covered, tag_key, depth + 1)


def allocation_processes() -> int:
    """The processes the allocation runs in: the vCPUs this function may use (Lambda gives
    one per 1,769 MB; ``TALLY_INGEST_PROCESSES`` overrides it, 1 keeps it in-process)."""
    configured = os.environ.get("TALLY_INGEST_PROCESSES", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


@dataclass(frozen=True)
class _Allocated:
    """What one allocation process made: its spill directories and its counts."""

    owners: Path
    org: Path
    partition_owners: dict[str, set[str]]
    org_counts: dict[int, int]
    totals: dict[str, Decimal]
    records: int
    cpu_seconds: float  # the process's own CPU time for its share


@dataclass(frozen=True)
class _Allocation:
    """Everything allocation needs, loaded once in the coordinator before it forks: a process
    allocates its share of the spill files and writes its own spill directories."""

    assignments: list[Any]
    tag_owners: dict[str, str]
    tag_key: str
    source: str
    now: datetime
    covered: frozenset[date]
    owner_count: int

    def run(self, lines: _SpillFiles, slots: list[str], scratch: Path) -> _Allocated:
        started = time.process_time()
        owners_spill = _SpillFiles(scratch / "owners")
        org_spill = _SpillFiles(scratch / "org")
        partition_owners: dict[str, set[str]] = defaultdict(set)
        org_counts: dict[int, int] = defaultdict(int)
        totals: dict[str, Decimal] = defaultdict(Decimal)
        records = 0
        for chunk in _chunks(lines, scratch / "split", self.covered, self.tag_key, slots=slots):
            # Merged once for both kinds of record (the identities are the same).
            merged = merge_lines(chunk, self.tag_key)
            for r in allocate_merged(
                merged,
                assignments=self.assignments,
                tag_owners=self.tag_owners,
                owner_tag_key=self.tag_key,
                source=self.source,
                fetched_at=self.now,
            ):
                partition = owner_partition(r.owner, self.owner_count)
                partition_owners[partition].add(r.owner)
                owners_spill.write(partition, record_row(r))
                totals[r.currency] += r.billed_cost
                records += 1
            for r in organisation_records_merged(merged, source=self.source, fetched_at=self.now):
                org_slot = int(r.line_id[:2], 16)
                org_spill.write(f"{org_slot:02x}", record_row(r))
                org_counts[org_slot] += 1
        owners_spill.close()
        org_spill.close()
        return _Allocated(
            owners_spill.root,
            org_spill.root,
            dict(partition_owners),
            dict(org_counts),
            dict(totals),
            records,
            time.process_time() - started,
        )


def _in_processes(
    jobs: list[Callable[[], _Allocated]], progress: Callable[[str, int], None] | None
) -> list[_Allocated]:
    """Run ``jobs``, each in a forked process (one alone runs here), and return their results
    in order. Lambda has no /dev/shm, so no ``multiprocessing.Pool`` or ``Queue``: a process
    and a pipe each, which Lambda allows. A process that fails fails the stage."""
    if len(jobs) == 1:
        return [jobs[0]()]
    import multiprocessing

    context = multiprocessing.get_context("fork")
    running = []
    for job in jobs:
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(job, send), daemon=True)
        process.start()
        send.close()
        running.append((process, receive))
    results: list[_Allocated] = []
    failures: list[str] = []
    for n, (process, receive) in enumerate(running):
        try:
            ok, value = receive.recv()
        except EOFError:
            ok, value = False, "the allocation process ended without a result"
        process.join()
        if ok:
            results.append(value)
        else:
            failures.append(str(value))
        if progress is not None:
            progress("allocate", n + 1)
    if failures:
        raise RuntimeError(f"allocation failed: {'; '.join(failures)}")
    return results


def _child(job: Callable[[], _Allocated], send: Any) -> None:
    result: tuple[bool, Any]
    try:
        result = (True, job())
    except BaseException as error:
        result = (False, f"{type(error).__name__}: {error}")
    send.send(result)
    send.close()


@dataclass(frozen=True)
class PartitionPlan:
    """What the partition stage hands on: the run (as stored) and the partitions still to do."""

    run: IngestRun
    pending: tuple[str, ...]
    # CPU seconds of each allocation process (one per vCPU): what the bench models from.
    allocation_cpu: tuple[float, ...] = ()


def _previous_owners(stores: Stores, months: list[str], now: datetime) -> set[str]:
    """Owners with a roll-up in a month the run recomputes (their days may need wiping), and
    owners with costs last month (their forecast is refreshed every run): the owners a
    partition must visit even if the source has nothing of theirs now. Paged: at 10,000 users
    a month's roll-ups are far more than a worker's memory should hold at once."""
    owners: set[str] = set()
    forecast_month = previous_month(month_of(now.date()))
    for month in sorted(set(months) | {forecast_month}):
        key = None
        while True:
            page = stores.rollups.of_month_page(month, limit=ROLLUP_PAGE, start_key=key)
            for r in page.items:
                if month in months or r.sections:
                    owners.add(r.owner)
            key = page.next_key
            if key is None:
                break
    owners.discard(ORG)
    return owners


def _org_ranges(counts: dict[int, int], per_partition: int) -> list[tuple[int, int]]:
    """Consecutive line-id slots grouped so each group holds at most ``per_partition`` records
    (a single slot may hold more), covering every slot: a slice with nothing new may still
    hold stale records to delete."""
    ranges: list[tuple[int, int]] = []
    low, held = 0, 0
    for slot in range(ORG_SLOTS):
        n = counts.get(slot, 0)
        if held and held + n > per_partition:
            ranges.append((low, slot - 1))
            low, held = slot, 0
        held += n
    ranges.append((low, ORG_SLOTS - 1))
    return ranges


def _upload(blobs: Blobs, key: str, header: Any, paths: Iterable[Path]) -> None:
    """One partition object: its header line, then the spilled rows of ``paths`` (those that
    exist), compressed on the way."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=5) as out:
        out.write((dumps(header) + "\n").encode())
        for path in paths:
            if path.exists():
                with open(path, "rb") as rows:
                    shutil.copyfileobj(rows, out)
    blobs.put(key, buffer.getvalue())


def partition_run(
    fetch: CostFetch,
    *,
    run_id: str,
    job: dict[str, str | None],
    stores: Stores,
    blobs: Blobs,
    rule: OwnerTagRule,
    now: datetime,
    workdir: Path | None = None,
    owners_per_partition: int = OWNERS_PER_PARTITION,
    org_records_per_partition: int = ORG_RECORDS_PER_PARTITION,
    progress: Callable[[str, int], None] | None = None,
) -> PartitionPlan:
    """Read ``fetch`` and write the run's partitions; record the run (or find it, on a re-run)
    and say which partitions are still to be done.

    A source failure raises before anything is written. A re-run of a run already recorded
    keeps that run's partitioning (its counts are in the header), rewrites the partitions not
    yet done from what the source says now, and leaves the done ones alone.
    """
    scratch = Path(tempfile.mkdtemp(prefix=f"tally-ingest-{os.getpid()}-", dir=workdir))
    try:
        return _partition(
            fetch,
            run_id=run_id,
            job=job,
            stores=stores,
            blobs=blobs,
            rule=rule,
            now=now,
            scratch=scratch,
            owners_per_partition=owners_per_partition,
            org_records_per_partition=org_records_per_partition,
            progress=progress,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _partition(
    fetch: CostFetch,
    *,
    run_id: str,
    job: dict[str, str | None],
    stores: Stores,
    blobs: Blobs,
    rule: OwnerTagRule,
    now: datetime,
    scratch: Path,
    owners_per_partition: int,
    org_records_per_partition: int,
    progress: Callable[[str, int], None] | None,
) -> PartitionPlan:
    # 1. Read: stream the source into spill files by line identity.
    lines_spill = _SpillFiles(scratch / "lines")
    lines = 0
    newest: date | None = None
    for line in fetch:
        lines_spill.write(_identity_slot(line, rule.key, "", SPILL_SLOTS), line_row(line))
        lines += 1
        newest = line.day if newest is None or line.day > newest else newest
        if progress is not None and lines % 10_000 == 0:
            progress("read", lines)
    lines_spill.close()
    covered = fetch.covered_days
    days = sorted(covered)
    months = sorted({month_of(d) for d in days})

    existing = stores.ingest_runs.get(run_id)
    if existing is not None and existing.finalized:
        return PartitionPlan(existing, ())

    # 2. Who: the directory (the owner tag resolves against it), and who had costs before.
    users = every_user(stores.users)
    universe = _previous_owners(stores, months, now)
    if existing is not None:
        owner_count = existing.owner_partitions
    else:
        owner_count = max(1, math.ceil((len(users) + len(universe) + 1) / owners_per_partition))
    partition_owners: dict[str, set[str]] = defaultdict(set)
    for owner in universe:
        partition_owners[owner_partition(owner, owner_count)].add(owner)

    # 3. Allocate each spill file alone, in as many processes as the function has vCPUs;
    # spill the records by owner partition and ORG slot.
    allocation = _Allocation(
        assignments=stores.assignments.all(),
        tag_owners=rule.resolver(users),
        tag_key=rule.key,
        source=fetch.source_name,
        now=now,
        covered=covered,
        owner_count=owner_count,
    )
    slots = sorted(lines_spill.counts)
    processes = max(1, min(allocation_processes(), len(slots)))
    parts = _in_processes(
        [
            partial(allocation.run, lines_spill, slots[k::processes], scratch / f"allocate-{k}")
            for k in range(processes)
        ],
        progress,
    )
    org_counts: dict[int, int] = defaultdict(int)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    records = 0
    for part in parts:
        for partition, owners in part.partition_owners.items():
            partition_owners[partition] |= owners
        for slot, n in part.org_counts.items():
            org_counts[slot] += n
        for currency, amount in part.totals.items():
            totals[currency] += amount
        records += part.records

    # 4. The partitions: a re-run keeps the first attempt's.
    if existing is not None:
        partitions = list(existing.partitions)
    else:
        partitions = sorted(partition_owners)
        partitions += [
            org_partition(low, high)
            for low, high in _org_ranges(org_counts, org_records_per_partition)
        ]
    run = IngestRun(
        run_id=run_id,
        job=job,
        days=tuple(days),
        months=tuple(months),
        source=fetch.source_name,
        now=now,
        owner_partitions=owner_count,
        partitions=tuple(partitions),
        lines=lines,
        newest_day=newest,
        source_requests=fetch.requests,
        records=records,
        totals={c: totals[c] for c in sorted(totals)},
    )
    stored = stores.ingest_runs.begin(run)
    done = stores.ingest_runs.done_partitions(run_id)
    pending = [p for p in stored.partitions if p not in done]

    # 5. Upload what is still to do.
    for n, partition in enumerate(pending):
        if is_org_partition(partition):
            low, high = org_slot_range(partition)
            header: dict[str, Any] = {"slots": [low, high]}
            paths = [
                part.org / f"{slot:02x}"
                for slot in range(int(low, 16), int(high, 16) + 1)
                for part in parts
            ]
        else:
            header = {"owners": sorted(partition_owners.get(partition, ()))}
            paths = [part.owners / partition for part in parts]
        _upload(blobs, part_key(run_id, partition), header, paths)
        if progress is not None:
            progress("upload", n + 1)
    return PartitionPlan(stored, tuple(pending), tuple(p.cpu_seconds for p in parts))
