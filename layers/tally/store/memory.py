"""In-memory implementations of the store interfaces, with the same rules as DynamoDB's
(uniqueness, share limit, optimistic locking), for domain tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from tally.errors import Conflict, NotFound
from tally.models import (
    Assignment,
    AuditEntry,
    Budget,
    Claim,
    ClaimStatus,
    CostRecord,
    MonthlyRollup,
    Page,
    UserProfile,
)
from tally.resources import match_key
from tally.store.interfaces import PageKey, already_decided, starts_before_last_end


def _paginate(items: list, limit: int, start_key: PageKey | None, key_of) -> Page:  # type: ignore[no-untyped-def,type-arg]
    start = 0
    if start_key is not None:
        keys = [key_of(i) for i in items]
        after = start_key["after"]
        start = next((n + 1 for n, k in enumerate(keys) if k == after), len(items))
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return Page(items=chunk, next_key={"after": key_of(chunk[-1])} if more and chunk else None)


class MemoryUserDirectory:
    def __init__(self) -> None:
        self.users: dict[str, UserProfile] = {}

    def get(self, user_id: str) -> UserProfile | None:
        return self.users.get(user_id)

    def put(self, profile: UserProfile) -> None:
        self.users[profile.user_id] = profile

    def list(self, limit: int, start_key: PageKey | None = None) -> Page[UserProfile]:
        ordered = sorted(self.users.values(), key=lambda u: (u.username.lower(), u.user_id))
        return _paginate(ordered, limit, start_key, lambda u: u.user_id)

    def remove(self, user_id: str) -> None:
        self.users.pop(user_id, None)


class MemoryAuditLog:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    def list_for_user(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[AuditEntry]:
        mine = [e for e in reversed(self.entries) if e.subject_user_id == user_id]
        return _paginate(mine, limit, start_key, lambda e: (e.at.isoformat(), e.entity_id))


def _key(a: Assignment) -> str:
    return match_key(a.resource_type, a.resource_id)


class MemoryAssignmentStore:
    def __init__(self, audit: MemoryAuditLog) -> None:
        self.items: dict[str, Assignment] = {}
        self._audit = audit

    def create(self, assignment: Assignment, audit: AuditEntry) -> None:
        key = _key(assignment)
        same = [a for a in self.items.values() if _key(a) == key]
        current = [a for a in same if not a.ended]
        if any(a.user_id == assignment.user_id for a in current):
            raise Conflict("this resource is already assigned to that user")
        if sum((a.share_pct for a in current), Decimal(0)) + assignment.share_pct > 100:
            raise Conflict("the resource's shares would exceed 100%")
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
        return _paginate(mine, limit, start_key, lambda a: a.assignment_id)

    def all(self) -> list[Assignment]:
        return list(self.items.values())

    def for_resource(self, resource_type: str, resource_id: str) -> list[Assignment]:
        key = match_key(resource_type, resource_id)
        return sorted(
            (a for a in self.items.values() if _key(a) == key and not a.ended),
            key=lambda a: (a.assigned_at, a.assignment_id),
        )


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

    def _newest_first(self, keep) -> list[Claim]:  # type: ignore[no-untyped-def]
        return sorted(
            (c for c in self.items.values() if keep(c)),
            key=lambda c: (c.created_at, c.claim_id),
            reverse=True,
        )

    def list_by_claimant(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Claim]:
        mine = self._newest_first(lambda c: c.claimant_id == user_id)
        return _paginate(mine, limit, start_key, lambda c: c.claim_id)

    def list_for_approver(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[Claim]:
        waiting = self._newest_first(
            lambda c: c.status is ClaimStatus.PENDING and user_id in c.approver_ids
        )
        return _paginate(waiting, limit, start_key, lambda c: c.claim_id)

    def list_pending(self, limit: int, start_key: PageKey | None = None) -> Page[Claim]:
        pending = self._newest_first(lambda c: c.status is ClaimStatus.PENDING)
        return _paginate(pending, limit, start_key, lambda c: c.claim_id)


class MemoryBudgetStore:
    def __init__(self, audit: MemoryAuditLog) -> None:
        self.by_user: dict[str, Budget] = {}
        self._audit = audit

    def create(self, budget: Budget, audit: AuditEntry) -> None:
        if budget.user_id in self.by_user:
            raise Conflict("this user already has a budget; update it instead")
        self.by_user[budget.user_id] = replace(budget, version=1)
        self._audit.append(audit)

    def update(self, budget: Budget, audit: AuditEntry) -> Budget:
        current = self.by_user.get(budget.user_id)
        if current is None or current.version != budget.version:
            raise Conflict("the budget was changed by someone else; reload and retry")
        saved = replace(budget, version=budget.version + 1)
        self.by_user[budget.user_id] = saved
        self._audit.append(audit)
        return saved

    def get_for_user(self, user_id: str) -> Budget | None:
        return self.by_user.get(user_id)

    def get_many(self, user_ids: Sequence[str]) -> dict[str, Budget]:
        return {u: self.by_user[u] for u in user_ids if u in self.by_user}

    def user_of(self, budget_id: str) -> str | None:
        return next((b.user_id for b in self.by_user.values() if b.budget_id == budget_id), None)


class MemoryCostStore:
    def __init__(self) -> None:
        # owner -> (day, line id) -> record: reads by owner stay proportional to that owner.
        self.by_owner: dict[str, dict[tuple[date, str], CostRecord]] = {}
        self.days: dict[date, set[str]] = {}  # day -> owners with records that day

    @property
    def records(self) -> dict[tuple[str, date, str], CostRecord]:
        return {
            (o, d, line): r for o, recs in self.by_owner.items() for (d, line), r in recs.items()
        }

    def replace_day(self, day: date, records: Iterable[CostRecord]) -> set[str]:
        old_owners = self.days.pop(day, set())
        for owner in old_owners:
            recs = self.by_owner[owner]
            for key in [k for k in recs if k[0] == day]:
                del recs[key]
        new_owners: set[str] = set()
        for r in records:
            self.by_owner.setdefault(r.owner, {})[(r.day, r.line_id)] = r
            new_owners.add(r.owner)
        if new_owners:
            self.days[day] = new_owners
        return old_owners | new_owners

    def for_owner(self, owner: str, start: date, end: date) -> list[CostRecord]:
        recs = self.by_owner.get(owner, {})
        return [recs[k] for k in sorted(k for k in recs if start <= k[0] < end)]


class MemoryRollupStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], MonthlyRollup] = {}

    def put(self, rollup: MonthlyRollup) -> None:
        # Roll-ups are frozen and never mutated after they are built: no copy needed.
        self.items[(rollup.owner, rollup.month)] = rollup

    def get(self, owner: str, month: str) -> MonthlyRollup | None:
        return self.items.get((owner, month))

    def get_many(self, owners: Sequence[str], month: str) -> dict[str, MonthlyRollup]:
        return {o: self.items[(o, month)] for o in owners if (o, month) in self.items}

    def get_many_months(
        self, owners: Sequence[str], months: Sequence[str]
    ) -> dict[tuple[str, str], MonthlyRollup]:
        keys = [(o, m) for o in owners for m in months]
        return {k: self.items[k] for k in keys if k in self.items}

    def of_month(self, month: str) -> list[MonthlyRollup]:
        return sorted((r for (_, m), r in self.items.items() if m == month), key=lambda r: r.owner)

    def months(self, owner: str, first: str, last: str) -> list[MonthlyRollup]:
        return sorted(
            (r for (o, m), r in self.items.items() if o == owner and first <= m <= last),
            key=lambda r: r.month,
        )
