"""Tax on chargeback statements: each unit's month, taxed by the rules of the unit (a team or
department and the departments above it, a cost center) or of the organisation.

A unit's figures are month totals (the partition works on them), so each is spread evenly
over the month's days before it is taxed: a rate change within the month taxes each part of
the month at its own rate (time apportionment). The units keep their figures; the tax stands
beside them, so the units still add up to the organisation's total to the cent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from tally.chargeback.model import Chargeback, ChargebackUnit
from tally.store import Stores
from tally.tax.apply import TaxContext, load_tax, tax_of_period
from tally.tax.model import TaxBreakdown, Unit, UnitKind

# The figure lines a statement shows, taxed as its lines (per-line rounding rounds each).
FIGURES = ("allocated", "shared", "unallocated")


def tax_unit(unit: ChargebackUnit) -> Unit:
    """The tax unit of a chargeback unit: its team or department, its cost center, else
    (the teams without one, the people in no team) the organisation."""
    if unit.kind in ("team", "department"):
        return Unit(UnitKind.TEAM, unit.unit_id)
    if unit.kind == "costCenter":
        return Unit(UnitKind.COST_CENTER, unit.unit_id)
    return Unit.org()


def with_tax(stores: Stores, report: Chargeback, start: date, end: date) -> Chargeback:
    """``report`` with each unit's tax per currency; unchanged without tax rules."""
    context = load_tax(stores)
    if context is None:
        return report
    return replace(
        report,
        units=tuple(_taxed(context, u, report.currencies, start, end) for u in report.units),
        no_team=_taxed(context, report.no_team, report.currencies, start, end),
    )


def _taxed(
    context: TaxContext,
    unit: ChargebackUnit,
    currencies: tuple[str, ...],
    start: date,
    end: date,
) -> ChargebackUnit:
    taxes: dict[str, TaxBreakdown] = {}
    for currency in currencies:
        figures = unit.in_currency(currency)
        found = tax_of_period(
            context,
            tax_unit(unit),
            [(name, getattr(figures, name)) for name in FIGURES],
            start=start,
            end=end,
            currency=currency,
        )
        if found is not None:
            taxes[currency] = found
    return replace(unit, tax=taxes) if taxes else unit
