"""Tax applied to what Tally bills: an invoice's cost records, a chargeback unit's month.

Read once per document: the rules and settings (one Query of the tax partition) and, only
when a rule exists, the teams (to place a unit under its departments). No rule: nothing is
read beyond that Query and nothing is added, so an organisation without tax rules gets the
invoices and statements it always had.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tally.models import CostRecord, Metric
from tally.org.model import Team
from tally.store import Stores
from tally.tax.compute import compute_tax, rules_for, spread_over_days, unit_chain
from tally.tax.model import (
    ZERO,
    TaxableLine,
    TaxBreakdown,
    TaxMode,
    TaxRule,
    TaxSettings,
    Unit,
    UnitKind,
)

# FOCUS ChargeCategory of AWS's own tax lines (Cost Explorer's RECORD_TYPE "Tax" maps to it).
AWS_TAX = "Tax"


@dataclass(frozen=True)
class TaxContext:
    rules: tuple[TaxRule, ...]
    settings: TaxSettings
    teams: tuple[Team, ...]

    def chain(self, unit: Unit) -> tuple[Unit, ...]:
        return unit_chain(unit, {t.team_id: t.parent_id for t in self.teams})

    def user_unit(self, user_id: str) -> Unit:
        """A person's invoice is taxed as their team's when they are in exactly one team (and
        so the departments above it); otherwise as the organisation's."""
        teams = [t.team_id for t in self.teams if user_id in t.members]
        return Unit(UnitKind.TEAM, teams[0]) if len(teams) == 1 else Unit.org()

    def applies(self, unit: Unit, days: Iterable[date]) -> bool:
        chain = self.chain(unit)
        return any(rules_for(self.rules, chain, day) for day in days)


def load_tax(stores: Stores) -> TaxContext | None:
    """The tax rules, settings and teams; None when no rule was ever written."""
    rules = stores.tax.rules().rules
    if not rules:
        return None
    return TaxContext(rules, stores.tax.settings(), tuple(stores.access.list_teams()))


def tax_of_records(
    context: TaxContext,
    unit: Unit,
    records: Sequence[CostRecord],
    metric: Metric,
    label: Callable[[CostRecord], str],
) -> dict[str, TaxBreakdown]:
    """Per currency, the tax of ``records`` (each on its own day, labelled by its invoice line:
    ``label(record)``), AWS's own tax lines kept or replaced per the settings. Currencies where
    no rule applies on any day get no breakdown."""
    chain = context.chain(unit)
    by_currency: dict[str, list[TaxableLine]] = defaultdict(list)
    aws_tax: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for record in records:
        amount = record.amount(metric)
        if record.charge_category == AWS_TAX:
            aws_tax[record.currency] += amount
            by_currency.setdefault(record.currency, [])
        else:
            by_currency[record.currency].append(TaxableLine(label(record), record.day, amount))
    found: dict[str, TaxBreakdown] = {}
    for currency, lines in by_currency.items():
        if not any(rules_for(context.rules, chain, line.day) for line in lines):
            continue
        found[currency] = compute_tax(
            lines,
            lambda day: rules_for(context.rules, chain, day),
            currency=currency,
            settings=context.settings,
            aws_tax=aws_tax[currency],
        )
    return found


def invoice_tax(
    stores: Stores,
    *,
    user_id: str | None,
    cost_center: str | None,
    records: Sequence[CostRecord],
    metric: Metric,
    label: Callable[[CostRecord], str],
) -> tuple[Sequence[CostRecord], dict[str, TaxBreakdown]]:
    """An invoice's tax per currency and the records it itemises: in ``replace`` mode, AWS's
    own tax lines leave the currencies Tally taxes. No rule: the records as they are, no tax."""
    context = load_tax(stores)
    if context is None:
        return records, {}
    if user_id is not None:
        unit = context.user_unit(user_id)
    else:
        unit = Unit(UnitKind.COST_CENTER, cost_center or "")
    taxes = tax_of_records(context, unit, records, metric, label)
    if context.settings.mode is TaxMode.REPLACE:
        records = [r for r in records if not (r.currency in taxes and r.charge_category == AWS_TAX)]
    return records, taxes


def tax_of_period(
    context: TaxContext,
    unit: Unit,
    figures: Sequence[tuple[str, Decimal]],
    *,
    start: date,
    end: date,
    currency: str,
) -> TaxBreakdown | None:
    """The tax of a unit's month kept as totals only (a chargeback unit's ``figures``: label,
    amount): each figure spread evenly over the period's days [start, end), so a rate change
    within the month taxes each part of it at its own rate. None when no rule applies on any
    of the days. AWS's own tax is inside these totals and not itemised: the mode does not
    apply to them (docs/user-guide.md, "Tax")."""
    chain = context.chain(unit)
    lines = [
        line
        for label, amount in figures
        if amount
        for line in spread_over_days(label, amount, start, end, currency)
    ]
    if not any(rules_for(context.rules, chain, line.day) for line in lines):
        return None
    settings = TaxSettings(TaxMode.ADD, context.settings.rounding)
    return compute_tax(
        lines,
        lambda day: rules_for(context.rules, chain, day),
        currency=currency,
        settings=settings,
    )
