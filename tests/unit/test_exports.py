"""CSV exports, domain only (in-memory stores): who may export what, the file's metadata and
rows, formula neutralisation, and totals that equal the API's when the file is parsed back."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tally import reports
from tally.allocation import OwnerTagRule
from tally.errors import Forbidden, Invalid
from tally.exports import ExportRequest, neutralise, validate_export, write_export
from tally.identity import Caller, Role
from tally.ingest import ingest_days
from tally.models import (
    ORG,
    UNALLOCATED,
    Assignment,
    AuditEntry,
    CostLine,
    Metric,
    UserProfile,
)
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ADMIN, ALICE, BOB, profile

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
FIRST, LAST = date(2026, 10, 27), date(2026, 11, 19)  # two months, to yesterday
HYPERLINK = '=HYPERLINK("x")'
EVE = UserProfile("u-eve", "@eve", "-eve@example.com", Role.USER)


def _lines(day: date) -> list[CostLine]:
    estimated = day >= LAST - timedelta(days=1)
    lines = [
        CostLine(day, "AmazonEC2", "i-0alice", Decimal("1.2345"), Decimal("1.1"), "USD",
                 Decimal(24), "Hrs", estimated=estimated, tags={"Owner": "alice"},
                 resource_name="web-alice"),
        CostLine(day, "@evil", HYPERLINK, Decimal("0.5"), Decimal("0.5"), "USD",
                 tags={"Owner": "alice", "Name": "+cmd"}),
        # Shared 60/40 by assignments: splits that do not divide evenly.
        CostLine(day, "AmazonEC2", "i-0shared", Decimal("0.731"), Decimal("0.7"), "USD",
                 Decimal(24), "Hrs", estimated=estimated),
        CostLine(day, "AmazonS3", "bucket-b", Decimal("2.00"), Decimal("2.00"), "EUR",
                 Decimal("1.5"), "GB-Mo", tags={"Owner": "bob"}),
        CostLine(day, "AmazonS3", "bucket-eve", Decimal("0.10"), Decimal("0.10"), "USD",
                 tags={"Owner": "u-eve"}),
        CostLine(day, "AWSLambda", "fn-nobody", Decimal("0.333"), Decimal("0.3"), "USD"),
    ]  # fmt: skip
    if day.day == 1:
        lines += [
            CostLine(day, "AmazonEC2", None, Decimal("-12.50"), Decimal("-12.50"), "USD",
                     charge_category="Credit", tags={"Owner": "alice"}),
            CostLine(day, "Tax", None, Decimal("3.21"), Decimal("3.21"), "EUR",
                     charge_category="Tax", tags={"Owner": "bob"}),
            CostLine(day, "AWS Support", None, Decimal("9.99"), Decimal("9.99"), "USD",
                     charge_category="Purchase"),
        ]  # fmt: skip
    return lines


def world(stores: Stores | None = None) -> Stores:
    stores = stores or memory_stores()
    for c in (ALICE, BOB, ADMIN):
        stores.users.put(profile(c))
    stores.users.put(EVE)
    at = datetime(2026, 10, 1, tzinfo=UTC)
    for user, share in (("u-alice", 60), ("u-bob", 40)):
        stores.assignments.create(
            Assignment(f"a-{user}", user, "ec2", "i-0shared", Decimal(share), None, "u-admin",
                       at, effective_from=date(2026, 10, 1)),
            AuditEntry(user, at, "u-admin", "assignment.created", f"a-{user}", {}),
        )  # fmt: skip
    window = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    lines = [line for day in window for line in _lines(day)]
    ingest_days(lines, window, stores=stores, rule=OwnerTagRule(), source="test", now=NOW)
    return stores


@pytest.fixture(scope="module")
def stores() -> Stores:
    return world()


def export(stores: Stores, request: ExportRequest, *, metric: Metric = Metric.EFFECTIVE,
           today: date = TODAY) -> tuple[bytes, int]:  # fmt: skip
    out = io.BytesIO()
    rows = write_export(stores, request, out, metric=metric, today=today, now=NOW)
    return out.getvalue(), rows


def parse(data: bytes) -> tuple[list[list[str]], list[dict[str, str]]]:
    """(the metadata rows, the data rows as dicts): as a spreadsheet user's script would."""
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text, newline="")))
    blank = lines.index([])
    header, body = lines[blank + 1], lines[blank + 2 :]
    return lines[:blank], [dict(zip(header, row, strict=True)) for row in body]


