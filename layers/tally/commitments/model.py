"""Reserved capacity as Tally keeps it: what a refresh read (``CommitmentSnapshot``), in
Decimal amounts with their currency, and its JSON document form for the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

Kind = Literal["savings-plan", "reservation"]
KINDS: tuple[Kind, ...] = ("savings-plan", "reservation")


@dataclass(frozen=True)
class Utilisation:
    """How much of the commitments of one kind a month used (``start`` the month's first day).
    ``used`` + ``unused`` = ``commitment`` (Savings Plans: committed spend; reservations: the
    amortized fees)."""

    kind: Kind
    start: date
    percent: Decimal
    commitment: Decimal
    used: Decimal
    unused: Decimal
    currency: str
    net_savings: Decimal | None = None


@dataclass(frozen=True)
class Coverage:
    """How much of the eligible usage of one kind a month the commitments covered."""

    kind: Kind
    start: date
    percent: Decimal
    on_demand_cost: Decimal  # what the uncovered usage cost at on-demand rates
    currency: str


@dataclass(frozen=True)
class Commitment:
    """One Savings Plan or reservation and when it ends (``end``: its last day, UTC)."""

    commitment_id: str
    kind: Kind
    description: str
    start: date | None
    end: date
    state: str


@dataclass(frozen=True)
class PurchaseRecommendation:
    """One purchase Cost Explorer recommends, with what it saves and when it pays back."""

    kind: Kind
    description: str
    term: str  # ONE_YEAR | THREE_YEARS
    payment_option: str  # NO_UPFRONT | PARTIAL_UPFRONT | ALL_UPFRONT
    upfront_cost: Decimal
    monthly_saving: Decimal
    saving_percent: Decimal | None
    break_even_months: Decimal | None  # None: it never pays back (no saving)
    currency: str


@dataclass(frozen=True)
class CommitmentSnapshot:
    """What one refresh read, replaced whole by the next."""

    read_at: datetime
    source: str  # cost-explorer | focus
    utilisation: tuple[Utilisation, ...] = ()
    coverage: tuple[Coverage, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    recommendations: tuple[PurchaseRecommendation, ...] = ()
    notes: tuple[str, ...] = field(default=())  # what could not be read, said plainly

    def document(self) -> dict[str, Any]:
        return {
            "readAt": self.read_at.isoformat(),
            "source": self.source,
            "utilisation": [_doc(u) for u in self.utilisation],
            "coverage": [_doc(c) for c in self.coverage],
            "commitments": [_doc(c) for c in self.commitments],
            "recommendations": [_doc(r) for r in self.recommendations],
            "notes": list(self.notes),
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> CommitmentSnapshot:
        return cls(
            read_at=datetime.fromisoformat(doc["readAt"]),
            source=doc["source"],
            utilisation=tuple(_of(Utilisation, d) for d in doc["utilisation"]),
            coverage=tuple(_of(Coverage, d) for d in doc["coverage"]),
            commitments=tuple(_of(Commitment, d) for d in doc["commitments"]),
            recommendations=tuple(_of(PurchaseRecommendation, d) for d in doc["recommendations"]),
            notes=tuple(doc.get("notes", ())),
        )


_DECIMALS = {
    "percent",
    "commitment",
    "used",
    "unused",
    "net_savings",
    "on_demand_cost",
    "upfront_cost",
    "monthly_saving",
    "saving_percent",
    "break_even_months",
}
_DATES = {"start", "end"}


def _doc(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, item in vars(value).items():
        if isinstance(item, (Decimal, date)):
            out[name] = str(item) if isinstance(item, Decimal) else item.isoformat()
        else:
            out[name] = item
    return out


def _of(cls: Any, doc: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for name, item in doc.items():
        if item is not None and name in _DECIMALS:
            values[name] = Decimal(item)
        elif item is not None and name in _DATES:
            values[name] = date.fromisoformat(item)
        else:
            values[name] = item
    return cls(**values)
