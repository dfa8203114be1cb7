"""Tax: rules per organisation and unit (rate, jurisdiction, name, exemptions, effective
dates), applied to internal invoices and chargeback statements.

- ``model``: rules, units, settings and the breakdown, as plain values;
- ``compute``: the arithmetic (which rules apply on a day, tax per rate, rounding);
- ``rules``: the use cases behind ``/api/tax-rules`` (read, add, end; the settings);
- ``apply``: tax of an invoice's records and of a chargeback unit's month.

The rules are in docs/user-guide.md ("Tax").
"""

from tally.tax.compute import compute_tax, minor_unit, round_half_up, rules_for, unit_chain
from tally.tax.model import (
    RateRow,
    Rounding,
    TaxableLine,
    TaxBreakdown,
    TaxMode,
    TaxRule,
    TaxSettings,
    Treatment,
    Unit,
    UnitKind,
)

__all__ = [
    "RateRow",
    "Rounding",
    "TaxBreakdown",
    "TaxMode",
    "TaxRule",
    "TaxSettings",
    "TaxableLine",
    "Treatment",
    "Unit",
    "UnitKind",
    "compute_tax",
    "minor_unit",
    "round_half_up",
    "rules_for",
    "unit_chain",
]
