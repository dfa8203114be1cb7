"""The month's chargeback from the stores: what the API shows and the exports write.

Reads, none of them a Scan: the teams (the access store's teams index); every owner's roll-up
of the month (the roll-ups' by-month index, a page at a time), which gives each person's and
team's total, the organisation's (``ORG``) and the unallocated (``UNALLOCATED``); and, because
a roll-up does not say which of its cost came through a split assignment, the month's cost
records of each person and team with a roll-up (one Query per owner, by owner and month),
summing those allocated by an assignment with a share below 100%.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from tally.calendar import first_day, month_days
from tally.chargeback.model import Chargeback, GroupBy, UnallocatedRule, unallocated_rule
from tally.chargeback.partition import OwnerMonth, partition
from tally.chargeback.tax import with_tax
from tally.errors import Invalid
from tally.models import ORG, UNALLOCATED, CostRecord, Metric, MonthlyRollup
from tally.store import Stores
from tally.view import View

HUNDRED = Decimal(100)
ROLLUP_PAGE = 50  # roll-ups carry every day of a month: a page stays well under 1 MB
ACTIONS = ("costs:read",)


def is_shared(record: CostRecord) -> bool:
    """A record that reached its owner through a split assignment (a share below 100%)."""
    return record.allocation == "assignment" and record.share_pct < HUNDRED


def check_month(month: str, today: date) -> None:
    """A month that has begun, as YYYY-MM (422 on ``month`` otherwise)."""
    try:
        first = first_day(month)
    except ValueError:
        raise Invalid.field("month", "a month as YYYY-MM") from None
    if first > today:
        raise Invalid.field("month", "a month that has begun")


def require_chargeback_access(view: View, *actions: str) -> None:
    """Chargeback covers the whole organisation: costs:read (and any other action named) at
    the organisation's scope."""
    from tally import access
    from tally.authz import Target

    for action in (*ACTIONS, *actions):
        access.require(view.caller, action, Target.org())


def chargeback(view: View, *, month: str, group_by: GroupBy | str) -> Chargeback:
    """The caller's view of a month's chargeback (costs:read at the organisation)."""
    require_chargeback_access(view)
    return build_chargeback(
        view.stores,
        month=month,
        group_by=GroupBy(group_by),
        metric=view.metric,
        today=view.today,
        rule=unallocated_rule(),
    )


def build_chargeback(
    stores: Stores,
    *,
    month: str,
    group_by: GroupBy,
    metric: Metric,
    today: date,
    rule: UnallocatedRule,
) -> Chargeback:
    """The chargeback of ``month`` (access is the caller's to check)."""
    from tally.reports.periods import month_is_final

    check_month(month, today)
    start, end = month_days(month)
    owners: dict[str, dict[str, OwnerMonth]] = {}
    org: MonthlyRollup | None = None
    unallocated: dict[str, Decimal] = {}
    for rollup in _month_rollups(stores, month):
        totals = {c: s.totals.amount(metric) for c, s in rollup.sections.items()}
        if rollup.owner == ORG:
            org = rollup
        elif rollup.owner == UNALLOCATED:
            unallocated = totals
        elif totals:
            shared: dict[str, Decimal] = {}
            for record in stores.costs.for_owner(rollup.owner, start, end):
                if is_shared(record):
                    shared[record.currency] = shared.get(record.currency, Decimal(0)) + (
                        record.amount(metric)
                    )
            owners[rollup.owner] = {
                c: OwnerMonth(total, shared.get(c, Decimal(0))) for c, total in totals.items()
            }
    organisation_total = (
        {c: s.totals.amount(metric) for c, s in org.sections.items()} if org else {}
    )
    report = partition(
        month=month,
        group_by=group_by,
        rule=rule,
        metric=metric,
        teams=stores.access.list_teams(),
        owners=owners,
        unallocated=unallocated,
        organisation_total=organisation_total,
        final=month_is_final(month, org, today),
    )
    return with_tax(stores, report, start, end)


def _month_rollups(stores: Stores, month: str) -> Iterator[MonthlyRollup]:
    key = None
    while True:
        page = stores.rollups.of_month_page(month, limit=ROLLUP_PAGE, start_key=key)
        yield from page.items
        key = page.next_key
        if not key:
            return
