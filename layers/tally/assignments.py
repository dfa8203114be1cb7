"""Assigning AWS resources to users."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from tally.access import may_see, require_user_access
from tally.clock import Clock, utc_now, utc_today
from tally.errors import Invalid, NotFound
from tally.identity import Caller
from tally.models import Assignment, AuditEntry, CostRecord, Page
from tally.resources import ResourceCatalog, line_match_key, match_key
from tally.store import Stores
from tally.store.interfaces import PageKey
from tally.users import UserSource, require_known_user


@dataclass(frozen=True)
class AssignRequest:
    user_id: str
    resource_type: str
    resource_id: str
    cost_center: str | None = None
    share_pct: Decimal = Decimal(100)


def assign_resource(
    caller: Caller,
    request: AssignRequest,
    *,
    stores: Stores,
    catalog: ResourceCatalog,
    user_source: UserSource | None = None,
    clock: Clock = utc_now,
) -> Assignment:
    """Assign a resource (or a share of it) to a user; admins for anyone, users for themselves."""
    require_user_access(caller, request.user_id)
    require_known_user(request.user_id, stores.users, user_source)
    if not catalog.exists(request.resource_type, request.resource_id):
        raise Invalid.field(
            "resourceId",
            f"no {request.resource_type} resource '{request.resource_id}' in this AWS account"
            if request.resource_type in ("ec2", "s3", "rds", "lambda")
            else "resources of this type are accepted by ARN (arn:aws:...)",
        )
    now = clock()
    assignment = Assignment(
        assignment_id=str(uuid.uuid4()),
        user_id=request.user_id,
        resource_type=request.resource_type,
        resource_id=request.resource_id.strip(),
        share_pct=request.share_pct,
        cost_center=request.cost_center,
        assigned_by=caller.user_id,
        assigned_at=now,
    )
    stores.assignments.create(
        assignment,
        AuditEntry(
            subject_user_id=assignment.user_id,
            at=now,
            actor=caller.user_id,
            action="assignment.created",
            entity_id=assignment.assignment_id,
            details={
                "resourceType": assignment.resource_type,
                "resourceId": assignment.resource_id,
                "sharePct": str(assignment.share_pct),
            },
        ),
    )
    return assignment


def unassign_resource(
    caller: Caller, assignment_id: str, *, stores: Stores, clock: Clock = utc_now
) -> None:
    assignment = stores.assignments.get(assignment_id)
    if assignment is None or not may_see(caller, assignment.user_id):
        raise NotFound("no such assignment")
    stores.assignments.delete(
        assignment,
        AuditEntry(
            subject_user_id=assignment.user_id,
            at=clock(),
            actor=caller.user_id,
            action="assignment.deleted",
            entity_id=assignment_id,
            details={
                "resourceType": assignment.resource_type,
                "resourceId": assignment.resource_id,
            },
        ),
    )


@dataclass(frozen=True)
class ResourceCost:
    currency: str
    last_30_days: Decimal
    latest_daily: Decimal
    latest_day: date | None


@dataclass(frozen=True)
class AssignedResource:
    assignment: Assignment
    cost: ResourceCost | None


COST_WINDOW_DAYS = 30


def _costs_by_resource(
    records: list[CostRecord], metric: str
) -> dict[str, dict[str, list[CostRecord]]]:
    by_key: dict[str, dict[str, list[CostRecord]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r.resource_id:
            by_key[line_match_key(r.service, r.resource_id)][r.currency].append(r)
    return by_key


def _resource_cost(per_currency: dict[str, list[CostRecord]], metric: str) -> ResourceCost:
    def amount(r: CostRecord) -> Decimal:
        return r.effective_cost if metric == "effective" else r.billed_cost

    # A resource is billed in one currency; if ever several, show the largest, never a sum.
    currency, records = max(
        per_currency.items(), key=lambda kv: sum((amount(r) for r in kv[1]), Decimal(0))
    )
    latest_day = max(r.day for r in records)
    return ResourceCost(
        currency=currency,
        last_30_days=sum((amount(r) for r in records), Decimal(0)),
        latest_daily=sum((amount(r) for r in records if r.day == latest_day), Decimal(0)),
        latest_day=latest_day,
    )


def list_user_resources(
    caller: Caller,
    user_id: str,
    *,
    stores: Stores,
    limit: int,
    start_key: PageKey | None,
    metric: str = "billed",
    today: date | None = None,
) -> Page[AssignedResource]:
    """A page of the user's assignments, each with its cost over the last 30 days."""
    require_user_access(caller, user_id)
    today = today or utc_today()
    page = stores.assignments.list_for_user(user_id, limit, start_key)
    records = (
        stores.costs.for_owner(
            user_id, today - timedelta(days=COST_WINDOW_DAYS - 1), today + timedelta(days=1)
        )
        if page.items
        else []
    )
    by_key = _costs_by_resource(records, metric)
    items = []
    for a in page.items:
        per_currency = by_key.get(match_key(a.resource_type, a.resource_id))
        items.append(
            AssignedResource(a, _resource_cost(per_currency, metric) if per_currency else None)
        )
    return Page(items=items, next_key=page.next_key)
