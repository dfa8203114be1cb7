"""Exchange rates and per-day conversion.

A rate is one day's price of one ``base`` unit in ``quote`` (``1 base = rate quote``), from a
named source: ``ecb`` (the European Central Bank's daily reference rates, published as EUR to
X), ``manual`` (internal transfer pricing entered by finance), or another configured feed.

The rate in force on a day (``rate_on``) is that day's, else the latest earlier one, and says
which day and source it is (``RateUsed.fallback``). Between sources of the same day, manual
wins (transfer pricing overrides the market); a newer market rate wins over an older manual
one (the latest day wins first). A pair with no stored rate of its own is worked out through
EUR from the ECB's two legs (``USD->GBP = EUR->GBP / EUR->USD``), or from the inverse pair.

Conversion is per day: a range's converted total is the sum of its days, each converted at its
own day's rate and quantized at the store's precision (``tally.money.STORAGE_QUANTUM``, half
even). Rounding per day (not the range once) is what makes "the sum of the converted days
equals the converted total" hold exactly. Originals are never replaced: callers keep the
original figures and show the converted ones beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

from tally.errors import Invalid
from tally.money import quantize_storage

ECB = "ecb"
MANUAL = "manual"
IDENTITY = "identity"
# The ECB publishes EUR -> X: every other pair goes through it.
PIVOT = "EUR"
# A cross or inverse rate keeps this many decimals (ECB rates carry at most 6 significant
# digits; 10 decimals keep a cross rate's own error far below a cent on any real amount).
RATE_QUANTUM = Decimal("0.0000000001")


@dataclass(frozen=True)
class Rate:
    """``1 base = rate quote`` on ``day``, from ``source``. Manual rates say who set them."""

    day: date
    base: str
    quote: str
    rate: Decimal
    source: str
    entered_by: str | None = None
    entered_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class RateUsed:
    """The rate a day was converted at: asked for ``day``, the rate of ``rate_day`` (earlier
    when that day had none: ``fallback``), from ``source`` (``ecb+cross``, ``ecb+inverse``,
    ``manual``, ``identity``...)."""

    day: date
    base: str
    quote: str
    rate: Decimal
    rate_day: date
    source: str

    @property
    def fallback(self) -> bool:
        return self.rate_day < self.day


class NoRate(Invalid):
    """No rate on or before a day for a pair: nothing to convert at (422 on the currency)."""


class RateReader(Protocol):
    def history(self, base: str, quote: str, first: date, last: date) -> list[Rate]:
        """The pair's stored rates from the latest day on or before ``first`` (every source of
        that day) through ``last``: one Query of the pair's partition."""


def _source_rank(source: str) -> int:
    # Higher wins within one day: manual (transfer pricing) over any market feed.
    return 1 if source == MANUAL else 0


def _best_by_day(rates: Iterable[Rate]) -> dict[date, Rate]:
    best: dict[date, Rate] = {}
    for r in rates:
        held = best.get(r.day)
        if held is None or (_source_rank(r.source), r.source) > (
            _source_rank(held.source),
            held.source,
        ):
            best[r.day] = r
    return best


@dataclass(frozen=True)
class _Leg:
    """One stored pair's rates by day, looked up as "in force on"."""

    by_day: dict[date, Rate]
    ordered: list[date] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ordered", sorted(self.by_day))

    def on(self, day: date) -> Rate | None:
        found = None
        for d in self.ordered:  # a range's legs hold a few dozen days: a walk is enough
            if d > day:
                break
            found = self.by_day[d]
        return found


def _inverse(r: Decimal) -> Decimal:
    return (Decimal(1) / r).quantize(RATE_QUANTUM, rounding=ROUND_HALF_EVEN)


class RateBook:
    """The rates of one conversion (``base`` to ``quote``) over a range of days, read once:
    at most three Queries (the pair, its inverse, and the two EUR legs when neither is
    stored), then every day answered in memory."""

    def __init__(self, reader: RateReader, base: str, quote: str, first: date, last: date):
        self.base, self.quote = base, quote
        self._direct = self._inverse = self._legs = None
        if base == quote:
            return

        def leg(b: str, q: str) -> _Leg | None:
            got = reader.history(b, q, first, last)
            return _Leg(_best_by_day(got)) if got else None

        self._direct = leg(base, quote)
        self._inverse = leg(quote, base)
        if PIVOT not in (base, quote):
            eur_base, eur_quote = leg(PIVOT, base), leg(PIVOT, quote)
            if eur_base is not None and eur_quote is not None:
                self._legs = (eur_base, eur_quote)

    def rate_on(self, day: date) -> RateUsed:
        """The rate in force on ``day``: raises ``NoRate`` when there is none on or before."""
        if self.base == self.quote:
            return RateUsed(day, self.base, self.quote, Decimal(1), day, IDENTITY)
        candidates: list[tuple[tuple[date, int, int], RateUsed]] = []
        if self._direct is not None and (r := self._direct.on(day)) is not None:
            candidates.append(((r.day, _source_rank(r.source), 2), self._used(day, r.rate, r)))
        if self._inverse is not None and (r := self._inverse.on(day)) is not None:
            used = RateUsed(
                day, self.base, self.quote, _inverse(r.rate), r.day, f"{r.source}+inverse"
            )
            candidates.append(((r.day, _source_rank(r.source), 1), used))
        if self._legs is not None:
            to_base, to_quote = (leg.on(day) for leg in self._legs)
            if to_base is not None and to_quote is not None:
                # The older leg dates the cross rate: it is only as fresh as its stalest leg.
                rate_day = min(to_base.day, to_quote.day)
                rate = (to_quote.rate / to_base.rate).quantize(RATE_QUANTUM, ROUND_HALF_EVEN)
                sources = {to_base.source, to_quote.source}
                source = (sources.pop() if len(sources) == 1 else "mixed") + "+cross"
                rank = max(_source_rank(to_base.source), _source_rank(to_quote.source))
                used = RateUsed(day, self.base, self.quote, rate, rate_day, source)
                candidates.append(((rate_day, rank, 0), used))
        if not candidates:
            raise NoRate.field(
                "currency",
                f"no {self.base} to {self.quote} rate on or before {day.isoformat()}",
            )
        return max(candidates, key=lambda c: c[0])[1]

    def _used(self, day: date, rate: Decimal, r: Rate) -> RateUsed:
        return RateUsed(day, self.base, self.quote, rate, r.day, r.source)


