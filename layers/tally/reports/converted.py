"""An owner's month so far in another currency, for the summary's ``?currency=``: the month's
roll-up's daily figures (one Query, the summary's own read), each day converted at its rate."""

from __future__ import annotations

from tally.access import require
from tally.authz import Target
from tally.calendar import first_day, last_day, month_of
from tally.rates import ConvertedSet, Converter
from tally.reports.currency import daily_by_currency
from tally.view import View


def converted_month(view: View, owner: str, quote: str, month: str | None = None) -> ConvertedSet:
    """``owner``'s ``month`` (default the current one) converted into ``quote`` day by day."""
    require(view.caller, "costs:read", Target.owner(owner))
    month = month or month_of(view.today)
    rollups = view.stores.rollups.months(owner, month, month)
    converter = Converter(view.stores.rates, quote, first_day(month), last_day(month))
    return converter.convert_all(daily_by_currency(rollups, view.metric))
