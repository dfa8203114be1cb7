"""Invoices' figures: lines from the month's cost records, totals equal to the API's, budget and
variance, charges apart, currencies apart, cost centers, the provisional mark, numbering."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tally.allocation import OwnerTagRule
from tally.errors import Invalid
from tally.identity import Caller, Role
from tally.ingest import ingest_days
from tally.invoices import Invoice, InvoiceOrg, base_number, build_invoice, issue
from tally.invoices.model import IssuedRevision
from tally.models import Assignment, AuditEntry, CostLine, Metric, UserProfile
from tally.reports import cost_report, month_summary
from tally.store import Stores, memory_stores
from tally.store.invoice_numbers import MemoryInvoiceNumberStore
from tally.tables import ADMIN_GROUP, USER_GROUP
from tally.view import View
from tests import invoice_samples as samples

NOW = samples.NOW
ADMIN = Caller("u-admin", "admin", None, frozenset({ADMIN_GROUP}))


def _build(stores: Stores, **overrides: object) -> Invoice:
    arguments: dict[str, object] = {
        "user_id": samples.USER.user_id,
        "cost_center": None,
        "month": samples.MONTH,
        "metric": Metric.EFFECTIVE,
        "today": samples.TODAY,
        "now": NOW,
        "org": InvoiceOrg(),
    }
    arguments.update(overrides)
    return build_invoice(stores, **arguments)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sample() -> Stores:
    return samples.sample_stores()


@pytest.mark.parametrize("metric", list(Metric))
def test_the_total_is_the_apis_month_total_for_the_user_and_metric(
    sample: Stores, metric: Metric
) -> None:
    invoice = _build(sample, metric=metric)
    caller = Caller(samples.USER.user_id, samples.USER.username, None, frozenset({USER_GROUP}))
    view = View(caller, sample, samples.TODAY, metric)
    summary = month_summary(view, samples.USER.user_id)
    report = cost_report(
        view, samples.USER.user_id, start=date(2026, 11, 1), end=date(2026, 11, 30)
    )
    assert invoice.total("USD") == summary.total == report.total
    assert summary.total > 0


def test_lines_sum_each_service_resource_unit_and_category_over_the_month(
    sample: Stores,
) -> None:
    invoice = _build(sample)
    (section,) = invoice.sections
    # 19 days of every usage line: one invoice line each, quantities summed.
    usage = [line for group in section.services for line in group.lines]
    assert len(usage) == len(samples.USAGE)
    lambda_line = next(
        line
        for line in usage
        if line.service == "AWS Lambda" and "image-resizer" in (line.resource_id or "")
    )
    assert lambda_line.usage_quantity == Decimal("182000") * 19
    assert lambda_line.usage_unit == "Requests"
    assert lambda_line.amount == Decimal("0.4120") * 19
    for group in section.services:
        assert group.subtotal == sum(line.amount for line in group.lines)
        assert {line.service for line in group.lines} == {group.service}
    # Credits, refunds and taxes are lines of their own, never netted into a service.
    assert [(c.charge_category, c.amount) for c in section.charges] == [
        ("Credit", Decimal("-75.00")),
        ("Refund", Decimal("-4.20")),
        ("Tax", Decimal("38.40")),
        ("Tax", Decimal("12.96")),
    ]
    assert section.total == section.usage_total + sum(c.amount for c in section.charges)


def test_budget_and_variance_are_the_terms_in_force_that_month(sample: Stores) -> None:
    invoice = _build(sample)
    (section,) = invoice.sections
    assert section.budget == Decimal("1000")
    assert section.variance == Decimal("1000") - section.total


def test_currencies_are_never_added_together() -> None:
    stores = memory_stores()
    stores.users.put(samples.USER)
    day = date(2026, 11, 3)
    tags = {"Owner": samples.USER.username}
    lines = [
        CostLine(day, "AmazonEC2", "i-1", Decimal("10"), Decimal("10"), "USD", tags=tags),
        CostLine(day, "AmazonEC2", "i-2", Decimal("7"), Decimal("7"), "EUR", tags=tags),
    ]
    ingest_days(lines, [day], stores=stores, rule=OwnerTagRule(), source="t", now=NOW)
    invoice = _build(stores)
    assert [(s.currency, s.total) for s in invoice.sections] == [
        ("EUR", Decimal("7")),
        ("USD", Decimal("10")),
    ]
    assert all(s.budget is None for s in invoice.sections)


def test_a_month_without_costs_gives_an_empty_invoice() -> None:
    stores = memory_stores()
    stores.users.put(samples.USER)
    invoice = _build(stores)
    assert invoice.sections == ()
    assert invoice.subject.name == "priya.raman"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"user_id": None}, "userId"),
        ({"cost_center": "CC-1"}, "userId"),
        ({"month": "2026-13"}, "month"),
        ({"month": "2026-12"}, "month"),  # in the future on 20 November
    ],
)
def test_bad_requests_are_refused(sample: Stores, overrides: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as raised:
        _build(sample, **overrides)
    assert raised.value.errors[0].field == field


@pytest.mark.parametrize(
    ("today", "provisional"),
    [
        (date(2026, 11, 20), True),
        (date(2026, 11, 30), True),  # the month's last day
        (date(2026, 12, 1), True),  # its last day's costs are not in yet
        (date(2026, 12, 2), False),
        (date(2027, 1, 1), False),
    ],
)
def test_provisional_until_the_month_is_final(
    sample: Stores, today: date, provisional: bool
) -> None:
    assert _build(sample, today=today).provisional is provisional


def test_an_estimated_day_keeps_a_past_month_provisional() -> None:
    stores = memory_stores()
    stores.users.put(samples.USER)
    day = date(2026, 10, 31)
    line = CostLine(
        day,
        "AmazonEC2",
        "i-1",
        Decimal("3"),
        Decimal("3"),
        "USD",
        estimated=True,
        tags={"Owner": samples.USER.username},
    )
    ingest_days([line], [day], stores=stores, rule=OwnerTagRule(), source="t", now=NOW)
    assert _build(stores, month="2026-10").provisional is True


# --- cost centers ---------------------------------------------------------------------------


def _assign(
    stores: Stores,
    n: int,
    user: str,
    resource: str,
    cc: str | None,
    start: date,
    end: date | None = None,
) -> None:
    at = datetime.combine(start, datetime.min.time(), UTC)
    a = Assignment(f"a-{n}", user, "ec2", resource, Decimal(100), cc, "u-admin", at, start)
    stores.assignments.create(a, AuditEntry(user, at, "u-admin", "assignment.created", "a", {}))
    if end is not None:
        stores.assignments.end(a, end, AuditEntry(user, at, "u-admin", "assignment.ended", "a", {}))


def test_a_cost_center_invoice_holds_every_assignment_carrying_it_on_its_days() -> None:
    stores = memory_stores()
    for user in ("u-ann", "u-ben"):
        stores.users.put(UserProfile(user, user.removeprefix("u-"), None, Role.USER))
    _assign(stores, 1, "u-ann", "i-ann", "CC-42", date(2026, 10, 1))
    # Ended on the 11th: its first ten days count, ended or not.
    _assign(stores, 2, "u-ben", "i-ben", "CC-42", date(2026, 11, 1), date(2026, 11, 11))
    _assign(stores, 3, "u-ben", "i-other", "CC-7", date(2026, 11, 1))
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(19)]
    lines = [
        CostLine(
            d,
            "Amazon Elastic Compute Cloud",
            r,
            Decimal("1"),
            Decimal("1"),
            "USD",
            Decimal("24"),
            "Hrs",
            tags={"Owner": "ben"},
        )
        for d in days
        for r in ("i-ann", "i-ben", "i-other", "i-tagged")
    ]
    ingest_days(lines, days, stores=stores, rule=OwnerTagRule(), source="t", now=NOW)
    invoice = _build(stores, user_id=None, cost_center="CC-42")
    assert invoice.subject.kind == "cost-center"
    assert sorted((x.resource_id, x.user, x.amount) for x in invoice.lines) == [
        ("i-ann", "ann", Decimal(19)),
        ("i-ben", "ben", Decimal(10)),
    ]
    assert invoice.total("USD") == 29
    assert invoice.sections[0].budget is None


# --- numbering ------------------------------------------------------------------------------


def test_the_number_is_stable_and_revised_only_when_the_content_changes(sample: Stores) -> None:
    store = MemoryInvoiceNumberStore()
    first = issue(store, _build(sample), now=NOW)
    base = base_number(f"user:{samples.USER.user_id}", "2026-11")
    assert first.number == base and base.startswith("INV-202611-") and len(base) == 19
    assert first.revision == 1
    # The same figures a day later (other issue date, final or not): the same number.
    later = replace(first, number=None, issued_on=date(2026, 12, 5), provisional=False)
    again = issue(store, later, now=NOW)
    assert (again.number, again.revision) == (base, 1)
    # A restatement: another line's amount.
    section = first.sections[0]
    restated = replace(first, number=None, sections=(replace(section, total=section.total + 1),))
    second = issue(store, restated, now=NOW)
    assert (second.number, second.revision) == (f"{base}-R2", 2)
    assert issue(store, restated, now=NOW).number == f"{base}-R2"
    back = issue(store, replace(first, number=None), now=NOW)
    assert back.number == f"{base}-R3"  # changed since the last issue, even if to old figures


def test_another_subject_or_month_gets_another_number() -> None:
    numbers = {
        base_number("user:u-1", "2026-11"),
        base_number("user:u-2", "2026-11"),
        base_number("user:u-1", "2026-12"),
        base_number("cost-center:u-1", "2026-11"),
    }
    assert len(numbers) == 4


def test_two_concurrent_issues_of_new_content_cannot_both_take_the_next_revision(
    sample: Stores,
) -> None:
    store = MemoryInvoiceNumberStore()
    invoice = _build(sample)
    issue(store, invoice, now=NOW)
    section = invoice.sections[0]
    variants = [
        replace(invoice, sections=(replace(section, total=section.total + n),)) for n in (1, 2)
    ]
    barrier = threading.Barrier(2)
    real_latest = store.latest

    def latest(subject: str, month: str) -> IssuedRevision | None:
        found = real_latest(subject, month)
        if found is not None and found.revision == 1:
            barrier.wait(timeout=5)  # both read revision 1 before either claims 2
        return found

    store.latest = latest  # type: ignore[method-assign]
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda v=v: results.append(issue(store, v, now=NOW).number or ""))
        for v in variants
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == sorted(
        [f"{base_number(invoice.subject.key, '2026-11')}-R{n}" for n in (2, 3)]
    )
