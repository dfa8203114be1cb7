"""Claims of resources: listed by claimant, by approver while pending, and in the admins'
queue while pending. Lists are newest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from tally import tables
from tally.errors import Conflict, NotFound
from tally.models import AuditEntry, Claim, ClaimStatus, Page
from tally.settings import Settings
from tally.store import PageKey, keys
from tally.store.attributes import DecimalAttribute
from tally.store.audit import MemoryAuditLog, append_audit
from tally.store.base import DynamoStore, KeyedItem, cancel_codes, page, paginate


class ClaimStore(Protocol):
    """Claims of resources. Lists are newest first."""

    def create(self, claim: Claim, audit: AuditEntry) -> None: ...

    def decide(self, claim: Claim, audit: AuditEntry) -> Claim:
        """Save ``claim``'s decision (status, decided_at/by, assignment_id) if the stored claim
        is still pending, atomically with the audit entry. Raises ``Conflict`` if it was
        decided already, ``NotFound`` if there is no such claim."""

    def get(self, claim_id: str) -> Claim | None: ...
    def list_by_claimant(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Claim]:
        """Every claim the user made, whatever its status."""

    def list_for_approver(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Claim]:
        """The pending claims the user is an approver of."""

    def list_pending(self, limit: int, start_key: PageKey | None = None) -> Page[Claim]:
        """Every pending claim: the admins' queue."""


def already_decided(status: ClaimStatus | None) -> Conflict:
    return Conflict(f"this claim was already {status.value if status else 'decided'}")


# --- items -----------------------------------------------------------------------------


class ClaimClaimantIndex(GlobalSecondaryIndex["ClaimItem"]):
    class Meta:
        index_name = tables.CLAIMS.indexes[0].name
        projection = AllProjection()

    claimant = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class ClaimPendingIndex(GlobalSecondaryIndex["ClaimItem"]):
    class Meta:
        index_name = tables.CLAIMS.indexes[2].name
        projection = AllProjection()

    pending = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class ClaimItem(KeyedItem):
    """pk CLAIM#<id>, sk CLAIM: the claim. ``pending`` ("PENDING") only while undecided."""

    spec = tables.CLAIMS

    claim_id = UnicodeAttribute()
    claimant = UnicodeAttribute()
    created = UnicodeAttribute()  # keys.timed(time, id): sorts by time, unique
    pending = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    resource_type = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    share_pct = DecimalAttribute()
    note = UnicodeAttribute(null=True)
    approver_ids = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()
    decided_at = UTCDateTimeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    assignment_id = UnicodeAttribute(null=True)
    by_claimant = ClaimClaimantIndex()
    pending_index = ClaimPendingIndex()


class ClaimApproverIndex(GlobalSecondaryIndex["ClaimApproverItem"]):
    class Meta:
        index_name = tables.CLAIMS.indexes[1].name
        projection = KeysOnlyProjection()

    approver = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class ClaimApproverItem(KeyedItem):
    """pk CLAIM#<id>, sk APPROVER#<user>: lists a pending claim for one approver; deleted
    when the claim is decided."""

    spec = tables.CLAIMS

    approver = UnicodeAttribute()
    created = UnicodeAttribute()
    by_approver = ClaimApproverIndex()


# --- mapping ---------------------------------------------------------------------------


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


