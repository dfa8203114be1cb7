"""Assignments of resources to users in time, with the per-resource guard and share counter
that keep the share rule atomic with each write."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from tally import tables
from tally.errors import Conflict, FieldError, NotFound
from tally.models import Assignment, AuditEntry, Page
from tally.resources import match_key
from tally.settings import Settings
from tally.store import PageKey, keys
from tally.store.attributes import DecimalAttribute
from tally.store.audit import MemoryAuditLog, append_audit
from tally.store.base import DynamoStore, KeyedItem, cancel_codes, page, paginate


class AssignmentStore(Protocol):
    """Assignments in time. The share rule (a resource's shares add up to at most 100% on
    every day) is kept by two checks, atomic with the write:

    - the shares of the resource's assignments not ended, plus the new one, are at most 100;
    - a new assignment starts no earlier than ``last_end``, the latest day an assignment of the
      resource ended (over those that were in force on at least one day).

    From ``effective_from`` on, the ended assignments are over, so only the ones not ended can
    be in force beside the new one: the first check bounds every such day. Days before it are
    unchanged. A resource's past is therefore settled once an assignment of it ends."""

    def create(self, assignment: Assignment, audit: AuditEntry) -> None:
        """Raises ``Conflict`` if the user has an assignment of the resource not ended, if the
        shares would pass 100, or if ``effective_from`` is before the resource's ``last_end``
        (see ``starts_before_last_end``)."""

    def end(self, assignment: Assignment, effective_to: date, audit: AuditEntry) -> Assignment:
        """End ``assignment`` on ``effective_to`` (exclusive): the record stays, for the ingest.
        Returns the ended assignment. Raises ``NotFound`` if it is missing or already ended."""

    def get(self, assignment_id: str) -> Assignment | None: ...
    def list_for_user(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Assignment]:
        """The user's assignments not ended (in force, or starting later), oldest first."""

    def all(self) -> list[Assignment]:
        """Every assignment, ended ones included: for the ingest job only (a full read), never
        a request path."""

    def for_resource(self, resource_type: str, resource_id: str) -> list[Assignment]:
        """The resource's assignments not ended (in force, or starting later), by any of its
        names (``match_key``), oldest first."""


def starts_before_last_end(last_end: date) -> Conflict:
    """The refusal both assignment stores give for a start inside the resource's settled past."""
    message = (
        f"an earlier assignment of this resource ended on {last_end.isoformat()}; "
        "a new one may start on that day or later"
    )
    return Conflict(message, errors=[FieldError("effectiveFrom", message)])


ALREADY_ASSIGNED = "this resource is already assigned to that user"
OVER_100 = "the resource's shares would exceed 100%"


# --- items -----------------------------------------------------------------------------


class AssignmentUserIndex(GlobalSecondaryIndex["AssignmentItem"]):
    class Meta:
        index_name = tables.ASSIGNMENTS.indexes[0].name
        projection = AllProjection()

    listed_user = UnicodeAttribute(hash_key=True)
    assigned_at = UnicodeAttribute(range_key=True)


class AssignmentItem(KeyedItem):
    """pk ASSIGNMENT#<id>, sk ASSIGNMENT: the assignment itself (read by id, listed by user
    until it ends, kept after that for the ingest)."""

    spec = tables.ASSIGNMENTS

    assignment_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    listed_user = UnicodeAttribute(null=True)  # = user_id until the assignment ends
    resource_type = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    resource_key = UnicodeAttribute()
    share_pct = DecimalAttribute()
    cost_center = UnicodeAttribute(null=True)
    assigned_by = UnicodeAttribute()
    assigned_at = UnicodeAttribute()  # keys.timed(time, id): sorts by time, unique
    # YYYY-MM-DD. effective_from is absent on items written before assignments had time:
    # read as the day of assigned_at.
    effective_from = UnicodeAttribute(null=True)
    effective_to = UnicodeAttribute(null=True)  # exclusive; absent until the assignment ends
    by_user = AssignmentUserIndex()


class AssignmentGuardItem(KeyedItem):
    """pk RES#<resource key>, sk USER#<user>: one assignment not ended per resource and user
    (deleted when it ends, so the user may be assigned the resource again)."""

    spec = tables.ASSIGNMENTS

    assignment_id = UnicodeAttribute()


class ResourceSharesItem(KeyedItem):
    """pk RES#<resource key>, sk #SHARES: the sum of the shares of a resource's assignments
    not ended, kept <= 100, and ``last_end``, the latest day one of them ended: a new
    assignment starts on or after it (see ``AssignmentStore``)."""

    spec = tables.ASSIGNMENTS

    share_total = DecimalAttribute(null=True)
    last_end = UnicodeAttribute(null=True)  # YYYY-MM-DD


# --- mapping ---------------------------------------------------------------------------


def resource_key(assignment: Assignment) -> str:
    return keys.resource(match_key(assignment.resource_type, assignment.resource_id))


