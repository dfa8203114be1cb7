"""Month over month and the "why did my bill change" waterfall, domain only (in-memory stores).

Expected figures are worked out here from the lines the tests write, not by the code under
test; the property test checks the waterfall's invariant over many generated months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tally import reports
from tally.allocation import OwnerTagRule
from tally.errors import Forbidden, Invalid
from tally.ingest import ingest_days
from tally.models import ORG, CostLine, CostRecord, Metric
from tally.reports.changes import STEP_KINDS, TOP_STEPS, smallest_unit, waterfall
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ADMIN, ALICE, BOB, profile

D = Decimal
TAG = {"Owner": "alice"}


def new_stores() -> Stores:
    s = memory_stores()
    for c in (ALICE, BOB, ADMIN):
        s.users.put(profile(c))
    return s


def morning(day: date) -> datetime:
    return datetime.combine(day, time(0, 30), UTC)


def ingest(stores: Stores, lines: list[CostLine], days: list[date], now: datetime) -> None:
    ingest_days(lines, days, stores=stores, rule=OwnerTagRule(), source="t", now=now)


def span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def line(day: date, resource: str | None, cost: str, **kw: object) -> CostLine:
    service = str(kw.pop("service", "AmazonEC2"))
    return CostLine(day, service, resource, D(cost), D(cost), "USD", tags=TAG, **kw)  # type: ignore[arg-type]


def record(day: date, resource: str | None, cost: str, **kw: object) -> CostRecord:
    return CostRecord(
        owner="u-alice",
        day=day,
        line_id=f"{day}{resource}{kw.get('charge_category', '')}{kw.get('usage_unit', '')}",
        service=str(kw.pop("service", "AmazonEC2")),
        resource_id=resource,
        usage_quantity=D(str(kw.pop("usage_quantity", "0"))),
        usage_unit=kw.pop("usage_unit", None),  # type: ignore[arg-type]
        billed_cost=D(cost),
        effective_cost=D(cost),
        currency="USD",
        charge_category=str(kw.pop("charge_category", "Usage")),
        estimated=False,
        source="t",
        fetched_at=morning(day),
        allocation="tag",
    )


OCT, NOV = date(2026, 10, 5), date(2026, 11, 5)


def steps_of(w: reports.Waterfall) -> list[tuple[str, str, Decimal]]:
    return [(s.kind, s.label, s.amount) for s in w.steps]


# --- the waterfall's steps, from hand-made records ----------------------------------------


def test_each_kind_of_change_is_its_own_step_in_order() -> None:
    records = [
        # in both months, billed by the hour: 100 h at 0.10 -> 150 h at 0.12
        record(OCT, "i-web", "10", usage_quantity=100, usage_unit="Hrs"),
        record(NOV, "i-web", "18", usage_quantity=150, usage_unit="Hrs"),
        record(OCT, "i-old", "4", usage_quantity=40, usage_unit="Hrs"),  # removed
        record(NOV, "i-new", "7", usage_quantity=70, usage_unit="Hrs"),  # new
        # two units: no usage/rate split, one "changed"
        record(OCT, "vol-1", "3", usage_quantity=30, usage_unit="GB-Mo"),
        record(NOV, "vol-1", "2", usage_quantity=2, usage_unit="IOPS-Mo"),
        record(OCT, None, "-2", service="AWSSupport", charge_category="Credit"),
        record(NOV, None, "-5", service="AWSSupport", charge_category="Credit"),
        record(NOV, None, "-1", service="AmazonS3", charge_category="Refund"),
        record(OCT, None, "1", service="Tax", charge_category="Tax"),
        record(NOV, None, "2.50", service="Tax", charge_category="Tax"),
    ]
    w = waterfall(records, month="2026-11", metric=Metric.BILLED, restated=D("0.5"))
    assert steps_of(w) == [
        ("restatement", "2026-10 restated since it closed", D("0.5")),
        ("removed", "i-old", D("-4")),
        ("new", "i-new", D("7")),
        ("usage", "i-web", D("5.00")),  # 50 more hours at last month's 0.10
        ("rate", "i-web", D("3.00")),  # the rest: 150 h at 0.12 instead of 0.10
        ("changed", "vol-1", D("-1")),
        ("credits", "AWSSupport (no resource)", D("-3")),
        ("refunds", "AmazonS3 (no resource)", D("-1")),
        ("other", "Tax (no resource)", D("1.50")),
    ]
    assert w.start == D("15.5")  # October now (16) less its restatement
    assert w.end == D("23.5")
    assert w.start + sum(s.amount for s in w.steps) == w.end
    web = next(s for s in w.steps if s.kind == "usage")
    assert (web.service, web.resource_id) == ("AmazonEC2", "i-web")
    credit = next(s for s in w.steps if s.kind == "credits")
    assert (credit.service, credit.resource_id) == ("AWSSupport", None)


@pytest.mark.parametrize(
    ("currency", "usage", "rate"),
    [("USD", D("0.33"), D("0.67")), ("JPY", D("0"), D("1")), ("KWD", D("0.333"), D("0.667"))],
)
def test_usage_effect_is_rounded_to_the_currencys_smallest_unit_and_rate_takes_the_rest(
    currency: str, usage: Decimal, rate: Decimal
) -> None:
    records = [  # 3 units for 1, then 4 units for 2: usage 1/3, rate the rest
        record(OCT, "r", "1", usage_quantity=3, usage_unit="Hrs"),
        record(NOV, "r", "2", usage_quantity=4, usage_unit="Hrs"),
    ]
    w = waterfall(
        records, month="2026-11", metric=Metric.BILLED, restated=D(0), unit=smallest_unit(currency)
    )
    amounts = {s.kind: s.amount for s in w.steps}
    assert amounts.get("usage", D(0)) == usage
    assert amounts["rate"] == rate
    assert sum(amounts.values()) == D(1)


def test_no_split_without_positive_quantities_or_with_no_unit() -> None:
    records = [
        record(OCT, "a", "5", usage_quantity=0, usage_unit="Hrs"),
        record(NOV, "a", "6", usage_quantity=10, usage_unit="Hrs"),
        record(OCT, "b", "5", usage_quantity=1),
        record(NOV, "b", "7", usage_quantity=1),
        record(OCT, "c", "5", usage_quantity=1, usage_unit="Hrs"),
        record(NOV, "c", "5", usage_quantity=1, usage_unit="Hrs"),  # unchanged: no step
    ]
    w = waterfall(records, month="2026-11", metric=Metric.BILLED, restated=D(0))
    assert steps_of(w) == [("changed", "b", D(2)), ("changed", "a", D(1))]


def test_each_kind_keeps_its_ten_largest_and_folds_the_rest() -> None:
    records = [record(NOV, f"i-{n:02}", str(n)) for n in range(1, 16)]
    records.append(record(NOV, "i-zero", "0"))  # cost nothing: not a step
    w = waterfall(records, month="2026-11", metric=Metric.BILLED, restated=D(0))
    assert [s.label for s in w.steps] == [f"i-{n:02}" for n in range(15, 5, -1)] + [
        "5 other resources"
    ]
    assert w.steps[-1].amount == D(1 + 2 + 3 + 4 + 5)
    assert (w.steps[-1].service, w.steps[-1].resource_id) == (None, None)
    assert w.start + sum(s.amount for s in w.steps) == w.end == D(120)


def test_metric_chooses_the_figures() -> None:
    amortised = CostRecord(**{**record(NOV, "ri", "30").__dict__, "effective_cost": D(1)})
    assert waterfall([amortised], month="2026-11", metric=Metric.EFFECTIVE, restated=D(0)).end == 1
    assert waterfall([amortised], month="2026-11", metric=Metric.BILLED, restated=D(0)).end == 30


# --- month_over_month: the months compared, on the calendar's edges ------------------------


def daily_world(today: date, first: date, cost: str = "2") -> Stores:
    """alice's instance costs ``cost`` a day from ``first`` to yesterday; her bucket 1 a day."""
    stores = new_stores()
    days = span(first, today - timedelta(days=1))
    lines = [line(d, "i-a", cost, usage_quantity=D(24), usage_unit="Hrs") for d in days] + [
        line(d, "bucket", "1", service="AmazonS3") for d in days
    ]
    ingest(stores, lines, days, morning(today))
    return stores


