"""Custom billing periods over the demo organisation (issue 17's acceptance): switched to a
4-4-5 calendar, its roll-ups, budgets, forecasts and invoices follow the fiscal periods from
the stored records alone; switched back, every figure equals the original to the cent."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from tally import calendar, periods
from tally.budgets import budget_for_month
from tally.calendar import CALENDAR_MONTHS, PeriodDefinition
from tally.models import ORG, Budget, BudgetTerms, Metric
from tally.store import Stores
from tests.demo_org import demo_export, demo_stores, ingest_export

TODAY = date(2026, 12, 3)
NOW = datetime.combine(TODAY, time(0, 30), UTC)
START = date(2026, 8, 1)
FISCAL = PeriodDefinition("4-4-5")  # fiscal 2026 began Monday 2025-12-29


@pytest.fixture(scope="module")
def ingested() -> Stores:
    stores = demo_stores(since=START)
    export = demo_export(end=TODAY, days=(TODAY - START).days)
    ingest_export(stores, export, START, TODAY)
    return stores


def figures(stores: Stores) -> dict[tuple[str, str], tuple]:
    """Every roll-up's figures (not its version, time or forecast): what a screen shows."""
    out = {}
    for (owner, month), r in stores.rollups.items.items():  # type: ignore[attr-defined]
        out[(owner, month)] = (
            {
                c: (s.totals, s.by_service, s.by_category, s.daily, s.top_resources)
                for c, s in r.sections.items()
            },
            r.record_count,
            r.estimated_days,
        )
    return out


def totals_by_owner(stores: Stores) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (owner, _), r in stores.rollups.items.items():  # type: ignore[attr-defined]
        for currency, s in r.sections.items():
            out[(owner, currency)] += s.totals.billed
    return dict(out)


def test_a_4_4_5_calendar_and_back_gives_the_original_figures_to_the_cent(ingested: Stores) -> None:
    stores = ingested
    before = figures(stores)
    owners_totals = totals_by_owner(stores)
    assert ("alice", "2026-11") in before

    done = periods.recompute(stores, FISCAL, now=NOW, metric=Metric.EFFECTIVE)
    assert done.owners >= 4 and done.written > 0
    with calendar.using(FISCAL):
        for (owner, month), r in stores.rollups.items.items():  # type: ignore[attr-defined]
            first, following = calendar.month_days(month)
            for s in r.sections.values():
                # Every day of a roll-up is a day of its fiscal period...
                assert all(first <= date.fromisoformat(d) < following for d in s.daily), (
                    owner,
                    month,
                )
        # ...and fiscal November (26 October to 22 November, four weeks) holds those days.
        assert calendar.month_days("2026-11") == (date(2026, 10, 26), date(2026, 11, 23))
        november = stores.rollups.get("alice", "2026-11")
        assert november is not None
        usd = november.sections["USD"]
        assert min(usd.daily) == "2026-10-26" and max(usd.daily) == "2026-11-22"
        # Today (3 December) is in fiscal December (23 November to 3 January: fiscal 2026 has
        # 53 weeks), whose forecast is remade.
        december = stores.rollups.get("alice", "2026-12")
        assert december is not None and december.forecast is not None
    # Nothing is lost or counted twice: each owner's total over every period is unchanged.
    assert totals_by_owner(stores) == owners_totals
    # Running it again writes the same.
    again = figures(stores)
    periods.recompute(stores, FISCAL, now=NOW, metric=Metric.EFFECTIVE)
    assert figures(stores) == again

    periods.recompute(stores, CALENDAR_MONTHS, now=NOW, metric=Metric.EFFECTIVE)
    assert figures(stores) == before
    december = stores.rollups.get("alice", "2026-12")
    assert december is not None and december.forecast is not None


def test_the_organisation_equals_its_owners_in_every_fiscal_period(ingested: Stores) -> None:
    stores = ingested
    periods.recompute(stores, FISCAL, now=NOW, metric=Metric.EFFECTIVE)
    try:
        by_month: dict[str, Decimal] = defaultdict(Decimal)
        org: dict[str, Decimal] = {}
        for (owner, month), r in stores.rollups.items.items():  # type: ignore[attr-defined]
            if "USD" not in r.sections:
                continue
            if owner == ORG:
                org[month] = r.sections["USD"].totals.billed
            else:
                by_month[month] += r.sections["USD"].totals.billed
        assert org and org == {m: by_month[m] for m in org}
    finally:
        periods.recompute(stores, CALENDAR_MONTHS, now=NOW, metric=Metric.EFFECTIVE)


def test_a_budget_holds_its_limit_for_each_period_named_from_its_start() -> None:
    """The carry-over rule: terms are keyed by the period's name, so a change of definition
    keeps every budget as it was, and a 6-week period has the limit a 4-week one has."""
    budget = Budget(
        budget_id="b",
        user_id="alice",
        monthly_limit=Decimal("100"),
        alert_threshold=80,
        currency="USD",
        created_at=NOW,
        updated_at=NOW,
        version=1,
        history=(BudgetTerms("2026-10", Decimal("100"), 80, "USD"),),
    )
    with calendar.using(FISCAL):
        assert calendar.days_in_month("2026-12") == 42  # six weeks: fiscal 2026 has 53
        terms = budget_for_month(budget, calendar.month_of(TODAY))
    assert terms is not None and terms.monthly_limit == Decimal("100")
    assert budget_for_month(budget, "2026-09") is None


def test_a_superseded_definition_leaves_the_latest_in_force(ingested: Stores) -> None:
    """Two changes in a row: whatever the roll-ups were built under, the last recompute makes
    them what that definition gives."""
    stores = ingested
    reference = figures(stores)
    periods.recompute(
        stores, PeriodDefinition("monthly", start_day=15), now=NOW, metric=Metric.EFFECTIVE
    )
    periods.recompute(stores, FISCAL, now=NOW, metric=Metric.EFFECTIVE)
    fiscal_direct = figures(stores)
    periods.recompute(stores, CALENDAR_MONTHS, now=NOW, metric=Metric.EFFECTIVE)
    assert figures(stores) == reference
    periods.recompute(stores, FISCAL, now=NOW, metric=Metric.EFFECTIVE)
    assert figures(stores) == fiscal_direct
    periods.recompute(stores, CALENDAR_MONTHS, now=NOW, metric=Metric.EFFECTIVE)


def test_the_recompute_reads_no_cost_source(
    ingested: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tally.sources

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a cost source was read")

    monkeypatch.setattr(tally.sources.CostSource, "fetch", refuse, raising=False)
    periods.recompute(ingested, FISCAL, now=NOW, metric=Metric.EFFECTIVE)
    periods.recompute(ingested, CALENDAR_MONTHS, now=NOW, metric=Metric.EFFECTIVE)


def test_with_nothing_stored_there_is_nothing_to_do() -> None:
    from tally.store import memory_stores

    assert periods.recompute(memory_stores(), FISCAL, now=NOW, metric=Metric.EFFECTIVE).owners == 0
