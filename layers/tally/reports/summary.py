"""A user's month: this month's figures against the budget in force this month, last month's
result against its own, the top cost drivers and the forecast. Read from roll-ups.

A budget in a currency the month was not billed in is judged as the alerts judge it
(``tally.alerts.levels.month_figures``): the month's spend converted into the budget's currency
day by day (``tally.rates``), the verdict in that currency, and ``judged_in`` saying so with
the rates used. Without a rate on or before some day there is no verdict
(``currency_mismatch`` alone, as before rates existed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from tally.access import require
from tally.authz import Target
from tally.budgets import budget_for_month, budget_status
from tally.calendar import first_day, last_day, month_days, month_of, previous_month
from tally.models import Budget, BudgetStatus, BudgetTerms, Metric, MonthlyRollup, ResourceCost
from tally.rates import Converter, NoRate, RateUsed
from tally.reports.currency import Money, daily_by_currency, other_currencies, pick_currency
from tally.reports.periods import first_costs_expected, has_costs, month_is_final
from tally.view import View

if TYPE_CHECKING:
    from tally.forecast import Forecast

TOP_DRIVERS = 5


@dataclass(frozen=True)
class MonthBudget:
    """The budget a month is judged by: the user's budget (its id and version, to edit it)
    with the terms in force that month (``budget_for_month``)."""

    budget_id: str
    version: int
    terms: BudgetTerms


def month_budget(budget: Budget | None, month: str) -> MonthBudget | None:
    terms = budget_for_month(budget, month)
    if budget is None or terms is None:
        return None
    return MonthBudget(budget.budget_id, budget.version, terms)


@dataclass(frozen=True)
class Verdict:
    remaining: Decimal | None = None
    remaining_pct: Decimal | None = None
    percent_used: Decimal | None = None
    status: BudgetStatus | None = None


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def judge(total: Decimal, terms: BudgetTerms) -> Verdict:
    remaining = terms.monthly_limit - total
    if terms.monthly_limit == 0:  # a zero budget has no share to speak of
        return Verdict(remaining, None, None, budget_status(total, terms))
    return Verdict(
        remaining,
        _pct(remaining, terms.monthly_limit),
        _pct(total, terms.monthly_limit),
        budget_status(total, terms),
    )


@dataclass(frozen=True)
class JudgedIn:
    """A verdict made on spend converted into the budget's ``currency``: ``spent`` is the
    month's billed figures converted day by day (each day at its rate in force, ``rates``
    each distinct rate once; ``fallback`` when a day used an earlier day's rate)."""

    currency: str
    spent: Decimal
    rates: list[RateUsed]
    fallback: bool


def judge_converted(
    view: View, rollup: MonthlyRollup, terms: BudgetTerms, month: str
) -> tuple[Verdict, JudgedIn] | None:
    """``month``'s billed figures (none of them in the budget's currency) converted into it day
    by day and judged by ``terms``; None when some day has no rate on or before it (then there
    is no verdict: a guess would be worse than none). Reads the rates once per billed currency
    (``Converter``), only for a month whose budget and costs differ in currency."""
    converter = Converter(view.stores.rates, terms.currency, first_day(month), last_day(month))
    try:
        converted = converter.convert_all(daily_by_currency([rollup], view.metric))
    except NoRate:
        return None
    spent = converted.total
    judged = JudgedIn(terms.currency, spent, converted.rates_used(), converted.fallback)
    return judge(spent, terms), judged


@dataclass(frozen=True)
class MonthResult:
    """A month's total against the budget in force during it (the previous month, shown
    beside this one while this one has no or few figures)."""

    month: str
    currency: str
    total: Decimal
    budget: MonthBudget | None
    status: BudgetStatus | None
    percent_used: Decimal | None
    remaining: Decimal | None
    final: bool  # false while its last day may still arrive or any day is estimated
    # The verdict was made on the month converted into the budget's currency (``remaining``
    # is then in ``judged_in.currency``); None when judged on the billed figures, or not at all.
    judged_in: JudgedIn | None = None
    currency_mismatch: bool = False