@pytest.mark.parametrize(
    ("today", "month", "previous", "compared", "same_days"),
    [
        (date(2026, 11, 20), None, "2026-10", 19, 19),  # to date: up to yesterday
        (date(2026, 11, 2), None, "2026-10", 1, 1),
        (date(2026, 11, 1), None, "2026-10", 0, 0),  # the 1st: nothing of November yet
        (date(2026, 11, 15), "2026-10", "2026-09", 31, 30),  # 31 October vs all of September
        (date(2027, 1, 1), None, "2026-12", 0, 0),  # 1 January: December of the year before
        (date(2027, 1, 10), "2027-01", "2026-12", 9, 9),
        (date(2027, 4, 5), "2027-03", "2027-02", 31, 28),  # 31 March: all of February
        (date(2028, 2, 29), None, "2028-01", 28, 28),
        (date(2028, 3, 1), "2028-02", "2028-01", 29, 29),  # 29 February vs 29 January
        (date(2028, 3, 1), None, "2028-02", 0, 0),
        (date(2028, 4, 1), "2028-03", "2028-02", 31, 29),
        (date(2026, 12, 31), None, "2026-11", 30, 30),
    ],
)
def test_the_days_compared_on_the_calendars_edges(
    today: date, month: str | None, previous: str, compared: int, same_days: int
) -> None:
    stores = daily_world(today, date(today.year - 1, 11, 1))
    m = reports.month_over_month(View(ALICE, stores, today, Metric.BILLED), "u-alice", month=month)
    assert (m.month, m.previous_month) == (month or today.strftime("%Y-%m"), previous)
    assert m.days_compared == compared
    prev_len = (date.fromisoformat(f"{m.month}-01") - date.fromisoformat(f"{previous}-01")).days
    # 3 a day (2 + 1), every day
    assert m.current_total == 3 * compared
    assert m.previous_same_days_total == 3 * same_days
    assert m.previous_total == 3 * prev_len
    ec2 = next(s for s in m.services if s.service == "AmazonEC2")
    assert (ec2.current, ec2.previous_same_days, ec2.previous) == (
        2 * compared,
        2 * same_days,
        2 * prev_len,
    )
    assert ec2.change == 2 * (compared - same_days)
    pct = D(100 * (compared - same_days)) / same_days if same_days else None
    assert ec2.change_pct == (pct.quantize(D("0.1"), ROUND_HALF_UP) if pct is not None else None)
    w = m.waterfall
    assert (w.start, w.end) == (m.previous_total, m.current_total)
    assert w.start + sum(s.amount for s in w.steps) == w.end