def costs(user_id: str | None = "u-alice", **filters: str) -> ExportRequest:
    return ExportRequest("costs", FIRST, LAST, user_id, **filters)  # type: ignore[arg-type]


ALL_USERS = ExportRequest("all-users", FIRST, LAST, None)


def totals(rows: list[dict[str, str]], column: str) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[row["currency"]] += Decimal(row[column])
    return dict(sums)


def api_totals(stores: Stores, caller: Caller, owner: str, metric: Metric) -> dict[str, Decimal]:
    """What GET /api/billing/user/{owner}/costs says for the range: its total, and the totals
    billed in other currencies shown beside it."""
    report = reports.cost_report(
        View(caller, stores, TODAY, metric, "USD"), owner, start=FIRST, end=LAST
    )
    return {report.currency: report.total} | {m.currency: m.amount for m in report.other_currencies}


# --- totals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", list(Metric))
@pytest.mark.parametrize(
    ("caller", "owner"),
    [(ALICE, "u-alice"), (BOB, "u-bob"), (ADMIN, UNALLOCATED), (ADMIN, ORG)],
)
def test_costs_export_sums_to_the_api_total_per_currency(
    stores: Stores, caller: Caller, owner: str, metric: Metric
) -> None:
    data, rows = export(stores, costs(owner), metric=metric)
    _, parsed = parse(data)
    assert rows == len(parsed) > 0
    column = "effective_cost" if metric == Metric.EFFECTIVE else "billed_cost"
    assert totals(parsed, column) == api_totals(stores, caller, owner, metric)


def test_bob_is_billed_in_two_currencies_and_each_adds_up_alone(stores: Stores) -> None:
    _, parsed = parse(export(stores, costs("u-bob"))[0])
    found = totals(parsed, "effective_cost")
    assert set(found) == {"USD", "EUR"}
    # 24 days of 2.00 and the 1 November tax; never added to the dollars.
    assert found["EUR"] == Decimal("2.00") * 24 + Decimal("3.21")


@pytest.mark.parametrize("metric", list(Metric))
def test_all_users_total_rows_equal_the_organisation(stores: Stores, metric: Metric) -> None:
    data, rows = export(stores, ALL_USERS, metric=metric)
    _, parsed = parse(data)
    people, total_rows = parsed[:-2], parsed[-2:]
    assert rows == len(people)
    assert [r["user_id"] for r in total_rows] == ["TOTAL", "TOTAL"]
    column = "effective_cost" if metric == Metric.EFFECTIVE else "billed_cost"
    org = api_totals(stores, ADMIN, ORG, metric)
    assert {r["currency"]: Decimal(r[column]) for r in total_rows} == org
    assert totals(people, column) == org  # the rows add up to their TOTAL
    unallocated = [r for r in people if r["user_id"] == UNALLOCATED]
    assert totals(unallocated, column) == api_totals(stores, ADMIN, UNALLOCATED, metric)
    assert people[-len(unallocated) :] == unallocated  # after the people
    for caller in (ALICE, BOB):
        mine = [r for r in people if r["user_id"] == caller.user_id]
        assert mine[0]["username"] == caller.username and mine[0]["email"] == caller.email
        assert totals(mine, column) == api_totals(stores, ADMIN, caller.user_id, metric)


def test_all_users_of_one_month_total_the_admins_month(stores: Stores) -> None:
    request = ExportRequest("all-users", date(2026, 10, 1), date(2026, 10, 31), None)
    _, parsed = parse(export(stores, request)[0])
    month = reports.all_users(
        View(ADMIN, stores, TODAY, Metric.EFFECTIVE, "USD"),
        month="2026-10",
        limit=100,
        start_key=None,
    )
    total = next(r for r in parsed if r["user_id"] == "TOTAL" and r["currency"] == "USD")
    assert Decimal(total["effective_cost"]) == month.org_total
    unallocated = [r for r in parsed if r["user_id"] == UNALLOCATED and r["currency"] == "USD"]
    assert sum(Decimal(r["effective_cost"]) for r in unallocated) == month.unallocated


