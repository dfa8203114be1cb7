"""Which budget alert levels are due: every edge of issue 11 decidable from figures alone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tally.alerts import (
    AlertLevel,
    AlertRules,
    MonthFigures,
    SentLevel,
    covered,
    due_levels,
    estimated_since,
    forecast_has_enough_days,
    month_figures,
    rearm,
)
from tally.budgets import budget_for_month
from tally.forecast.result import Forecast, MonthEndProjection
from tally.models import Amounts, Budget, BudgetTerms, Metric, MonthlyRollup, RollupSection

D = Decimal
F, T, X = AlertLevel.FORECAST, AlertLevel.THRESHOLD, AlertLevel.EXCEEDED
NOV = "2026-11"
TODAY = date(2026, 11, 20)


def terms(limit: str = "1000", threshold: int = 80, month: str = NOV) -> BudgetTerms:
    return BudgetTerms(month, D(limit), threshold, "USD")


def forecast(point: str, lower: str, *, model: str = "linear", month: str = NOV) -> Forecast:
    end = MonthEndProjection(
        month=month,
        actual_to_date=D("0"),
        forecast_remainder=D("0"),
        projected_total=D(point),
        lower80=D(lower),
        upper80=D(point) * 2,
        lower95=D(lower) / 2,
        upper95=D(point) * 3,
        days_elapsed=19,
        days_remaining=11,
    )
    return Forecast(date(2026, 11, 19), model, 40, end, ())


def figures(spent: str | None, **kw: object) -> MonthFigures:
    return MonthFigures(NOV, "USD", None if spent is None else D(spent), **kw)  # type: ignore[arg-type]


def levels(fig: MonthFigures, t: BudgetTerms | None = None, sent=(), **kw: object) -> list:
    rules = kw.pop("rules", AlertRules())
    today = kw.pop("today", TODAY)
    return [
        a.level
        for a in due_levels(fig, terms() if t is None else t, sent, today=today, rules=rules)  # type: ignore[arg-type]
    ]


def test_no_costs_at_all_alerts_nothing_even_on_a_zero_budget():
    assert levels(figures(None)) == []
    assert levels(figures(None), terms("0")) == []


def test_no_budget_in_force_alerts_nothing():
    assert due_levels(figures("5000"), None, set(), today=TODAY) == []


def test_threshold_and_exceeded_with_exact_decimal_figures():
    (alert,) = due_levels(figures("853"), terms(), set(), today=TODAY)
    assert alert.level is T
    assert alert.percent == D("85.3")
    assert (alert.spent, alert.limit, alert.threshold, alert.currency) == (
        D("853"),
        D("1000"),
        80,
        "USD",
    )
    # The line is exact: a hundredth of a cent under 80% is under.
    assert levels(figures("799.9999")) == []
    assert levels(figures("800")) == [T]
    assert levels(figures("1000")) == [T, X]
    assert levels(figures("999.99")) == [T]


def test_a_zero_budget_alerts_on_any_spend_and_not_on_none():
    assert levels(figures("0"), terms("0")) == []
    assert levels(figures("-3.20"), terms("0")) == []  # credits only
    due = due_levels(figures("0.01"), terms("0"), set(), today=TODAY)
    assert [a.level for a in due] == [T, X]
    assert due[0].percent is None


def test_zero_spend_with_a_zero_threshold_alerts_nothing():
    assert levels(figures("0"), terms("1000", 0)) == []
    assert levels(figures("0.01"), terms("1000", 0)) == [T]


def test_a_sent_level_is_never_due_again_even_after_dipping_under_and_back():
    sent = {T}
    assert levels(figures("850"), sent=sent) == []
    # A credit takes the month under the threshold, more spend takes it back over.
    assert levels(figures("700"), sent=sent) == []
    assert levels(figures("900"), sent=sent) == []
    # Nothing a dip does re-arms: rearm only answers a budget change.
    assert rearm([SentLevel(T, D("1000"), 80)], figures("700"), terms()) == frozenset()


def test_a_budget_created_after_the_threshold_was_crossed_alerts_on_the_next_run():
    month = figures("900")
    assert due_levels(month, budget_for_month(None, NOV), set(), today=TODAY) == []
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    created = Budget("b1", "u1", D("1000"), 80, "USD", now, now, 1, (terms(),))
    assert levels(month, budget_for_month(created, NOV)) == [T]


def test_lowered_then_raised_mid_month_fires_then_rearms():
    month = figures("500")
    assert levels(month) == []
    # Lowered to 600: 500 is over its 80% (480) -> threshold at once, not exceeded.
    lowered = terms("600")
    assert levels(month, lowered) == [T]
    sent = [SentLevel(T, D("600"), 80)]
    # Raised back to 1000: 500 is under 800 again, so threshold is released...
    raised = terms("1000")
    assert rearm(sent, month, raised) == {T}
    # ...and fires once more when the spend crosses the raised line.
    assert levels(figures("810"), raised, sent=set()) == [T]


def test_raising_a_budget_keeps_levels_still_met_and_lowering_releases_nothing():
    sent = [SentLevel(T, D("1000"), 80), SentLevel(X, D("1000"), 80)]
    # Raised to 1100: 1050 is still over 880 (threshold kept) but under 1100 (exceeded released).
    assert rearm(sent, figures("1050"), terms("1100")) == {X}
    # A higher threshold percent raises the threshold's line too.
    assert rearm([SentLevel(T, D("1000"), 80)], figures("850"), terms("1000", 90)) == {T}
    # Lowered: nothing to release; due_levels fires what it newly meets.
    assert rearm(sent, figures("500"), terms("400")) == frozenset()
    assert levels(figures("500"), terms("400"), sent={T}) == [X]
    # The budget removed: the month's sent levels stay sent.
    assert rearm(sent, figures("10"), None) == frozenset()


def test_rearm_releases_the_forecast_when_the_raised_limit_is_above_the_projection():
    month = figures("600", forecast=forecast("1200", "1100"), forecast_ready=True)
    sent = [SentLevel(F, D("1000"), 80)]
    assert rearm(sent, month, terms("1500")) == {F}
    assert rearm(sent, month, terms("1150")) == frozenset()  # 1200 still over 1150


def test_a_new_month_starts_with_an_empty_ledger():
    november_sent = {F, T, X}
    assert levels(figures("1200"), sent=november_sent) == []
    december = MonthFigures("2026-12", "USD", D("1200"))
    dec_terms = terms(month="2026-12")
    # The ledger is per period: December's is empty whatever November's holds.
    assert levels(december, dec_terms, sent=set(), today=date(2026, 12, 3)) == [T, X]


def test_the_first_of_a_month_has_no_figures_and_alerts_nothing():
    december = MonthFigures("2026-12", "USD", None)
    assert levels(december, terms(month="2026-12"), today=date(2026, 12, 1)) == []


def test_grace_period_holds_threshold_and_exceeded_while_estimates_are_young():
    rules = AlertRules(grace_days=3)
    month = figures("1100", estimated_since=date(2026, 11, 18))
    assert levels(month, rules=rules, today=date(2026, 11, 20)) == []
    assert levels(month, rules=rules, today=date(2026, 11, 21)) == [T, X]
    # Final figures never wait; nor does anything with the default grace of 0.
    assert levels(figures("1100"), rules=rules) == [T, X]
    assert levels(month, today=date(2026, 11, 18)) == [T, X]
    (alert,) = due_levels(month, terms(), {T}, today=date(2026, 11, 21), rules=rules)
    assert alert.estimated is True


def test_grace_period_never_holds_the_forecast():
    rules = AlertRules(grace_days=5)
    month = figures(
        "500",
        estimated_since=date(2026, 11, 19),
        forecast=forecast("1300", "1050"),
        forecast_ready=True,
    )
    (alert,) = due_levels(month, terms(), set(), today=TODAY, rules=rules)
    assert alert.level is F
    assert alert.projection == D("1300")


def test_the_forecast_needs_enough_days():
    early = forecast("5000", "4000", model="mean")
    assert forecast_has_enough_days(early) is False
    assert forecast_has_enough_days(forecast("5000", "4000", model="none")) is False
    assert forecast_has_enough_days(forecast("5000", "4000", model="weekday")) is True
    assert forecast_has_enough_days(None) is False
    assert levels(figures("100", forecast=early, forecast_ready=False)) == []


def test_forecast_bound_point_or_lower80():
    month = figures("500", forecast=forecast("1200", "950"), forecast_ready=True)
    assert levels(month) == [F]
    assert levels(month, rules=AlertRules(forecast_bound="lower80")) == []
    over = figures("500", forecast=forecast("1200", "1001"), forecast_ready=True)
    (alert,) = due_levels(
        over, terms(), set(), today=TODAY, rules=AlertRules(forecast_bound="lower80")
    )
    assert (alert.projection, alert.projection_bound) == (D("1001"), "lower80")
    # Equal to the limit is not above it.
    assert levels(figures("500", forecast=forecast("1000", "900"), forecast_ready=True)) == []


def test_the_forecast_says_nothing_once_actual_spend_is_over_or_for_another_month():
    over = figures("1100", forecast=forecast("1500", "1400"), forecast_ready=True)
    assert levels(over) == [T, X]
    # Told it is over, then a credit takes it back under: the forecast is no news either.
    credited = figures("900", forecast=forecast("1500", "1400"), forecast_ready=True)
    assert levels(credited, sent={T, X}) == []
    assert levels(credited, sent={T}) == [F]
    stale = figures("500", forecast=forecast("1500", "1400", month="2026-10"), forecast_ready=True)
    assert levels(stale) == []


def test_forecast_and_threshold_due_together_in_order():
    month = figures("850", forecast=forecast("1300", "1100"), forecast_ready=True)
    assert levels(month) == [F, T]
    assert levels(month, sent={F}) == [T]


def test_rules_are_validated():
    with pytest.raises(ValueError):
        AlertRules(grace_days=-1)
    with pytest.raises(ValueError):
        AlertRules(forecast_bound="upper80")  # type: ignore[arg-type]


def _rollup(**kw: object) -> MonthlyRollup:
    section = RollupSection(
        totals=Amounts(D("900"), D("853")),
        by_service={},
        by_category={},
        daily={},
        daily_by_service={},
        top_resources=[],
    )
    base: dict[str, object] = {
        "owner": "u1",
        "month": NOV,
        "sections": {"USD": section},
        "estimated": False,
        "record_count": 3,
        "updated_at": datetime(2026, 11, 20, tzinfo=UTC),
    }
    base.update(kw)
    return MonthlyRollup(**base)  # type: ignore[arg-type]


def test_month_figures_from_a_rollup():
    fc = forecast("1200", "1100")
    rollup = _rollup(
        forecast={"USD": fc}, estimated_days=["2026-11-19", "2026-11-18"], estimated=True
    )
    fig = month_figures(rollup, terms(), Metric.EFFECTIVE, NOV)
    assert fig == MonthFigures(NOV, "USD", D("853"), date(2026, 11, 18), fc, True)
    assert month_figures(rollup, terms(), Metric.BILLED, NOV).spent == D("900")
    # Billed only in another currency, or no costs yet: nothing to judge.
    eur = BudgetTerms(NOV, D("1000"), 80, "EUR")
    assert month_figures(rollup, eur, Metric.EFFECTIVE, NOV).spent is None
    assert month_figures(_rollup(sections={}), terms(), Metric.EFFECTIVE, NOV).spent is None
    assert month_figures(None, terms(), Metric.EFFECTIVE, NOV).spent is None


def test_estimated_since():
    assert estimated_since(_rollup()) is None
    assert estimated_since(_rollup(estimated=True)) == date(2026, 11, 1)
    assert estimated_since(_rollup(estimated_days=["2026-11-20", "2026-11-07"])) == date(
        2026, 11, 7
    )


def test_crossing_both_lines_at_once_tells_only_the_louder_one() -> None:
    both = due_levels(figures("1200"), terms(), (), today=date(2026, 11, 20))
    assert [a.level for a in both] == [AlertLevel.THRESHOLD, AlertLevel.EXCEEDED]
    assert covered(both) == {AlertLevel.THRESHOLD}
    one = due_levels(figures("850"), terms(), (), today=date(2026, 11, 20))
    assert covered(one) == frozenset()
    later = due_levels(figures("1200"), terms(), {AlertLevel.THRESHOLD}, today=date(2026, 11, 20))
    assert covered(later) == frozenset()


# --- a budget in another currency than the costs (issue 17) --------------------------------


def _usd_month(daily: dict[str, str]) -> MonthlyRollup:
    days = {d: Amounts(D(a), D(a)) for d, a in daily.items()}
    total = sum((D(a) for a in daily.values()), D(0))
    section = RollupSection(
        totals=Amounts(total, total),
        by_service={},
        by_category={},
        daily=days,
        daily_by_service={},
        top_resources=[],
    )
    return MonthlyRollup("u1", NOV, {"USD": section}, False, 3, datetime(2026, 11, 20, tzinfo=UTC))


def _gbp(limit: str) -> BudgetTerms:
    return BudgetTerms(NOV, D(limit), 80, "GBP")


def _rates() -> object:
    from tally.rates import ECB, Rate
    from tally.store.audit import MemoryAuditLog
    from tally.store.rates import MemoryRateStore

    store = MemoryRateStore(MemoryAuditLog())
    store.put_many(
        [
            Rate(date(2026, 11, 2), "EUR", "USD", D("1.0"), ECB),
            Rate(date(2026, 11, 2), "EUR", "GBP", D("0.8"), ECB),
            Rate(date(2026, 11, 3), "EUR", "USD", D("1.0"), ECB),
            Rate(date(2026, 11, 3), "EUR", "GBP", D("0.9"), ECB),
        ]
    )
    return store


def test_a_gbp_budget_on_usd_costs_is_judged_and_alerts_in_gbp_day_by_day() -> None:
    # Given 100 USD on the 2nd (at 0.8) and 100 USD on the 3rd and 4th (0.9; the 4th falls
    # back to the 3rd's rate): 80 + 90 + 90 = 260 GBP.
    month = _usd_month({"2026-11-02": "100", "2026-11-03": "100", "2026-11-04": "100"})
    fig = month_figures(month, _gbp("300"), Metric.EFFECTIVE, NOV, _rates())  # type: ignore[arg-type]
    assert (fig.currency, fig.spent) == ("GBP", D("260.0000000000"))
    assert fig.forecast is None  # the forecast is per billed currency: none in GBP
    due = due_levels(fig, _gbp("300"), (), today=TODAY)
    assert [(a.level, a.currency, a.spent) for a in due] == [(T, "GBP", D("260.0000000000"))]
    assert [a.level for a in due_levels(fig, _gbp("250"), (), today=TODAY)] == [T, X]


def test_without_rates_or_without_a_rate_a_gbp_budget_on_usd_costs_is_not_judged() -> None:
    month = _usd_month({"2026-11-01": "100"})  # a Sunday before any rate
    assert month_figures(month, _gbp("10"), Metric.EFFECTIVE, NOV).spent is None
    fig = month_figures(month, _gbp("10"), Metric.EFFECTIVE, NOV, _rates())  # type: ignore[arg-type]
    assert fig.spent is None