def test_the_current_month_stops_at_the_last_day_with_costs() -> None:
    """Costs arrive a day or two late: the same days of last month are the days that have
    arrived, not the days that passed."""
    today = date(2026, 11, 20)
    stores = new_stores()
    days = span(date(2026, 10, 1), date(2026, 11, 17))
    ingest(stores, [line(d, "i-a", "2") for d in days], days, morning(today))
    m = reports.month_over_month(View(ALICE, stores, today, Metric.BILLED), "u-alice", month=None)
    assert (m.days_compared, m.current_total, m.previous_same_days_total) == (17, 34, 34)
    assert m.services[0].change_pct == 0


def test_usage_and_rate_over_the_month() -> None:
    """October: 24 h a day at 0.10; November to date: 48 h a day at 0.05, so the same cost a
    day, but 19 days against 31."""
    today = date(2026, 11, 20)
    stores = new_stores()
    oct_days, nov_days = (
        span(date(2026, 10, 1), date(2026, 10, 31)),
        span(today.replace(day=1), date(2026, 11, 19)),
    )
    lines = [line(d, "i-a", "2.4", usage_quantity=D(24), usage_unit="Hrs") for d in oct_days]
    lines += [line(d, "i-a", "2.4", usage_quantity=D(48), usage_unit="Hrs") for d in nov_days]
    ingest(stores, lines, oct_days + nov_days, morning(today))
    m = reports.month_over_month(View(ALICE, stores, today, Metric.BILLED), "u-alice", month=None)
    # usage: (19*48 - 31*24) h at 0.10 = 16.80; rate: the rest of 45.60 - 74.40
    assert steps_of(m.waterfall) == [("usage", "i-a", D("16.80")), ("rate", "i-a", D("-45.60"))]


