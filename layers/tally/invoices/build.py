"""An invoice's figures, from the month's cost records: a user's, or every record of the
assignments that carried a cost center during the month.

The records are the ones the roll-ups are summed from, so a user's invoice total in a currency
is the month total the API shows for it (``month_summary``, ``cost_report``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from tally.budgets import budget_for_month
from tally.calendar import first_day, last_day, month_days, month_of
from tally.errors import Invalid
from tally.invoices.model import (
    CHARGE_ORDER,
    USAGE,
    CurrencySection,
    Invoice,
    InvoiceLine,
    InvoiceOrg,
    InvoiceSubject,
    ServiceGroup,
)
from tally.models import Assignment, BudgetTerms, CostRecord, Metric, MonthlyRollup
from tally.names import display_name
from tally.reports.periods import month_is_final
from tally.resources import line_match_key, match_key
from tally.store import Stores
from tally.tax.apply import invoice_tax

# (service, resource, unit, category, user): one invoice line.
LineKey = tuple[str, str | None, str | None, str, str | None]


def build_invoice(
    stores: Stores,
    *,
    user_id: str | None,
    cost_center: str | None,
    month: str,
    metric: Metric,
    today: date,
    now: datetime,
    org: InvoiceOrg,
) -> Invoice:
    """The invoice of ``user_id`` or of ``cost_center`` (exactly one) for ``month``
    (YYYY-MM), amounts in ``metric``; not yet numbered (``issue`` does that). Access is the
    caller's to check."""
    if (user_id is None) == (cost_center is None):
        raise Invalid.field("userId", "name exactly one of userId and costCenter")
    try:
        first = first_day(month)
    except ValueError:
        raise Invalid.field("month", "a month as YYYY-MM") from None
    if first > today:
        raise Invalid.field("month", "a month that has begun")
    start, end = month_days(month)
    if user_id is not None:
        profile = stores.users.get(user_id)
        subject = InvoiceSubject(
            "user",
            user_id,
            profile.username if profile else user_id,
            profile.email if profile else None,
        )
        records = stores.costs.for_owner(user_id, start, end)  # one Query (paged)
        rollups = stores.rollups.months(user_id, month, month)
        terms = budget_for_month(stores.budgets.get_for_user(user_id), month)
        by_user: dict[str, str] = {}
    else:
        assert cost_center is not None
        subject = InvoiceSubject("cost-center", cost_center, cost_center)
        records, rollups, by_user = _cost_center_records(stores, cost_center, start, end)
        terms = None  # budgets are a user's
    itemised, taxes = invoice_tax(
        stores,
        user_id=user_id,
        cost_center=cost_center,
        records=records,
        metric=metric,
        label=lambda r: repr(_line_key(r, by_user)),
    )
    sections = tuple(
        replace(s, tax=taxes.get(s.currency)) for s in _sections(itemised, metric, terms, by_user)
    )
    return Invoice(
        org=org,
        subject=subject,
        month=month,
        period_start=first,
        period_end=last_day(month),
        issued_on=today,
        generated_at=now,
        metric=metric,
        provisional=not _final(month, rollups, today),
        sections=sections,
    )


def _final(month: str, rollups: list[MonthlyRollup], today: date) -> bool:
    if not rollups:
        return month_is_final(month, None, today)
    return all(month_is_final(month, r, today) for r in rollups)