def test_all_users_rows_are_per_owner_and_service(stores: Stores) -> None:
    _, parsed = parse(export(stores, ALL_USERS)[0])
    keys = [(r["user_id"], r["service"], r["currency"]) for r in parsed]
    assert len(keys) == len(set(keys))
    assert ("u-alice", "AmazonEC2", "USD") in keys and ("u-bob", "AmazonS3", "EUR") in keys
    assert ("u-bob", "AmazonEC2", "USD") in keys  # the 40% share of i-0shared
    assert not any(r["user_id"] == ORG for r in parsed)


# --- the file --------------------------------------------------------------------------------


def test_metadata_rows_come_first_as_documented(stores: Stores) -> None:
    data, _ = export(stores, costs(service="AmazonEC2", search="I-0"))
    meta, parsed = parse(data)
    assert meta == [
        ["# Tally cost export"],
        ["# range", "2026-10-27", "2026-11-19"],
        ["# filters", "userId=u-alice;service=AmazonEC2;search=I-0"],
        ["# currency", "USD"],
        ["# metric", "effective"],
        ["# generated at", "2026-11-20T08:00:00Z"],
        ["# status", "provisional"],
    ]
    assert parsed and {r["service"] for r in parsed} == {"AmazonEC2"}
    header = data.decode("utf-8-sig").splitlines()[8]
    assert header == (
        "date,service,resource_id,resource_name,charge_category,usage_quantity,usage_unit,"
        "billed_cost,effective_cost,currency,share_pct,allocation,estimated"
    )
    assert data.decode("utf-8-sig").splitlines()[7] == ""


def test_all_users_header_and_currencies(stores: Stores) -> None:
    data, _ = export(stores, ExportRequest("all-users", FIRST, LAST, None, service="AmazonS3"))
    meta, parsed = parse(data)
    assert meta[2] == ["# filters", "service=AmazonS3"]
    assert meta[3] == ["# currency", "EUR;USD"]
    assert list(parsed[0]) == [
        "user_id", "username", "email", "service", "billed_cost", "effective_cost", "currency",
    ]  # fmt: skip
    assert {r["service"] for r in parsed if r["user_id"] != "TOTAL"} == {"AmazonS3"}


def test_cost_rows_in_date_order_with_exact_amounts(stores: Stores) -> None:
    _, parsed = parse(export(stores, costs())[0])
    assert [r["date"] for r in parsed] == sorted(r["date"] for r in parsed)
    assert parsed[0]["date"] == "2026-10-27" and parsed[-1]["date"] == "2026-11-19"
    credit = next(r for r in parsed if r["charge_category"] == "Credit")
    # A credit is a number, not a formula: no quote, exact.
    assert (credit["date"], credit["billed_cost"], credit["resource_id"]) == (
        "2026-11-01", "-12.50", "",
    )  # fmt: skip
    ec2 = next(r for r in parsed if r["resource_id"] == "i-0alice")
    assert (ec2["billed_cost"], ec2["effective_cost"], ec2["usage_quantity"]) == (
        "1.2345", "1.1", "24",
    )  # fmt: skip
    assert (ec2["usage_unit"], ec2["currency"], ec2["share_pct"], ec2["allocation"]) == (
        "Hrs", "USD", "100", "tag",
    )  # fmt: skip
    shared = [r for r in parsed if r["resource_id"] == "i-0shared"]
    assert {r["share_pct"] for r in shared} == {"60"} and shared[0]["allocation"] == "assignment"
    assert {r["estimated"] for r in parsed if r["date"] >= "2026-11-18"} >= {"true"}
    assert {r["estimated"] for r in parsed if r["date"] < "2026-11-18"} == {"false"}


def test_each_row_names_its_resource_beside_its_id(stores: Stores) -> None:
    _, parsed = parse(export(stores, costs())[0])
    names = {(r["resource_id"], r["resource_name"]) for r in parsed}
    assert ("i-0alice", "web-alice") in names  # the source's name
    assert ("i-0shared", "i-0shared") in names  # no name known: derived from the id
    assert ("", "") in names  # a credit without a resource


