"""Month over month, and "why did my bill change".

``month_over_month`` compares a month (to date, for the current one) with the month before,
by service, from the roll-ups (one Query), and explains the difference as a waterfall read
from the cost records of the two months (Queries on one owner's partition, bounded to those
two months): from last month's total as first reported to this month's, step by step.

The waterfall's steps, in order (each resource is ``(service, resource id)``; the lines
without a resource are one "<service> (no resource)" per service):

- ``restatement``: last month now, less last month as first reported (changes AWS made after
  it closed, as the ingest recorded them on its roll-up);
- ``removed`` / ``new``: resources with usage cost in one month and none in the other;
- ``usage`` / ``rate``: resources in both, when both months bill them in one usage unit with
  a positive quantity: the usage effect is what the new quantity costs at last month's rate,
  ``(q1 - q0) * (c0 / q0)`` rounded to the currency's smallest unit, and the rate effect is
  the rest, so the two add up to ``c1 - c0`` exactly; otherwise one ``changed`` step;
- ``credits``, ``refunds``, ``other`` (tax, purchases, adjustments): the change of those
  charge categories, per resource.

Each kind keeps its ``TOP_STEPS`` largest resources (by absolute amount) and folds the rest
into one "N other resources" step, so the answer stays small. All arithmetic is Decimal, so
``start + sum(steps) == end`` holds exactly.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from tally.access import require
from tally.authz import Target
from tally.calendar import days_in_month, first_day, last_day, month_of, previous_month
from tally.errors import Invalid
from tally.models import CostRecord, Metric, MonthlyRollup
from tally.reports.currency import pick_currency
from tally.reports.periods import FIRST_REPORT_DAY
from tally.view import View

TOP_STEPS = 10
STEP_KINDS = (
    "restatement",
    "removed",
    "new",
    "usage",
    "rate",
    "changed",
    "credits",
    "refunds",
    "other",
)
USAGE = "Usage"
_CATEGORY_STEP = {"Credit": "credits", "Refund": "refunds"}  # other non-usage: "other"

# ISO 4217 minor units where they are not 2 (cents): the usage effect is rounded to the
# currency's smallest unit, the rate effect takes the remainder.
_ZERO_DECIMALS = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"}
    | {"VND", "VUV", "XAF", "XOF", "XPF"}
)
_THREE_DECIMALS = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

Resource = tuple[str, str | None]  # (service, resource id or None)


def smallest_unit(currency: str) -> Decimal:
    if currency in _ZERO_DECIMALS:
        return Decimal(1)
    if currency in _THREE_DECIMALS:
        return Decimal("0.001")
    return Decimal("0.01")


@dataclass(frozen=True)
class ServiceChange:
    service: str
    current: Decimal
    previous_same_days: Decimal
    previous: Decimal

    @property
    def change(self) -> Decimal:
        return self.current - self.previous_same_days

    @property
    def change_pct(self) -> Decimal | None:
        """Percent of the same days' figure; None when it is zero. Against its absolute value,
        so a credit that shrinks reads as a rise."""
        base = self.previous_same_days
        if base == 0:
            return None
        return (self.change * 100 / abs(base)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class WaterfallStep:
    kind: str  # one of STEP_KINDS
    label: str
    amount: Decimal
    service: str | None = None
    resource_id: str | None = None


@dataclass(frozen=True)
class Waterfall:
    start: Decimal  # the previous month's total as first reported
    end: Decimal  # the month's total (to date)
    steps: list[WaterfallStep]


@dataclass(frozen=True)
class MonthOverMonth:
    user_id: str
    month: str
    previous_month: str
    currency: str
    metric: Metric
    estimated: bool
    days_compared: int
    current_total: Decimal
    previous_same_days_total: Decimal
    previous_total: Decimal
    services: list[ServiceChange]
    waterfall: Waterfall


def resolve_month(month: str | None, today: date) -> str:
    """The month asked for (YYYY-MM), the current one by default; a later one is refused."""
    current = month_of(today)
    if month is None:
        return current
    if not _MONTH.match(month) or first_day(month) < FIRST_REPORT_DAY:
        raise Invalid.field("month", f"a month from {month_of(FIRST_REPORT_DAY)} on, as YYYY-MM")
    if month > current:
        raise Invalid.field("month", f"a month up to the current one ({current})")
    return month


def compared_days(month: str, rollup: MonthlyRollup | None, today: date) -> int:
    """How many days of ``month`` are compared: all of a past month; of the current month, the
    days up to the last one with costs (at most yesterday: today has none yet)."""
    if month != month_of(today):
        return days_in_month(month)
    yesterday = today - timedelta(days=1)
    if rollup is None or yesterday < first_day(month):
        return 0
    with_costs = [
        date.fromisoformat(d)
        for s in rollup.sections.values()
        for d in s.daily
        if date.fromisoformat(d) <= yesterday
    ]
    return max(with_costs).day if with_costs else 0


def month_over_month(view: View, user_id: str, *, month: str | None) -> MonthOverMonth:
    """``month`` (default: the current one, to date) against the month before, by service,
    and the waterfall that explains the difference. ``user_id`` is a user's (the organisation's
    and the unallocated owners: admins only, as ``cost_report``)."""
    require(view.caller, "costs:read", Target.owner(user_id))
    month = resolve_month(month, view.today)
    previous = previous_month(month)
    metric = view.metric
    rollups = view.stores.rollups.months(user_id, previous, month)  # one Query
    by_month = {r.month: r for r in rollups}
    current_rollup, previous_rollup = by_month.get(month), by_month.get(previous)
    currency = pick_currency(rollups, None, view.currency)

    days_compared = compared_days(month, current_rollup, view.today)
    same_days = min(days_compared, days_in_month(previous))
    current = _by_service(current_rollup, currency, metric, days_compared)
    same = _by_service(previous_rollup, currency, metric, same_days)
    whole = _by_service(previous_rollup, currency, metric, None)
    zero = Decimal(0)
    services = [
        ServiceChange(svc, current.get(svc, zero), same.get(svc, zero), whole.get(svc, zero))
        for svc in sorted(set(current) | set(same) | set(whole))
    ]
    services.sort(key=lambda s: (-abs(s.change), -s.current, s.service))

    # The records of the previous month and of the compared days: one range, one partition.
    end = first_day(month) + timedelta(days=days_compared)
    records = view.stores.costs.for_owner(user_id, first_day(previous), end)
    restated = _restated(previous_rollup, currency)
    return MonthOverMonth(
        user_id=user_id,
        month=month,
        previous_month=previous,
        currency=currency,
        metric=metric,
        estimated=any(r.estimated for r in rollups),
        days_compared=days_compared,
        current_total=sum(current.values(), Decimal(0)),
        previous_same_days_total=sum(same.values(), Decimal(0)),
        previous_total=sum(whole.values(), Decimal(0)),
        services=services,
        waterfall=waterfall(
            (r for r in records if r.currency == currency),
            month=month,
            metric=metric,
            restated=restated,
            unit=smallest_unit(currency),
        ),
    )


def _by_service(
    rollup: MonthlyRollup | None, currency: str, metric: Metric, up_to_day: int | None
) -> dict[str, Decimal]:
    """A month's figures per service, over its days 1..``up_to_day`` (None: all of them), from
    the same per-day figures the costs route sums."""
    section = rollup.section(currency) if rollup else None
    out: dict[str, Decimal] = defaultdict(Decimal)
    if section is None:
        return {}
    for d, per_service in section.daily_by_service.items():
        if up_to_day is None or int(d[8:10]) <= up_to_day:
            for svc, a in per_service.items():
                out[svc] += a.amount(metric)
    return dict(out)


def _restated(rollup: MonthlyRollup | None, currency: str) -> Decimal:
    """How much the month changed after it closed: the ingest records each change of a closed
    month as ``{at, month, currency, old, new}`` in BILLED cost only. The step uses that
    billed change whatever the metric: AWS restates usage lines, whose billed and effective
    cost move together (amortisation differs only for commitments, which are not restated)."""
    if rollup is None:
        return Decimal(0)
    return sum(
        (
            Decimal(str(x["new"])) - Decimal(str(x["old"]))
            for x in rollup.restatements
            if x.get("currency") == currency
        ),
        Decimal(0),
    )


@dataclass
class _Side:
    """One resource's usage lines in one month."""

    cost: Decimal = Decimal(0)
    quantity: Decimal = Decimal(0)
    units: frozenset[str | None] = frozenset()


