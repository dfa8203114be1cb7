"""The organisation's billing periods (issue 17): the stored definition, putting it in force,
changing it, and recomputing every roll-up under a new one from the stored records.

The definition is the ``period`` section of the billing settings (``tally.billing_settings``);
``tally.calendar`` does the arithmetic and holds the definition in force. Every function's
entry point runs in ``in_force(stores)``: the stored definition is then read once, on the first
period computation of the invocation.

A change is saved (audited, with the definition before and after) and queues a recompute job
on the reports queue (``recompute``, run by the reports function): every owner's roll-ups are
rebuilt from the stored cost records, whatever definition they were built under, and this
period's forecasts remade. No cost source is read. Budgets, alert ledgers and invoice numbers
are keyed by the period's name and are not touched: a budget's limit holds for each period
named from its ``effectiveFrom`` on, whatever its length (docs/decision_log.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tally import calendar
from tally.calendar import CALENDAR_MONTHS, PeriodDefinition
from tally.errors import Invalid

if TYPE_CHECKING:
    from tally.models import Metric
    from tally.store import Stores

PERIOD = "period"
RECOMPUTE_JOB = "periods"  # the report job's kind
# How far back the recompute looks for roll-ups to rebuild: five years of periods, and it
# stops early after this many periods in a row that nobody has a roll-up of.
MAX_PERIODS_BACK = 60
EMPTY_PERIODS_TO_STOP = 6
# A period named M starts within this many days of the 1st of calendar month M under every
# definition (a monthly period from day 28 starts 27 days later; a fiscal one a few days
# either side): the records to read begin this far before the oldest name found.
_MARGIN_DAYS = 45

_FIELDS = {
    "kind": "kind",
    "startDay": "start_day",
    "fiscalYearStart": "fiscal_year_start",
    "weekStart": "week_start",
}


def defaults() -> dict[str, Any]:
    """The section's values when never saved: calendar months."""
    return {**to_values(CALENDAR_MONTHS), "recomputeJobId": None}


def to_values(periods: PeriodDefinition) -> dict[str, Any]:
    return {api: getattr(periods, attr) for api, attr in _FIELDS.items()}


def from_values(values: Mapping[str, Any]) -> PeriodDefinition:
    """The definition in a section's values (``ValueError`` naming the API field if none)."""
    known = {attr: values[api] for api, attr in _FIELDS.items() if values.get(api) is not None}
    if "start_day" in known:
        known["start_day"] = int(known["start_day"])
    return PeriodDefinition(**known)


def stored(stores: Stores) -> PeriodDefinition:
    """The organisation's definition as saved (calendar months when never saved)."""
    section = stores.billing_settings.section(PERIOD)
    return from_values(section.values) if section is not None else CALENDAR_MONTHS