def restated_world() -> tuple[Stores, date]:
    """October as first reported (billed 31 x 10, effective 31 x 8), then, after it closed,
    AWS restates one day of it up by 5 billed (4 effective)."""
    today = date(2026, 11, 20)
    stores = new_stores()
    october = span(date(2026, 10, 1), date(2026, 10, 31))

    def day_line(d: date, billed: str, effective: str) -> CostLine:
        return CostLine(d, "AmazonEC2", "i-a", D(billed), D(effective), "USD", tags=TAG)

    # The 1st's run closes October and reads its last days: the roll-up as first reported.
    ingest(stores, [day_line(d, "10", "8") for d in october], october, morning(date(2026, 11, 1)))
    november = span(date(2026, 11, 1), date(2026, 11, 19))
    ingest(stores, [day_line(d, "10", "8") for d in november], november, morning(date(2026, 11, 5)))
    restated = date(2026, 10, 30)
    ingest(stores, [day_line(restated, "15", "12")], [restated], morning(today))
    return stores, today


def test_a_restated_previous_month_starts_from_its_first_report() -> None:
    stores, today = restated_world()
    oct_rollup = stores.rollups.get("u-alice", "2026-10")
    assert oct_rollup is not None and len(oct_rollup.restatements) == 1  # the ingest recorded it
    m = reports.month_over_month(View(ALICE, stores, today, Metric.BILLED), "u-alice", month=None)
    w = m.waterfall
    assert w.start == 310  # as first reported
    assert m.previous_total == 315  # as it is now
    assert w.steps[0] == reports.WaterfallStep(
        "restatement", "2026-10 restated since it closed", D(5)
    )
    assert w.start + sum(s.amount for s in w.steps) == w.end == m.current_total == 190


def test_effective_metric_takes_the_billed_restatement() -> None:
    """The ingest records a closed month's change in billed cost only: the effective waterfall
    carries that change as its restatement step (documented), and still adds up exactly."""
    stores, today = restated_world()
    m = reports.month_over_month(
        View(ALICE, stores, today, Metric.EFFECTIVE), "u-alice", month=None
    )
    w = m.waterfall
    assert m.previous_total == 31 * 8 + 4
    assert w.steps[0].amount == 5
    assert w.start == m.previous_total - 5
    assert w.start + sum(s.amount for s in w.steps) == w.end == m.current_total == 19 * 8


def test_currencies_are_never_added() -> None:
    today = date(2026, 11, 20)
    stores = new_stores()
    days = span(date(2026, 10, 1), date(2026, 11, 19))
    lines = [line(d, "i-a", "2") for d in days] + [
        CostLine(d, "AmazonEC2", "i-eu", D(100), D(100), "EUR", tags=TAG) for d in days
    ]
    ingest(stores, lines, days, morning(today))
    m = reports.month_over_month(View(ALICE, stores, today, Metric.BILLED), "u-alice", month=None)
    assert (m.currency, m.current_total, m.previous_total) == ("USD", 38, 62)
    assert {s.label for s in m.waterfall.steps} == {"i-a"}
    euro = View(ALICE, stores, today, Metric.BILLED, "EUR")
    assert reports.month_over_month(euro, "u-alice", month=None).current_total == 1900


