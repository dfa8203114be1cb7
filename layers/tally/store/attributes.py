"""pynamodb attributes for money: NumberAttribute returns float, which money must never be."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import NUMBER, STRING


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number stored from, and read back as, an exact ``Decimal``."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalAttribute takes Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError("DecimalAttribute cannot store NaN or Infinity")
        return format(value, "f")

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


def _default(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class DecimalJSONAttribute(Attribute[Any]):
    """A JSON document whose numbers are Decimals (written as strings, read back as Decimal).

    Used for roll-up breakdowns (per service, per day), read whole and never queried into.
    """

    attr_type = STRING

    def serialize(self, value: Any) -> str:
        return json.dumps(value, default=_default, separators=(",", ":"), sort_keys=True)

    def deserialize(self, value: str) -> Any:
        return json.loads(value, parse_float=Decimal)
