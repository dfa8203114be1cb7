"""Months and days: the one place month arithmetic lives.

A month is named ``YYYY-MM`` (a budget period, a roll-up's key). Ranges are half-open
``[first, following)`` so a month's days never overlap the next month's. The dashboard's
``src/calendar.js`` mirrors these functions and is tested against the same edges.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta


def month_of(day: date) -> str:
    """``YYYY-MM`` of ``day``."""
    return day.strftime("%Y-%m")


def first_day(month: str) -> date:
    """The 1st of ``month`` (``YYYY-MM``); ``ValueError`` if it names no month."""
    return date.fromisoformat(f"{month}-01")


def following_first(day: date) -> date:
    """The 1st of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_bounds(day: date) -> tuple[date, date]:
    """``[first day, first day of next month)`` of the month holding ``day``."""
    first = day.replace(day=1)
    return first, following_first(first)


def month_days(month: str) -> tuple[date, date]:
    """``[first day, first day of next month)`` of ``month`` (``YYYY-MM``)."""
    return month_bounds(first_day(month))


def last_day(month: str) -> date:
    """The last day of ``month``."""
    return month_days(month)[1] - timedelta(days=1)


def days_in_month(month: str) -> int:
    first, following = month_days(month)
    return (following - first).days


def previous_month(month: str) -> str:
    return month_of(first_day(month) - timedelta(days=1))


def next_month(month: str) -> str:
    return month_of(following_first(first_day(month)))


def previous_month_start(day: date) -> date:
    """The 1st of the month before ``day``'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def days(start: date, end: date) -> Iterator[date]:
    """Each day of ``[start, end)``."""
    for offset in range((end - start).days):
        yield start + timedelta(days=offset)


def months_between(start: date, end: date) -> list[str]:
    """The months that hold a day of ``[start, end)``, oldest first."""
    if end <= start:
        return []
    months: list[str] = []
    first = start.replace(day=1)
    while first < end:
        months.append(month_of(first))
        first = following_first(first)
    return months
