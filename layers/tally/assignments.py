"""Assigning AWS resources to users, in time.

An assignment is in force from ``effective_from`` (inclusive) until ``effective_to``
(exclusive, set when it is removed); a day's costs go to the assignments in force that day.
Removing an assignment ends it today and keeps the record, so the ingest can still allocate
the days before the change to whoever owned the resource then.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from tally.access import allows, require
from tally.authz import Target
from tally.clock import Clock, utc_now
from tally.errors import Invalid, NotFound
from tally.identity import Caller
from tally.models import Assignment, AuditEntry, CostRecord, Metric, Page
from tally.names import directory_names
from tally.org.costs import team_subject
from tally.org.model import team_of_owner
from tally.resources import (
    ResourceCatalog,
    line_match_key,
    match_key,
    require_existing,
    require_org_account,
)
from tally.store import PageKey
from tally.users import UserSource, require_known_user
from tally.view import View

logger = logging.getLogger(__name__)

# How far an assignment may start from the day it is made. Back: a little more than a year,
# enough to claim a resource's history for the last full year. Ahead: a year, to plan a
# handover without leaving a forgotten assignment decades out.
MAX_BACKDATE_DAYS = 400
MAX_AHEAD_DAYS = 366


@dataclass(frozen=True)
class AssignRequest:
    user_id: str
    resource_type: str
    resource_id: str
    cost_center: str | None = None
    share_pct: Decimal = Decimal(100)
    effective_from: date | None = None  # first day in force; default: the day of the request


def _start(requested: date | None, today: date) -> date:
    start = requested or today
    earliest = today - timedelta(days=MAX_BACKDATE_DAYS)
    latest = today + timedelta(days=MAX_AHEAD_DAYS)
    if start < earliest:
        raise Invalid.field(
            "effectiveFrom",
            f"an assignment may start at most {MAX_BACKDATE_DAYS} days back "
            f"(on {earliest.isoformat()} or later)",
        )
    if start > latest:
        raise Invalid.field(
            "effectiveFrom",
            f"an assignment may start at most {MAX_AHEAD_DAYS} days ahead "
            f"(on {latest.isoformat()} or earlier)",
        )
    return start


def assign_resource(
    view: View,
    request: AssignRequest,
    *,
    catalog: ResourceCatalog,
    user_source: UserSource | None = None,
    clock: Clock = utc_now,
    org_accounts: Collection[str] | None = None,
) -> Assignment:
    """Assign a resource (or a share of it) to a user from ``request.effective_from`` on
    (default: the view's ``today``); admins for anyone, users for themselves. A start in the
    past takes effect for those days when they are next ingested. With ``org_accounts``, an
    ARN of any other AWS account is refused. ``clock`` stamps the record."""
    caller, stores = view.caller, view.stores
    # A team's own resource: ``user_id`` is the team's owner id (``team:<id>``).
    team_id = team_of_owner(request.user_id)
    if team_id is None:
        if request.user_id != caller.user_id:  # one's own: the API makes it a claim first
            require(caller, "assignments:write", Target.user(request.user_id))
    else:
        team_subject(view, "assignments:write", team_id)
    if org_accounts is not None:
        require_org_account(request.resource_id, org_accounts)
    if team_id is None:
        require_known_user(request.user_id, stores.users, user_source)
    now = clock()
    start = _start(request.effective_from, view.today)
    require_existing(catalog, request.resource_type, request.resource_id)
    assignment = Assignment(
        assignment_id=str(uuid.uuid4()),
        user_id=request.user_id,
        resource_type=request.resource_type,
        resource_id=request.resource_id.strip(),
        share_pct=request.share_pct,
        cost_center=request.cost_center,
        assigned_by=caller.user_id,
        assigned_at=now,
        effective_from=start,
    )
    stores.assignments.create(assignment, created_audit(assignment, actor=caller.user_id, at=now))
    follow_owners(view, assignment.resource_type, assignment.resource_id, now)
    return assignment


def follow_owners(view: View, resource_type: str, resource_id: str, now: datetime) -> None:
    """Bring the estate views' cached owners of the resource up to date after one of its
    assignments changed (``tally.estate.ownership.follow_assignment``). The assignment is
    already stored: a failure here is logged, not raised, and the inventory's next full run
    recomputes every owner anyway."""
    from tally.estate.ownership import follow_assignment

    try:
        follow_assignment(
            view.stores.estate,
            view.stores.assignments,
            resource_type,
            resource_id,
            today=view.today,
            now=now,
        )
    except Exception:
        logger.exception("estate owners of %s not updated", resource_id)


def created_audit(assignment: Assignment, *, actor: str, at: datetime, **extra: str) -> AuditEntry:
    """The audit entry of a new assignment, however it was made (an admin, a claim)."""
    return AuditEntry(
        subject_user_id=assignment.user_id,
        at=at,
        actor=actor,
        action="assignment.created",
        entity_id=assignment.assignment_id,
        details={
            "resourceType": assignment.resource_type,
            "resourceId": assignment.resource_id,
            "sharePct": str(assignment.share_pct),
            "effectiveFrom": assignment.effective_from.isoformat(),
            **extra,
        },
    )


def may_end(caller: Caller, owner: str) -> bool:
    """Whether the caller may end an assignment of ``owner``'s: anyone's with
    assignments:write on them, and everyone their own (assignments:release)."""
    if allows(caller, "assignments:write", Target.owner(owner)):
        return True
    return owner == caller.user_id and allows(caller, "assignments:release", Target.user(owner))


def unassign_resource(view: View, assignment_id: str, *, clock: Clock = utc_now) -> Assignment:
    """End an assignment on the view's ``today`` (``effective_to`` = today, so today's costs
    are no longer its); the record stays for the days it was in force. One that has not
    started yet ends on its first day, never having been in force. An ended assignment is not
    found. ``clock`` stamps the audit entry."""
    caller, stores = view.caller, view.stores
    assignment = stores.assignments.get(assignment_id)
    if assignment is None or assignment.ended or not may_end(caller, assignment.user_id):
        raise NotFound("no such assignment")
    now = clock()
    end = max(view.today, assignment.effective_from)
    ended = stores.assignments.end(
        assignment,
        end,
        AuditEntry(
            subject_user_id=assignment.user_id,
            at=now,
            actor=caller.user_id,
            action="assignment.ended",
            entity_id=assignment_id,
            details={
                "resourceType": assignment.resource_type,
                "resourceId": assignment.resource_id,
                "effectiveTo": end.isoformat(),
            },
        ),
    )
    follow_owners(view, assignment.resource_type, assignment.resource_id, now)
    return ended


@dataclass(frozen=True)
class AssignedResourceCost:
    """The user's cost of an assigned resource over the resource list's window (not the
    roll-ups' ``models.ResourceCost``, a top resource of a month)."""

    currency: str
    last_30_days: Decimal
    latest_daily: Decimal
    latest_day: date | None


@dataclass(frozen=True)
class AssignedResource:
    assignment: Assignment
    cost: AssignedResourceCost | None
    scheduled: bool = False  # starts after today: listed, but carries no cost yet
    name: str | None = None  # the name its cost records carry (tally.names), if any


# The resource list's cost window: the last 30 complete days, ending yesterday (today never
# has data yet: AWS reports a day's costs a day or two later).
COST_WINDOW_DAYS = 30


def _costs_by_resource(records: list[CostRecord]) -> dict[str, dict[str, list[CostRecord]]]:
    by_key: dict[str, dict[str, list[CostRecord]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r.resource_id:
            by_key[line_match_key(r.service, r.resource_id)][r.currency].append(r)
    return by_key


def _record_name(per_currency: dict[str, list[CostRecord]] | None) -> str | None:
    """The name the resource's latest record carries (the records it was costed from)."""
    named = [r for rs in (per_currency or {}).values() for r in rs if r.resource_name]
    return max(named, key=lambda r: r.day).resource_name if named else None


def _resource_cost(
    per_currency: dict[str, list[CostRecord]], metric: Metric
) -> AssignedResourceCost:
    # A resource is billed in one currency; if ever several, show the largest, never a sum.
    currency, records = max(
        per_currency.items(), key=lambda kv: sum((r.amount(metric) for r in kv[1]), Decimal(0))
    )
    latest_day = max(r.day for r in records)
    return AssignedResourceCost(
        currency=currency,
        last_30_days=sum((r.amount(metric) for r in records), Decimal(0)),
        latest_daily=sum((r.amount(metric) for r in records if r.day == latest_day), Decimal(0)),
        latest_day=latest_day,
    )


def list_user_resources(
    view: View,
    user_id: str,
    *,
    limit: int,
    start_key: PageKey | None,
    resource_id: str | None = None,
) -> Page[AssignedResource]:
    """A page of the user's assignments not ended: those in force on the view's ``today`` and
    those starting later (``scheduled``), each with the user's cost of the resource (by the
    view's metric) over the last ``COST_WINDOW_DAYS`` complete days (ending yesterday).
    ``resource_id``: only the page's assignments of that resource (by any of its names, as
    the assignment's type reads it), costed from that resource's own lines: one resource's
    page reads its assignment without the user's every cost line."""
    require(view.caller, "assignments:read", Target.owner(user_id))
    stores, today, metric = view.stores, view.today, view.metric
    page = stores.assignments.list_for_user(user_id, limit, start_key)
    listed = page.items
    start = today - timedelta(days=COST_WINDOW_DAYS)
    if resource_id is None:
        records = stores.costs.for_owner(user_id, start, today) if listed else []
    else:
        listed = [
            a
            for a in listed
            if match_key(a.resource_type, a.resource_id) == match_key(a.resource_type, resource_id)
        ]
        wanted = {match_key(a.resource_type, a.resource_id) for a in listed}
        records = [
            r for k in sorted(wanted) for r in stores.costs.for_resource(user_id, start, today, k)
        ]
    by_key = _costs_by_resource(records)
    record_names = {
        a.assignment_id: _record_name(by_key.get(match_key(a.resource_type, a.resource_id)))
        for a in listed
    }
    # The resources whose records name none (not costed in the window, or costed before names
    # were kept) are named by the name directory: one BatchGetItem for the page, none when
    # every resource's records named it.
    known = directory_names(
        stores.names,
        [(a.resource_type, a.resource_id) for a in listed if not record_names[a.assignment_id]],
    )
    items = []
    for a in listed:
        per_currency = by_key.get(match_key(a.resource_type, a.resource_id))
        items.append(
            AssignedResource(
                a,
                _resource_cost(per_currency, metric) if per_currency else None,
                scheduled=a.effective_from > today,
                name=record_names[a.assignment_id] or known.get((a.resource_type, a.resource_id)),
            )
        )
    return Page(items=items, next_key=page.next_key)
