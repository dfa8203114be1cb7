"""The calendar: every month computation, on the edges where month arithmetic goes wrong
(the 1st and 2nd, the 15th, 30- and 31-day month ends, 1 January, 29 February and
1 March of a leap year, December to January)."""

from __future__ import annotations

from datetime import date

import pytest

from tally import calendar

LEAP_DAY = date(2028, 2, 29)


@pytest.mark.parametrize(
    ("day", "month"),
    [
        (date(2026, 11, 1), "2026-11"),
        (date(2026, 11, 2), "2026-11"),
        (date(2026, 11, 15), "2026-11"),
        (date(2026, 11, 30), "2026-11"),
        (date(2026, 12, 31), "2026-12"),
        (date(2027, 1, 1), "2027-01"),
        (LEAP_DAY, "2028-02"),
        (date(2028, 3, 1), "2028-03"),
    ],
)
def test_month_of(day: date, month: str) -> None:
    assert calendar.month_of(day) == month


def test_first_day_and_refusal_of_what_is_no_month() -> None:
    assert calendar.first_day("2028-02") == date(2028, 2, 1)
    assert calendar.first_day("2027-01") == date(2027, 1, 1)
    for bad in ("2026-13", "2026-00", "2026-1", "November"):
        with pytest.raises(ValueError):
            calendar.first_day(bad)


@pytest.mark.parametrize(
    ("day", "following"),
    [
        (date(2026, 11, 1), date(2026, 12, 1)),
        (date(2026, 11, 2), date(2026, 12, 1)),
        (date(2026, 11, 15), date(2026, 12, 1)),
        (date(2026, 11, 30), date(2026, 12, 1)),  # a 30-day month's end
        (date(2026, 10, 31), date(2026, 11, 1)),  # a 31-day month's end
        (date(2026, 12, 31), date(2027, 1, 1)),  # December -> January
        (date(2027, 1, 1), date(2027, 2, 1)),
        (date(2028, 2, 28), date(2028, 3, 1)),
        (LEAP_DAY, date(2028, 3, 1)),
        (date(2028, 3, 1), date(2028, 4, 1)),
    ],
)
def test_following_first_and_month_bounds(day: date, following: date) -> None:
    assert calendar.following_first(day) == following
    assert calendar.month_bounds(day) == (day.replace(day=1), following)


@pytest.mark.parametrize(
    ("month", "first", "following", "last", "length"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 12, 1), date(2026, 11, 30), 30),
        ("2026-10", date(2026, 10, 1), date(2026, 11, 1), date(2026, 10, 31), 31),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1), date(2026, 12, 31), 31),
        ("2027-01", date(2027, 1, 1), date(2027, 2, 1), date(2027, 1, 31), 31),
        ("2027-02", date(2027, 2, 1), date(2027, 3, 1), date(2027, 2, 28), 28),
        ("2028-02", date(2028, 2, 1), date(2028, 3, 1), LEAP_DAY, 29),
        ("2028-03", date(2028, 3, 1), date(2028, 4, 1), date(2028, 3, 31), 31),
    ],
)
def test_month_days_last_day_and_length(
    month: str, first: date, following: date, last: date, length: int
) -> None:
    assert calendar.month_days(month) == (first, following)
    assert calendar.last_day(month) == last
    assert calendar.days_in_month(month) == length


@pytest.mark.parametrize(
    ("month", "previous", "following"),
    [
        ("2026-11", "2026-10", "2026-12"),
        ("2026-12", "2026-11", "2027-01"),
        ("2027-01", "2026-12", "2027-02"),
        ("2028-02", "2028-01", "2028-03"),
        ("2028-03", "2028-02", "2028-04"),
    ],
)
def test_previous_and_next_month(month: str, previous: str, following: str) -> None:
    assert calendar.previous_month(month) == previous
    assert calendar.next_month(month) == following
    assert calendar.next_month(calendar.previous_month(month)) == month


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (date(2026, 11, 1), date(2026, 10, 1)),
        (date(2026, 11, 2), date(2026, 10, 1)),
        (date(2026, 11, 15), date(2026, 10, 1)),
        (date(2026, 11, 30), date(2026, 10, 1)),
        (date(2026, 12, 31), date(2026, 11, 1)),
        (date(2027, 1, 1), date(2026, 12, 1)),
        (LEAP_DAY, date(2028, 1, 1)),
        (date(2028, 3, 1), date(2028, 2, 1)),
    ],
)
def test_previous_month_start(day: date, start: date) -> None:
    assert calendar.previous_month_start(day) == start


def test_days_is_half_open() -> None:
    assert list(calendar.days(date(2028, 2, 28), date(2028, 3, 2))) == [
        date(2028, 2, 28),
        LEAP_DAY,
        date(2028, 3, 1),
    ]
    assert list(calendar.days(date(2026, 12, 31), date(2027, 1, 2))) == [
        date(2026, 12, 31),
        date(2027, 1, 1),
    ]
    assert list(calendar.days(date(2026, 11, 15), date(2026, 11, 15))) == []
    assert list(calendar.days(date(2026, 11, 16), date(2026, 11, 15))) == []


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 11, 1), date(2026, 11, 2), ["2026-11"]),
        (date(2026, 11, 15), date(2026, 12, 1), ["2026-11"]),  # end is exclusive
        (date(2026, 11, 30), date(2026, 12, 2), ["2026-11", "2026-12"]),
        (date(2026, 12, 31), date(2027, 1, 2), ["2026-12", "2027-01"]),
        (date(2028, 2, 29), date(2028, 3, 1), ["2028-02"]),
        (date(2028, 2, 29), date(2028, 3, 2), ["2028-02", "2028-03"]),
        (date(2026, 10, 31), date(2027, 1, 1), ["2026-10", "2026-11", "2026-12"]),
        (date(2026, 11, 15), date(2026, 11, 15), []),
        (date(2026, 11, 16), date(2026, 11, 15), []),
    ],
)
def test_months_between(start: date, end: date, months: list[str]) -> None:
    assert calendar.months_between(start, end) == months
