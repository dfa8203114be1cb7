"""Custom billing periods (issue 17): every definition's periods tile the days exactly, are
named consecutively, and have the lengths finance expects; the calendar's edges (the 1st,
month ends, 1 January, 29 February) under each."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tally import calendar
from tally.calendar import PeriodDefinition

DEFINITIONS = [
    PeriodDefinition(),
    PeriodDefinition("monthly", start_day=15),
    PeriodDefinition("monthly", start_day=28),
    PeriodDefinition("4-4-5"),
    PeriodDefinition("4-5-4", fiscal_year_start="04-01", week_start="sunday"),
    PeriodDefinition("5-4-4", fiscal_year_start="02-01", week_start="saturday"),
    PeriodDefinition("4-4-5", fiscal_year_start="12-31", week_start="thursday"),
]


@pytest.mark.parametrize(
    "periods", DEFINITIONS, ids=lambda p: f"{p.kind}-{p.start_day}-{p.fiscal_year_start}"
)
def test_periods_tile_every_day_and_are_named_in_order(periods: PeriodDefinition) -> None:
    with calendar.using(periods):
        day = date(2023, 6, 1)
        label = calendar.month_of(day)
        first, following = calendar.month_days(label)
        while day < date(2031, 1, 1):
            assert first <= day < following, (day, label)
            assert calendar.month_of(day) == label
            day += timedelta(days=1)
            if day == following:
                label = calendar.next_month(label)
                first, following = calendar.month_days(label)
                assert first == day, "the next period starts the day after the last ends"
                assert calendar.previous_month(label) == calendar.month_of(day - timedelta(1))
                assert 28 <= calendar.days_in_month(label) <= 42


def test_a_4_4_5_year_has_the_weeks_of_its_quarters_and_53_weeks_when_the_calendar_needs() -> None:
    periods = PeriodDefinition("4-4-5", fiscal_year_start="01-01", week_start="monday")
    with calendar.using(periods):
        # 2026-01-01 is a Thursday: the nearest Monday is 2025-12-29 (3 days before).
        assert calendar.first_day("2026-01") == date(2025, 12, 29)
        weeks = [calendar.days_in_month(f"2026-{m:02d}") // 7 for m in range(1, 13)]
        assert weeks == [4, 4, 5] * 3 + [4, 4, 6]
        # Fiscal 2027 begins on 2027-01-04 (1 January 2027 is a Friday: the Monday after,
        # three days away), so fiscal 2026 has 53 weeks and its last period five weeks + one.
        assert calendar.first_day("2027-01") == date(2027, 1, 4)
        assert calendar.days_in_month("2026-12") == 6 * 7
        assert sum(calendar.days_in_month(f"2026-{m:02d}") for m in range(1, 13)) == 53 * 7
        assert calendar.month_of(date(2027, 1, 1)) == "2026-12"
        assert calendar.month_of(date(2027, 1, 4)) == "2027-01"
        # 29 February 2028 is a day like any: fiscal 2028 begins 2028-01-03, so its February
        # (weeks 5-8) ends on the 27th and the leap day opens the five-week "2028-03".
        assert calendar.month_days("2028-03") == (date(2028, 2, 28), date(2028, 4, 3))
        assert calendar.month_of(date(2028, 2, 29)) == "2028-03"


def test_a_fiscal_year_starting_in_april_names_its_periods_by_the_months_they_stand_for() -> None:
    periods = PeriodDefinition("4-5-4", fiscal_year_start="04-01", week_start="sunday")
    with calendar.using(periods):
        # 2026-04-01 is a Wednesday: the nearest Sunday is 2026-03-29.
        assert calendar.first_day("2026-04") == date(2026, 3, 29)
        assert calendar.days_in_month("2026-04") == 28
        assert calendar.days_in_month("2026-05") == 35
        # Period 9 ("2026-12", 4 weeks) ends on 2026-12-26; period 10 is named for January.
        assert calendar.month_days("2026-12") == (date(2026, 11, 29), date(2026, 12, 27))
        assert calendar.month_of(date(2027, 1, 1)) == "2027-01"
        assert calendar.previous_month("2026-04") == "2026-03"
        assert calendar.last_day("2026-03") == date(2026, 3, 28)


def test_months_from_day_15_are_named_by_the_month_they_start_in() -> None:
    with calendar.using(PeriodDefinition("monthly", start_day=15)):
        assert calendar.month_of(date(2026, 11, 14)) == "2026-10"
        assert calendar.month_of(date(2026, 11, 15)) == "2026-11"
        assert calendar.month_days("2026-12") == (date(2026, 12, 15), date(2027, 1, 15))
        assert calendar.month_of(date(2027, 1, 1)) == "2026-12"
        assert calendar.month_days("2028-02") == (date(2028, 2, 15), date(2028, 3, 15))
        assert calendar.days_in_month("2028-02") == 29  # the leap day is in it
        assert calendar.months_between(date(2026, 11, 1), date(2026, 12, 1)) == [
            "2026-10",
            "2026-11",
        ]
        assert calendar.previous_month_start(date(2026, 12, 3)) == date(2026, 10, 15)


def test_monthly_from_the_1st_is_calendar_months() -> None:
    assert PeriodDefinition("monthly", start_day=1).normalised() == PeriodDefinition()
    with calendar.using(PeriodDefinition("monthly", start_day=1)):
        assert calendar.month_days("2028-02") == (date(2028, 2, 1), date(2028, 3, 1))


def test_switching_back_gives_the_original_periods() -> None:
    before = {m: calendar.month_days(f"2026-{m:02d}") for m in range(1, 13)}
    with calendar.using(PeriodDefinition("4-4-5")):
        assert calendar.month_days("2026-03") != before[3]
    assert {m: calendar.month_days(f"2026-{m:02d}") for m in range(1, 13)} == before


def test_a_lazy_definition_is_read_once_on_first_use() -> None:
    reads: list[int] = []

    def read() -> PeriodDefinition:
        reads.append(1)
        return PeriodDefinition("monthly", start_day=10)

    with calendar.in_force(read):
        assert reads == []
        assert calendar.month_of(date(2026, 12, 9)) == "2026-11"
        assert calendar.month_of(date(2026, 12, 10)) == "2026-12"
        assert reads == [1]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "weekly"}, "kind"),
        ({"kind": "monthly", "start_day": 29}, "startDay"),
        ({"kind": "monthly", "start_day": 0}, "startDay"),
        ({"kind": "4-4-5", "fiscal_year_start": "02-29"}, "fiscalYearStart"),
        ({"kind": "4-4-5", "fiscal_year_start": "04-31"}, "day is out of range"),
        ({"kind": "4-4-5", "fiscal_year_start": "4-1"}, "fiscalYearStart"),
        ({"kind": "4-4-5", "week_start": "funday"}, "weekStart"),
    ],
)
def test_a_definition_that_names_no_periods_is_refused(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PeriodDefinition(**fields)


def test_a_period_is_named_for_its_month_and_says_its_days_when_not_a_calendar_month() -> None:
    assert calendar.period_name("2026-11") == "November 2026"
    with calendar.using(PeriodDefinition("4-4-5")):
        # Fiscal January 2026 begins on 29 December 2025: named January, never December.
        assert (
            calendar.period_name("2026-01") == "January 2026 (29 Dec 2025 \N{EN DASH} 25 Jan 2026)"
        )
        assert calendar.period_name("2026-11") == "November 2026 (26 Oct \N{EN DASH} 22 Nov 2026)"
    from tally.alerts.content import month_label, month_name
    from tally.invoices.pdf import period_label

    with calendar.using(PeriodDefinition("4-4-5")):
        assert month_name("2026-01") == "January"
        assert month_label("2026-01") == period_label("2026-01") == calendar.period_name("2026-01")
