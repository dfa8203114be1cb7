"""The demo organisation in memory stores: the local stack's people, assignments and FOCUS
export (``infra.local.demo``), without AWS, for the forecast tests and ``make bench``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from infra.local.demo import PLAN, demo_resources
from infra.local.demo_costs import generate_focus_csv
from tally.allocation import OwnerTagRule
from tally.identity import Role
from tally.ingest import IngestResult, run_source
from tally.models import Assignment, AuditEntry, UserProfile
from tally.org.model import team_owner
from tally.sources.focus import FocusSource
from tally.store import Stores, memory_stores

USERS = ("alice", "bob", "carol")
ARNS = {p.name: f"arn:aws:{p.kind}:us-east-1:123456789012:{p.kind}/{p.name}" for p in PLAN}


def demo_stores(*, since: date) -> Stores:
    """Users (their user id is their name) and the plan's assignments, in force from ``since``:
    to people, and to a team for the resources a team holds (the payments team's ledger
    bucket), as the local stack's demo assigns them."""
    stores = memory_stores()
    at = datetime.combine(since, time(), tzinfo=UTC)
    for name in USERS:
        stores.users.put(UserProfile(name, name, None, Role.USER))
    for item in PLAN:
        owners = [*item.assigned, *([(team_owner(item.team), "100")] if item.team else [])]
        for user, share in owners:
            assignment = Assignment(
                f"{item.name}-{user}",
                user,
                item.kind,
                ARNS[item.name],
                Decimal(share),
                None,
                "demo",
                at,
                effective_from=since,
            )
            audit = AuditEntry(user, at, "demo", "assignment.created", assignment.assignment_id, {})
            stores.assignments.create(assignment, audit)
    return stores


def demo_export(*, end: date, days: int) -> bytes:
    """The demo's FOCUS export of the ``days`` days before ``end``."""
    return generate_focus_csv(demo_resources(ARNS), end=end, days=days).encode()


def ingest_export(
    stores: Stores, export: bytes, start: date, end: date, *, metric: str = "effective"
) -> IngestResult:
    """Ingest ``[start, end)`` of ``export`` as the daily run of ``end`` would (00:00 UTC)."""
    now = datetime.combine(end, time(), tzinfo=UTC)
    result, _ = run_source(
        FocusSource.from_bytes(export, today=end),
        start,
        end,
        stores=stores,
        rule=OwnerTagRule(),
        now=now,
        metric=metric,
    )
    return result
