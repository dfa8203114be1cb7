"""Domain entities: plain frozen dataclasses, independent of the API and of DynamoDB."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, TypeVar

from tally.calendar import month_of
from tally.identity import Role

if TYPE_CHECKING:  # for the annotation only: the forecast types load with a forecast
    from tally.forecast import Forecast


@dataclass(frozen=True)
class UserProfile:
    user_id: str
    username: str
    email: str | None
    role: Role


@dataclass(frozen=True)
class Assignment:
    """A user's share of a resource over time: in force on the days ``effective_from`` <= day
    < ``effective_to``. Removing an assignment ends it (sets ``effective_to``) rather than
    deleting it, so re-ingesting a past day still finds who owned the resource then."""

    assignment_id: str
    user_id: str
    resource_type: str
    resource_id: str
    share_pct: Decimal
    cost_center: str | None
    assigned_by: str
    assigned_at: datetime
    effective_from: date
    effective_to: date | None = None  # exclusive; None while not ended

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    @property
    def ended(self) -> bool:
        return self.effective_to is not None


@dataclass(frozen=True)
class BudgetTerms:
    """A budget's terms from one month on, until the next change."""

    effective_from: str  # YYYY-MM
    monthly_limit: Decimal
    alert_threshold: int
    currency: str


@dataclass(frozen=True)
class Budget:
    """A user's budget. The top-level limit, threshold and currency are the current terms;
    ``history`` holds every change with the month it took effect, oldest first (its last entry
    is the current terms), so a past month is judged by the terms in force then."""

    budget_id: str
    user_id: str
    monthly_limit: Decimal
    alert_threshold: int
    currency: str
    created_at: datetime
    updated_at: datetime
    version: int
    history: tuple[BudgetTerms, ...] = ()

    @property
    def changes(self) -> tuple[BudgetTerms, ...]:
        """``history``, or for a budget stored before history was kept: its terms, in force
        since the month it was created (the best that is known of it)."""
        if self.history:
            return self.history
        current = BudgetTerms(
            month_of(self.created_at.date()),
            self.monthly_limit,
            self.alert_threshold,
            self.currency,
        )
        return (current,)

    @property
    def effective_from(self) -> str:
        """The month the current terms took effect."""
        return self.changes[-1].effective_from


class Metric(StrEnum):
    """Which cost a figure uses: ``billed`` (what the invoice says, FOCUS BilledCost) or
    ``effective`` (amortized: upfront fees spread over the days they cover, FOCUS
    EffectiveCost). One organisation-wide setting chooses the one budgets are judged by."""

    BILLED = "billed"
    EFFECTIVE = "effective"


class BudgetStatus(StrEnum):
    UNDER = "under"
    WARNING = "warning"
    OVER = "over"


@dataclass(frozen=True)
class CostLine:
    """One cost line as read from a source, before allocation (the whole organisation's)."""

    day: date
    service: str
    resource_id: str | None
    billed_cost: Decimal  # unblended; FOCUS BilledCost
    effective_cost: Decimal  # amortized; FOCUS EffectiveCost
    currency: str
    usage_quantity: Decimal = Decimal("0")
    usage_unit: str | None = None
    charge_category: str = "Usage"  # Usage | Purchase | Tax | Credit | Adjustment | Refund
    estimated: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    # The Savings Plan or reservation the line is part of (FOCUS CommitmentDiscountId) and,
    # on usage, whether it used or left unused that commitment (CommitmentDiscountStatus):
    # what commitment amortisation (tally.commitments.amortise) and FOCUS utilisation read.
    commitment_id: str | None = None
    commitment_status: str | None = None
    # The resource's name where the source gives one (FOCUS ResourceName, else a Name tag):
    # tally.names.best_name. Not part of the line's identity: a renamed resource is the same.
    resource_name: str | None = None


UNALLOCATED = "UNALLOCATED"