@dataclass(frozen=True)
class Summary:
    user_id: str
    month: str
    today: date
    currency: str
    metric: Metric
    total: Decimal
    budget: MonthBudget | None  # the budget in force this month
    remaining: Decimal | None
    remaining_pct: Decimal | None
    percent_used: Decimal | None
    status: BudgetStatus | None
    top_drivers: list[ResourceCost]
    estimated: bool
    updated_at: object | None
    forecast: Forecast | None
    no_costs_yet: bool = False
    first_costs_expected: date | None = None
    previous_month: MonthResult | None = None
    restatements: list[dict[str, object]] = field(default_factory=list)
    other_currencies: list[Money] = field(default_factory=list)
    currency_mismatch: bool = False
    # The verdict was made on the month converted into the budget's currency (``judge_converted``).
    judged_in: JudgedIn | None = None
    # What it was computed from (``summary_version``): the API's ETag. None for a team's.
    version: str | None = None

    @property
    def depends_on_rates(self) -> bool:
        """Whether its verdicts read exchange rates (or would, once a rate exists)."""
        previous = self.previous_month
        return self.currency_mismatch or bool(previous and previous.currency_mismatch)


def _forecast_for(rollup: MonthlyRollup | None, currency: str) -> Forecast | None:
    return (rollup.forecast or {}).get(currency) if rollup else None


def _month_result(
    view: View, month: str, rollup: MonthlyRollup | None, budget: Budget | None
) -> MonthResult | None:
    in_force = month_budget(budget, month)
    if in_force is None and not has_costs(rollup):
        return None
    terms = in_force.terms if in_force else None
    rollups = [rollup] if rollup else []
    currency = pick_currency(rollups, terms, view.currency)
    # A budget in a currency the user was not billed in cannot be compared: show what was
    # billed, without a verdict.
    comparable = rollup is None or not rollup.sections or currency in rollup.sections
    if not comparable:
        currency = pick_currency(rollups, None, view.currency)
    section = rollup.section(currency) if rollup else None
    total = section.totals.amount(view.metric) if section else Decimal(0)
    verdict, judged_in = Verdict(), None
    if terms is not None and comparable:
        verdict = judge(total, terms)
    elif terms is not None and rollup is not None:
        converted = judge_converted(view, rollup, terms, month)
        if converted is not None:
            verdict, judged_in = converted
    return MonthResult(
        month=month,
        currency=currency,
        total=total,
        budget=in_force,
        status=verdict.status,
        percent_used=verdict.percent_used,
        remaining=verdict.remaining,
        final=month_is_final(month, rollup, view.today),
        judged_in=judged_in,
        currency_mismatch=not comparable,
    )


def month_summary(view: View, user_id: str) -> Summary:
    """This month's figures against the budget in force this month, and last month's result
    against its own: one Query and one GetItem, whatever the data.

    Until this month's first costs arrive (``no_costs_yet``) there is no verdict: status,
    share used and remaining are None, and ``first_costs_expected`` says when to look again.
    """
    require(view.caller, "costs:read", Target.owner(user_id))
    month = month_of(view.today)
    # One Query for this month and the last (its result and late restatements are shown).
    both = {r.month: r for r in view.stores.rollups.months(user_id, previous_month(month), month)}
    stored = view.stores.budgets.get_for_user(user_id)  # its history holds every month's terms
    version = _version(
        view, {m: r.version for m, r in both.items()}, stored.version if stored else None
    )
    summary = summarize(view, user_id, month, both, stored)
    if summary.depends_on_rates:
        # The rates are not in the version: a summary judged (or left unjudged for want of a
        # rate) across currencies gets the handler's body ETag instead, so a new rate is seen.
        version = None
    return replace(summary, version=version)