def waterfall(
    records: Iterable[CostRecord],
    *,
    month: str,
    metric: Metric,
    restated: Decimal,
    unit: Decimal = Decimal("0.01"),
) -> Waterfall:
    """The steps from the previous month's total as first reported (its total now less
    ``restated``) to ``month``'s: ``records`` are one currency's, of both months."""
    previous_first = first_day(previous_month(month))
    previous_last = last_day(previous_month(month))
    usage: dict[Resource, list[_Side]] = defaultdict(lambda: [_Side(), _Side()])
    charges: dict[tuple[str, Resource], Decimal] = defaultdict(Decimal)
    totals = [Decimal(0), Decimal(0)]
    for r in records:
        side = 0 if previous_first <= r.day <= previous_last else 1
        amount = r.amount(metric)
        totals[side] += amount
        key: Resource = (r.service, r.resource_id)
        if r.charge_category == USAGE:
            s = usage[key][side]
            s.cost += amount
            s.quantity += r.usage_quantity
            s.units = s.units | {r.usage_unit}
        else:
            kind = _CATEGORY_STEP.get(r.charge_category, "other")
            charges[(kind, key)] += amount if side else -amount

    per_kind: dict[str, dict[Resource, Decimal]] = defaultdict(dict)
    for key, (before, after) in usage.items():
        for kind, amount in _usage_steps(before, after, unit):
            per_kind[kind][key] = amount
    for (kind, key), amount in charges.items():
        per_kind[kind][key] = amount

    steps: list[WaterfallStep] = []
    if restated:
        label = f"{month_of(previous_first)} restated since it closed"
        steps.append(WaterfallStep("restatement", label, restated))
    for kind in STEP_KINDS[1:]:
        steps.extend(_top(kind, per_kind.get(kind, {})))
    return Waterfall(start=totals[0] - restated, end=totals[1], steps=steps)