def _cost_center_records(
    stores: Stores, cost_center: str, start: date, end: date
) -> tuple[list[CostRecord], list[MonthlyRollup], dict[str, str]]:
    """The records of every assignment carrying ``cost_center`` on their days in force in
    [start, end), each once; the rollups of the users involved; user id -> name.

    The assignment store lists a user's assignments only while they are not ended, and has no
    index by cost center: ``all()`` (the ingest's full read) is the one read that also finds the
    assignments ended during the month. Invoices are made in the reports function, never on a
    request path, so the read is affordable there; a cost-center index is the step up."""
    month_assignments = [
        a
        for a in stores.assignments.all()
        if a.cost_center == cost_center and _overlaps(a, start, end)
    ]
    by_owner: dict[str, list[Assignment]] = defaultdict(list)
    for a in month_assignments:
        by_owner[a.user_id].append(a)
    records: dict[tuple[str, date, str], CostRecord] = {}
    rollups: list[MonthlyRollup] = []
    names: dict[str, str] = {}
    for owner, assignments in sorted(by_owner.items()):
        profile = stores.users.get(owner)
        names[owner] = profile.username if profile else owner
        rollups += stores.rollups.months(owner, month_of(start), month_of(start))
        keys = [(match_key(a.resource_type, a.resource_id), a) for a in assignments]
        for r in stores.costs.for_owner(owner, start, end):
            if r.allocation != "assignment" or r.resource_id is None:
                continue
            line_key = line_match_key(r.service, r.resource_id)
            if any(k == line_key and a.in_force(r.day) for k, a in keys):
                records[(r.owner, r.day, r.line_id)] = r
    return list(records.values()), rollups, names


def _overlaps(a: Assignment, start: date, end: date) -> bool:
    return a.effective_from < end and (a.effective_to is None or a.effective_to > start)


def _sections(
    records: Iterable[CostRecord],
    metric: Metric,
    terms: BudgetTerms | None,
    names: dict[str, str],
) -> tuple[CurrencySection, ...]:
    sums: dict[str, dict[LineKey, list[Decimal]]] = defaultdict(dict)
    resource_names: dict[str, str] = {}
    for r in records:
        if r.resource_id and r.resource_name:
            resource_names[r.resource_id] = r.resource_name
        key = _line_key(r, names)
        acc = sums[r.currency].setdefault(key, [Decimal(0), Decimal(0)])
        acc[0] += r.usage_quantity
        acc[1] += r.amount(metric)
    currencies = sorted(sums, key=lambda c: (terms is None or c != terms.currency, c))
    if terms is not None and terms.currency not in sums:
        # The budget's month with nothing billed in its currency: still judged, at zero.
        currencies.insert(0, terms.currency)
    return tuple(_section(c, sums.get(c, {}), terms, resource_names) for c in currencies)


def _line_key(r: CostRecord, names: dict[str, str]) -> LineKey:
    return (
        r.service,
        r.resource_id,
        r.usage_unit,
        r.charge_category,
        names.get(r.owner) if names else None,
    )


def _section(
    currency: str,
    sums: dict[LineKey, list[Decimal]],
    terms: BudgetTerms | None,
    resource_names: dict[str, str],
) -> CurrencySection:
    lines = [
        InvoiceLine(
            service=service,
            resource_id=resource,
            charge_category=category,
            usage_quantity=quantity,
            usage_unit=unit,
            amount=amount,
            user=user,
            resource_name=display_name(resource, resource_names.get(resource))
            if resource
            else None,
        )
        for (service, resource, unit, category, user), (quantity, amount) in sums.items()
    ]
    usage: dict[str, list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        if line.charge_category == USAGE:
            usage[line.service].append(line)
    groups = tuple(
        ServiceGroup(
            service,
            tuple(sorted(found, key=_line_order)),
            sum((line.amount for line in found), Decimal(0)),
        )
        for service, found in sorted(usage.items(), key=lambda kv: kv[0].casefold())
    )
    charges = tuple(
        sorted((line for line in lines if line.charge_category != USAGE), key=_charge_order)
    )
    usage_total = sum((g.subtotal for g in groups), Decimal(0))
    total = usage_total + sum((line.amount for line in charges), Decimal(0))
    budget = variance = None
    if terms is not None and terms.currency == currency:
        budget, variance = terms.monthly_limit, terms.monthly_limit - total
    return CurrencySection(currency, groups, charges, usage_total, total, budget, variance)


def _line_order(line: InvoiceLine) -> tuple[object, ...]:
    # Largest first within a service, then a stable order for equal amounts.
    return (-line.amount, line.resource_id or "", line.usage_unit or "", line.user or "")


def _charge_order(line: InvoiceLine) -> tuple[object, ...]:
    category = line.charge_category
    rank = CHARGE_ORDER.index(category) if category in CHARGE_ORDER else len(CHARGE_ORDER)
    return (rank, category, line.service, *_line_order(line))