def test_no_costs_at_all() -> None:
    m = reports.month_over_month(
        View(ALICE, new_stores(), date(2026, 11, 20), Metric.BILLED), "u-alice", month=None
    )
    assert (m.currency, m.days_compared, m.current_total, m.previous_total) == ("USD", 0, 0, 0)
    assert (m.services, m.waterfall.steps, m.estimated) == ([], [], False)


@pytest.mark.parametrize("month", ["2026-12", "2027-01", "2026-13", "2026-1", "nov", "1999-12"])
def test_a_later_or_malformed_month_is_refused_on_month(month: str) -> None:
    view = View(ALICE, new_stores(), date(2026, 11, 30))
    with pytest.raises(Invalid) as refused:
        reports.month_over_month(view, "u-alice", month=month)
    assert [e.field for e in refused.value.errors] == ["month"]


def test_access() -> None:
    stores = daily_world(date(2026, 11, 20), date(2026, 10, 1))
    today = date(2026, 11, 20)
    with pytest.raises(Forbidden):
        reports.month_over_month(View(BOB, stores, today), "u-alice", month=None)
    with pytest.raises(Forbidden):
        reports.month_over_month(View(ALICE, stores, today), ORG, month=None)
    admin = View(ADMIN, stores, today, Metric.BILLED)
    assert reports.month_over_month(admin, "u-alice", month=None).current_total == 57
    assert reports.month_over_month(admin, ORG, month=None).current_total == 57


# --- the invariant, over many generated months ---------------------------------------------

SCENARIOS = [  # (today, month asked): the current month to date, and closed months
    (date(2026, 11, 20), None),
    (date(2026, 11, 2), None),
    (date(2027, 1, 1), "2026-12"),
    (date(2027, 1, 16), None),
    (date(2028, 2, 29), None),
    (date(2028, 3, 1), "2028-02"),
    (date(2027, 4, 2), "2027-03"),
    (date(2026, 12, 31), None),
]
SERVICES = ["AmazonEC2", "AmazonS3", "AWSLambda"]
UNITS = ["Hrs", "GB-Mo", None]
CATEGORIES = ["Usage", "Usage", "Usage", "Credit", "Refund", "Tax", "Purchase", "Adjustment"]
cents = st.integers(min_value=-500, max_value=50_000).map(lambda n: D(n) / 100)


@dataclass(frozen=True)
class Resource:
    service: str
    resource_id: str | None
    unit: str | None
    category: str
    currency: str
    days: tuple[int, int, int, int]  # previous month from..to, this month from..to (0: none)
    quantity: Decimal
    rates: tuple[Decimal, Decimal]
    amortised: bool


@st.composite
def resources(draw: st.DrawFn) -> Resource:
    def window() -> tuple[int, int]:
        a, b = sorted(draw(st.lists(st.integers(0, 31), min_size=2, max_size=2)))
        return (a, b) if a else (0, 0)

    return Resource(
        service=draw(st.sampled_from(SERVICES)),
        resource_id=draw(st.one_of(st.none(), st.sampled_from([f"r-{n}" for n in range(14)]))),
        unit=draw(st.sampled_from(UNITS)),
        category=draw(st.sampled_from(CATEGORIES)),
        currency=draw(st.sampled_from(["USD", "USD", "USD", "EUR"])),
        days=(*window(), *window()),
        quantity=draw(st.integers(0, 200).map(lambda n: D(n) / 4)),
        rates=(draw(cents), draw(cents)),
        amortised=draw(st.booleans()),
    )


