"""Names people recognise for resources, and what a unit of usage cost.

A resource's name, best first: the FOCUS ``ResourceName`` column; a ``Name`` tag on the cost
line; otherwise a name derived from the id itself (a bucket's name, a Lambda function's name,
an RDS identifier, an EC2 instance's ``i-...`` id). The best name known at ingest travels with
the cost records and the roll-ups' top resources (``resource_name``); a record stored before
names were kept has none, and its id gives the derived name, so old items read as before.

Light on purpose: the API formats every cost line through here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

from tally.resources import ARN_RE, line_match_key, match_key

if TYPE_CHECKING:
    from tally.models import CostLine
    from tally.store.names import NameDirectory

NAME_TAG = "Name"
# A unit price keeps this many significant digits (and every digit before the point): a
# Lambda GB-second costs 0.0000166667 USD, a reserved instance's hour 1234.5 USD.
UNIT_PRICE_DIGITS = 6
# Only usage has a price per unit: a tax, a credit or an upfront purchase divided by the
# usage it rides on would be a number nobody bills by.
PRICED_CATEGORIES = frozenset({"Usage"})


def derived_name(resource_id: str | None) -> str | None:
    """The name an id itself gives: the bucket of an S3 ARN, the function of a Lambda ARN
    (without its version or alias), the identifier of an RDS ARN (``db:<id>``), the last part
    of any other ARN; a plain id (an ``i-...`` instance, a bucket, a function) as it is."""
    if resource_id is None or not resource_id.strip():
        return None
    rid = resource_id.strip()
    m = ARN_RE.match(rid)
    if not m:
        return rid
    service, resource = m.group(1), m.group(4)
    if service == "lambda" and resource.startswith("function:"):
        return resource.split(":")[1] or rid
    last = re.split(r"[/:]", resource)[-1]
    return last or rid


def tag_name(tags: Mapping[str, str]) -> str | None:
    """The ``Name`` tag (AWS writes user tags with a ``user:`` prefix in some exports)."""
    value = tags.get(NAME_TAG) or tags.get(f"user:{NAME_TAG}")
    value = value.strip() if value else ""
    return value or None


def best_name(
    resource_id: str | None,
    *,
    resource_name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str | None:
    """The best name known at ingest (``ResourceName``, then the ``Name`` tag), or None when
    only the id names the resource (``display_name`` derives one then)."""
    if resource_id is None:
        return None
    given = (resource_name or "").strip()
    if given:
        return given
    return tag_name(tags or {})


def record_name(line: CostLine) -> str | None:
    """The name a cost line's records carry: the source's name, else the line's Name tag."""
    return best_name(line.resource_id, resource_name=line.resource_name, tags=line.tags)


def display_name(resource_id: str, name: str | None = None) -> str:
    """What a screen shows for a resource: its known name, else the derived one."""
    known = (name or "").strip()
    return known or derived_name(resource_id) or resource_id


@dataclass(frozen=True)
class UnitPrice:
    """What one unit of usage cost: ``amount`` ``currency`` per ``unit``."""

    amount: Decimal
    currency: str
    unit: str

    def __str__(self) -> str:
        return f"{format(self.amount, 'f')} {self.currency} per {self.unit}"


def cost_per_unit(
    cost: Decimal, quantity: Decimal, unit: str | None, currency: str, category: str
) -> UnitPrice | None:
    """``cost / quantity`` where it means something: a Usage line with a unit and a positive
    quantity; None otherwise (taxes, credits, purchases, no unit, no usage)."""
    if category not in PRICED_CATEGORIES or not unit or not unit.strip() or quantity <= 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 28
        exact = cost / quantity
        # Significant digits, but never rounding away whole units.
        ctx.prec = max(UNIT_PRICE_DIGITS, exact.adjusted() + 1)
        rounded = +exact
    normal = rounded.normalize()
    # normalize() may write 1E+2: keep the plain notation (and at least its integer digits).
    if normal.as_tuple().exponent > 0:  # type: ignore[operator]
        normal = normal.quantize(Decimal(1))
    return UnitPrice(normal, currency, unit.strip())


# --- the name directory (tally.store.names) -----------------------------------------------


def line_names(lines: Iterable[CostLine]) -> dict[str, str]:
    """Each named resource of ``lines`` once, by its match key (the last name read wins, as
    it does for a resource's records): what an ingest remembers in the name directory."""
    names: dict[str, str] = {}
    for line in lines:
        name = record_name(line)
        if name and line.resource_id:
            names[line_match_key(line.service, line.resource_id)] = name
    return names


def directory_names(
    directory: NameDirectory, resources: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The directory's names of ``resources`` ((resource type, id) pairs, as assignments and
    claims carry them), by pair: one read (a BatchGetItem) for them all, none for none."""
    by_key = {pair: match_key(*pair) for pair in dict.fromkeys(resources)}
    if not by_key:
        return {}
    known = directory.names_of(by_key.values())
    return {pair: known[key] for pair, key in by_key.items() if key in known}
