"""The demo organisation looks alive on any business date: alice *warning*, bob *over*, carol
*under*, judged on the figures the demo's own cost pattern produces (no AWS needed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from infra.local.demo import (
    BUDGET_LEVELS,
    HISTORY_DAYS,
    PLAN,
    budget_limit,
    demo_resources,
    sizing_period,
)
from infra.local.demo_costs import DemoResource, daily_amount, daily_usage, generate_focus_csv
from tally.budgets import DEFAULT_THRESHOLD, budget_status
from tally.models import Budget, BudgetStatus

EXPECTED = {"alice": BudgetStatus.WARNING, "bob": BudgetStatus.OVER, "carol": BudgetStatus.UNDER}
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
# The calendar's edges: the 1st, 2nd and 3rd, the 15th, the last day of 30- and 31-day months,
# 1 January, 29 February and 1 March of a leap year, and a month whose 1st and 2nd are a weekend.
DATES = [
    date(2026, 12, 1),
    date(2026, 12, 2),
    date(2026, 12, 3),
    date(2026, 11, 15),
    date(2026, 11, 25),
    date(2026, 11, 30),
    date(2026, 12, 31),
    date(2027, 1, 1),
    date(2027, 1, 2),
    date(2027, 1, 3),
    date(2028, 2, 29),
    date(2028, 3, 1),
    date(2028, 3, 3),
    date(2026, 8, 3),  # 1 and 2 August 2026 are a Saturday and a Sunday
]


def _budget(limit: Decimal) -> Budget:
    return Budget("b", "u", limit, DEFAULT_THRESHOLD, "USD", CREATED, CREATED, 1)


def _resources() -> list[DemoResource]:
    return demo_resources(
        {p.name: f"arn:aws:{p.kind}:us-east-1:123456789012:{p.name}" for p in PLAN}
    )


def planned_spend(today: date, first: date, end: date) -> dict[str, Decimal]:
    """Each user's usage between ``first`` and ``end`` in the export the demo writes on
    ``today``, allocated as the plan says (assignment shares, then the Owner tag)."""
    by_name = {p.name: p for p in PLAN}
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for day, resource, amount in daily_usage(_resources(), end=today, days=HISTORY_DAYS):
        if not first <= day < end:
            continue
        item = by_name[resource.name]
        for user, share in item.assigned:
            spent[user] += amount * Decimal(share) / 100
        if not item.assigned and item.owner_tag in EXPECTED:
            spent[item.owner_tag] += amount
    return spent


@pytest.mark.parametrize(
    ("today", "period"),
    [
        (date(2026, 12, 1), (date(2026, 11, 1), date(2026, 12, 1))),
        (date(2026, 12, 2), (date(2026, 11, 1), date(2026, 12, 1))),
        (date(2026, 12, 3), (date(2026, 12, 1), date(2026, 12, 3))),
        (date(2026, 11, 30), (date(2026, 11, 1), date(2026, 11, 30))),
        (date(2027, 1, 1), (date(2026, 12, 1), date(2027, 1, 1))),
        (date(2028, 3, 2), (date(2028, 2, 1), date(2028, 3, 1))),
        (date(2028, 2, 29), (date(2028, 2, 1), date(2028, 2, 29))),
    ],
    ids=str,
)
def test_budgets_are_sized_from_this_month_from_the_3rd_else_from_last_month(
    today: date, period: tuple[date, date]
) -> None:
    assert sizing_period(today) == period


@pytest.mark.parametrize("level", sorted(BUDGET_LEVELS.values()))
def test_the_rounded_limit_keeps_every_spend_at_its_level(level: Decimal) -> None:
    expected = next(EXPECTED[u] for u, v in BUDGET_LEVELS.items() if v == level)
    spends = [Decimal(n) / 100 for n in range(100, 20000, 7)]
    spends += [Decimal(n) for n in range(200, 200000, 997)]
    for spent in spends:
        limit = budget_limit(spent, level)
        assert limit == limit.quantize(Decimal("0.01")) and limit > 0
        assert budget_status(spent, _budget(limit)) == expected, (spent, limit)


def test_the_limit_is_a_round_figure() -> None:
    assert budget_limit(Decimal("27.70"), Decimal("0.85")) == Decimal("33.00")
    assert budget_limit(Decimal("1016.43"), Decimal("0.85")) == Decimal("1200.00")
    assert budget_limit(Decimal("0"), Decimal("0.85")) == Decimal("100.00")


@pytest.mark.parametrize("today", DATES, ids=str)
def test_the_demo_shows_warning_over_and_under_on_any_date(today: date) -> None:
    """From the 3rd: this month to date against the budget; on the 1st and 2nd: last month,
    complete, against the same budget (it is in force from the first month of the history)."""
    first, end = sizing_period(today)
    spent = planned_spend(today, first, end)

    for user, level in BUDGET_LEVELS.items():
        assert spent[user] > 0, user
        status = budget_status(spent[user], _budget(budget_limit(spent[user], level)))
        assert status == EXPECTED[user], (user, spent[user])


def test_a_days_cost_does_not_depend_on_the_window() -> None:
    resources = _resources()
    day = date(2026, 11, 2)
    far = date(2026, 12, 31)  # the spike (12 days before the end) is far from ``day``
    priced = {r.name: daily_amount(r, day, spike_day=far) for r in resources}
    for end in (date(2026, 11, 25), date(2026, 12, 1)):
        rows = [(d, r.name, a) for d, r, a in daily_usage(resources, end=end) if d == day]
        assert {name: amount for _, name, amount in rows} == priced
    # The export is the same figures as text: same day, same cost, whatever the window.
    assert generate_focus_csv(resources, end=date(2026, 11, 25)).count(
        "2026-11-02T00:00:00Z,2026-11-03T00:00:00Z,Usage"
    ) == len(resources)


def test_the_demo_estate_has_cost_lines() -> None:
    """Each demo function's requests and duration, the NAT gateway's hours and GB, public
    IPv4 for both addresses and the interface endpoint's hours; the idle function's stop a
    month before the export's end (it used to be called)."""
    import csv
    import io

    from infra.local import estate
    from infra.local.demo_costs import generate_focus_csv

    seeded = estate.DemoEstate(
        "vpc-1",
        "subnet-1",
        "subnet-2",
        "sg-1",
        nat_gateway_id="nat-1",
        allocation_ids=("eipalloc-1", "eipalloc-2"),
        endpoint_id="vpce-1",
    )
    resources = estate.estate_cost_resources(seeded, account="123456789012", region="us-east-1")
    end = date(2026, 11, 20)
    rows = list(csv.DictReader(io.StringIO(generate_focus_csv(resources, end=end, days=60))))
    usage = [r for r in rows if r["ChargeCategory"] == "Usage"]
    kinds = {(r["ResourceId"].rsplit(":", 1)[-1].split("/")[-1], r["ConsumedUnit"]) for r in usage}
    for name in estate.FUNCTIONS:
        assert {(name, "Requests"), (name, "Lambda-GB-Second")} <= kinds
    assert {
        ("nat-1", "Hrs"),
        ("nat-1", "GB"),
        ("eipalloc-1", "Hrs"),
        ("eipalloc-2", "Hrs"),
        ("vpce-1", "Hrs"),
    } <= kinds
    idle_days = {r["ChargePeriodStart"][:10] for r in usage if estate.IDLE in r["ResourceId"]}
    assert max(idle_days) == "2026-10-20"  # the 30 days before the end have no line
    nat_hours = [
        r for r in usage if r["ResourceId"].endswith("nat-1") and r["ConsumedUnit"] == "Hrs"
    ]
    assert {(r["BilledCost"], r["ConsumedQuantity"]) for r in nat_hours} == {
        ("1.080000", "24.000000")
    }
    busy = [r for r in usage if estate.BUSY in r["ResourceId"]]
    assert all(r["Tags"] == '{"Owner": "alice"}' for r in busy)
    # the quantity is the cost at the list price: 5,000 requests on a weekday, give or take 10%
    weekday = [
        r
        for r in busy
        if r["ConsumedUnit"] == "Requests" and r["ChargePeriodStart"][:10] == "2026-11-19"
    ]
    assert 4500 <= float(weekday[0]["ConsumedQuantity"]) <= 5500


