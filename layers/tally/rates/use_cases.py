"""What the API does with rates: the rate in force and its provenance, the organisation's list,
a manual (transfer pricing) rate, and an owner's days converted for ``?currency=``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from tally.access import require
from tally.authz import Target
from tally.errors import Invalid
from tally.models import ORG, AuditEntry, Page
from tally.rates import MANUAL, Converted, Rate, RateUsed, convert_days, rate_on
from tally.store import PageKey
from tally.view import View

RATES_WRITE = "rates:write"
# A transfer price far off any real rate is a typo, not a policy: refuse beyond this.
MAX_RATE = Decimal("1000000")


def rate_in_force(view: View, base: str, quote: str, day: date) -> RateUsed:
    """The rate for ``base`` to ``quote`` on ``day`` and where it came from (reference data:
    anyone signed in). ``NoRate`` (422 on currency) when none is on or before ``day``."""
    return rate_on(view.stores.rates, base, quote, day)


def list_rates(
    view: View,
    *,
    limit: int,
    start_key: PageKey | None,
    base: str | None = None,
    quote: str | None = None,
) -> Page[Rate]:
    """Stored rates, newest day first: one pair's, or every pair's."""
    if (base is None) != (quote is None):
        raise Invalid.field("quote" if quote is None else "base", "give base and quote together")
    return view.stores.rates.list(limit, start_key, base=base, quote=quote)


def add_manual_rate(
    view: View,
    *,
    day: date,
    base: str,
    quote: str,
    rate: Decimal,
    note: str | None,
    now: datetime,
) -> Rate:
    """A transfer price for ``day`` (finance and admins: ``rates:write``): it wins over the
    market rate of the same day and pair. A second one for the same day and pair replaces
    the first; both are in the audit log. A day ahead is allowed: next month's transfer
    price is set before it starts, and is in force only from its day."""
    require(view.caller, RATES_WRITE, Target.org())
    if base == quote:
        raise Invalid.field("quote", "a rate converts between two different currencies")
    if not rate.is_finite() or rate <= 0:
        raise Invalid.field("rate", "a rate is more than 0")
    if rate > MAX_RATE:
        raise Invalid.field("rate", f"a rate is at most {MAX_RATE}")
    stored = Rate(
        day=day,
        base=base,
        quote=quote,
        rate=rate,
        source=MANUAL,
        entered_by=view.caller.user_id,
        entered_at=now,
        note=note,
    )
    view.stores.rates.put_manual(
        stored,
        AuditEntry(
            subject_user_id=ORG,
            at=now,
            actor=view.caller.user_id,
            action="rate.set",
            entity_id=f"rate#{base}#{quote}#{day.isoformat()}",
            details={"rate": format(rate, "f"), "source": MANUAL, "note": note or ""},
        ),
    )
    return stored


def convert_daily(view: View, daily: dict[date, Decimal], base: str, quote: str) -> Converted:
    """An owner's days (already read and authorised by the caller's use case) in ``quote``."""
    return convert_days(view.stores.rates, daily, base, quote)
