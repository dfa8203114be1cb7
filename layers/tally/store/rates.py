"""Exchange rates (``tally.rates``): one item per pair, day and source in the billing table.

The key is the rate's identity (pk RATE#<base>#<quote>, sk <day>#<source>), so writing a day's
feed again writes the very same items: the rates function is idempotent by construction. A
range's rates are one Query of the pair, newest first from the range's last day, read until
the day in force on its first day (``history``); the organisation's list is one Query of the
sparse "listed" index. Never a Scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from tally import tables
from tally.models import AuditEntry, Page
from tally.rates import Rate
from tally.settings import Settings
from tally.store import PageKey, keys
from tally.store.attributes import DecimalAttribute
from tally.store.audit import MemoryAuditLog, append_audit
from tally.store.base import DynamoStore, KeyedItem, page, paginate


class RateStore(Protocol):
    def history(self, base: str, quote: str, first: date, last: date) -> list[Rate]:
        """The pair's rates from the latest day on or before ``first`` (every source of that
        day) through ``last``, in day order: one Query."""

    def put_many(self, rates: Iterable[Rate]) -> int:
        """Write rates (a feed's day): the same rate written twice is the same item. Returns
        how many were written."""

    def put_manual(self, rate: Rate, audit: AuditEntry) -> None:
        """Write a rate entered by hand, with its audit entry, in one transaction (a second
        one for the same pair, day and source replaces it: a correction, audited too)."""

    def list(
        self,
        limit: int,
        start_key: PageKey | None = None,
        *,
        base: str | None = None,
        quote: str | None = None,
    ) -> Page[Rate]:
        """Rates newest day first: one pair's (both given) or every pair's."""


class ListedRates(GlobalSecondaryIndex["RateItem"]):
    class Meta:
        index_name = tables.BILLING.indexes[0].name
        projection = AllProjection()

    listed = UnicodeAttribute(hash_key=True)
    listed_order = UnicodeAttribute(range_key=True)


class RateItem(KeyedItem):
    """pk RATE#<base>#<quote>, sk <day>#<source>."""

    spec = tables.BILLING

    listed = UnicodeAttribute()  # keys.RATES_LISTED: every rate is in the "listed" index
    listed_order = UnicodeAttribute()
    day = UnicodeAttribute()
    base = UnicodeAttribute()
    quote = UnicodeAttribute()
    rate = DecimalAttribute()
    source = UnicodeAttribute()
    entered_by = UnicodeAttribute(null=True)
    entered_at = UTCDateTimeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    every = ListedRates()


def _item(r: Rate) -> RateItem:
    return RateItem(
        pk=keys.rate_pair(r.base, r.quote),
        sk=keys.rate_day(r.day, r.source),
        listed=keys.RATES_LISTED,
        listed_order=keys.rate_listed(r.day, r.base, r.quote, r.source),
        day=r.day.isoformat(),
        base=r.base,
        quote=r.quote,
        rate=r.rate,
        source=r.source,
        entered_by=r.entered_by,
        entered_at=r.entered_at,
        note=r.note,
    )


def _rate(i: RateItem) -> Rate:
    return Rate(
        day=date.fromisoformat(i.day),
        base=i.base,
        quote=i.quote,
        rate=i.rate,
        source=i.source,
        entered_by=i.entered_by,
        entered_at=i.entered_at,
        note=i.note,
    )


def _until_in_force(newest_first: Iterable[Rate], first: date) -> list[Rate]:
    """Rates read newest first, cut after the last day on or before ``first`` (all of that
    day's sources kept), returned in day order."""
    kept: list[Rate] = []
    in_force: date | None = None
    for r in newest_first:
        if in_force is not None and r.day < in_force:
            break
        if r.day <= first:
            in_force = r.day
        kept.append(r)
    return sorted(kept, key=lambda r: (r.day, r.source))


class DynamoRateStore(DynamoStore):
    def history(self, base: str, quote: str, first: date, last: date) -> list[Rate]:
        found = RateItem.query(
            keys.rate_pair(base, quote),
            RateItem.sk <= keys.rates_through(last),
            scan_index_forward=False,
        )
        return _until_in_force(map(_rate, found), first)

    def put_many(self, rates: Iterable[Rate]) -> int:
        written = 0
        with RateItem.batch_write() as batch:
            for r in rates:
                batch.save(_item(r))
                written += 1
        return written

    def put_manual(self, rate: Rate, audit: AuditEntry) -> None:
        with self._tx() as tx:
            tx.save(_item(rate))
            append_audit(tx, audit)

    def list(
        self,
        limit: int,
        start_key: PageKey | None = None,
        *,
        base: str | None = None,
        quote: str | None = None,
    ) -> Page[Rate]:
        if base is not None and quote is not None:
            it = RateItem.query(
                keys.rate_pair(base, quote),
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=start_key,
            )
        else:
            it = RateItem.every.query(
                keys.RATES_LISTED,
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=start_key,
            )
        return page([_rate(i) for i in it], it)


def _key(r: Rate) -> tuple[str, str]:
    return keys.rate_pair(r.base, r.quote), keys.rate_day(r.day, r.source)


class MemoryRateStore:
    def __init__(self, audit: MemoryAuditLog) -> None:
        self.items: dict[tuple[str, str], Rate] = {}
        self._audit = audit

    def history(self, base: str, quote: str, first: date, last: date) -> list[Rate]:
        pk = keys.rate_pair(base, quote)
        mine = sorted(
            (k for k in self.items if k[0] == pk and k[1] <= keys.rates_through(last)),
            reverse=True,
        )
        return _until_in_force((self.items[k] for k in mine), first)

    def put_many(self, rates: Iterable[Rate]) -> int:
        written = 0
        for r in rates:
            self.items[_key(r)] = r
            written += 1
        return written

    def put_manual(self, rate: Rate, audit: AuditEntry) -> None:
        self.items[_key(rate)] = rate
        self._audit.append(audit)

    def list(
        self,
        limit: int,
        start_key: PageKey | None = None,
        *,
        base: str | None = None,
        quote: str | None = None,
    ) -> Page[Rate]:
        if base is not None and quote is not None:
            pk = keys.rate_pair(base, quote)
            chosen = sorted((k for k in self.items if k[0] == pk), reverse=True)
            listed = paginate(chosen, limit, start_key, lambda k: k[1])
        else:
            order = {
                k: keys.rate_listed(r.day, r.base, r.quote, r.source) for k, r in self.items.items()
            }
            chosen = sorted(self.items, key=lambda k: order[k], reverse=True)
            listed = paginate(chosen, limit, start_key, lambda k: order[k])
        return Page([self.items[k] for k in listed.items], listed.next_key)


def dynamodb_store(settings: Settings) -> RateStore:
    return DynamoRateStore(settings)


def memory_store(audit: MemoryAuditLog) -> RateStore:
    return MemoryRateStore(audit)