def follow_stored(
    stores: Callable[[], Stores],
) -> Callable[[Callable[[Any, Any], Any]], Callable[[Any, Any], Any]]:
    """A Lambda handler's decorator: each invocation runs in ``in_force(stores)``."""

    def decorate(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            with in_force(stores):
                return handler(event, context)

        return run

    return decorate


def in_force(stores: Callable[[], Stores]) -> AbstractContextManager[None]:
    """The stored definition in force for the block (an invocation): read on the first period
    computation (one GetItem), with the stores ``stores()`` gives (built only then). Never
    kept between invocations: every container sees a change at once, so a summary, its ETag
    and the dashboard agree on which days a period covers."""
    return calendar.in_force(lambda: stored(stores()))


def checked(fields: Mapping[str, Any], current: Mapping[str, Any]) -> PeriodDefinition:
    """The definition ``fields`` make over ``current`` (the section's values): ``Invalid``
    naming ``period.<field>`` when it names no periods."""
    merged = {**current, **{k: v for k, v in fields.items() if k in _FIELDS}}
    try:
        return from_values(merged).normalised()
    except ValueError as error:
        message = str(error)
        name = next((api for api in _FIELDS if message.startswith(api)), None)
        if name is None:  # date() refusing a day the month lacks (04-31)
            name, message = "fiscalYearStart", f"fiscalYearStart names no day: {message}"
        raise Invalid.field(f"{PERIOD}.{name}", message) from None


def current_period(today: date) -> dict[str, str]:
    """Today's period under the definition in force: its name and its first and last days."""
    month = calendar.month_of(today)
    first, following = calendar.month_days(month)
    return {
        "month": month,
        "start": first.isoformat(),
        "end": (following - timedelta(days=1)).isoformat(),
    }


# -- the recompute ------------------------------------------------------------------------


@dataclass
class Recomputed:
    owners: int = 0
    periods: int = 0  # the names of periods rebuilt (for anyone)
    written: int = 0  # roll-ups written
    removed: int = 0  # roll-ups of a name that holds no records of their owner any more
    months: list[str] = field(default_factory=list)

    def details(self) -> dict[str, str]:
        return {
            "owners": str(self.owners),
            "periods": str(self.periods),
            "written": str(self.written),
            "removed": str(self.removed),
        }


def _names_with_rollups(stores: Stores, today: date) -> dict[str, set[str]]:
    """Owners by period name, for every name that has roll-ups: back from the name after
    today's calendar month (names are names under any definition) until a long run of names
    nobody has, or five years."""
    with calendar.using(CALENDAR_MONTHS):
        name = calendar.next_month(calendar.month_of(today))
    found: dict[str, set[str]] = {}
    empty = 0
    for _ in range(MAX_PERIODS_BACK):
        owners = stores.rollups.owners_of_month(name)
        if owners:
            found[name] = owners
            empty = 0
        else:
            empty += 1
            if empty >= EMPTY_PERIODS_TO_STOP and found:
                break
        name = calendar.previous_month(name)
    return found


def recompute(
    stores: Stores, periods: PeriodDefinition, *, now: datetime, metric: Metric
) -> Recomputed:
    """Every owner's roll-ups rebuilt under ``periods`` from the stored records, and this
    period's forecasts remade: what the ingest would have written had ``periods`` always been
    in force. Whatever definition the stored roll-ups were made under (a change made while an
    earlier recompute was still running included), so running it twice writes the same."""
    from tally.ingest import refresh_forecasts
    from tally.rollups import compute_rollup

    today = now.date()
    old = _names_with_rollups(stores, today)
    result = Recomputed()
    if not old:
        return result
    with calendar.using(CALENDAR_MONTHS):
        start = calendar.first_day(min(old)) - timedelta(days=_MARGIN_DAYS)
    end = today + timedelta(days=1)
    owners_names: dict[str, set[str]] = {}
    for name, owners in old.items():
        for owner in owners:
            owners_names.setdefault(owner, set()).add(name)
    with calendar.using(periods):
        names = calendar.months_between(start, end)
        for owner in sorted(owners_names):
            had = owners_names[owner]
            previous = {r.month: r for r in stores.rollups.months(owner, min(had), max(had))}
            fresh = []
            for name in names:
                first, following = calendar.month_days(name)
                records = stores.costs.for_owner(owner, first, following)
                if not records:
                    continue
                rollup = compute_rollup(owner, name, records, now=now)
                before = previous.get(name)
                # AWS's restatements of a period stay with its name; a rebuild under another
                # definition is no restatement, so it records none. A past period's forecast
                # was made for other days: only this period's is remade (below).
                if before is not None and before.restatements:
                    rollup = replace(rollup, restatements=list(before.restatements))
                fresh.append(rollup)
            written = {r.month for r in fresh}
            stores.rollups.put_many(fresh)
            result.written += len(fresh)
            for name in sorted(had - written):
                stores.rollups.delete(owner, name)
                result.removed += 1
            result.months = sorted(set(result.months) | written)
        result.owners = len(owners_names)
        result.periods = len(result.months)
        refresh_forecasts(stores, sorted(owners_names), now=now, metric=metric)
    return result