def summary_version(view: View, user_id: str) -> str | None:
    """The version of ``month_summary(view, user_id)``, read without its figures: the versions
    of this month's and last month's roll-ups (one Query that projects them) and the budget's
    (one GetItem that projects it). Equal versions, equal summaries: an API can answer "not
    modified" from this alone. None when a roll-up's version is unknown. (A summary judged
    across currencies also depends on the rates: ``month_summary`` gives it no version, so no
    client holds an ETag made from this for it.)"""
    require(view.caller, "costs:read", Target.owner(user_id))
    month = month_of(view.today)
    rollups = view.stores.rollups.versions(user_id, previous_month(month), month)
    return _version(view, rollups, view.stores.budgets.version_for_user(user_id))


def _version(view: View, rollups: Mapping[str, str | None], budget: int | None) -> str | None:
    """Everything a summary shows is a function of these: the roll-ups (figures, forecast,
    restatements), the budget and its history, the business date (the month, the verdict of
    last month, when costs are expected), the billing periods (which days this month and the
    last one cover: a change of definition changes the summary before any roll-up of a
    caller's is rebuilt, and a caller without roll-ups has none to change) and the view's
    metric and currency."""
    if any(v is None for v in rollups.values()):  # stored before versions were kept
        return None
    month = month_of(view.today)
    first, following = month_days(month)
    periods = f"periods={month_days(previous_month(month))[0]}/{first}/{following}"
    parts = [f"{m}={v}" for m, v in sorted(rollups.items())]
    return "|".join(
        [
            view.today.isoformat(),
            view.metric.value,
            view.currency,
            periods,
            f"budget={budget}",
            *parts,
        ]
    )


def summarize(
    view: View,
    owner: str,
    month: str,
    both: Mapping[str, MonthlyRollup],
    stored: Budget | None,
) -> Summary:
    """The summary of ``owner``'s ``month`` from the roll-ups of that month and the one before
    (``both``, by month) and the owner's budget: shared by a user's summary and a team's
    (``tally.org.costs``), which read them their own way."""
    today, metric = view.today, view.metric
    previous = previous_month(month)
    rollup = both.get(month)
    budget = month_budget(stored, month)
    terms = budget.terms if budget else None
    rollups = [rollup] if rollup else []
    currency = pick_currency(rollups, terms, view.currency)
    section = rollup.section(currency) if rollup else None
    total = section.totals.amount(metric) if section else Decimal(0)
    no_costs_yet = not has_costs(rollup)
    # A budget in a currency the user is not billed in cannot be compared: say so, do not guess.
    mismatch = bool(terms and not no_costs_yet and section is None)
    verdict, judged_in = Verdict(), None
    if terms is not None and not mismatch and not no_costs_yet:
        verdict = judge(total, terms)
    elif mismatch and terms is not None and rollup is not None:
        converted = judge_converted(view, rollup, terms, month)
        if converted is not None:
            verdict, judged_in = converted
    drivers = sorted(
        section.top_resources if section else [],
        key=lambda r: (-r.amounts.amount(metric), r.resource_id),
    )[:TOP_DRIVERS]
    return Summary(
        user_id=owner,
        month=month,
        today=today,
        currency=currency,
        metric=metric,
        total=total,
        budget=budget,
        remaining=verdict.remaining,
        remaining_pct=verdict.remaining_pct,
        percent_used=verdict.percent_used,
        status=verdict.status,
        top_drivers=drivers,
        estimated=bool(rollup and rollup.estimated),
        updated_at=rollup.updated_at if rollup else None,
        forecast=_forecast_for(rollup, currency),
        no_costs_yet=no_costs_yet,
        first_costs_expected=first_costs_expected(month, today) if no_costs_yet else None,
        previous_month=_month_result(view, previous, both.get(previous), stored),
        restatements=[x for r in both.values() for x in r.restatements],
        other_currencies=other_currencies(rollups, currency, metric),
        currency_mismatch=mismatch,
        judged_in=judged_in,
    )