def lines_of(rs: list[Resource], month_first: date, side: int, last: date) -> list[CostLine]:
    out = []
    for r in rs:
        start, end = r.days[2 * side], r.days[2 * side + 1]
        if not start:
            continue
        for n in range(start, end + 1):
            d = month_first + timedelta(days=n - 1)
            if d.month != month_first.month or d > last:
                continue
            billed = r.rates[side]
            effective = (billed * D("0.7")).quantize(D("0.0001")) if r.amortised else billed
            out.append(
                CostLine(
                    d,
                    r.service,
                    r.resource_id,
                    billed,
                    effective,
                    r.currency,
                    usage_quantity=r.quantity,
                    usage_unit=r.unit,
                    charge_category=r.category,
                    tags=TAG,
                )
            )
    return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    scenario=st.sampled_from(SCENARIOS),
    rs=st.lists(resources(), max_size=24),
    restated=st.lists(resources(), max_size=4),
    restated_days=st.lists(st.integers(1, 28), max_size=3, unique=True),
    metric=st.sampled_from([Metric.BILLED, Metric.EFFECTIVE]),
)
def test_the_steps_add_up_exactly_from_the_first_report_to_this_months_total(
    scenario: tuple[date, str | None],
    rs: list[Resource],
    restated: list[Resource],
    restated_days: list[int],
    metric: Metric,
) -> None:
    today, asked = scenario
    month = asked or today.strftime("%Y-%m")
    this_first = date.fromisoformat(f"{month}-01")
    prev_first = (this_first - timedelta(days=1)).replace(day=1)
    yesterday = today - timedelta(days=1)
    stores = new_stores()
    # Last month as first reported, by a run on the 1st (when it closes) ...
    prev_days = span(prev_first, this_first - timedelta(days=1))
    prev_lines = lines_of(rs, prev_first, 0, prev_days[-1])
    ingest(stores, prev_lines, prev_days, morning(this_first))
    first_report = stores.rollups.get("u-alice", prev_first.strftime("%Y-%m"))
    # ... this month's days up to yesterday ...
    this_days = span(this_first, min(yesterday, this_first + timedelta(days=40)))
    this_days = [d for d in this_days if d.strftime("%Y-%m") == month]
    ingest(stores, lines_of(rs, this_first, 1, yesterday), this_days, morning(today))
    # ... and AWS restating some of last month's days afterwards (lines changed or gone).
    redo = {prev_first + timedelta(days=n - 1) for n in restated_days}
    kept = [x for x in prev_lines if x.day in redo][::2]
    added = [x for x in lines_of(restated, prev_first, 0, prev_days[-1]) if x.day in redo]
    ingest(stores, kept + added, sorted(redo), morning(today))

    view = View(ALICE, stores, today, metric)
    m = reports.month_over_month(view, "u-alice", month=asked)
    w = m.waterfall
    assert w.start + sum((s.amount for s in w.steps), D(0)) == w.end
    assert w.end == m.current_total
    assert m.previous_total - w.start == sum(
        (s.amount for s in w.steps if s.kind == "restatement"), D(0)
    )
    if metric is Metric.BILLED and first_report and m.currency in first_report.sections:
        assert w.start == first_report.sections[m.currency].totals.billed
    # The same figure as the costs route for the month's days compared.
    if m.days_compared:
        last = this_first + timedelta(days=m.days_compared - 1)
        costs = reports.cost_report(view, "u-alice", start=this_first, end=last)
        shown = {costs.currency: costs.total} | {
            o.currency: o.amount for o in costs.other_currencies
        }
        assert w.end == shown.get(m.currency, D(0))
    assert sum((s.current for s in m.services), D(0)) == m.current_total
    assert sum((s.previous_same_days for s in m.services), D(0)) == m.previous_same_days_total
    assert sum((s.previous for s in m.services), D(0)) == m.previous_total
    kinds = [s.kind for s in w.steps]
    assert kinds == sorted(kinds, key=STEP_KINDS.index)
    for kind in set(kinds):
        assert kinds.count(kind) <= TOP_STEPS + 1
    assert all(s.amount != 0 for s in w.steps if s.resource_id or s.service)
