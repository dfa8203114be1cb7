"""Claims of resources, with approval.

A user claims (a share of) a resource instead of assigning it to themselves. Who owns the
resource today decides what happens:

- nobody (no assignment in force, no owner tag naming a known user): accepted at once or held
  for an admin, by the setting ``claim_unowned`` (default: held);
- someone else (an assignment in force today, or the owner tag for the share no assignment
  covers): held until one of those owners or an admin approves it.

A pending claim changes no allocation and blocks nothing: an admin's assignment goes ahead
beside it. Approving creates the claimant's assignment in force from the approval's day; if
the resource's shares would pass 100%, the other owners' assignments are ended (or ended and
re-made with a smaller share) from that day, so the days before stay theirs. Rejecting
changes nothing. A claim is decided once; every creation and decision is audited.

Notice to approvers goes through ``ClaimNotifier``: the default only logs; the alerts work
plugs in email (SES) and in-app notices behind the same two calls.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from tally.access import allows, require
from tally.allocation import OwnerTagRule
from tally.assignments import AssignRequest, assign_resource, created_audit, follow_owners
from tally.authz import Target
from tally.clock import Clock, utc_now
from tally.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from tally.identity import Caller
from tally.models import Assignment, AuditEntry, Claim, ClaimStatus, Page
from tally.resources import ResourceCatalog, require_existing, require_org_account
from tally.store import PageKey, Stores
from tally.users import UserSource, every_user
from tally.view import View

logger = logging.getLogger(__name__)

HUNDRED = Decimal(100)


class ClaimNotifier(Protocol):
    """Tells people about claims. ``claim_created`` is called once a claim is stored (pending
    or accepted at once), ``claim_decided`` once it is approved or rejected. Implementations
    must not raise for a failed delivery: the claim is already saved."""

    def claim_created(self, claim: Claim) -> None: ...
    def claim_decided(self, claim: Claim) -> None: ...


class LogNotifier:
    """The default notifier: a log line, no message to anyone (until the alerts work)."""

    def claim_created(self, claim: Claim) -> None:
        logger.info(
            "claim created",
            extra={
                "claimId": claim.claim_id,
                "status": claim.status.value,
                "approvers": len(claim.approver_ids),
            },
        )

    def claim_decided(self, claim: Claim) -> None:
        logger.info(
            "claim decided", extra={"claimId": claim.claim_id, "status": claim.status.value}
        )


@dataclass(frozen=True)
class ClaimRequest:
    resource_type: str
    resource_id: str
    share_pct: Decimal = HUNDRED
    note: str | None = None


@dataclass(frozen=True)
class ClaimPolicy:
    """The settings claims follow: what to do with an unowned resource, how the owner tag
    names users, and which AWS accounts belong to the organisation."""

    unowned: str = "hold"  # hold | accept
    tag_rule: OwnerTagRule = field(default_factory=OwnerTagRule)
    org_accounts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Ownership:
    """Who owns a resource today: assignments in force, and the tag owner of the rest."""

    assignments: list[Assignment]  # not ended (in force today or starting later)
    tag_owner: str | None

    def owners(self, today: date) -> set[str]:
        in_force = [a for a in self.assignments if a.in_force(today)]
        owners = {a.user_id for a in in_force}
        if self.tag_owner and sum((a.share_pct for a in in_force), Decimal(0)) < HUNDRED:
            owners.add(self.tag_owner)
        return owners


def ownership(
    resource_type: str,
    resource_id: str,
    *,
    stores: Stores,
    catalog: ResourceCatalog,
    tag_rule: OwnerTagRule,
) -> Ownership:
    current = stores.assignments.for_resource(resource_type, resource_id)
    tag = catalog.owner_tag(resource_type, resource_id, tag_rule.key)
    tag_owner = None
    if tag:
        # The same mapping the ingest applies (user id, username, email, or the explicit map).
        tag_owner = tag_rule.resolver(every_user(stores.users)).get(tag.strip().lower())
    return Ownership(current, tag_owner)


def _audit(claim: Claim, actor: str, action: str, at: datetime, **extra: str) -> AuditEntry:
    return AuditEntry(
        subject_user_id=claim.claimant_id,
        at=at,
        actor=actor,
        action=action,
        entity_id=claim.claim_id,
        details={
            "resourceType": claim.resource_type,
            "resourceId": claim.resource_id,
            "sharePct": str(claim.share_pct),
            **extra,
        },
    )


def create_claim(
    view: View,
    request: ClaimRequest,
    *,
    catalog: ResourceCatalog,
    policy: ClaimPolicy,
    notifier: ClaimNotifier | None = None,
    clock: Clock = utc_now,
) -> Claim:
    """Claim a resource for the caller: pending, or approved at once (an unowned resource
    under ``accept``, or an admin's claim) with the caller's assignment from the view's
    ``today``. Who owns the resource is judged on that day; ``clock`` stamps the records."""
    caller, stores, today = view.caller, view.stores, view.today
    require(caller, "claims:create", Target.user(caller.user_id))
    notifier = notifier or LogNotifier()
    resource_id = request.resource_id.strip()
    require_org_account(resource_id, policy.org_accounts)
    require_existing(catalog, request.resource_type, resource_id)
    now = clock()
    owned = ownership(
        request.resource_type, resource_id, stores=stores, catalog=catalog, tag_rule=policy.tag_rule
    )
    if any(a.user_id == caller.user_id for a in owned.assignments):
        raise Conflict("you already have an assignment of this resource")
    owners = owned.owners(today) - {caller.user_id}
    claim = Claim(
        claim_id=str(uuid.uuid4()),
        claimant_id=caller.user_id,
        resource_type=request.resource_type,
        resource_id=resource_id,
        share_pct=request.share_pct,
        note=request.note,
        status=ClaimStatus.PENDING,
        approver_ids=tuple(sorted(owners)),
        created_at=now,
    )
    # Whoever decides any claim has theirs approved at once.
    at_once = allows(caller, "claims:decide", Target.org()) or (
        not owners and policy.unowned == "accept"
    )
    if at_once:
        # Checked before anything is written: a claim that cannot take effect is not stored.
        assignment = _make_room_and_assign(view, claim, clock=clock)
        claim = replace(
            claim,
            status=ClaimStatus.APPROVED,
            decided_at=now,
            decided_by=caller.user_id,
            assignment_id=assignment.assignment_id,
        )
    stores.claims.create(
        claim, _audit(claim, caller.user_id, "claim.created", now, status=claim.status.value)
    )
    notifier.claim_created(claim)
    return claim


def assign_or_claim(
    view: View,
    request: AssignRequest,
    *,
    catalog: ResourceCatalog,
    policy: ClaimPolicy,
    user_source: UserSource | None = None,
    notifier: ClaimNotifier | None = None,
    clock: Clock = utc_now,
) -> Assignment | Claim:
    """An assignment asked for: an admin assigns to anyone; a user asking for themselves
    makes a claim instead, because nobody takes a colleague's resource unasked, and may not
    set what only admins set (a cost center, a start other than the approval's day).

    Returns the assignment when one was made (an admin's, or a claim accepted at once), else
    the pending claim."""
    caller = view.caller
    if allows(caller, "assignments:write", Target.owner(request.user_id)):
        return assign_resource(
            view,
            request,
            catalog=catalog,
            user_source=user_source,
            clock=clock,
            org_accounts=policy.org_accounts,
        )
    if request.user_id != caller.user_id:
        require(caller, "assignments:write", Target.owner(request.user_id))
    admin_only = [
        FieldError(
            name,
            "only someone who may assign you resources (assignments:write) sets this; "
            "a claim takes effect on the day it is approved",
        )
        for name, value in (
            ("costCenter", request.cost_center),
            ("effectiveFrom", request.effective_from),
        )
        if value is not None
    ]
    if admin_only:
        raise Invalid("; ".join(f"{e.field}: {e.message}" for e in admin_only), errors=admin_only)
    claim = create_claim(
        view,
        ClaimRequest(request.resource_type, request.resource_id, request.share_pct),
        catalog=catalog,
        policy=policy,
        notifier=notifier,
        clock=clock,
    )
    if claim.assignment_id is None:
        return claim
    created = view.stores.assignments.get(claim.assignment_id)
    if created is None:  # written before the claim that names it
        raise NotFound(f"assignment {claim.assignment_id} of claim {claim.claim_id}")
    return created


def _visible(caller: Caller, claim: Claim) -> bool:
    return caller.user_id in (claim.claimant_id, *claim.approver_ids) or allows(
        caller, "claims:decide", Target.org()
    )


def get_claim(view: View, claim_id: str) -> Claim:
    claim = view.stores.claims.get(claim_id)
    if claim is None or not _visible(view.caller, claim):
        raise NotFound("no such claim")
    return claim


def _require_decider(caller: Caller, claim: Claim) -> None:
    if caller.user_id in claim.approver_ids or allows(caller, "claims:decide", Target.org()):
        return
    raise Forbidden(
        "only the resource's owner, or someone who decides the organisation's claims "
        "(claims:decide), may decide this claim"
    )


def _make_room_and_assign(view: View, claim: Claim, *, clock: Clock) -> Assignment:
    """From the view's ``today`` on: end (or shrink) other assignments of the resource until
    the claim's share fits, then assign it to the claimant (the view's caller decides). Days
    before today keep their owners."""
    decider, stores, today = view.caller, view.stores, view.today
    now = clock()
    others = [
        a
        for a in stores.assignments.for_resource(claim.resource_type, claim.resource_id)
        if a.user_id != claim.claimant_id
    ]
    excess = sum((a.share_pct for a in others), Decimal(0)) + claim.share_pct - HUNDRED
    # The latest assignments give way first: the longest-standing owner keeps the most.
    for a in sorted(others, key=lambda a: (a.assigned_at, a.assignment_id), reverse=True):
        if excess <= 0:
            break
        end = max(today, a.effective_from)
        stores.assignments.end(
            a,
            end,
            AuditEntry(
                subject_user_id=a.user_id,
                at=now,
                actor=decider.user_id,
                action="assignment.ended",
                entity_id=a.assignment_id,
                details={
                    "resourceType": a.resource_type,
                    "resourceId": a.resource_id,
                    "effectiveTo": end.isoformat(),
                    "claimId": claim.claim_id,
                },
            ),
        )
        kept = a.share_pct - excess
        excess -= a.share_pct
        if kept > 0:
            _assign(
                replace(a, share_pct=kept, effective_from=end, effective_to=None),
                decider=decider,
                claim=claim,
                stores=stores,
                now=now,
            )
    made = _assign(
        Assignment(
            assignment_id="",
            user_id=claim.claimant_id,
            resource_type=claim.resource_type,
            resource_id=claim.resource_id,
            share_pct=claim.share_pct,
            cost_center=None,
            assigned_by=decider.user_id,
            assigned_at=now,
            effective_from=today,
        ),
        decider=decider,
        claim=claim,
        stores=stores,
        now=now,
    )
    follow_owners(view, claim.resource_type, claim.resource_id, now)
    return made


def _assign(
    template: Assignment, *, decider: Caller, claim: Claim, stores: Stores, now: datetime
) -> Assignment:
    """Store a new assignment made by a claim's decision (the resource was checked when the
    claim was made; the store enforces the share and time rules)."""
    assignment = replace(
        template, assignment_id=str(uuid.uuid4()), assigned_by=decider.user_id, assigned_at=now
    )
    stores.assignments.create(
        assignment,
        created_audit(assignment, actor=decider.user_id, at=now, claimId=claim.claim_id),
    )
    return assignment


def approve_claim(
    view: View,
    claim_id: str,
    *,
    notifier: ClaimNotifier | None = None,
    clock: Clock = utc_now,
) -> Claim:
    """Approve a pending claim (its approvers or an admin): the claimant's assignment is in
    force from the view's ``today``, the day of approval."""
    caller, stores = view.caller, view.stores
    notifier = notifier or LogNotifier()
    claim = get_claim(view, claim_id)
    _require_decider(caller, claim)
    if claim.status is not ClaimStatus.PENDING:
        raise Conflict(f"this claim was already {claim.status.value}")
    assignment = _make_room_and_assign(view, claim, clock=clock)
    now = clock()
    decided = replace(
        claim,
        status=ClaimStatus.APPROVED,
        decided_at=now,
        decided_by=caller.user_id,
        assignment_id=assignment.assignment_id,
    )
    stores.claims.decide(
        decided,
        _audit(
            decided,
            caller.user_id,
            "claim.approved",
            now,
            assignmentId=assignment.assignment_id,
            effectiveFrom=assignment.effective_from.isoformat(),
        ),
    )
    notifier.claim_decided(decided)
    return decided


def reject_claim(
    view: View,
    claim_id: str,
    *,
    notifier: ClaimNotifier | None = None,
    clock: Clock = utc_now,
) -> Claim:
    """Reject a pending claim (its approvers or an admin). Nothing else changes."""
    caller, stores = view.caller, view.stores
    notifier = notifier or LogNotifier()
    claim = get_claim(view, claim_id)
    _require_decider(caller, claim)
    if claim.status is not ClaimStatus.PENDING:
        raise Conflict(f"this claim was already {claim.status.value}")
    now = clock()
    decided = replace(claim, status=ClaimStatus.REJECTED, decided_at=now, decided_by=caller.user_id)
    stores.claims.decide(decided, _audit(decided, caller.user_id, "claim.rejected", now))
    notifier.claim_decided(decided)
    return decided


def list_claims(view: View, listing: str, *, limit: int, start_key: PageKey | None) -> Page[Claim]:
    """``listing`` ``mine``: the caller's claims, any status. ``to-approve``: pending claims
    waiting for the caller; for an admin, every pending claim."""
    caller, stores = view.caller, view.stores
    if listing == "mine":
        return stores.claims.list_by_claimant(caller.user_id, limit, start_key)
    if listing == "to-approve":
        if allows(caller, "claims:decide", Target.org()):
            return stores.claims.list_pending(limit, start_key)
        return stores.claims.list_for_approver(caller.user_id, limit, start_key)
    raise Invalid.field("view", "one of: mine, to-approve")