def test_formulas_come_out_inert(stores: Stores) -> None:
    _, parsed = parse(export(stores, costs())[0])
    evil = next(r for r in parsed if r["service"].endswith("@evil"))
    assert evil["service"] == "'@evil" and evil["resource_id"] == "'" + HYPERLINK
    assert evil["resource_name"] == "'+cmd"  # a Name tag is text like any other
    _, everyone = parse(export(stores, ALL_USERS)[0])
    eve = next(r for r in everyone if r["user_id"] == "u-eve")
    assert (eve["username"], eve["email"]) == ("'@eve", "'-eve@example.com")
    amounts = {"billed_cost", "effective_cost", "usage_quantity", "share_pct"}
    for row in [*parsed, *everyone]:
        for column, cell in row.items():
            if column not in amounts:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
        ("'=already", "'=already"),
    ],
)
def test_neutralise(cell: str, shown: str) -> None:
    assert neutralise(cell) == shown


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"service": "AmazonEC2"}, lambda r: r.service == "AmazonEC2"),
        ({"resource_id": "i-0shared"}, lambda r: r.resource_id == "i-0shared"),
        ({"search": "SHARED"}, lambda r: "shared" in (r.resource_id or "")),
        ({"search": "evil"}, lambda r: r.service == "@evil"),
        ({"search": "nothing-like-it"}, lambda r: False),
    ],
)
def test_filters_select_the_lines_the_details_table_shows(
    stores: Stores, filters: dict[str, str], expected: object
) -> None:
    _, parsed = parse(export(stores, costs(**filters))[0])
    records = stores.costs.for_owner("u-alice", FIRST, LAST + timedelta(days=1))
    wanted = [r for r in records if expected(r)]  # type: ignore[operator]
    assert [(r["date"], r["resource_id"].lstrip("'")) for r in parsed] == [
        (r.day.isoformat(), r.resource_id or "") for r in wanted
    ]
    if "search" in filters:  # the same lines as tally.reports.cost_lines, whatever the sort
        page = reports.cost_lines(
            View(ALICE, stores, TODAY), "u-alice", start=FIRST, end=LAST,
            search=filters["search"], limit=1000,
        )  # fmt: skip
        assert page.total_count == len(parsed)


# --- final or provisional ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2026, 11, 1), "provisional"),  # October's last day has not arrived yet
        (date(2026, 11, 2), "final"),  # it has (two days' delay), and nothing is estimated
        (date(2026, 11, 15), "final"),
    ],
)
def test_a_closed_month_is_final_once_delivered(today: date, status: str) -> None:
    stores = memory_stores()
    window = [date(2026, 10, 1) + timedelta(days=n) for n in range(31)]
    lines = [line for day in window for line in _lines(day) if not line.estimated]
    ingest_days(lines, window, stores=stores, rule=OwnerTagRule(), source="t", now=NOW)
    request = ExportRequest("costs", date(2026, 10, 1), date(2026, 10, 31), UNALLOCATED)
    meta, _ = parse(export(stores, request, today=today)[0])
    assert meta[-1] == ["# status", status]


def test_any_month_of_the_range_still_open_makes_it_provisional(stores: Stores) -> None:
    october = ExportRequest("costs", date(2026, 10, 27), date(2026, 10, 31), "u-alice")
    assert parse(export(stores, october)[0])[0][-1] == ["# status", "final"]
    assert parse(export(stores, costs())[0])[0][-1] == ["# status", "provisional"]


def test_an_empty_range_still_has_its_header(stores: Stores) -> None:
    request = ExportRequest("costs", date(2026, 1, 1), date(2026, 1, 31), "u-alice")
    data, rows = export(stores, request)
    meta, parsed = parse(data)
    assert rows == 0 and parsed == [] and meta[3] == ["# currency", ""]
    assert data.decode("utf-8-sig").splitlines()[-1].startswith("date,service,")


# --- who may export what -------------------------------------------------------------------


def view(caller: Caller, today: date = TODAY) -> View:
    return View(caller, memory_stores(), today)


