"""DynamoDB implementations of the store interfaces (pynamodb)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from tally.errors import Conflict, NotFound
from tally.identity import Role
from tally.models import (
    Assignment,
    AuditEntry,
    Budget,
    BudgetTerms,
    Claim,
    ClaimStatus,
    CostRecord,
    MonthlyRollup,
    Page,
    UserProfile,
)
from tally.resources import match_key
from tally.settings import Settings
from tally.store.codec import section_from_doc, section_to_doc
from tally.store.interfaces import PageKey, already_decided, starts_before_last_end
from tally.store.items import (
    AssignmentGuardItem,
    AssignmentItem,
    AuditItem,
    BudgetItem,
    BudgetPointerItem,
    ClaimApproverItem,
    ClaimItem,
    CostRecordItem,
    ResourceSharesItem,
    RollupItem,
    UserItem,
    bind_items,
)

SHARES_SK = "#SHARES"


def _cancel_codes(error: TransactWriteError) -> list[str | None]:
    return [r.code if r else None for r in (error.cancellation_reasons or [])]


def resource_key(assignment: Assignment) -> str:
    return f"RES#{match_key(assignment.resource_type, assignment.resource_id)}"


def _audit_item(entry: AuditEntry) -> AuditItem:
    return AuditItem(
        pk=f"USER#{entry.subject_user_id}",
        sk=f"{entry.at.isoformat()}#{uuid.uuid4().hex}",
        actor=entry.actor,
        action=entry.action,
        entity_id=entry.entity_id,
        details=entry.details,
    )


def _append_audit(tx: TransactWrite, entry: AuditEntry) -> None:
    """Add ``entry`` to the audit log in ``tx``. The log is append-only: the API role may only
    PutItem on it (infra/constructs/data.py), and this condition keeps a put from ever
    replacing an entry, which IAM alone cannot require."""
    tx.save(_audit_item(entry), condition=AuditItem.pk.does_not_exist())


def _page(items: list[Any], iterator: Any) -> Page[Any]:
    return Page(items=items, next_key=iterator.last_evaluated_key)


class _Stores:
    def __init__(self, settings: Settings) -> None:
        bind_items(settings)
        self._settings = settings

    def _tx(self) -> TransactWrite:
        return TransactWrite(
            connection=Connection(
                region=self._settings.region, host=self._settings.aws_endpoint_url
            )
        )


# --- users -----------------------------------------------------------------------------


def _user(item: UserItem) -> UserProfile:
    return UserProfile(item.user_id, item.username, item.email, Role(item.role))


class DynamoUserDirectory(_Stores):
    def get(self, user_id: str) -> UserProfile | None:
        try:
            return _user(UserItem.get(f"USER#{user_id}", "PROFILE"))
        except UserItem.DoesNotExist:
            return None

    def put(self, profile: UserProfile) -> None:
        UserItem(
            pk=f"USER#{profile.user_id}",
            sk="PROFILE",
            user_id=profile.user_id,
            username=profile.username,
            email=profile.email,
            role=profile.role.value,
            sort_name=f"{profile.username.lower()}#{profile.user_id}",
        ).save()

    def list(self, limit: int, start_key: PageKey | None = None) -> Page[UserProfile]:
        it = UserItem.by_name.query("ALL", limit=limit, last_evaluated_key=start_key)
        return _page([_user(i) for i in it], it)

    def remove(self, user_id: str) -> None:
        UserItem(pk=f"USER#{user_id}", sk="PROFILE").delete()


# --- assignments -----------------------------------------------------------------------


def _assignment(item: AssignmentItem) -> Assignment:
    assigned_at = datetime.fromisoformat(item.assigned_at.split("#")[0])
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


def _old_shares(error: TransactWriteError, position: int) -> ResourceSharesItem:
    """The share counter as the failed transaction saw it (ReturnValuesOnConditionCheckFailure),
    so the refusal names the rule that refused it, read atomically with the decision."""
    reasons = error.cancellation_reasons or []
    reason = reasons[position] if len(reasons) > position else None
    raw = reason.raw_item if reason is not None else None
    return ResourceSharesItem.from_raw_data(raw) if raw else ResourceSharesItem()


class DynamoAssignmentStore(_Stores):
    def create(self, assignment: Assignment, audit: AuditEntry) -> None:
        key = resource_key(assignment)
        start = assignment.effective_from.isoformat()
        item = AssignmentItem(
            pk=f"ASSIGNMENT#{assignment.assignment_id}",
            sk="ASSIGNMENT",
            assignment_id=assignment.assignment_id,
            user_id=assignment.user_id,
            listed_user=assignment.user_id,
            resource_type=assignment.resource_type,
            resource_id=assignment.resource_id,
            resource_key=key,
            share_pct=assignment.share_pct,
            cost_center=assignment.cost_center,
            assigned_by=assignment.assigned_by,
            assigned_at=f"{assignment.assigned_at.isoformat()}#{assignment.assignment_id}",
            effective_from=start,
        )
        guard = AssignmentGuardItem(
            pk=key, sk=f"USER#{assignment.user_id}", assignment_id=assignment.assignment_id
        )
        shares = ResourceSharesItem(pk=key, sk=SHARES_SK)
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
                _append_audit(tx, audit)
        except TransactWriteError as error:
            # pynamodb sends condition checks, deletes, puts, then updates, each in call
            # order: the reasons are [guard, assignment, audit, share counter].
            codes = _cancel_codes(error)
            if codes[:1] == ["ConditionalCheckFailed"]:
                raise Conflict("this resource is already assigned to that user") from error
            if codes[3:4] == ["ConditionalCheckFailed"]:
                old = _old_shares(error, 3)
                if (old.share_total or 0) <= headroom and old.last_end and old.last_end > start:
                    raise starts_before_last_end(date.fromisoformat(old.last_end)) from error
                raise Conflict("the resource's shares would exceed 100%") from error
            raise

    def end(self, assignment: Assignment, effective_to: date, audit: AuditEntry) -> Assignment:
        # An assignment ended before it began was never in force: it settles no day.
        settles = effective_to > assignment.effective_from
        try:
            self._end(assignment, effective_to, audit, move_last_end=settles)
        except TransactWriteError as error:
            # [guard delete, audit put, assignment update, share counter update]
            codes = _cancel_codes(error)
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
                AssignmentItem(pk=f"ASSIGNMENT#{assignment.assignment_id}", sk="ASSIGNMENT"),
                actions=[AssignmentItem.effective_to.set(to), AssignmentItem.listed_user.remove()],
                condition=AssignmentItem.pk.exists() & AssignmentItem.effective_to.does_not_exist(),
            )
            tx.delete(AssignmentGuardItem(pk=key, sk=f"USER#{assignment.user_id}"))
            tx.update(
                ResourceSharesItem(pk=key, sk=SHARES_SK),
                actions=counter_actions,
                condition=(
                    ResourceSharesItem.last_end.does_not_exist()
                    | (ResourceSharesItem.last_end <= to)
                )
                if move_last_end
                else None,
            )
            _append_audit(tx, audit)

    def get(self, assignment_id: str) -> Assignment | None:
        try:
            return _assignment(AssignmentItem.get(f"ASSIGNMENT#{assignment_id}", "ASSIGNMENT"))
        except AssignmentItem.DoesNotExist:
            return None

    def list_for_user(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Assignment]:
        it = AssignmentItem.by_user.query(user_id, limit=limit, last_evaluated_key=start_key)
        return _page([_assignment(i) for i in it], it)

    def all(self) -> list[Assignment]:
        # The ingest job reads every assignment once a run; a Scan is the cheapest full read.
        return [_assignment(i) for i in AssignmentItem.scan(AssignmentItem.sk == "ASSIGNMENT")]

    def for_resource(self, resource_type: str, resource_id: str) -> list[Assignment]:
        # The guard items (one per assignment not ended) sit in the resource's partition.
        key = f"RES#{match_key(resource_type, resource_id)}"
        guards = AssignmentGuardItem.query(
            key, AssignmentGuardItem.sk.startswith("USER#"), consistent_read=True
        )
        keys = [(f"ASSIGNMENT#{g.assignment_id}", "ASSIGNMENT") for g in guards]
        found = [_assignment(i) for i in AssignmentItem.batch_get(keys)] if keys else []
        return sorted(
            (a for a in found if not a.ended), key=lambda a: (a.assigned_at, a.assignment_id)
        )


# --- claims ----------------------------------------------------------------------------

PENDING = "PENDING"


def _claim(i: ClaimItem) -> Claim:
    return Claim(
        claim_id=i.claim_id,
        claimant_id=i.claimant,
        resource_type=i.resource_type,
        resource_id=i.resource_id,
        share_pct=i.share_pct,
        note=i.note,
        status=ClaimStatus(i.status),
        approver_ids=tuple(str(a) for a in i.approver_ids or ()),
        created_at=i.created_at,
        decided_at=i.decided_at,
        decided_by=i.decided_by,
        assignment_id=i.assignment_id,
    )


def _created(claim: Claim) -> str:
    return f"{claim.created_at.isoformat()}#{claim.claim_id}"


class DynamoClaimStore(_Stores):
    def create(self, claim: Claim, audit: AuditEntry) -> None:
        pending = claim.status is ClaimStatus.PENDING
        item = ClaimItem(
            pk=f"CLAIM#{claim.claim_id}",
            sk="CLAIM",
            claim_id=claim.claim_id,
            claimant=claim.claimant_id,
            created=_created(claim),
            pending=PENDING if pending else None,
            status=claim.status.value,
            resource_type=claim.resource_type,
            resource_id=claim.resource_id,
            share_pct=claim.share_pct,
            note=claim.note,
            approver_ids=list(claim.approver_ids),
            created_at=claim.created_at,
            decided_at=claim.decided_at,
            decided_by=claim.decided_by,
            assignment_id=claim.assignment_id,
        )
        with self._tx() as tx:
            tx.save(item, condition=ClaimItem.pk.does_not_exist())
            if pending:
                for approver in claim.approver_ids:
                    tx.save(
                        ClaimApproverItem(
                            pk=item.pk,
                            sk=f"APPROVER#{approver}",
                            approver=approver,
                            created=item.created,
                        )
                    )
            _append_audit(tx, audit)

    def decide(self, claim: Claim, audit: AuditEntry) -> Claim:
        pk = f"CLAIM#{claim.claim_id}"
        actions: list[Any] = [
            ClaimItem.status.set(claim.status.value),
            ClaimItem.pending.remove(),
        ]
        if claim.decided_at is not None:
            actions.append(ClaimItem.decided_at.set(claim.decided_at))
        if claim.decided_by is not None:
            actions.append(ClaimItem.decided_by.set(claim.decided_by))
        if claim.assignment_id is not None:
            actions.append(ClaimItem.assignment_id.set(claim.assignment_id))
        try:
            with self._tx() as tx:
                # The status is the lock: only one decision finds it pending.
                tx.update(
                    ClaimItem(pk=pk, sk="CLAIM"),
                    actions=actions,
                    condition=ClaimItem.status == ClaimStatus.PENDING.value,
                )
                for approver in claim.approver_ids:
                    tx.delete(ClaimApproverItem(pk=pk, sk=f"APPROVER#{approver}"))
                _append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" not in _cancel_codes(error):
                raise
            stored = self.get(claim.claim_id)
            if stored is None:
                raise NotFound("no such claim") from error
            raise already_decided(stored.status) from error
        return claim

    def get(self, claim_id: str) -> Claim | None:
        try:
            return _claim(ClaimItem.get(f"CLAIM#{claim_id}", "CLAIM", consistent_read=True))
        except ClaimItem.DoesNotExist:
            return None

    def list_by_claimant(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Claim]:
        it = ClaimItem.by_claimant.query(
            user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        return _page([_claim(i) for i in it], it)

    def list_for_approver(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Claim]:
        it = ClaimApproverItem.by_approver.query(
            user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        pks = [i.pk for i in it]
        found = {c.pk: c for c in ClaimItem.batch_get([(pk, "CLAIM") for pk in pks])} if pks else {}
        # A claim decided since the index was read is no longer waiting.
        items = [
            _claim(found[pk])
            for pk in pks
            if pk in found and found[pk].status == ClaimStatus.PENDING.value
        ]
        return _page(items, it)

    def list_pending(self, limit: int, start_key: PageKey | None = None) -> Page[Claim]:
        it = ClaimItem.pending_index.query(
            PENDING, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        return _page([_claim(i) for i in it], it)


# --- budgets ---------------------------------------------------------------------------


def _terms(doc: dict[str, Any]) -> BudgetTerms:
    return BudgetTerms(
        effective_from=str(doc["effectiveFrom"]),
        monthly_limit=Decimal(str(doc["monthlyLimit"])),
        alert_threshold=int(doc["alertThreshold"]),
        currency=str(doc["currency"]),
    )


def _terms_doc(t: BudgetTerms) -> dict[str, Any]:
    return {
        "effectiveFrom": t.effective_from,
        "monthlyLimit": t.monthly_limit,
        "alertThreshold": t.alert_threshold,
        "currency": t.currency,
    }


def _budget(item: BudgetItem) -> Budget:
    return Budget(
        budget_id=item.budget_id,
        user_id=item.user_id,
        monthly_limit=item.monthly_limit,
        alert_threshold=int(item.alert_threshold),
        currency=item.currency,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
        history=tuple(_terms(d) for d in item.history or ()),
    )


def _budget_item(budget: Budget) -> BudgetItem:
    return BudgetItem(
        pk=f"USER#{budget.user_id}",
        budget_id=budget.budget_id,
        user_id=budget.user_id,
        monthly_limit=budget.monthly_limit,
        alert_threshold=budget.alert_threshold,
        currency=budget.currency,
        created_at=budget.created_at,
        updated_at=budget.updated_at,
        history=[_terms_doc(t) for t in budget.history] or None,
    )


class DynamoBudgetStore(_Stores):
    def create(self, budget: Budget, audit: AuditEntry) -> None:
        item = _budget_item(budget)
        try:
            with self._tx() as tx:
                # VersionAttribute adds "version does not exist" and writes version 1.
                tx.save(item)
                tx.save(
                    BudgetPointerItem(pk=f"BUDGET#{budget.budget_id}", user_id=budget.user_id),
                    condition=BudgetPointerItem.pk.does_not_exist(),
                )
                _append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in _cancel_codes(error):
                raise Conflict("this user already has a budget; update it instead") from error
            raise

    def update(self, budget: Budget, audit: AuditEntry) -> Budget:
        item = _budget_item(budget)
        item.version = budget.version  # the version read: the save is conditional on it
        try:
            with self._tx() as tx:
                tx.save(item)
                _append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in _cancel_codes(error):
                raise Conflict(
                    "the budget was changed by someone else; reload and retry"
                ) from error
            raise
        return _budget(item)

    def get_for_user(self, user_id: str) -> Budget | None:
        try:
            return _budget(BudgetItem.get(f"USER#{user_id}", consistent_read=True))
        except BudgetItem.DoesNotExist:
            return None

    def get_many(self, user_ids: Sequence[str]) -> dict[str, Budget]:
        keys = [f"USER#{u}" for u in dict.fromkeys(user_ids)]
        return {b.user_id: _budget(b) for b in BudgetItem.batch_get(keys)} if keys else {}

    def user_of(self, budget_id: str) -> str | None:
        try:
            return BudgetPointerItem.get(f"BUDGET#{budget_id}", consistent_read=True).user_id
        except BudgetPointerItem.DoesNotExist:
            return None


# --- cost records ----------------------------------------------------------------------


def _record_item(r: CostRecord) -> CostRecordItem:
    return CostRecordItem(
        pk=f"OWNER#{r.owner}",
        sk=f"{r.day.isoformat()}#{r.line_id}",
        owner=r.owner,
        day=r.day.isoformat(),
        billing_period=r.billing_period,
        line_id=r.line_id,
        service=r.service,
        resource_id=r.resource_id,
        usage_quantity=r.usage_quantity,
        usage_unit=r.usage_unit,
        billed_cost=r.billed_cost,
        effective_cost=r.effective_cost,
        currency=r.currency,
        charge_category=r.charge_category,
        estimated=r.estimated,
        source=r.source,
        fetched_at=r.fetched_at,
        allocation=r.allocation,
        share_pct=r.share_pct,
    )


def _record(i: CostRecordItem) -> CostRecord:
    return CostRecord(
        owner=i.owner,
        day=date.fromisoformat(i.day),
        line_id=i.line_id,
        service=i.service,
        resource_id=i.resource_id,
        usage_quantity=i.usage_quantity,
        usage_unit=i.usage_unit,
        billed_cost=i.billed_cost,
        effective_cost=i.effective_cost,
        currency=i.currency,
        charge_category=i.charge_category,
        estimated=i.estimated,
        source=i.source,
        fetched_at=i.fetched_at,
        allocation=i.allocation,
        share_pct=i.share_pct,
    )


class DynamoCostStore(_Stores):
    def replace_day(self, day: date, records: Iterable[CostRecord]) -> set[str]:
        new_items = {(i.pk, i.sk): i for i in map(_record_item, records)}
        existing = {(i.pk, i.sk) for i in CostRecordItem.by_day.query(day.isoformat())}
        owners = {pk.removeprefix("OWNER#") for pk, _ in existing | new_items.keys()}
        # batch_write retries unprocessed items itself; puts overwrite, so a retry is harmless.
        with CostRecordItem.batch_write() as batch:
            for pk, sk in existing - new_items.keys():
                batch.delete(CostRecordItem(pk=pk, sk=sk))
            for item in new_items.values():
                batch.save(item)
        return owners

    def for_owner(self, owner: str, start: date, end: date) -> list[CostRecord]:
        if end <= start:
            return []
        # A key condition allows one sort-key test: BETWEEN the first day and the last day's end.
        last = (end - timedelta(days=1)).isoformat()
        condition = CostRecordItem.sk.between(start.isoformat(), f"{last}#~")
        return [_record(i) for i in CostRecordItem.query(f"OWNER#{owner}", condition)]


# --- roll-ups --------------------------------------------------------------------------


def _rollup(i: RollupItem) -> MonthlyRollup:
    return MonthlyRollup(
        owner=i.owner,
        month=i.month,
        sections={cur: section_from_doc(doc) for cur, doc in i.sections.items()},
        estimated=i.estimated,
        record_count=int(i.record_count),
        updated_at=i.updated_at,
        forecast=i.forecast,
        restatements=i.restatements or [],
        estimated_days=i.estimated_days or [],
    )


class DynamoRollupStore(_Stores):
    def put(self, rollup: MonthlyRollup) -> None:
        # A whole-item put of recomputed values: a retry writes the same item again.
        RollupItem(
            pk=f"OWNER#{rollup.owner}",
            sk=f"MONTH#{rollup.month}",
            owner=rollup.owner,
            month=rollup.month,
            sections={cur: section_to_doc(s) for cur, s in rollup.sections.items()},
            estimated=rollup.estimated,
            record_count=rollup.record_count,
            updated_at=rollup.updated_at,
            forecast=rollup.forecast,
            restatements=rollup.restatements or None,
            estimated_days=rollup.estimated_days or None,
        ).save()

    def get(self, owner: str, month: str) -> MonthlyRollup | None:
        try:
            return _rollup(RollupItem.get(f"OWNER#{owner}", f"MONTH#{month}"))
        except RollupItem.DoesNotExist:
            return None

    def get_many(self, owners: Sequence[str], month: str) -> dict[str, MonthlyRollup]:
        keys = [(f"OWNER#{o}", f"MONTH#{month}") for o in dict.fromkeys(owners)]
        return {r.owner: _rollup(r) for r in RollupItem.batch_get(keys)} if keys else {}

    def get_many_months(
        self, owners: Sequence[str], months: Sequence[str]
    ) -> dict[tuple[str, str], MonthlyRollup]:
        # One BatchGetItem takes keys of several months (pynamodb splits past 100 keys).
        keys = [
            (f"OWNER#{o}", f"MONTH#{m}")
            for o in dict.fromkeys(owners)
            for m in dict.fromkeys(months)
        ]
        found = RollupItem.batch_get(keys) if keys else []
        return {(r.owner, r.month): _rollup(r) for r in found}

    def months(self, owner: str, first: str, last: str) -> list[MonthlyRollup]:
        condition = RollupItem.sk.between(f"MONTH#{first}", f"MONTH#{last}")
        return [_rollup(i) for i in RollupItem.query(f"OWNER#{owner}", condition)]

    def of_month(self, month: str) -> list[MonthlyRollup]:
        return [_rollup(i) for i in RollupItem.by_month.query(month)]


# --- audit -----------------------------------------------------------------------------


class DynamoAuditLog(_Stores):
    def list_for_user(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[AuditEntry]:
        it = AuditItem.query(
            f"USER#{user_id}", scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        entries = [
            AuditEntry(
                subject_user_id=user_id,
                at=datetime.fromisoformat(i.sk.split("#")[0]),
                actor=i.actor,
                action=i.action,
                entity_id=i.entity_id,
                details=i.details,
            )
            for i in it
        ]
        return _page(entries, it)
