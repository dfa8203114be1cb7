"""What a chargeback report says, as plain values: the API, the CSV and the PDF decide only how
it looks. Amounts are per currency (currencies are never added together), in the configured
metric, exact Decimals."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from tally.models import Metric
from tally.settings import ConfigurationError
from tally.tax.model import TaxBreakdown

RULE_VARIABLE = "TALLY_CHARGEBACK_UNALLOCATED"

# The unit id of the teams that carry no department (department grouping) or no cost center
# (cost center grouping). Parentheses are outside both the team slug and the cost center
# alphabets, so it can never be a real unit's id.
NO_UNIT = "(none)"
NO_TEAM = "(no team)"


class GroupBy(StrEnum):
    TEAM = "team"
    DEPARTMENT = "department"
    COST_CENTER = "costCenter"


class UnallocatedRule(StrEnum):
    PROPORTIONAL = "proportional"  # spread over the units in proportion to their totals
    SEPARATE = "separate"  # kept as its own line


def unallocated_rule(env: Mapping[str, str] | None = None) -> UnallocatedRule:
    """``TALLY_CHARGEBACK_UNALLOCATED`` (default proportional); a bad value fails loudly."""
    raw = (env if env is not None else os.environ).get(RULE_VARIABLE, "").strip()
    if not raw:
        return UnallocatedRule.PROPORTIONAL
    try:
        return UnallocatedRule(raw)
    except ValueError:
        raise ConfigurationError(f"{RULE_VARIABLE} must be 'proportional' or 'separate'") from None


ZERO = Decimal(0)


@dataclass(frozen=True)
class Figures:
    """One unit's month in one currency. ``allocated``: costs of its people and resources from
    sole assignments and owner tags; ``shared``: what reached them through split assignments
    (share below 100%); ``unallocated``: its part of what nobody owns (proportional rule)."""

    allocated: Decimal = ZERO
    shared: Decimal = ZERO
    unallocated: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.allocated + self.shared + self.unallocated

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.allocated + other.allocated,
            self.shared + other.shared,
            self.unallocated + other.unallocated,
        )


NO_FIGURES = Figures()


@dataclass(frozen=True)
class ChargebackUnit:
    """A team, a department, a cost center, the teams without one (``NO_UNIT``) or the people
    in no team (``NO_TEAM``)."""

    unit_id: str
    name: str
    kind: str  # team | department | costCenter | none | noTeam
    parent_id: str | None
    cost_center: str | None
    people: int  # distinct people whose costs (or a share of them) the unit carries
    figures: Mapping[str, Figures]  # currency -> figures
    # currency -> Tally's tax on the unit's total (tally.tax), where a rule applies to it
    tax: Mapping[str, TaxBreakdown] = field(default_factory=dict)

    def in_currency(self, currency: str) -> Figures:
        return self.figures.get(currency, NO_FIGURES)


@dataclass(frozen=True)
class Chargeback:
    """A month's chargeback: the units partition the organisation, so for every currency the
    units' totals + ``no_team``'s + ``unallocated`` == ``organisation_total``, exactly."""

    month: str
    group_by: GroupBy
    rule: UnallocatedRule
    metric: Metric
    currencies: tuple[str, ...]
    units: tuple[ChargebackUnit, ...]
    no_team: ChargebackUnit
    unallocated: Mapping[str, Decimal]  # what the rule did not give to a unit
    organisation_total: Mapping[str, Decimal]
    final: bool

    def unit(self, unit_id: str) -> ChargebackUnit | None:
        return next((u for u in self.units if u.unit_id == unit_id), None)
