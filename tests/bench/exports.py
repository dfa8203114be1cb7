"""``make bench``, exports section: CSV export time and peak memory.

An "all-users" export of a 10,000-user month (each user with 5 services on every day of
November 2026, plus the unallocated costs and the organisation's roll-up) and a "costs" export
of one busy owner over a year (300 cost lines a day), both through ``write_export`` on the
in-memory stores into a sink that only counts bytes. The peak is what ``tracemalloc`` saw
allocated during the export alone (the stores' data is built before it starts), in a second run
so the timing is not slowed by tracing. Figures, never assertions.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tally.calendar import days
from tally.exports import ExportRequest, write_export
from tally.identity import Role
from tally.models import (
    ORG,
    UNALLOCATED,
    Amounts,
    CostRecord,
    Metric,
    MonthlyRollup,
    RollupSection,
    UserProfile,
)
from tally.store import Stores, memory_stores

TODAY = date(2026, 12, 20)
NOW = datetime(2026, 12, 20, 8, tzinfo=UTC)
MONTH_START, MONTH_END = date(2026, 11, 1), date(2026, 11, 30)
SERVICES = ("AmazonEC2", "AmazonRDS", "AmazonS3", "AWSLambda", "AmazonCloudWatch")
YEAR_START, YEAR_END = date(2025, 12, 1), date(2026, 11, 30)
LINES_A_DAY = 300

Rows = Iterator[tuple[str, object]]


class NullSink:
    def __init__(self) -> None:
        self.bytes = 0
        self.writes = 0
        self.largest = 0

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        self.writes += 1
        self.largest = max(self.largest, len(data))
        return len(data)


def _month_rollup(owner: str, per_service_day: Decimal) -> MonthlyRollup:
    a = Amounts(per_service_day, per_service_day * Decimal("0.9"))
    month_days = [d.isoformat() for d in days(MONTH_START, MONTH_END + timedelta(days=1))]
    section = RollupSection(
        totals=Amounts(a.billed * 150, a.effective * 150),
        by_service=dict.fromkeys(SERVICES, Amounts(a.billed * 30, a.effective * 30)),
        by_category={"Usage": Amounts(a.billed * 150, a.effective * 150)},
        daily={d: Amounts(a.billed * 5, a.effective * 5) for d in month_days},
        daily_by_service={d: dict.fromkeys(SERVICES, a) for d in month_days},
        top_resources=[],
    )
    return MonthlyRollup(owner, "2026-11", {"USD": section}, False, 150, NOW)


def organisation(users: int) -> Stores:
    stores = memory_stores()
    for n in range(users):
        stores.users.put(
            UserProfile(f"u-{n:05}", f"user{n:05}", f"user{n:05}@example.com", Role.USER)
        )
        stores.rollups.put(_month_rollup(f"u-{n:05}", Decimal("0.4321")))
    stores.rollups.put(_month_rollup(UNALLOCATED, Decimal("12.5")))
    stores.rollups.put(_month_rollup(ORG, Decimal("0.4321") * users + Decimal("12.5")))
    return stores


def busy_owner() -> Stores:
    stores = memory_stores()
    for day in days(YEAR_START, YEAR_END + timedelta(days=1)):
        stores.costs.replace_day(
            day,
            [
                CostRecord("u-busy", day, f"l{n:04}", SERVICES[n % 5], f"i-{n:08x}", Decimal(24),
                           "Hrs", Decimal("0.0416"), Decimal("0.0390"), "USD", "Usage", False,
                           "bench", NOW, "tag")
                for n in range(LINES_A_DAY)
            ],
        )  # fmt: skip
    return stores


def _measure(label: str, stores: Stores, request: ExportRequest) -> Rows:
    def run() -> tuple[int, NullSink]:
        sink = NullSink()
        rows = write_export(stores, request, sink, metric=Metric.EFFECTIVE, today=TODAY, now=NOW)
        return rows, sink

    started = time.perf_counter()
    rows, sink = run()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    yield f"{label}: rows", f"{rows:,}"
    yield f"{label}: file size (MB)", f"{sink.bytes / 1e6:.1f}"
    yield f"{label}: seconds (in-memory stores)", f"{seconds:.2f}"
    yield f"{label}: rows per second", f"{rows / seconds:,.0f}"
    yield f"{label}: peak memory of the export (MB, tracemalloc)", f"{peak / 1e6:.1f}"
    yield f"{label}: writes to the sink, largest (KB)", f"{sink.writes:,}, {sink.largest / 1e3:.0f}"


def exports(users: int = 10_000) -> Rows:
    """The section's figures, label and value, for ``tests.bench.__main__``."""
    builds: list[tuple[str, Callable[[], Stores], ExportRequest]] = [
        (
            f"all-users, {users:,} users x 5 services, November 2026",
            lambda: organisation(users),
            ExportRequest("all-users", MONTH_START, MONTH_END),
        ),
        (
            f"costs, one owner, {LINES_A_DAY} lines a day for a year",
            busy_owner,
            ExportRequest("costs", YEAR_START, YEAR_END, "u-busy"),
        ),
    ]
    for label, build, request in builds:
        yield from _measure(label, build(), request)
