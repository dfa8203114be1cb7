"""Tax rules and settings as plain values, and what a computation gives back.

A rule taxes the costs of one **unit** (the organisation, a team or department, or a cost
center) in one jurisdiction at one rate, in force over half-open dates
[``effective_from``, ``effective_to``). A rule marked ``zero-rated`` or ``exempt`` (with a
reason) is how a unit is exempted: zero-rated costs are taxed at 0% and shown at 0%, exempt
costs are outside the tax and shown apart. Rules are never deleted, only end-dated, so an
old invoice is taxed again as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class UnitKind(StrEnum):
    ORG = "org"
    TEAM = "team"  # a team or a department (both are teams: tally.org.model.TeamKind)
    COST_CENTER = "costCenter"


@dataclass(frozen=True, order=True)
class Unit:
    """Whom a rule applies to: ``Unit.org()``, ``Unit(TEAM, "platform")``,
    ``Unit(COST_CENTER, "CC-100")``."""

    kind: UnitKind
    unit_id: str = ""

    @classmethod
    def org(cls) -> Unit:
        return cls(UnitKind.ORG, "")

    @property
    def key(self) -> str:
        """ "org", "team:<id>" or "costCenter:<name>": the stored and the API's form."""
        return "org" if self.kind is UnitKind.ORG else f"{self.kind.value}:{self.unit_id}"

    @classmethod
    def parse(cls, key: str) -> Unit:
        """The inverse of ``key``; ValueError on anything else."""
        if key == "org":
            return cls.org()
        kind, sep, unit_id = key.partition(":")
        if not sep or not unit_id or kind not in (UnitKind.TEAM, UnitKind.COST_CENTER):
            raise ValueError(key)
        return cls(UnitKind(kind), unit_id)


class Treatment(StrEnum):
    STANDARD = "standard"  # taxed at the rule's rate
    ZERO_RATED = "zero-rated"  # taxed at 0% (shown at 0%: e.g. an export of services)
    EXEMPT = "exempt"  # outside the tax (shown apart, with the reason)


@dataclass(frozen=True)
class TaxRule:
    rule_id: str
    name: str  # "VAT", "GST", "Sales tax"
    jurisdiction: str  # "DE", "FR", "US-NY": free text, upper case
    rate: Decimal  # percent, 0..100 (0 for zero-rated and exempt rules)
    unit: Unit
    effective_from: date
    effective_to: date | None  # exclusive; None: open-ended
    treatment: Treatment = Treatment.STANDARD
    reason: str | None = None  # why a unit is zero-rated or exempt
    created_at: datetime | None = None
    created_by: str | None = None
    version: int = 1

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def overlaps(self, other: TaxRule) -> bool:
        """Both in force on some day."""
        return (other.effective_to is None or self.effective_from < other.effective_to) and (
            self.effective_to is None or other.effective_from < self.effective_to
        )


class TaxMode(StrEnum):
    """What becomes of AWS's own tax lines (ChargeCategory ``Tax``) when a rule applies."""

    ADD = "add"  # kept as billed; Tally's tax is added on top (on the other lines)
    REPLACE = "replace"  # left out of the net; Tally's tax stands instead


class Rounding(StrEnum):
    """Where tax is rounded to the currency's minor unit, always half up (commercial
    rounding, which EU VAT authorities use; banker's rounding is not offered)."""

    PER_LINE = "line"  # each line's tax, then summed per rate
    PER_TOTAL = "total"  # each rate's base summed, then taxed once


@dataclass(frozen=True)
class TaxSettings:
    mode: TaxMode = TaxMode.ADD
    rounding: Rounding = Rounding.PER_TOTAL
    version: int = 0  # 0: never saved (the defaults)
    updated_at: datetime | None = None
    updated_by: str | None = None


@dataclass(frozen=True)
class TaxableLine:
    """One amount to tax: ``label`` names the invoice line it belongs to (the unit of
    per-line rounding), ``day`` the day of supply (which decides the rate)."""

    label: str
    day: date
    amount: Decimal


@dataclass(frozen=True)
class RateRow:
    """One row of the breakdown: a rule's taxable base and its tax, in minor units.
    ``treatment`` exempt: base only (tax zero), with the rule's reason."""

    name: str
    jurisdiction: str
    rate: Decimal
    treatment: Treatment
    base: Decimal
    tax: Decimal
    reason: str | None = None
    # The first and last day of supply the row covers (a rate changed in the period: which
    # days each rate taxed); not part of the row's identity.
    first_day: date | None = field(default=None, compare=False)
    last_day: date | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TaxBreakdown:
    """The tax of one currency's lines. ``net`` is the lines' sum rounded to the minor unit
    (AWS's own tax lines included in ``add`` mode, left out in ``replace`` mode); ``gross`` =
    ``net`` + ``tax``. ``untaxed`` is the net no rule reached on some day (no rule in force)."""

    currency: str
    rows: tuple[RateRow, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal
    untaxed: Decimal
    mode: TaxMode
    rounding: Rounding
    aws_tax: Decimal  # AWS's own tax lines (kept in ``add`` mode, replaced in ``replace``)


def totals_doc(breakdowns: tuple[TaxBreakdown, ...] | list[TaxBreakdown]) -> str:
    """Net, tax and gross per currency as JSON text (decimal strings): what an invoice job
    records in its details, for the API to show beside the PDF."""
    import json

    return json.dumps(
        [
            {"currency": b.currency, "net": str(b.net), "tax": str(b.tax), "gross": str(b.gross)}
            for b in breakdowns
        ]
    )