@dataclass(frozen=True)
class CostRecord:
    """A cost line allocated to one owner (a user id or ``UNALLOCATED``) for one UTC day."""

    owner: str
    day: date
    line_id: str
    service: str
    resource_id: str | None
    usage_quantity: Decimal
    usage_unit: str | None
    billed_cost: Decimal
    effective_cost: Decimal
    currency: str
    charge_category: str
    estimated: bool
    source: str
    fetched_at: datetime
    allocation: str  # assignment | tag | unallocated
    share_pct: Decimal = Decimal("100")
    # The name known at ingest (tally.names); None on records stored before names were kept
    # and for resources only their id names: tally.names.display_name derives one then.
    resource_name: str | None = None

    def amount(self, metric: Metric) -> Decimal:
        return self.effective_cost if metric == Metric.EFFECTIVE else self.billed_cost

    @property
    def billing_period(self) -> str:
        return month_of(self.day)


@dataclass(frozen=True)
class Amounts:
    billed: Decimal
    effective: Decimal

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(self.billed + other.billed, self.effective + other.effective)

    def amount(self, metric: Metric) -> Decimal:
        return self.effective if metric == Metric.EFFECTIVE else self.billed


ZERO_AMOUNTS = Amounts(Decimal("0"), Decimal("0"))


@dataclass(frozen=True)
class ResourceCost:
    resource_id: str
    service: str
    amounts: Amounts
    name: str | None = None  # the name its records carried (tally.names), if any


@dataclass(frozen=True)
class RollupSection:
    """One currency's figures within a monthly roll-up (currencies are never summed together)."""

    totals: Amounts
    by_service: dict[str, Amounts]
    by_category: dict[str, Amounts]  # Usage, Tax, Credit, ...: kept apart, never netted away
    daily: dict[str, Amounts]  # ISO day -> amounts
    daily_by_service: dict[str, dict[str, Amounts]]
    top_resources: list[ResourceCost]
    # ISO day -> category -> amounts: the forecast fits usage alone and treats tax, purchases
    # and credits as the one-off charges they are. Empty on roll-ups stored before it existed.
    daily_by_category: dict[str, dict[str, Amounts]] = field(default_factory=dict)


ORG = "ORG"


@dataclass(frozen=True)
class MonthlyRollup:
    """Everything a summary needs for one owner and month, in one item."""

    owner: str  # user id, ``ORG`` or ``UNALLOCATED``
    month: str  # YYYY-MM
    sections: dict[str, RollupSection]  # currency -> figures
    estimated: bool
    record_count: int
    updated_at: datetime
    forecast: dict[str, Forecast] | None = None  # currency -> forecast, by the forecasting step
    # Changes to a closed month's total after it closed: [{at, currency, old, new}].
    restatements: list[dict[str, object]] = field(default_factory=list)
    # ISO days with any estimated figure: the ingest keeps re-reading them until final.
    estimated_days: list[str] = field(default_factory=list)
    # What the store read: a digest of the stored item (``RollupStore.versions``); None on a
    # roll-up not read from a store (or stored before versions were kept). Not a figure.
    version: str | None = field(default=None, compare=False)

    def section(self, currency: str) -> RollupSection | None:
        return self.sections.get(currency)


class ClaimStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Claim:
    """A user's request to own (a share of) a resource. Pending, it changes no allocation;
    approved, it became ``assignment_id``, in force from the approval's day. Decided once."""

    claim_id: str
    claimant_id: str
    resource_type: str
    resource_id: str
    share_pct: Decimal
    note: str | None
    status: ClaimStatus
    # Who may decide it besides admins: the resource's owners when it was made.
    approver_ids: tuple[str, ...]
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    assignment_id: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    subject_user_id: str
    at: datetime
    actor: str
    action: str  # assignment.created | assignment.ended | budget.created | budget.updated
    entity_id: str
    details: dict[str, str]


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_key: dict[str, object] | None