def test_the_demo_organisation_has_a_default_invoice_template() -> None:
    """Version 1 of the organisation's template, valid as the API would save it, with the
    demo's logo (a PNG) and numbering, and a sample invoice renders with it."""
    from infra.local.demo import seed_invoice_template
    from tally.invoice_templates.service import preview_pdf
    from tally.invoices import InvoiceOrg
    from tally.store import memory_stores

    stores = memory_stores()
    at = datetime(2026, 11, 20, tzinfo=UTC)
    made = seed_invoice_template(stores.invoice_templates, actor="u-admin", now=at)
    assert stores.invoice_templates.get("org") == made
    assert made.content.logo is not None and made.content.logo.media_type == "image/png"
    assert made.content.number_prefix == "EXC-"
    pdf = preview_pdf(made.content, org=InvoiceOrg("Example Corp"), today=date(2026, 11, 20))
    assert pdf.startswith(b"%PDF")


def test_the_demo_export_names_instances_by_their_name_tag() -> None:
    """As AWS exports an activated Name tag: the screens show "carol-web", not "i-0abc..."."""
    from tally.sources.focus import FocusSource

    resources = _resources()
    end = date(2026, 11, 20)
    data = generate_focus_csv(resources, end=end, days=2).encode()
    lines = list(FocusSource.from_bytes(data, today=end).fetch(date(2026, 11, 18), end))
    names = {line.resource_id: line.resource_name for line in lines if line.resource_id}
    by_plan = {r.name: r.resource_id for r in resources}
    assert names[by_plan["carol-web"]] == "carol-web"
    assert names[by_plan["legacy-batch"]] == "legacy-batch"
    # Buckets, databases and functions have no Name tag here: their ids name them.
    assert names[by_plan["carol-analytics"]] is None