def _assignment(item: AssignmentItem) -> Assignment:
    assigned_at = keys.time_of(item.assigned_at)
    return Assignment(
        assignment_id=item.assignment_id,
        user_id=item.user_id,
        resource_type=item.resource_type,
        resource_id=item.resource_id,
        share_pct=item.share_pct,
        cost_center=item.cost_center,
        assigned_by=item.assigned_by,
        assigned_at=assigned_at,
        effective_from=(
            date.fromisoformat(item.effective_from) if item.effective_from else assigned_at.date()
        ),
        effective_to=date.fromisoformat(item.effective_to) if item.effective_to else None,
    )


def _assignment_item(assignment: Assignment, resource: str) -> AssignmentItem:
    return AssignmentItem(
        pk=keys.assignment(assignment.assignment_id),
        sk=keys.ASSIGNMENT,
        assignment_id=assignment.assignment_id,
        user_id=assignment.user_id,
        listed_user=assignment.user_id,
        resource_type=assignment.resource_type,
        resource_id=assignment.resource_id,
        resource_key=resource,
        share_pct=assignment.share_pct,
        cost_center=assignment.cost_center,
        assigned_by=assignment.assigned_by,
        assigned_at=keys.timed(assignment.assigned_at, assignment.assignment_id),
        effective_from=assignment.effective_from.isoformat(),
    )


def _old_shares(error: TransactWriteError, position: int) -> ResourceSharesItem:
    """The share counter as the failed transaction saw it (ReturnValuesOnConditionCheckFailure),
    so the refusal names the rule that refused it, read atomically with the decision."""
    reasons = error.cancellation_reasons or []
    reason = reasons[position] if len(reasons) > position else None
    raw = reason.raw_item if reason is not None else None
    return ResourceSharesItem.from_raw_data(raw) if raw else ResourceSharesItem()


# --- DynamoDB --------------------------------------------------------------------------


class DynamoAssignmentStore(DynamoStore):
    def create(self, assignment: Assignment, audit: AuditEntry) -> None:
        key = resource_key(assignment)
        start = assignment.effective_from.isoformat()
        item = _assignment_item(assignment, key)
        guard = AssignmentGuardItem(
            pk=key, sk=keys.user(assignment.user_id), assignment_id=assignment.assignment_id
        )
        shares = ResourceSharesItem(pk=key, sk=keys.SHARES)
        headroom = Decimal(100) - assignment.share_pct
        try:
            with self._tx() as tx:
                tx.save(guard, condition=AssignmentGuardItem.pk.does_not_exist())
                # The counter is the lock: two concurrent assignments cannot both fit, and
                # an end racing a create is ordered against it too.
                tx.update(
                    shares,
                    actions=[ResourceSharesItem.share_total.add(assignment.share_pct)],
                    condition=(
                        ResourceSharesItem.share_total.does_not_exist()
                        | (ResourceSharesItem.share_total <= headroom)
                    )
                    & (
                        ResourceSharesItem.last_end.does_not_exist()
                        | (ResourceSharesItem.last_end <= start)
                    ),
                    return_values="ALL_OLD",
                )
                tx.save(item, condition=AssignmentItem.pk.does_not_exist())
                append_audit(tx, audit)
        except TransactWriteError as error:
            # pynamodb sends condition checks, deletes, puts, then updates, each in call
            # order: the reasons are [guard, assignment, audit, share counter].
            codes = cancel_codes(error)
            if codes[:1] == ["ConditionalCheckFailed"]:
                raise Conflict(ALREADY_ASSIGNED) from error
            if codes[3:4] == ["ConditionalCheckFailed"]:
                old = _old_shares(error, 3)
                if (old.share_total or 0) <= headroom and old.last_end and old.last_end > start:
                    raise starts_before_last_end(date.fromisoformat(old.last_end)) from error
                raise Conflict(OVER_100) from error
            raise

    def end(self, assignment: Assignment, effective_to: date, audit: AuditEntry) -> Assignment:
        # An assignment ended before it began was never in force: it settles no day.
        settles = effective_to > assignment.effective_from
        try:
            self._end(assignment, effective_to, audit, move_last_end=settles)
        except TransactWriteError as error:
            # [guard delete, audit put, assignment update, share counter update]
            codes = cancel_codes(error)
            if codes[2:3] == ["ConditionalCheckFailed"]:
                raise NotFound("no such assignment") from error
            if not (settles and codes[3:4] == ["ConditionalCheckFailed"]):
                raise
            # last_end is already later than this end (the business date was pinned back):
            # it stays, as the latest end it is.
            self._end(assignment, effective_to, audit, move_last_end=False)
        return replace(assignment, effective_to=effective_to)

    def _end(
        self, assignment: Assignment, effective_to: date, audit: AuditEntry, *, move_last_end: bool
    ) -> None:
        key = resource_key(assignment)
        to = effective_to.isoformat()
        counter_actions: list[Any] = [ResourceSharesItem.share_total.add(-assignment.share_pct)]
        if move_last_end:
            counter_actions.append(ResourceSharesItem.last_end.set(to))
        with self._tx() as tx:
            tx.update(
                AssignmentItem(pk=keys.assignment(assignment.assignment_id), sk=keys.ASSIGNMENT),
                actions=[AssignmentItem.effective_to.set(to), AssignmentItem.listed_user.remove()],
                condition=AssignmentItem.pk.exists() & AssignmentItem.effective_to.does_not_exist(),
            )
            tx.delete(AssignmentGuardItem(pk=key, sk=keys.user(assignment.user_id)))
            tx.update(
                ResourceSharesItem(pk=key, sk=keys.SHARES),
                actions=counter_actions,
                condition=(
                    ResourceSharesItem.last_end.does_not_exist()
                    | (ResourceSharesItem.last_end <= to)
                )
                if move_last_end
                else None,
            )
            append_audit(tx, audit)

    def get(self, assignment_id: str) -> Assignment | None:
        try:
            return _assignment(AssignmentItem.get(keys.assignment(assignment_id), keys.ASSIGNMENT))
        except AssignmentItem.DoesNotExist:
            return None

    def list_for_user(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Assignment]:
        it = AssignmentItem.by_user.query(user_id, limit=limit, last_evaluated_key=start_key)
        return page([_assignment(i) for i in it], it)

    def all(self) -> list[Assignment]:
        # The ingest job reads every assignment once a run; a Scan is the cheapest full read.
        return [_assignment(i) for i in AssignmentItem.scan(AssignmentItem.sk == keys.ASSIGNMENT)]

    def for_resource(self, resource_type: str, resource_id: str) -> list[Assignment]:
        # The guard items (one per assignment not ended) sit in the resource's partition.
        guards = AssignmentGuardItem.query(
            keys.resource(match_key(resource_type, resource_id)),
            AssignmentGuardItem.sk.startswith(keys.user.prefix),
            consistent_read=True,
        )
        ids = [(keys.assignment(g.assignment_id), keys.ASSIGNMENT) for g in guards]
        found = [_assignment(i) for i in AssignmentItem.batch_get(ids)] if ids else []
        return sorted(
            (a for a in found if not a.ended), key=lambda a: (a.assigned_at, a.assignment_id)
        )


