"""FOCUS export source: the project's own export and the shared AWS sample ingest completely
and reconcile exactly; small hand-made files pin down each rule."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tally.models import CostLine
from tally.sources import FetchNotFinished, SourceFormatError
from tally.sources.focus import FocusSource, parse_timestamp
from tests.focus_files import FOCUS_FILES, FocusFile, daily_charges, focus_file

MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)
AFTER_MAY = date(2026, 11, 25)  # May's bill long closed


@pytest.fixture(params=FOCUS_FILES)
def export(request: pytest.FixtureRequest, tmp_path: Path) -> FocusFile:
    return focus_file(request.param, tmp_path)


def fetch_all(source: FocusSource, start: date = MAY, end: date = JUNE) -> list[CostLine]:
    return list(source.fetch(start, end))


HEADER = [
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "ServiceName",
    "ResourceId",
    "Tags",
]


def focus_csv(rows: list[dict[str, str]], header: list[str] = HEADER) -> bytes:
    """A small FOCUS file for May 2026; each row fills in defaults for columns it omits."""
    defaults = {
        "BillingPeriodStart": "2026-05-01T00:00:00Z",
        "BillingPeriodEnd": "2026-06-01T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "BilledCost": "0",
        "EffectiveCost": "0",
        "BillingCurrency": "USD",
        "ConsumedQuantity": "1",
        "ConsumedUnit": "Hours",
        "PricingQuantity": "1",
        "PricingUnit": "Hours",
        "ServiceName": "AmazonEC2",
        "ResourceId": "i-1",
        "Tags": json.dumps({"Owner": "alice", "Environment": "dev"}),
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: v for k, v in {**defaults, **row}.items() if k in header})
    return out.getvalue().encode()


def hour(day: int, h: int) -> dict[str, str]:
    start = datetime(2026, 5, day, h)
    return {
        "ChargePeriodStart": start.strftime("%Y-%m-%dT%H:00:00Z"),
        "ChargePeriodEnd": start.replace(hour=h).strftime("%Y-%m-%dT%H:59:59Z"),
    }


# -- whole exports: the project's own and the shared sample ------------------------------


def test_export_reconciles_with_its_rows(export: FocusFile) -> None:
    fetch = FocusSource.from_path(export.path, today=AFTER_MAY).fetch(MAY, JUNE)
    lines = list(fetch)

    billed = sum(line.billed_cost for line in lines)
    effective = sum(line.effective_cost for line in lines)
    assert (billed, effective) == (export.total("BilledCost"), export.total("EffectiveCost"))
    assert billed != effective  # the file tells the two metrics apart
    if export.reference:
        assert (billed, effective) == (export.reference["billed"], export.reference["effective"])
    assert fetch.covered_days == frozenset(date(2026, 5, d) for d in range(1, 32))
    # The generator marks its last two days estimated; without the column, May is settled.
    estimated = {date(2026, 5, 30), date(2026, 5, 31)} if export.estimated_column else set()
    assert fetch.estimated_days == estimated
    assert {line.day for line in lines if line.estimated} == estimated
    assert fetch.requests == 0
    assert all(MAY <= line.day < JUNE and line.currency == "USD" for line in lines)


def test_export_per_owner_totals_equal_the_rows_carrying_that_tag(export: FocusFile) -> None:
    billed: dict[str | None, Decimal] = defaultdict(Decimal)
    effective: dict[str | None, Decimal] = defaultdict(Decimal)
    for line in fetch_all(FocusSource.from_path(export.path, today=AFTER_MAY)):
        billed[line.tags.get("Owner")] += line.billed_cost
        effective[line.tags.get("Owner")] += line.effective_cost

    assert set(billed) == export.owners
    assert billed == export.totals("BilledCost", key="Owner")
    assert effective == export.totals("EffectiveCost", key="Owner")


def test_export_keeps_charge_categories_apart(export: FocusFile) -> None:
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    lines = fetch_all(FocusSource.from_path(export.path, today=AFTER_MAY))
    for line in lines:
        by_category[line.charge_category] += line.billed_cost

    assert by_category == export.totals("BilledCost", key="ChargeCategory")
    assert set(by_category) == export.categories
    assert all(line.resource_id is None for line in lines if line.charge_category == "Tax")
    assert len({line.service for line in lines}) >= 5
    # Only the tag allocation reads is kept on the line.
    assert {key for line in lines for key in line.tags} == {"Owner"}


def test_export_partial_range_holds_exactly_the_rows_starting_in_it(export: FocusFile) -> None:
    start, end = date(2026, 5, 10), date(2026, 5, 13)
    fetch = FocusSource.from_path(export.path, today=AFTER_MAY).fetch(start, end)
    lines = list(fetch)
    assert sum(line.billed_cost for line in lines) == export.total(
        "BilledCost", start=start, end=end
    )
    assert {line.day for line in lines} <= {date(2026, 5, d) for d in (10, 11, 12)}
    assert fetch.covered_days == {date(2026, 5, 10), date(2026, 5, 11), date(2026, 5, 12)}


def test_gzip_parquet_and_s3_give_the_same_lines_as_the_plain_file(export: FocusFile) -> None:
    import boto3
    import pyarrow as pa
    import pyarrow.parquet as pq
    from moto import mock_aws

    raw = export.path.read_bytes()
    plain = fetch_all(FocusSource.from_bytes(raw, today=AFTER_MAY))
    assert fetch_all(FocusSource.from_bytes(gzip.compress(raw), today=AFTER_MAY)) == plain

    # Every column as text, as a CSV-to-Parquet conversion writes it.
    parquet = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(export.rows()), parquet)
    assert fetch_all(FocusSource.from_bytes(parquet.getvalue(), today=AFTER_MAY)) == plain

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="exports")
        s3.put_object(Bucket="exports", Key="focus/2026-05/part-0.csv.gz", Body=gzip.compress(raw))
        source = FocusSource.from_s3(s3, "exports", "focus/2026-05/part-0.csv.gz", today=AFTER_MAY)
        assert fetch_all(source) == plain


def test_the_project_export_covers_two_billing_periods(tmp_path: Path) -> None:
    export = focus_file("project", tmp_path)
    april = date(2026, 4, 1)
    source = FocusSource.from_path(export.path, today=AFTER_MAY)
    fetch = source.fetch(april, JUNE)
    lines = list(fetch)
    assert sum(line.billed_cost for line in lines) == export.total("BilledCost", start=april)
    assert len(fetch.covered_days) == 61
    assert source.billing_window() == (april, JUNE)


def test_s3_export_split_in_parts_is_read_as_one() -> None:
    import boto3
    from moto import mock_aws

    from tally.sources.focus import list_export_keys

    part1 = focus_csv([{**hour(3, 1), "BilledCost": "1.5"}])
    part2 = focus_csv([{**hour(3, 2), "BilledCost": "2.25"}])
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="exports")
        s3.put_object(Bucket="exports", Key="focus/data/part-1.csv", Body=part1)
        s3.put_object(Bucket="exports", Key="focus/data/part-2.csv.gz", Body=gzip.compress(part2))
        s3.put_object(Bucket="exports", Key="focus/metadata/manifest.json", Body=b"{}")
        keys = list_export_keys(s3, "exports", "focus/")
        assert keys == ["focus/data/part-1.csv", "focus/data/part-2.csv.gz"]
        lines = fetch_all(FocusSource.from_s3(s3, "exports", keys, today=AFTER_MAY))
    assert [(line.day, line.billed_cost) for line in lines] == [(date(2026, 5, 3), Decimal("3.75"))]


# -- roll-up to days ------------------------------------------------------------------------


def test_hourly_rows_roll_up_to_one_line_per_day_and_owner() -> None:
    rows = [
        {**hour(2, h), "BilledCost": "0.100000", "EffectiveCost": "0.080000"} for h in range(24)
    ]
    rows.append({**hour(2, 5), "BilledCost": "1", "Tags": json.dumps({"Owner": "bob"})})
    rows.append({**hour(2, 23), "BilledCost": "2", "Tags": "{}"})
    rows.append({**hour(3, 0), "BilledCost": "0.5"})
    lines = fetch_all(FocusSource.from_bytes(focus_csv(rows), today=AFTER_MAY))

    summary = {
        (line.day.day, line.tags.get("Owner")): (
            line.billed_cost,
            line.effective_cost,
            line.usage_quantity,
        )
        for line in lines
    }
    assert summary == {
        (2, "alice"): (Decimal("2.400000"), Decimal("1.920000"), Decimal("24")),
        (2, "bob"): (Decimal("1"), Decimal("0"), Decimal("1")),
        (2, None): (Decimal("2"), Decimal("0"), Decimal("1")),
        (3, "alice"): (Decimal("0.5"), Decimal("0"), Decimal("1")),
    }
    line = next(line for line in lines if line.tags == {"Owner": "alice"})
    assert (line.service, line.resource_id, line.usage_unit, line.currency) == (
        "AmazonEC2",
        "i-1",
        "Hours",
        "USD",
    )


def test_lines_differing_in_category_unit_or_resource_stay_apart() -> None:
    rows = [
        {**hour(4, 1), "BilledCost": "1"},
        {**hour(4, 2), "BilledCost": "2", "ConsumedUnit": "GB", "ConsumedQuantity": "10"},
        {**hour(4, 3), "BilledCost": "3", "ResourceId": "i-2"},
        {**hour(4, 4), "BilledCost": "-4", "ChargeCategory": "Credit"},
        {
            **hour(4, 5),
            "BilledCost": "5",
            "ChargeCategory": "Tax",
            "ResourceId": "",
            "ConsumedUnit": "",
            "ConsumedQuantity": "",
            "PricingUnit": "",
            "PricingQuantity": "",
        },
        {
            **hour(4, 6),
            "BilledCost": "6",
            "ChargeCategory": "Purchase",
            "ConsumedUnit": "",
            "ConsumedQuantity": "",
            "PricingUnit": "Units",
            "PricingQuantity": "1",
        },
    ]
    lines = fetch_all(FocusSource.from_bytes(focus_csv(rows), today=AFTER_MAY))
    found = {
        (line.charge_category, line.resource_id, line.usage_unit, line.usage_quantity)
        for line in lines
    }
    assert found == {
        ("Usage", "i-1", "Hours", Decimal("1")),
        ("Usage", "i-1", "GB", Decimal("10")),
        ("Usage", "i-2", "Hours", Decimal("1")),
        ("Credit", "i-1", "Hours", Decimal("1")),
        ("Tax", None, None, Decimal("0")),
        ("Purchase", "i-1", "Units", Decimal("1")),
    }
    assert sum(line.billed_cost for line in lines) == Decimal("13")


def test_a_charge_spanning_days_is_booked_on_its_first_day() -> None:
    rows = [
        {
            "ChargePeriodStart": "2026-05-01T00:00:00Z",
            "ChargePeriodEnd": "2026-06-01T00:00:00Z",
            "BilledCost": "31",
        }
    ]
    source = FocusSource.from_bytes(focus_csv(rows), today=AFTER_MAY)
    assert [(line.day, line.billed_cost) for line in fetch_all(source)] == [(MAY, Decimal("31"))]
    assert fetch_all(source, date(2026, 5, 2), JUNE) == []


def test_owner_tag_with_user_prefix_and_custom_tag_key() -> None:
    rows = [
        {**hour(6, 1), "BilledCost": "1", "Tags": json.dumps({"user:Owner": "carol"})},
        {**hour(6, 2), "BilledCost": "2", "Tags": json.dumps({"team": "data", "Owner": "x"})},
    ]
    data = focus_csv(rows)
    owners = {line.tags.get("Owner") for line in fetch_all(FocusSource.from_bytes(data))}
    assert owners == {"carol", "x"}
    teams = fetch_all(FocusSource.from_bytes(data, owner_tag_key="team"))
    assert {line.billed_cost: line.tags.get("team") for line in teams} == {
        Decimal("2"): "data",
        Decimal("1"): None,
    }


def test_corrections_are_summed_into_the_day_they_restate() -> None:
    rows = [
        {**hour(7, 1), "BilledCost": "10"},
        {**hour(7, 1), "BilledCost": "-2.5", "ChargeClass": "Correction"},
    ]
    lines = fetch_all(FocusSource.from_bytes(focus_csv(rows), today=AFTER_MAY))
    assert [(line.day, line.billed_cost) for line in lines] == [(date(2026, 5, 7), Decimal("7.5"))]


# -- coverage and estimated days --------------------------------------------------------------


def test_days_of_the_billing_period_without_rows_are_covered_as_zero() -> None:
    fetch = FocusSource.from_bytes(focus_csv([{**hour(2, 1), "BilledCost": "1"}])).fetch(
        date(2026, 4, 28), date(2026, 5, 4)
    )
    lines = list(fetch)
    assert [line.day for line in lines] == [date(2026, 5, 2)]
    # April is not in this file's billing period: those days are left as stored.
    assert fetch.covered_days == {date(2026, 5, d) for d in (1, 2, 3)}


def test_open_billing_period_is_estimated_until_it_settles() -> None:
    data = focus_csv([{**hour(2, 1), "BilledCost": "1"}])
    during = FocusSource.from_bytes(data, today=date(2026, 5, 20)).fetch(MAY, JUNE)
    lines = list(during)
    assert all(line.estimated for line in lines)
    assert during.estimated_days == during.covered_days

    just_after = FocusSource.from_bytes(data, today=date(2026, 6, 3)).fetch(MAY, JUNE)
    list(just_after)
    assert len(just_after.estimated_days) == 31

    settled = FocusSource.from_bytes(data, today=date(2026, 6, 6)).fetch(MAY, JUNE)
    assert not any(line.estimated for line in settled)
    assert settled.estimated_days == frozenset()


def test_x_estimated_column_decides_when_present() -> None:
    header = [*HEADER, "x_Estimated"]
    rows = [
        {**hour(8, 1), "BilledCost": "1", "x_Estimated": "false"},
        {**hour(9, 1), "BilledCost": "1", "x_Estimated": "false"},
        {**hour(9, 2), "BilledCost": "1", "x_Estimated": "true"},
    ]
    fetch = FocusSource.from_bytes(focus_csv(rows, header), today=date(2026, 5, 20)).fetch(
        MAY, JUNE
    )
    estimated = {line.day: line.estimated for line in fetch}
    assert estimated == {date(2026, 5, 8): False, date(2026, 5, 9): True}
    assert fetch.estimated_days == {date(2026, 5, 9)}


def test_coverage_needs_an_exhausted_fetch() -> None:
    fetch = FocusSource.from_bytes(focus_csv([hour(2, 1)])).fetch(MAY, JUNE)
    with pytest.raises(FetchNotFinished):
        _ = fetch.covered_days
    list(fetch)
    assert fetch.finished


# -- the days a file replaces -------------------------------------------------------------


def test_a_file_replaces_every_day_of_its_billing_period_not_just_its_rows() -> None:
    corrected = daily_charges([(date(2026, 1, d), "alice", "2.00") for d in (1, 2, 3)])
    assert FocusSource.from_bytes(corrected).billing_window() == (
        date(2026, 1, 1),
        date(2026, 2, 1),
    )


@pytest.mark.parametrize(
    ("days", "window"),
    [
        ([date(2028, 2, 29)], (date(2028, 2, 1), date(2028, 3, 1))),
        ([date(2028, 3, 1)], (date(2028, 3, 1), date(2028, 4, 1))),
        ([date(2026, 12, 31), date(2027, 1, 1)], (date(2026, 12, 1), date(2027, 2, 1))),
        ([date(2026, 4, 30), date(2026, 6, 15)], (date(2026, 4, 1), date(2026, 7, 1))),
    ],
)
def test_the_window_spans_the_billing_periods_over_the_calendar(
    days: list[date], window: tuple[date, date]
) -> None:
    data = daily_charges([(day, None, "1") for day in days])
    assert FocusSource.from_bytes(data).billing_window() == window


def test_without_billing_period_columns_a_file_covers_its_charge_days() -> None:
    data = daily_charges(
        [(date(2026, 1, 5), "alice", "4"), (date(2026, 1, 2), None, "1")], billing_periods=False
    )
    assert FocusSource.from_bytes(data).billing_window() == (date(2026, 1, 2), date(2026, 1, 6))


def test_the_window_holds_every_row_and_every_part() -> None:
    rows = [
        {**hour(20, 1), "BilledCost": "1"},
        # A correction billed in May for a day of April: that day is read too.
        {**hour(2, 3), "ChargePeriodStart": "2026-04-29T03:00:00Z", "ChargeClass": "Correction"},
        # A period ending inside a day still covers that day.
        {**hour(3, 1), "BillingPeriodEnd": "2026-06-01T12:00:00Z"},
    ]
    june = daily_charges([(date(2026, 6, 30), None, "1")])
    source = FocusSource.from_bytes(focus_csv(rows), june)
    assert source.billing_window() == (date(2026, 4, 29), date(2026, 7, 1))


def test_a_file_without_rows_or_with_a_bad_date_has_no_window() -> None:
    with pytest.raises(SourceFormatError, match="no rows"):
        FocusSource.from_bytes(focus_csv([])).billing_window()
    bad = focus_csv([{**hour(2, 1)}, {**hour(2, 2), "BillingPeriodEnd": "June"}])
    with pytest.raises(SourceFormatError, match="row 3"):
        FocusSource.from_bytes(bad).billing_window()


# -- bad input ----------------------------------------------------------------------------


def test_a_file_without_focus_columns_is_rejected() -> None:
    with pytest.raises(SourceFormatError, match="BilledCost"):
        fetch_all(FocusSource.from_bytes(b"Cost,Date\n1,2026-05-01\n"))


@pytest.mark.parametrize(
    ("field", "value"),
    [("BilledCost", "twelve"), ("Tags", "{not json"), ("ChargePeriodStart", "")],
)
def test_a_bad_row_fails_loudly_with_its_row_number(field: str, value: str) -> None:
    rows = [{**hour(2, 1), "BilledCost": "1"}, {**hour(2, 2), field: value}]
    with pytest.raises(SourceFormatError, match="row 3"):
        fetch_all(FocusSource.from_bytes(focus_csv(rows)))


def test_parquet_with_typed_columns_gives_the_same_lines_as_csv() -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")

    rows = [{**hour(2, h), "BilledCost": f"0.{h + 1}", "EffectiveCost": "0.05"} for h in range(3)]
    rows.append({**hour(2, 4), "BilledCost": "7", "Tags": json.dumps({"Owner": "bob"})})
    data = focus_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(data.decode())))

    # As Data Exports writes Parquet: timestamps, decimals and a map of tags, not strings.
    def ts(text: str) -> datetime:
        return parse_timestamp(text)

    money = pa.decimal128(20, 6)
    table = pa.table(
        {
            "BillingPeriodStart": pa.array(
                [ts(r["BillingPeriodStart"]) for r in parsed], pa.timestamp("ms", tz="UTC")
            ),
            "BillingPeriodEnd": pa.array(
                [ts(r["BillingPeriodEnd"]) for r in parsed], pa.timestamp("ms", tz="UTC")
            ),
            "ChargePeriodStart": pa.array(
                [ts(r["ChargePeriodStart"]) for r in parsed], pa.timestamp("ms", tz="UTC")
            ),
            "ChargeCategory": [r["ChargeCategory"] for r in parsed],
            "BilledCost": pa.array([Decimal(r["BilledCost"]) for r in parsed], money),
            "EffectiveCost": pa.array([Decimal(r["EffectiveCost"]) for r in parsed], money),
            "BillingCurrency": [r["BillingCurrency"] for r in parsed],
            "ConsumedQuantity": pa.array([float(r["ConsumedQuantity"]) for r in parsed]),
            "ConsumedUnit": [r["ConsumedUnit"] for r in parsed],
            "ServiceName": [r["ServiceName"] for r in parsed],
            "ResourceId": [r["ResourceId"] for r in parsed],
            "Tags": pa.array(
                [list(json.loads(r["Tags"]).items()) for r in parsed],
                pa.map_(pa.string(), pa.string()),
            ),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)

    from_parquet = fetch_all(FocusSource.from_bytes(out.getvalue(), today=AFTER_MAY))
    from_csv = fetch_all(FocusSource.from_bytes(data, today=AFTER_MAY))

    def shape(lines: list[CostLine]) -> list[tuple[object, ...]]:
        return [(x.day, x.tags, x.billed_cost, x.effective_cost, x.resource_id) for x in lines]

    assert shape(from_parquet) == shape(from_csv)
    assert FocusSource.from_bytes(out.getvalue()).billing_window() == (MAY, JUNE)
    assert sum(line.billed_cost for line in from_parquet) == Decimal("7.6")


def test_the_billing_currency_is_the_costs_currency_whatever_it_was_priced_in() -> None:
    # FOCUS: BilledCost and EffectiveCost are in BillingCurrency; PricingCurrency (with
    # ListUnitPrice and the like) is what the price list was in. A line priced in USD and
    # billed in EUR is a EUR cost: issue 17 converts from the billed figure, never the price.
    header = [*HEADER, "PricingCurrency", "ListUnitPrice"]
    rows = [
        {**hour(2, 0), "BilledCost": "9.20", "EffectiveCost": "9.20", "BillingCurrency": "EUR",
         "PricingCurrency": "USD", "ListUnitPrice": "10.00"},
        {**hour(2, 1), "BilledCost": "3.00", "EffectiveCost": "3.00", "BillingCurrency": "USD",
         "PricingCurrency": "USD", "ListUnitPrice": "3.00"},
    ]  # fmt: skip
    lines = fetch_all(FocusSource.from_bytes(focus_csv(rows, header), today=AFTER_MAY))
    by_currency = {line.currency: line.billed_cost for line in lines}
    assert by_currency == {"EUR": Decimal("9.20"), "USD": Decimal("3.00")}


def test_a_resource_is_named_by_its_resource_name_else_its_name_tag() -> None:
    header = [*HEADER, "ResourceName"]
    data = focus_csv(
        [
            {**hour(3, 0), "ResourceId": "i-1", "ResourceName": "", "BilledCost": "1"},
            {**hour(3, 1), "ResourceId": "i-1", "ResourceName": "web-1", "BilledCost": "1"},
            {
                **hour(3, 0),
                "ResourceId": "i-2",
                "Tags": json.dumps({"Owner": "alice", "Name": "batch-2"}),
            },
            {**hour(3, 0), "ResourceId": "i-3"},
        ],
        header,
    )
    lines = fetch_all(FocusSource.from_bytes(data, today=AFTER_MAY))
    assert {line.resource_id: line.resource_name for line in lines} == {
        "i-1": "web-1",  # one line a day: the name is not part of its key
        "i-2": "batch-2",
        "i-3": None,  # only the id names it (tally.names derives "i-3")
    }
    assert len(lines) == 3
