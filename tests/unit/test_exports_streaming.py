"""Exports stream: the file leaves in bounded writes while the stores are still being read, the
roll-ups of every owner are asked for a page at a time and the cost records a month at a
time. Each test fails if the export is built in memory first (then every read comes before
the first write, or one write carries the whole file)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from math import ceil

import pytest

from tally.calendar import days, month_of
from tally.exports import ExportRequest, write_export
from tally.exports.csv_export import FLUSH_BYTES, ROLLUP_PAGE, USER_BATCH
from tally.identity import Role
from tally.models import (
    ORG,
    UNALLOCATED,
    Amounts,
    CostRecord,
    Metric,
    MonthlyRollup,
    Page,
    RollupSection,
    UserProfile,
)
from tally.store import PageKey, Stores, memory_stores

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 8, tzinfo=UTC)
OWNERS = 2_000
SERVICES = ("AmazonEC2", "AmazonS3", "AWSLambda")
MONTHS = ("2026-10", "2026-11")
# One row is well under 200 bytes: a write is a buffer's worth, never much more.
WRITE_BOUND = FLUSH_BYTES + 200


@dataclass
class Log:
    events: list[str] = field(default_factory=list)
    writes: list[int] = field(default_factory=list)

    def write(self, data: bytes) -> int:
        self.events.append("write")
        self.writes.append(len(data))
        return len(data)

    def first_write_before_last(self, read: str) -> bool:
        last = max(n for n, e in enumerate(self.events) if e.startswith(read))
        return self.events.index("write") < last


class CountingRollups:
    """The memory roll-up store, logging each page of a month read; reading a whole month
    (every owner at once) fails the test."""

    def __init__(self, inner: object, log: Log) -> None:
        self._inner, self._log = inner, log
        self.limits: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def of_month(self, month: str) -> list[MonthlyRollup]:
        raise AssertionError("the export read every owner's roll-up of a month at once")

    def of_month_page(
        self, month: str, *, limit: int, start_key: PageKey | None
    ) -> Page[MonthlyRollup]:
        self._log.events.append(f"page {month}")
        self.limits.append(limit)
        return self._inner.of_month_page(month, limit=limit, start_key=start_key)  # type: ignore[attr-defined,no-any-return]


class CountingUsers:
    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.batches: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def get_many(self, user_ids: Sequence[str]) -> dict[str, UserProfile]:
        self.batches.append(len(user_ids))
        return self._inner.get_many(user_ids)  # type: ignore[attr-defined,no-any-return]


class CountingCosts:
    def __init__(self, inner: object, log: Log) -> None:
        self._inner, self._log = inner, log
        self.spans: list[tuple[date, date]] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def for_owner(self, owner: str, start: date, end: date) -> list[CostRecord]:
        self._log.events.append("records")
        self.spans.append((start, end))
        return self._inner.for_owner(owner, start, end)  # type: ignore[attr-defined,no-any-return]


def _rollup(owner: str, month: str, per_day: Decimal) -> MonthlyRollup:
    first = date.fromisoformat(f"{month}-01")
    month_days = [d.isoformat() for d in days(first, first + timedelta(days=5))]
    a = Amounts(per_day, per_day)
    by_day = {d: dict.fromkeys(SERVICES, a) for d in month_days}
    section = RollupSection(
        totals=Amounts(per_day * 15, per_day * 15),
        by_service=dict.fromkeys(SERVICES, Amounts(per_day * 5, per_day * 5)),
        by_category={},
        daily={d: Amounts(per_day * 3, per_day * 3) for d in month_days},
        daily_by_service=by_day,
        top_resources=[],
    )
    return MonthlyRollup(owner, month, {"USD": section}, False, 15, NOW)


@pytest.fixture(scope="module")
def big() -> Stores:
    stores = memory_stores()
    for n in range(OWNERS):
        stores.users.put(UserProfile(f"u-{n:05}", f"user{n:05}", None, Role.USER))
        for month in MONTHS:
            stores.rollups.put(_rollup(f"u-{n:05}", month, Decimal("0.01")))
    for month in MONTHS:
        stores.rollups.put(_rollup(UNALLOCATED, month, Decimal("1")))
        stores.rollups.put(_rollup(ORG, month, Decimal("0.01") * OWNERS + 1))
    return stores


def test_all_users_reads_page_by_page_while_writing(big: Stores) -> None:
    log = Log()
    rollups, users = CountingRollups(big.rollups, log), CountingUsers(big.users)
    stores = replace(big, rollups=rollups, users=users)  # type: ignore[arg-type]
    request = ExportRequest("all-users", date(2026, 10, 1), date(2026, 11, 19))
    rows = write_export(stores, request, log, metric=Metric.EFFECTIVE, today=TODAY, now=NOW)

    assert rows == (OWNERS + 1) * len(SERVICES)
    owners_a_month = OWNERS + 2  # with ORG and UNALLOCATED
    assert len(rollups.limits) == len(MONTHS) * ceil(owners_a_month / ROLLUP_PAGE)
    assert max(rollups.limits) <= ROLLUP_PAGE
    assert max(users.batches) <= USER_BATCH and sum(users.batches) == OWNERS
    assert max(log.writes) <= WRITE_BOUND
    assert sum(log.writes) > 3 * FLUSH_BYTES  # so one bounded write could not hold it all
    assert log.first_write_before_last("page")


def test_all_users_totals_survive_the_paging(big: Stores) -> None:
    out = io.BytesIO()
    request = ExportRequest("all-users", date(2026, 10, 2), date(2026, 11, 3))
    write_export(big, request, out, metric=Metric.EFFECTIVE, today=TODAY, now=NOW)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"), newline="")))
    total = rows[-1]
    # Days 2-5 of October and 1-3 of November: 7 days of 3 services.
    assert total[0] == "TOTAL" and Decimal(total[5]) == (Decimal("0.01") * OWNERS + 1) * 3 * 7


def test_costs_read_a_month_at_a_time_while_writing() -> None:
    log = Log()
    stores = memory_stores()
    start, end = date(2026, 1, 15), date(2026, 12, 31)  # 351 days, 12 months
    for day in days(start, end + timedelta(days=1)):
        stores.costs.replace_day(
            day,
            [
                CostRecord("u-big", day, f"l{n}", "AmazonEC2", f"i-{n:04}", Decimal(1), "Hrs",
                           Decimal("0.25"), Decimal("0.2"), "USD", "Usage", False, "t", NOW, "tag")
                for n in range(40)
            ],
        )  # fmt: skip
    costs = CountingCosts(stores.costs, log)
    request = ExportRequest("costs", start, end, "u-big")
    rows = write_export(
        replace(stores, costs=costs),  # type: ignore[arg-type]
        request,
        log,
        metric=Metric.EFFECTIVE,
        today=date(2027, 1, 20),
        now=NOW,
    )
    assert rows == 40 * 351
    assert len(costs.spans) == 12
    assert all(month_of(a) == month_of(b - timedelta(days=1)) for a, b in costs.spans)
    assert costs.spans[0][0] == start and costs.spans[-1][1] == end + timedelta(days=1)
    assert max(log.writes) <= WRITE_BOUND
    assert log.first_write_before_last("records")
