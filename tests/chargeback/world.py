"""A month of a small organisation, ingested for real (allocation, records, roll-ups): the
chargeback tests' world.

Teams: department "engineering" (dave directly, cost center ENG), team "payments" under it
(alice and bob, cost center PAY, and a Lambda function of its own), team "data" (bob and
carol, no department, no cost center). Eve is in no team. An EC2 instance is split 60/40
between alice and carol (shared costs); a bucket is billed in EUR; a function nobody owns is
unallocated; a credit on the 1st."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tally.allocation import OwnerTagRule
from tally.ingest import ingest_days
from tally.models import Assignment, AuditEntry, CostLine, Role, UserProfile
from tally.org.model import Team, TeamKind
from tally.store import Stores, memory_stores

D = Decimal
MONTH = "2026-10"
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)
TODAY = date(2026, 11, 20)  # October is final by then
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
PEOPLE = ("alice", "bob", "carol", "dave", "eve")

ENGINEERING = Team("engineering", "Engineering", TeamKind.DEPARTMENT, cost_center="ENG",
                   members=frozenset({"u-dave"}))  # fmt: skip
PAYMENTS = Team("payments", "Payments", parent_id="engineering", cost_center="PAY",
                members=frozenset({"u-alice", "u-bob"}))  # fmt: skip
DATA = Team("data", "Data", members=frozenset({"u-bob", "u-carol"}))
TEAMS = (ENGINEERING, PAYMENTS, DATA)


def add_team(stores: Stores, team: Team) -> None:
    audit = AuditEntry(f"team:{team.team_id}", NOW, "u-admin", "team.created", team.team_id, {})
    stores.access.save_team(team, previous=None, snapshot=stores.access.snapshot(), audit=audit)


def _lines(day: date) -> list[CostLine]:
    lines = [
        CostLine(day, "AmazonEC2", f"i-0{p}", D("1.2345"), D("1.1"), "USD", tags={"Owner": p})
        for p in PEOPLE
    ]
    lines += [
        CostLine(day, "AmazonEC2", "i-0shared", D("0.731"), D("0.7"), "USD"),
        CostLine(day, "AWSLambda", "arn:aws:lambda:us-east-1:123456789012:function:pay",
                 D("0.5"), D("0.45"), "USD"),
        CostLine(day, "AmazonS3", "bucket-b", D("2.00"), D("2.00"), "EUR", tags={"Owner": "bob"}),
        CostLine(day, "AWSLambda", "fn-nobody", D("0.333"), D("0.3"), "USD"),
    ]  # fmt: skip
    if day.day == 1:
        lines.append(CostLine(day, "AmazonEC2", None, D("-2.50"), D("-2.50"), "USD",
                              charge_category="Credit", tags={"Owner": "alice"}))  # fmt: skip
    return lines


# The calendar's edges of the month (moto tests ingest these alone: every write is an HTTP call).
EDGE_DAYS = (date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 15), date(2026, 10, 31))


def world(
    stores: Stores | None = None,
    *,
    teams: tuple[Team, ...] = TEAMS,
    days: tuple[date, ...] | None = None,
) -> Stores:
    stores = stores or memory_stores()
    for p in (*PEOPLE, "admin"):
        stores.users.put(UserProfile(f"u-{p}", p, f"{p}@example.com", Role.USER))
    for team in teams:
        add_team(stores, team)
    at = datetime(2026, 9, 30, tzinfo=UTC)
    shares = (
        ("u-alice", "ec2", "i-0shared", 60),
        ("u-carol", "ec2", "i-0shared", 40),
        ("team:payments", "lambda", "arn:aws:lambda:us-east-1:123456789012:function:pay", 100),
    )
    for owner, kind, resource, share in shares:
        stores.assignments.create(
            Assignment(f"a-{owner}-{resource[-5:]}", owner, kind, resource, D(share), None,
                       "u-admin", at, effective_from=date(2026, 10, 1)),
            AuditEntry(owner, at, "u-admin", "assignment.created", f"a-{owner}", {}),
        )  # fmt: skip
    window = list(days or (FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)))
    lines = [line for day in window for line in _lines(day)]
    ingest_days(lines, window, stores=stores, rule=OwnerTagRule(), source="test", now=NOW)
    return stores
