"""How emails spell money, percentages and days: one place, so a subject written by the alert
content and the body the templates render agree to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tally.money import to_cents

# As tally.alerts.content spells subjects: only the dollar as a symbol, others "1,234.56 EUR",
# so a subject and its body never disagree on how an amount reads.
_SYMBOLS = {"USD": "$"}


def format_money(amount: Decimal, currency: str) -> str:
    """``$1,234.56``, ``-$5.00``, ``1,234.56 CHF``: cents, rounded half to even."""
    cents = to_cents(amount)
    sign = "-" if cents < 0 else ""
    digits = f"{abs(cents):,.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {currency}"


def format_change(amount: Decimal, currency: str) -> str:
    """A difference with its sign always shown: ``+$12.00``, ``-$3.10``."""
    text = format_money(amount, currency)
    return text if text.startswith("-") else f"+{text}"


def format_percent(percent: Decimal | int) -> str:
    """``85%``, ``85.3%``: a whole number without its ``.0``."""
    value = Decimal(percent)
    whole = value.to_integral_value()
    return f"{whole}%" if value == whole else f"{value.normalize():f}%"


def format_days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def format_day(day: date) -> str:
    """``Thu 19 Nov``: short enough for a digest row on a phone."""
    return f"{day:%a} {day.day} {day:%b}"