def test_a_costs_export_is_of_the_caller_by_default() -> None:
    request = validate_export(view(ALICE), ExportRequest("costs", FIRST, LAST, None))
    assert request.user_id == "u-alice"
    blank = ExportRequest("costs", FIRST, LAST, "  ", service=" ", search="")
    assert validate_export(view(ALICE), blank) == ExportRequest("costs", FIRST, LAST, "u-alice")


@pytest.mark.parametrize(
    ("caller", "kind", "user_id", "allowed"),
    [
        (ALICE, "costs", "u-alice", True),
        (ALICE, "costs", "u-bob", False),
        (ALICE, "costs", ORG, False),
        (ALICE, "costs", UNALLOCATED, False),
        (ALICE, "all-users", None, False),
        (ADMIN, "costs", "u-bob", True),
        (ADMIN, "costs", ORG, True),
        (ADMIN, "costs", UNALLOCATED, True),
        (ADMIN, "all-users", None, True),
    ],
)
def test_who_may_export_what(caller: Caller, kind: str, user_id: str | None, allowed: bool) -> None:
    request = ExportRequest(kind, FIRST, LAST, user_id)
    if allowed:
        assert validate_export(view(caller), request).user_id == user_id
    else:
        with pytest.raises(Forbidden):
            validate_export(view(caller), request)


def test_an_admin_who_needs_two_step_sign_in_cannot_export_everyone() -> None:
    pending_mfa = Caller("u-adm2", "adm2", None, ADMIN.groups, admin_needs_mfa=True)
    with pytest.raises(Forbidden):
        validate_export(view(pending_mfa), ALL_USERS)


@pytest.mark.parametrize(
    ("caller", "request_", "field"),
    [
        (ALICE, ExportRequest("pdf", FIRST, LAST, None), "kind"),
        (ALICE, ExportRequest("costs", LAST, FIRST, None), "endDate"),
        (ADMIN, ExportRequest("all-users", FIRST, LAST, "u-alice"), "userId"),
        (ADMIN, ExportRequest("all-users", FIRST, LAST, None, search="x"), "search"),
        (ADMIN, ExportRequest("all-users", FIRST, LAST, None, resource_id="i-1"), "resourceId"),
        # 367 days, across 29 February 2028
        (ALICE, ExportRequest("costs", date(2027, 2, 28), date(2028, 2, 29), None), "endDate"),
        (ALICE, ExportRequest("costs", date(1999, 12, 31), FIRST, None), "startDate"),
    ],
)
def test_bad_requests(caller: Caller, request_: ExportRequest, field: str) -> None:
    with pytest.raises(Invalid) as raised:
        validate_export(view(caller), request_)
    assert [e.field for e in raised.value.errors] == [field]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2027, 3, 1), date(2028, 2, 29)),  # 366 days, ending on 29 February
        (date(2028, 1, 1), date(2028, 12, 31)),  # the whole leap year
        (date(2028, 3, 1), date(2028, 3, 1)),  # one day
    ],
)
def test_ranges_of_up_to_366_days(start: date, end: date) -> None:
    request = validate_export(view(ALICE, date(2029, 1, 1)), ExportRequest("costs", start, end))
    assert (request.start, request.end) == (start, end)


def test_a_range_across_29_february_exports_every_day() -> None:
    stores = memory_stores()
    stores.users.put(profile(ALICE))
    window = [date(2028, 2, 27) + timedelta(days=n) for n in range(4)]  # 27 Feb .. 1 Mar
    lines = [CostLine(d, "AmazonEC2", "i-1", Decimal("1"), Decimal("1"), "USD",
                      tags={"Owner": "alice"}) for d in window]  # fmt: skip
    ingest_days(lines, window, stores=stores, rule=OwnerTagRule(), source="t", now=NOW)
    request = ExportRequest("costs", window[0], window[-1], "u-alice")
    meta, parsed = parse(export(stores, request, today=date(2028, 3, 20))[0])
    assert [r["date"] for r in parsed] == ["2028-02-27", "2028-02-28", "2028-02-29", "2028-03-01"]
    assert meta[1] == ["# range", "2028-02-27", "2028-03-01"]
