"""The ECB's euro foreign exchange reference rates, as published in XML.

One format serves the daily file (``eurofxref-daily.xml``: one day) and the 90-day history
(``eurofxref-hist-90d.xml``: one ``Cube time=`` per business day, newest first): an envelope
holding ``Cube/Cube[@time]/Cube[@currency][@rate]``, each rate the price of one euro in that
currency. Parsed with the standard library's ElementTree; the file comes from a configured
HTTPS address, and a document that declares a DTD (the entity-expansion attacks' way in) is
refused before parsing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree

from tally.identifiers import ISO_4217
from tally.rates import ECB, PIVOT, Rate

_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"


class FeedError(ValueError):
    """The body is not the ECB reference-rates format (or holds no rate at all)."""


def parse_reference_rates(body: bytes, *, source: str = ECB) -> list[Rate]:
    """Every (day, EUR -> currency) rate in an ECB reference-rates document, sorted by day
    and currency. A currency outside ISO 4217's active list is skipped; a malformed rate or
    day is an error (the whole file is then refused, so a half-read day never lands)."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise FeedError("the document declares a DTD or entities; refused")
    try:
        # A DTD is refused above, so no entity can expand (and expat >= 2.4 caps amplification):
        # defusedxml would guard the same way and is not a runtime dependency.
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError as error:
        raise FeedError(f"not XML: {error}") from None
    rates: list[Rate] = []
    for day_cube in root.iter(f"{_NS}Cube"):
        raw_day = day_cube.get("time")
        if raw_day is None:
            continue
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            raise FeedError(f"not a day: {raw_day!r}") from None
        for cube in day_cube.findall(f"{_NS}Cube"):
            currency, raw_rate = cube.get("currency"), cube.get("rate")
            if currency is None or raw_rate is None:
                raise FeedError(f"a rate of {raw_day} without currency or rate")
            if currency not in ISO_4217:
                continue
            try:
                rate = Decimal(raw_rate)
            except InvalidOperation:
                raise FeedError(f"not a rate: {currency} {raw_rate!r}") from None
            if not rate.is_finite() or rate <= 0:
                raise FeedError(f"not a positive rate: {currency} {raw_rate!r}")
            rates.append(Rate(day=day, base=PIVOT, quote=currency, rate=rate, source=source))
    if not rates:
        raise FeedError("no rates in the document")
    return sorted(rates, key=lambda r: (r.day, r.quote))
