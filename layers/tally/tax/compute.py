"""Tax on plain values: which rules apply to a unit on a day, and the tax of a set of lines.

Rules of precedence (docs/user-guide.md, "Tax"):
- a unit's **chain** is the unit itself, the teams above it (a team's department, ...) and the
  organisation last; on each day, the rules in force of the *nearest* unit in the chain that
  has any apply, and only those (a team's own VAT, or its zero-rating, replaces the
  organisation's for that team). Several rules of that unit (different jurisdictions) all
  apply, each on the whole base (never tax on tax).
- each line is taxed at the rules in force on its own day, so a rate change in the middle of a
  period splits the period: the days before are taxed at the old rate, the days after at the
  new one.
- rounding is to the currency's minor unit, half up (away from zero for a negative amount, so
  a credit is the mirror of a charge): per line (each line's base is rounded, then its tax)
  or per total (each rate's base is rounded, then taxed once).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from tally.tax.model import (
    HUNDRED,
    ZERO,
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

# ISO 4217 minor units where they are not 2 (as tally.reports.changes, which the API's cold
# path does not load: kept here rather than importing the reports package).
_ZERO_DECIMALS = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"}
    | {"VND", "VUV", "XAF", "XOF", "XPF"}
)
_THREE_DECIMALS = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])

# The row a rule's tax lands in: rules that agree on these share a row (a rate ended and
# started again at the same rate is still one rate on the invoice).
RowKey = tuple[str, str, Decimal, Treatment, str | None]


def minor_unit(currency: str) -> Decimal:
    """The currency's smallest unit: 0.01 for most, 1 for JPY, 0.001 for KWD."""
    if currency in _ZERO_DECIMALS:
        return Decimal(1)
    if currency in _THREE_DECIMALS:
        return Decimal("0.001")
    return Decimal("0.01")


def round_half_up(amount: Decimal, currency: str) -> Decimal:
    """``amount`` to the currency's minor unit, half up (-0.005 -> -0.01)."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def unit_chain(unit: Unit, parents: Mapping[str, str | None]) -> tuple[Unit, ...]:
    """``unit``, the teams above it (``parents``: team id -> parent team id) and the
    organisation. A cost center has no parent but the organisation."""
    chain: list[Unit] = []
    seen: set[str] = set()
    current: Unit | None = unit
    while current is not None and current.kind is not UnitKind.ORG:
        chain.append(current)
        if current.kind is not UnitKind.TEAM or current.unit_id in seen:
            break
        seen.add(current.unit_id)
        parent = parents.get(current.unit_id)
        current = Unit(UnitKind.TEAM, parent) if parent else None
    chain.append(Unit.org())
    return tuple(chain)


def rules_for(rules: Iterable[TaxRule], chain: Sequence[Unit], day: date) -> tuple[TaxRule, ...]:
    """The rules that apply on ``day`` to the first unit of ``chain``: those in force of the
    nearest unit that has any (none: nothing is taxed that day)."""
    in_force = [r for r in rules if r.in_force(day)]
    for unit in chain:
        found = tuple(sorted((r for r in in_force if r.unit == unit), key=_rule_order))
        if found:
            return found
    return ()


def _rule_order(rule: TaxRule) -> tuple[str, str, str]:
    return (rule.jurisdiction, rule.name, rule.rule_id)


def _row_key(rule: TaxRule) -> RowKey:
    rate = ZERO if rule.treatment is not Treatment.STANDARD else rule.rate
    return (rule.name, rule.jurisdiction, rate, rule.treatment, rule.reason)


def compute_tax(
    lines: Iterable[TaxableLine],
    rules_on: Callable[[date], Sequence[TaxRule]],
    *,
    currency: str,
    settings: TaxSettings,
    aws_tax: Decimal = ZERO,
) -> TaxBreakdown:
    """The tax of one currency's ``lines`` (AWS's own tax lines not among them: their sum is
    ``aws_tax``), each at the rules ``rules_on`` its day. ``net`` counts ``aws_tax`` in
    ``add`` mode only."""
    bases: dict[RowKey, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    spans: dict[RowKey, tuple[date, date]] = {}
    exact_net = ZERO
    untaxed = ZERO
    cache: dict[date, Sequence[TaxRule]] = {}
    for line in lines:
        exact_net += line.amount
        if line.day not in cache:
            cache[line.day] = rules_on(line.day)
        applied = cache[line.day]
        if not applied:
            untaxed += line.amount
        for rule in applied:
            key = _row_key(rule)
            bases[key][line.label] += line.amount
            first, last = spans.get(key, (line.day, line.day))
            spans[key] = (min(first, line.day), max(last, line.day))
    rows = tuple(
        replace(_row(key, by_label, currency, settings.rounding), first_day=spans[key][0],
                last_day=spans[key][1])
        for key, by_label in sorted(bases.items(), key=lambda kv: _row_sort(kv[0]))
    )  # fmt: skip
    if settings.mode is TaxMode.ADD:
        exact_net += aws_tax
    net = round_half_up(exact_net, currency)
    tax = sum((row.tax for row in rows), ZERO)
    return TaxBreakdown(
        currency=currency,
        rows=rows,
        net=net,
        tax=tax,
        gross=net + tax,
        untaxed=round_half_up(untaxed, currency),
        mode=settings.mode,
        rounding=settings.rounding,
        aws_tax=round_half_up(aws_tax, currency),
    )


def _row_sort(key: RowKey) -> tuple[object, ...]:
    name, jurisdiction, rate, treatment, reason = key
    # Exempt rows last, then highest rate first, as invoices usually print them.
    return (treatment is Treatment.EXEMPT, -rate, jurisdiction, name, reason or "")


def _row(
    key: RowKey, by_label: Mapping[str, Decimal], currency: str, rounding: Rounding
) -> RateRow:
    name, jurisdiction, rate, treatment, reason = key
    taxed = treatment is not Treatment.EXEMPT
    if rounding is Rounding.PER_LINE:
        line_bases = [round_half_up(amount, currency) for amount in by_label.values()]
        base = sum(line_bases, ZERO)
        tax = sum((round_half_up(b * rate / HUNDRED, currency) for b in line_bases if taxed), ZERO)
    else:
        base = round_half_up(sum(by_label.values(), ZERO), currency)
        tax = round_half_up(base * rate / HUNDRED, currency) if taxed else ZERO
    zero = ZERO.quantize(minor_unit(currency))
    return RateRow(name, jurisdiction, rate, treatment, base, tax + zero, reason)


def spread_over_days(
    label: str, amount: Decimal, start: date, end: date, currency: str
) -> list[TaxableLine]:
    """A period's amount (its days [start, end)) as one line per day, for a figure that is
    kept per month only (a chargeback unit's). Cumulative rounding: the first k days carry
    ``amount`` x k / days rounded to the minor unit, so any run of days carries its share of the
    period to the minor unit and the days sum to ``amount`` exactly. Time apportionment is how
    a continuous supply is split at a rate change when its days' own figures are not known."""
    days = (end - start).days
    if days <= 0:
        return []
    lines: list[TaxableLine] = []
    carried = ZERO
    for i in range(1, days + 1):
        upto = amount if i == days else round_half_up(amount * i / days, currency)
        lines.append(TaxableLine(label, start + timedelta(days=i - 1), upto - carried))
        carried = upto
    return lines
