"""The small interfaces the domain talks to. Implementations: ``dynamodb`` and ``memory``.

Page keys (``start_key``/``Page.next_key``) are opaque dicts; the API signs them into tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Protocol

from tally.errors import Conflict, FieldError
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

PageKey = dict[str, Any]


class UserDirectory(Protocol):
    def get(self, user_id: str) -> UserProfile | None: ...
    def put(self, profile: UserProfile) -> None: ...
    def list(self, limit: int, start_key: PageKey | None = None) -> Page[UserProfile]: ...
    def remove(self, user_id: str) -> None:
        """Forget a user (deleted from the pool); their cost records stay."""


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


class BudgetStore(Protocol):
    def create(self, budget: Budget, audit: AuditEntry) -> None:
        """Raises ``Conflict`` when the user already has a budget."""

    def update(self, budget: Budget, audit: AuditEntry) -> Budget:
        """Saves ``budget`` if the stored version is still ``budget.version``; returns the
        saved budget (version + 1). Raises ``Conflict`` on a stale version."""

    def get_for_user(self, user_id: str) -> Budget | None: ...
    def get_many(self, user_ids: Sequence[str]) -> dict[str, Budget]: ...
    def user_of(self, budget_id: str) -> str | None: ...


class CostStore(Protocol):
    def replace_day(self, day: date, records: Iterable[CostRecord]) -> set[str]:
        """Make ``records`` the whole set for ``day``: stale lines go, none doubles.
        Returns every owner whose records for the day changed or were present."""

    def for_owner(self, owner: str, start: date, end: date) -> list[CostRecord]:
        """Records of ``owner`` for days in [start, end)."""


class RollupStore(Protocol):
    def put(self, rollup: MonthlyRollup) -> None: ...
    def get(self, owner: str, month: str) -> MonthlyRollup | None: ...
    def get_many(self, owners: Sequence[str], month: str) -> dict[str, MonthlyRollup]: ...
    def get_many_months(
        self, owners: Sequence[str], months: Sequence[str]
    ) -> dict[tuple[str, str], MonthlyRollup]:
        """Roll-ups of every (owner, month) pair, by (owner, month), in one batch read."""

    def months(self, owner: str, first: str, last: str) -> list[MonthlyRollup]:
        """Roll-ups of ``owner`` for months ``first``..``last`` inclusive, in one query."""

    def of_month(self, month: str) -> list[MonthlyRollup]:
        """Every owner's roll-up of a month (by-month index): for the ingest job's ORG total."""


class AuditLog(Protocol):
    def list_for_user(
        self, user_id: str, limit: int, start_key: PageKey | None = None
    ) -> Page[AuditEntry]: ...
