"""A small organisation with every allocation case, for the fan-out's equivalence tests: split
and ended assignments, owner tags by username and email, unallocated lines, lines without a
resource, duplicate identities (hourly rows), two currencies, credits and tax, an estimated
day, and a window across a month's end."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tally.identity import Role
from tally.models import Assignment, CostLine, UserProfile
from tally.sources import CostFetch, FetchLog, iter_days
from tally.store import Stores, memory_stores

USERS = [UserProfile(f"u-{n}", f"user{n}", f"user{n}@example.com", Role.USER) for n in range(1, 8)]
START = date(2026, 10, 29)
END = date(2026, 11, 4)  # exclusive
NOW = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)


class Assignments:
    """The only call the ingest makes on assignments."""

    def __init__(self, assignments: list[Assignment]) -> None:
        self._all = assignments

    def all(self) -> list[Assignment]:
        return list(self._all)


def assignments() -> list[Assignment]:
    at = datetime(2026, 9, 1, tzinfo=UTC)
    made = []
    for n in range(0, 12):
        made.append(
            Assignment(
                assignment_id=f"a-{n}",
                user_id=USERS[n % 4].user_id,
                resource_type="ec2",
                resource_id=f"i-{n:04d}",
                share_pct=Decimal("60") if n % 3 == 0 else Decimal("100"),
                cost_center=None,
                assigned_by="u-admin",
                assigned_at=at,
                effective_from=date(2026, 9, 1),
                # One assignment ends inside the window: its later days go by tag.
                effective_to=date(2026, 11, 1) if n == 4 else None,
            )
        )
    made.append(
        replace(made[0], assignment_id="a-share", user_id=USERS[5].user_id, share_pct=Decimal("25"))
    )
    return made


def stores() -> Stores:
    s = memory_stores()
    for u in USERS:
        s.users.put(u)
    return replace(s, assignments=Assignments(assignments()))  # type: ignore[arg-type]


def lines(seed: int, *, start: date = START, end: date = END) -> list[CostLine]:
    rng = random.Random(seed)
    owners = [None, "user1", "USER2@example.com", "user3", "nobody-known", "user6 "]
    made: list[CostLine] = []
    for day in iter_days(start, end):
        for n in range(0, 30):
            if rng.random() < 0.15:
                continue  # a resource without costs that day
            rid = f"i-{n:04d}" if n < 20 else f"arn:aws:s3:::bucket-{n}"
            service = "AmazonEC2" if n < 20 else "AmazonS3"
            hours = 2 if n % 5 == 0 else 1  # duplicate identities, merged before allocation
            for _ in range(hours):
                cost = Decimal(rng.randint(1, 500_000)) / Decimal(10_000)
                made.append(
                    CostLine(
                        day=day,
                        service=service,
                        resource_id=rid,
                        billed_cost=cost,
                        effective_cost=cost * Decimal("0.9"),
                        currency="EUR" if n == 25 else "USD",
                        usage_quantity=Decimal(rng.randint(1, 24)),
                        usage_unit="Hrs",
                        charge_category="Credit" if n == 7 and day.day == 1 else "Usage",
                        estimated=day == end - timedelta(days=1),
                        tags={"Owner": o} if (o := owners[n % len(owners)]) else {},
                    )
                )
        made.append(
            CostLine(
                day=day,
                service="Tax",
                resource_id=None,
                billed_cost=Decimal("3.333333"),
                effective_cost=Decimal("3.333333"),
                currency="USD",
                charge_category="Tax",
            )
        )
    return made


class ListSource:
    source_name = "test"

    def __init__(self, lines: list[CostLine]) -> None:
        self._lines = lines

    def fetch(self, start: date, end: date) -> CostFetch:
        def produce(log: FetchLog) -> Iterator[CostLine]:
            for day in iter_days(start, end):
                log.returned(day, estimated=False)
            for line in self._lines:
                if start <= line.day < end:
                    log.returned(line.day, estimated=line.estimated)
                    yield line

        return CostFetch(self.source_name, start, end, produce)