def _usage_steps(before: _Side, after: _Side, unit: Decimal) -> list[tuple[str, Decimal]]:
    c0, c1 = before.cost, after.cost
    if c0 == 0 and c1 == 0:
        return []
    if c1 == 0:
        return [("removed", -c0)]
    if c0 == 0:
        return [("new", c1)]
    units = before.units | after.units
    q0, q1 = before.quantity, after.quantity
    if len(units) != 1 or None in units or q0 <= 0 or q1 <= 0:
        return [("changed", c1 - c0)] if c1 != c0 else []
    usage_effect = ((q1 - q0) * c0 / q0).quantize(unit, ROUND_HALF_EVEN)
    rate_effect = (c1 - c0) - usage_effect
    return [(k, a) for k, a in (("usage", usage_effect), ("rate", rate_effect)) if a != 0]


def _label(key: Resource) -> str:
    service, resource_id = key
    return resource_id or f"{service} (no resource)"


def _top(kind: str, amounts: dict[Resource, Decimal]) -> list[WaterfallStep]:
    ranked = sorted(
        ((k, a) for k, a in amounts.items() if a != 0),
        key=lambda ka: (-abs(ka[1]), _label(ka[0]), ka[0][0]),
    )
    steps = [WaterfallStep(kind, _label(k), a, k[0], k[1]) for k, a in ranked[:TOP_STEPS]]
    rest = ranked[TOP_STEPS:]
    if rest:
        label = f"{len(rest)} other resource{'s' if len(rest) > 1 else ''}"
        steps.append(WaterfallStep(kind, label, sum((a for _, a in rest), Decimal(0))))
    return steps