@dataclass(frozen=True)
class Notification:
    """An in-app notification of one user. ``notification_id`` is the producer's idempotency
    key (``f"{period}#{level}"`` for an alert), unique per user: adding it twice keeps one."""

    notification_id: str
    user_id: str
    kind: str  # threshold | exceeded | forecast | restatement | admin-exceeded | claim | ...
    title: str
    body: str
    link: str | None  # a dashboard route such as "#/budget"
    created_at: datetime
    read_at: datetime | None = None

    @property
    def read(self) -> bool:
        return self.read_at is not None


class DigestCadence(StrEnum):
    OFF = "off"
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True)
class StoredWebhook:
    """A user's chat webhook as stored: the URL sealed (``tally.notify`` SecretBox, bound to
    the user), never in clear; ``hint`` is all the API ever shows of it."""

    ciphertext: str
    hint: str  # scheme://host/…last 4 characters, e.g. "https://hooks.slack.com/…/x9Qa"
    flavour: str  # slack | teams | generic: the payload format, from the host


@dataclass(frozen=True)
class EmailSuppression:
    """Email to ``address`` stopped after a permanent bounce or a complaint (SES feedback).

    It holds while the user's email is that address: a user whose address changed is
    emailed again at the new one; otherwise only the user lifts it (preferences)."""

    address: str
    reason: str  # bounce | complaint
    at: datetime

    def covers(self, address: str | None) -> bool:
        """Whether email to ``address`` is stopped by this suppression."""
        return address is not None and address.strip().lower() == self.address.strip().lower()


@dataclass(frozen=True)
class Preferences:
    """A user's notification preferences; ``version`` is for optimistic locking (0: never
    stored), as a budget's."""

    user_id: str
    email_alerts: bool = True
    digest: DigestCadence = DigestCadence.OFF
    updated_at: datetime | None = None
    version: int = 0
    webhook: StoredWebhook | None = None
    email_suppressed: EmailSuppression | None = None
    # The currency the user's figures are shown in (issue 17); None: the organisation's.
    display_currency: str | None = None


class LedgerState(StrEnum):
    CLAIMED = "claimed"  # an evaluation is sending it
    SENT = "sent"
    DEFERRED = "deferred"  # a failed send or over the run's cap: a later run sends it


@dataclass(frozen=True)
class LedgerEntry:
    """One (user, period, level) of the alert ledger: claimed or sent, with the budget terms
    it was judged by (``tally.alerts.SentLevel``) and the SES message id once sent."""

    level: str
    limit: Decimal
    threshold: int
    state: LedgerState
    message_id: str | None
    at: datetime  # when it was claimed, deferred, then when it was marked sent
    attempts: int = 1  # claims since it was last free: a stale claim is taken over once
    due_at: datetime | None = None  # while deferred (or claimed again): its first deferral


@dataclass(frozen=True)
class DeferredAlert:
    """A ledger entry waiting for a later run (``AlertLedger.deferred``), oldest first."""

    user_id: str
    period: str  # YYYY-MM, a digest's YYYY-MM-DD or YYYY-Www
    level: str
    due_at: datetime  # when it was first deferred
    reason: str


# --- report jobs (exports and invoices, issue 12) ---------------------------------------


class JobStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class ReportJob:
    """A file made in the background for its requester (a CSV export or a PDF invoice): the
    API creates it pending, the reports function completes or fails it. Kept 30 days."""

    job_id: str
    kind: str  # export | invoice
    requester_id: str
    params: dict[str, str]
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    object_key: str | None = None
    rows: int | None = None
    error: str | None = None
    details: dict[str, str] = field(default_factory=dict)  # e.g. invoiceNumber, provisional


# --- savings recommendations (issue 12) -------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    """Advice for one owner about one resource: what to do, what it would save a month (the
    owner's share) and the evidence. ``owner`` is a user id or ``UNALLOCATED``."""

    recommendation_id: str  # stable: kind, resource and owner
    owner: str
    kind: str  # idle-ec2 | idle-rds | ... (tally.recommendations.rules.KINDS)
    resource_id: str
    resource_type: str
    service: str
    title: str
    detail: str
    monthly_saving: Decimal
    currency: str
    evidence: dict[str, str]
    detected_at: datetime  # first detected: a refresh that finds it again keeps this
