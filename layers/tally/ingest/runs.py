"""A fan-out ingest run as the stages share it: what was read, how it was partitioned, which
partitions are done (``tally.store.ingest_runs`` keeps it).

A partition is either a set of owners (``u0007``: the owners whose id hashes to 7 of the run's
owner partitions) or a slice of the organisation's own records (``o40-7f``: the ORG records of
every day read whose line id starts with a hex prefix from 40 to 7f). Partition ids are
derived from the data and the run's fixed counts, so a re-run of the same run builds the same
partitions and skips those already done.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# The owners of a run are hashed into this many per partition, on average; a batch of them
# is one SQS message and one worker invocation (one Query per owner and month read).
OWNERS_PER_PARTITION = 250
# The organisation's records of the window, per partition: one worker replaces this many.
ORG_RECORDS_PER_PARTITION = 20_000
# ORG line ids are sha256 hex: their first two characters spread them evenly over 256 slots.
ORG_SLOTS = 256


@dataclass(frozen=True)
class IngestRun:
    """The header of a run: written once by the partition stage, counted up by the workers."""

    run_id: str
    job: dict[str, str | None]  # the job's key, carried into CostsIngested
    days: tuple[date, ...]  # the days replaced (the source's covered days)
    months: tuple[str, ...]  # the months whose roll-ups are recomputed
    source: str
    now: datetime  # the run's moment: closed months, forecasts, fetched_at
    owner_partitions: int
    partitions: tuple[str, ...]
    lines: int = 0
    newest_day: date | None = None
    source_requests: int = 0
    records: int = 0  # allocated records of the window (ORG's not counted, as before)
    totals: dict[str, Decimal] = field(default_factory=dict)  # billed, per currency
    done: int = 0
    finalized: bool = False
    # What the finished run announced (the CostsIngested detail): for the operator and for
    # ``make ingest``, which may not be the process that finished it.
    announced: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        return self.done >= len(self.partitions)


def owner_partition(owner: str, count: int) -> str:
    """The partition of ``owner`` among ``count``: a stable hash (not Python's salted one)."""
    return f"u{zlib.crc32(owner.encode()) % count:04d}"


def org_partition(low: int, high: int) -> str:
    return f"o{low:02x}-{high:02x}"


def org_slot_range(partition: str) -> tuple[str, str]:
    """``o40-7f`` -> ("40", "7f"): the line-id prefixes of an ORG partition, inclusive."""
    low, high = partition[1:].split("-")
    return low, high


def is_org_partition(partition: str) -> bool:
    return partition.startswith("o")