def _claim_item(claim: Claim) -> ClaimItem:
    return ClaimItem(
        pk=keys.claim(claim.claim_id),
        sk=keys.CLAIM,
        claim_id=claim.claim_id,
        claimant=claim.claimant_id,
        created=keys.timed(claim.created_at, claim.claim_id),
        pending=keys.PENDING if claim.status is ClaimStatus.PENDING else None,
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


# --- DynamoDB --------------------------------------------------------------------------


class DynamoClaimStore(DynamoStore):
    def create(self, claim: Claim, audit: AuditEntry) -> None:
        item = _claim_item(claim)
        with self._tx() as tx:
            tx.save(item, condition=ClaimItem.pk.does_not_exist())
            if item.pending:
                for approver in claim.approver_ids:
                    tx.save(
                        ClaimApproverItem(
                            pk=item.pk,
                            sk=keys.approver(approver),
                            approver=approver,
                            created=item.created,
                        )
                    )
            append_audit(tx, audit)

    def decide(self, claim: Claim, audit: AuditEntry) -> Claim:
        pk = keys.claim(claim.claim_id)
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
                    ClaimItem(pk=pk, sk=keys.CLAIM),
                    actions=actions,
                    condition=ClaimItem.status == ClaimStatus.PENDING.value,
                )
                for approver in claim.approver_ids:
                    tx.delete(ClaimApproverItem(pk=pk, sk=keys.approver(approver)))
                append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" not in cancel_codes(error):
                raise
            stored = self.get(claim.claim_id)
            if stored is None:
                raise NotFound("no such claim") from error
            raise already_decided(stored.status) from error
        return claim

    def get(self, claim_id: str) -> Claim | None:
        try:
            return _claim(ClaimItem.get(keys.claim(claim_id), keys.CLAIM, consistent_read=True))
        except ClaimItem.DoesNotExist:
            return None

    def list_by_claimant(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Claim]:
        it = ClaimItem.by_claimant.query(
            user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        return page([_claim(i) for i in it], it)

    def list_for_approver(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Claim]:
        it = ClaimApproverItem.by_approver.query(
            user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        pks = [i.pk for i in it]
        found = (
            {c.pk: c for c in ClaimItem.batch_get([(pk, keys.CLAIM) for pk in pks])} if pks else {}
        )
        # A claim decided since the index was read is no longer waiting.
        items = [
            _claim(found[pk])
            for pk in pks
            if pk in found and found[pk].status == ClaimStatus.PENDING.value
        ]
        return page(items, it)

    def list_pending(self, limit: int, start_key: PageKey | None = None) -> Page[Claim]:
        it = ClaimItem.pending_index.query(
            keys.PENDING, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        return page([_claim(i) for i in it], it)


# --- in memory -------------------------------------------------------------------------


class MemoryClaimStore:
    def __init__(self, audit: MemoryAuditLog) -> None:
        self.items: dict[str, Claim] = {}
        self._audit = audit

    def create(self, claim: Claim, audit: AuditEntry) -> None:
        if claim.claim_id in self.items:
            raise Conflict("a claim with this id exists")
        self.items[claim.claim_id] = claim
        self._audit.append(audit)

    def decide(self, claim: Claim, audit: AuditEntry) -> Claim:
        stored = self.items.get(claim.claim_id)
        if stored is None:
            raise NotFound("no such claim")
        if stored.status is not ClaimStatus.PENDING:
            raise already_decided(stored.status)
        self.items[claim.claim_id] = claim
        self._audit.append(audit)
        return claim

    def get(self, claim_id: str) -> Claim | None:
        return self.items.get(claim_id)

    def _newest_first(
        self, keep: Callable[[Claim], bool], limit: int, start_key: PageKey | None
    ) -> Page[Claim]:
        listed = sorted(
            (c for c in self.items.values() if keep(c)),
            key=lambda c: (c.created_at, c.claim_id),
            reverse=True,
        )
        return paginate(listed, limit, start_key, lambda c: c.claim_id)

    def list_by_claimant(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Claim]:
        return self._newest_first(lambda c: c.claimant_id == user_id, limit, start_key)

    def list_for_approver(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Claim]:
        return self._newest_first(
            lambda c: c.status is ClaimStatus.PENDING and user_id in c.approver_ids,
            limit,
            start_key,
        )

    def list_pending(self, limit: int, start_key: PageKey | None = None) -> Page[Claim]:
        return self._newest_first(lambda c: c.status is ClaimStatus.PENDING, limit, start_key)


def dynamodb_store(settings: Settings) -> ClaimStore:
    return DynamoClaimStore(settings)


def memory_store(audit: MemoryAuditLog) -> ClaimStore:
    return MemoryClaimStore(audit)