@dataclass(frozen=True)
class ConvertedDay:
    day: date
    original: Decimal
    amount: Decimal
    rate: RateUsed


@dataclass(frozen=True)
class Converted:
    """A range converted day by day: ``total`` is exactly the sum of ``days``' amounts."""

    base: str
    quote: str
    days: list[ConvertedDay]

    @property
    def total(self) -> Decimal:
        return sum((d.amount for d in self.days), Decimal(0))

    @property
    def fallback(self) -> bool:
        return any(d.rate.fallback for d in self.days)

    def rates_used(self) -> list[RateUsed]:
        """Each distinct rate once (by rate day and source), in day order."""
        seen: dict[tuple[date, str, Decimal], RateUsed] = {}
        for d in self.days:
            seen.setdefault((d.rate.rate_day, d.rate.source, d.rate.rate), d.rate)
        return list(seen.values())


def convert_amount(amount: Decimal, used: RateUsed) -> Decimal:
    """One day's amount at its rate, at the store's precision (half even)."""
    return quantize_storage(amount * used.rate)


class Converter:
    """Conversions into ``quote`` of days from ``first`` to ``last``: each base currency's
    rates are read once (``RateBook``) and shared by every figure converted, so a page of
    users costs one set of rate Queries, not one per row."""

    def __init__(self, reader: RateReader, quote: str, first: date, last: date) -> None:
        self.quote, self.first, self.last = quote, first, last
        self._reader = reader
        self._books: dict[str, RateBook] = {}

    def _book(self, base: str) -> RateBook:
        book = self._books.get(base)
        if book is None:
            book = self._books[base] = RateBook(
                self._reader, base, self.quote, self.first, self.last
            )
        return book

    def convert(self, daily: Mapping[date, Decimal], base: str) -> Converted:
        """``daily`` (amounts in ``base``, days within the converter's range) in ``quote``,
        each day at its own rate in force. ``NoRate`` when a day has none on or before it."""
        book = self._book(base)
        out = []
        for d in sorted(daily):
            used = book.rate_on(d)
            out.append(ConvertedDay(d, daily[d], convert_amount(daily[d], used), used))
        return Converted(base, self.quote, out)

    def convert_all(self, by_currency: Mapping[str, Mapping[date, Decimal]]) -> ConvertedSet:
        """Figures billed in several currencies, each converted day by day, then added (in
        one currency now)."""
        parts = [self.convert(daily, cur) for cur, daily in sorted(by_currency.items()) if daily]
        return ConvertedSet(self.quote, parts)


@dataclass(frozen=True)
class ConvertedSet:
    """Every billed currency of a figure, converted into ``quote``."""

    quote: str
    parts: list[Converted]

    @property
    def total(self) -> Decimal:
        return sum((p.total for p in self.parts), Decimal(0))

    @property
    def fallback(self) -> bool:
        return any(p.fallback for p in self.parts)

    def daily(self) -> dict[date, Decimal]:
        out: dict[date, Decimal] = {}
        for p in self.parts:
            for d in p.days:
                out[d.day] = out.get(d.day, Decimal(0)) + d.amount
        return dict(sorted(out.items()))

    def rates_used(self) -> list[RateUsed]:
        return [r for p in self.parts for r in p.rates_used()]


def convert_days(
    reader: RateReader, daily: Mapping[date, Decimal], base: str, quote: str
) -> Converted:
    """``daily`` (amounts in ``base`` by day) in ``quote``, each day at its own rate in force.
    Raises ``NoRate`` when a day has no rate on or before it."""
    if not daily:
        return Converted(base, quote, [])
    return Converter(reader, quote, min(daily), max(daily)).convert(daily, base)


def rate_on(reader: RateReader, base: str, quote: str, day: date) -> RateUsed:
    """The rate in force for ``base`` to ``quote`` on ``day`` and where it came from."""
    return RateBook(reader, base, quote, day, day).rate_on(day)