# --- in memory -------------------------------------------------------------------------


class MemoryAssignmentStore:
    def __init__(self, audit: MemoryAuditLog) -> None:
        self.items: dict[str, Assignment] = {}
        self._audit = audit

    def create(self, assignment: Assignment, audit: AuditEntry) -> None:
        key = resource_key(assignment)
        same = [a for a in self.items.values() if resource_key(a) == key]
        current = [a for a in same if not a.ended]
        if any(a.user_id == assignment.user_id for a in current):
            raise Conflict(ALREADY_ASSIGNED)
        if sum((a.share_pct for a in current), Decimal(0)) + assignment.share_pct > 100:
            raise Conflict(OVER_100)
        # Ended assignments that were never in force (ended before they began) settle nothing.
        last_end = max(
            (
                a.effective_to
                for a in same
                if a.effective_to is not None and a.effective_to > a.effective_from
            ),
            default=None,
        )
        if last_end is not None and assignment.effective_from < last_end:
            raise starts_before_last_end(last_end)
        self.items[assignment.assignment_id] = assignment
        self._audit.append(audit)

    def end(self, assignment: Assignment, effective_to: date, audit: AuditEntry) -> Assignment:
        stored = self.items.get(assignment.assignment_id)
        if stored is None or stored.ended:
            raise NotFound("no such assignment")
        ended = replace(stored, effective_to=effective_to)
        self.items[assignment.assignment_id] = ended
        self._audit.append(audit)
        return ended

    def get(self, assignment_id: str) -> Assignment | None:
        return self.items.get(assignment_id)

    def list_for_user(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Assignment]:
        mine = sorted(
            (a for a in self.items.values() if a.user_id == user_id and not a.ended),
            key=lambda a: (a.assigned_at, a.assignment_id),
        )
        return paginate(mine, limit, start_key, lambda a: a.assignment_id)

    def all(self) -> list[Assignment]:
        return list(self.items.values())

    def for_resource(self, resource_type: str, resource_id: str) -> list[Assignment]:
        key = keys.resource(match_key(resource_type, resource_id))
        return sorted(
            (a for a in self.items.values() if resource_key(a) == key and not a.ended),
            key=lambda a: (a.assigned_at, a.assignment_id),
        )


def dynamodb_store(settings: Settings) -> AssignmentStore:
    return DynamoAssignmentStore(settings)


def memory_store(audit: MemoryAuditLog) -> AssignmentStore:
    return MemoryAssignmentStore(audit)
