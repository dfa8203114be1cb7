"""Money is Decimal end to end; amounts cross JSON as strings with a currency code."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

ZERO = Decimal("0")
CENT = Decimal("0.01")
# Stored amounts keep Cost Explorer's / FOCUS's precision; display rounds to cents only at the edge.
STORAGE_QUANTUM = Decimal("0.0000000001")


def to_decimal(value: object) -> Decimal:
    """Exact conversion; floats go through ``str`` so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def quantize_storage(value: Decimal) -> Decimal:
    return value.quantize(STORAGE_QUANTUM, rounding=ROUND_HALF_EVEN).normalize() + ZERO


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def format_amount(value: Decimal) -> str:
    """The JSON form: a plain decimal string with at least two decimals, never exponent form."""
    value = quantize_storage(value)
    text = format(value, "f")
    if "." not in text:
        return text + ".00"
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)
