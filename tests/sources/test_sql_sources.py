"""The export aggregated with SQL: DuckDB over Parquet reconciles exactly with the direct FOCUS
reader (lines, coverage, estimated days, and the records allocation makes of them), and the
query itself keeps to what both engines read alike."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tally.allocation import OwnerTagRule
from tally.identity import Role
from tally.ingest import IngestResult, run_source
from tally.models import (
    ORG,
    UNALLOCATED,
    Assignment,
    AuditEntry,
    CostLine,
    CostRecord,
    UserProfile,
)
from tally.resources import service_type
from tally.sources import CostSource, SourceFormatError
from tally.sources.duckdb_source import DuckDbSource
from tally.sources.focus import FocusSource
from tally.sources.sql import ExportQuery, exact
from tally.store import Stores, memory_stores
from tests.focus_files import FOCUS_FILES, SAMPLE_TOTALS, TEAMS, FocusFile, focus_file
from tests.sources.export_parquet import csv_to_export, write_rows

MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)
AFTER_MAY = date(2026, 11, 25)  # May's bill long closed
IN_MAY = date(2026, 5, 20)  # May still open: every day estimated


@pytest.fixture(params=FOCUS_FILES)
def export(request: pytest.FixtureRequest, tmp_path: Path) -> FocusFile:
    return focus_file(request.param, tmp_path)


def _key(line: CostLine) -> tuple[object, ...]:
    return (
        line.day,
        line.service,
        line.resource_id or "",
        line.charge_category,
        line.currency,
        line.usage_unit or "",
        tuple(sorted(line.tags.items())),
        line.commitment_id or "",
        line.commitment_status or "",
    )


def _lines(source: CostSource, start: date = MAY, end: date = JUNE) -> list[CostLine]:
    return sorted(source.fetch(start, end), key=_key)


@pytest.mark.parametrize("today", [AFTER_MAY, IN_MAY], ids=["settled", "open"])
def test_duckdb_gives_the_lines_and_coverage_of_the_direct_reader(
    export: FocusFile, tmp_path: Path, today: date
) -> None:
    csv_to_export(export.path, tmp_path / "export")
    direct = FocusSource.from_path(export.path, today=today).fetch(MAY, JUNE)
    via_sql = DuckDbSource(tmp_path / "export", today=today).fetch(MAY, JUNE)

    assert sorted(via_sql, key=_key) == sorted(direct, key=_key)
    assert via_sql.covered_days == direct.covered_days
    assert via_sql.estimated_days == direct.estimated_days
    assert via_sql.unavailable_days == frozenset()


def test_duckdb_reconciles_with_the_export_rows(export: FocusFile, tmp_path: Path) -> None:
    csv_to_export(export.path, tmp_path / "export")
    lines = _lines(DuckDbSource(tmp_path / "export", today=AFTER_MAY))

    billed = sum(line.billed_cost for line in lines)
    effective = sum(line.effective_cost for line in lines)
    assert (billed, effective) == (export.total("BilledCost"), export.total("EffectiveCost"))
    if export.reference:
        assert export.reference == SAMPLE_TOTALS
        assert (billed, effective) == (SAMPLE_TOTALS["billed"], SAMPLE_TOTALS["effective"])
    # Amounts come back as the decimals they are, not with the query's ten places.
    assert all(-line.billed_cost.as_tuple().exponent <= 6 for line in lines)  # type: ignore[operator]


def _stores(export: FocusFile) -> Stores:
    """Two users, the owner tags of two teams mapped to them (the third stays unallocated),
    and the export's busiest resource split between them by explicit assignments (shares
    that multiply the amounts: a scale difference between the sources would show)."""
    stores = memory_stores()
    for name in ("alice", "bob"):
        stores.users.put(UserProfile(name, name, None, Role.USER))
    costs: dict[tuple[str, str], Decimal] = {}
    for row in export.rows():
        if row["ResourceId"]:
            key = (service_type(row["ServiceName"]), row["ResourceId"])
            costs[key] = costs.get(key, Decimal(0)) + Decimal(row["BilledCost"] or "0")
    kind, busiest = max(costs, key=lambda r: costs[r])
    at = datetime(2026, 4, 1, tzinfo=UTC)
    for user, share in (("alice", "33.33"), ("bob", "41.67")):  # 25% left unallocated
        assignment = Assignment(
            f"split-{user}", user, kind, busiest, Decimal(share), None, "test", at, MAY
        )
        audit = AuditEntry(user, at, "test", "assignment.created", assignment.assignment_id, {})
        stores.assignments.create(assignment, audit)
    return stores


def _ingest(source: CostSource, stores: Stores) -> IngestResult:
    rule = OwnerTagRule(explicit={TEAMS[0]: "alice", TEAMS[1]: "bob"})  # the third: unallocated
    now = datetime(2026, 6, 1, tzinfo=UTC)
    result, _ = run_source(source, MAY, JUNE, stores=stores, rule=rule, now=now)
    return result


def _records(stores: Stores) -> list[CostRecord]:
    records = [
        replace(record, source="-")
        for owner in ("alice", "bob", UNALLOCATED, ORG)
        for record in stores.costs.for_owner(owner, MAY, JUNE)
    ]
    return sorted(records, key=lambda r: (r.owner, r.day, r.line_id))


def test_the_same_records_after_allocation(export: FocusFile, tmp_path: Path) -> None:
    csv_to_export(export.path, tmp_path / "export")
    direct_stores, sql_stores = _stores(export), _stores(export)

    direct = _ingest(FocusSource.from_path(export.path, today=AFTER_MAY), direct_stores)
    via_sql = _ingest(DuckDbSource(tmp_path / "export", today=AFTER_MAY), sql_stores)

    assert via_sql == direct
    assert via_sql.owners == {"alice", "bob", UNALLOCATED}
    records = _records(sql_stores)
    assert records == _records(direct_stores)
    assert {r.allocation for r in records} == {"assignment", "tag", "unallocated", "organisation"}
    assert {
        r.source for owner in ("alice", ORG) for r in sql_stores.costs.for_owner(owner, MAY, JUNE)
    } == {"duckdb"}
    if export.reference:
        assert via_sql.totals == {"USD": SAMPLE_TOTALS["billed"]}


def test_a_partial_window_reads_the_rows_charged_in_it(export: FocusFile, tmp_path: Path) -> None:
    csv_to_export(export.path, tmp_path / "export")
    start, end = date(2026, 5, 10), date(2026, 5, 13)
    via_sql = DuckDbSource(tmp_path / "export", today=AFTER_MAY).fetch(start, end)
    lines = list(via_sql)

    assert sum(line.billed_cost for line in lines) == export.total(
        "BilledCost", start=start, end=end
    )
    assert via_sql.covered_days == frozenset({start, date(2026, 5, 11), date(2026, 5, 12)})


def test_a_correction_in_a_later_billing_period_restates_its_day(tmp_path: Path) -> None:
    """Corrections of May that AWS writes into June's billing period still count on May's day;
    a day of May's period without rows is covered as zero."""
    rows = [
        _row("2026-05-03", "10.00", period="2026-05"),
        _row("2026-05-03", "-2.50", period="2026-06"),  # the correction
        _row("2026-06-02", "4.00", period="2026-06"),
    ]
    write_rows(rows, tmp_path)
    fetch = DuckDbSource(tmp_path, today=AFTER_MAY).fetch(date(2026, 5, 1), date(2026, 5, 8))
    lines = list(fetch)

    assert [(line.day, line.billed_cost) for line in lines] == [(date(2026, 5, 3), Decimal("7.5"))]
    assert fetch.covered_days == frozenset(date(2026, 5, d) for d in range(1, 8))


def test_tag_keys_are_quoted_and_read_with_the_user_prefix(tmp_path: Path) -> None:
    rows = [
        _row("2026-05-03", "1.25", tags={"user:Cost's owner": "alice"}),
        _row("2026-05-03", "2.00", tags={"Cost's owner": " bob "}),
        _row("2026-05-03", "4.00", tags={"Cost's owner": ""}),
        _row("2026-05-03", "8.00", tags=None),
    ]
    write_rows(rows, tmp_path)
    source = DuckDbSource(tmp_path, owner_tag_key="Cost's owner", today=AFTER_MAY)
    by_owner = {
        line.tags.get("Cost's owner"): line.billed_cost
        for line in source.fetch(date(2026, 5, 3), date(2026, 5, 4))
    }

    assert by_owner == {"alice": Decimal("1.25"), "bob": Decimal("2"), None: Decimal("12")}


def test_the_query_is_one_select_for_both_engines() -> None:
    query = ExportQuery("tally_billing", "focus_export")
    select = query.select(MAY, JUNE)

    assert query.unload(MAY, JUNE, "s3://results/unload/x/").startswith(f"UNLOAD (\n{select}\n)")
    assert query.copy(MAY, JUNE, "/tmp/r.parquet").startswith(f"COPY (\n{select}\n)")
    # Money is cast through its text (the module's docstring says why); no float survives.
    assert "CAST(nullif(CAST(billedcost AS VARCHAR), '') AS DECIMAL(38, 10))" in select
    assert "billing_period >= '2026-05'" in select
    with pytest.raises(ValueError, match="reversed"):
        query.select(JUNE, MAY)


def test_exact_drops_the_fixed_scale_only() -> None:
    assert exact(Decimal("1.5000000000")) == Decimal("1.5")
    assert str(exact(Decimal("1.5000000000"))) == "1.5"
    assert str(exact(Decimal("120.0000000000"))) == "120"
    assert format(exact(Decimal("-0.0000000001")), "f") == "-0.0000000001"
    assert str(exact(None)) == "0"
    # Arrow writes small decimals with an exponent: still the plain amount.
    assert format(exact("1.000E-7"), "f") == "0.0000001"
    assert str(exact("0E-10")) == "0"
    assert str(exact("-1E-10")) == str(Decimal("-0.0000000001"))


def test_files_outside_billing_period_folders_are_refused(tmp_path: Path) -> None:
    write_rows([_row("2026-05-03", "1.00")], tmp_path)
    flat = tmp_path / "flat"
    flat.mkdir()
    next(tmp_path.rglob("*.parquet")).rename(flat / "part.parquet")
    with pytest.raises(SourceFormatError, match="BILLING_PERIOD"):
        list(DuckDbSource(flat).fetch(MAY, JUNE))
    with pytest.raises(SourceFormatError, match="no Parquet files"):
        list(DuckDbSource(tmp_path / "nothing").fetch(MAY, JUNE))


def _row(
    day: str,
    cost: str,
    *,
    period: str = "2026-05",
    tags: dict[str, str] | None = {"Owner": "alice"},
) -> dict[str, str]:
    first = date.fromisoformat(f"{period}-01")
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return {
        "BillingPeriodStart": f"{first}T00:00:00Z",
        "BillingPeriodEnd": f"{after}T00:00:00Z",
        "ChargePeriodStart": f"{day}T00:00:00Z",
        "ChargePeriodEnd": f"{day}T23:59:59Z",
        "ChargeCategory": "Usage",
        "BilledCost": cost,
        "EffectiveCost": cost,
        "BillingCurrency": "USD",
        "ServiceName": "AmazonEC2",
        "ResourceId": "i-1",
        "ConsumedQuantity": "1",
        "ConsumedUnit": "Hours",
        "Tags": json.dumps(tags) if tags is not None else "",
    }


def test_the_test_export_keeps_the_csv_rows(tmp_path: Path, export: FocusFile) -> None:
    """The conversion itself: one Parquet row per CSV row, in May's billing period folder."""
    import pyarrow.parquet as pq

    paths = csv_to_export(export.path, tmp_path)
    with export.path.open(newline="", encoding="utf-8") as handle:
        rows = sum(1 for _ in csv.DictReader(handle))
    assert sum(pq.read_metadata(p).num_rows for p in paths) == rows
    assert any("BILLING_PERIOD=2026-05" in str(p) for p in paths)


# -- any export: the SQL path and the direct reader agree --------------------------------

_AMOUNTS = st.decimals(
    min_value=Decimal("-5000"), max_value=Decimal("99999"), places=6, allow_nan=False
) | st.sampled_from([Decimal("0"), Decimal("0.0000000417"), Decimal("1637016.4388")])
_TAGS = st.sampled_from(
    [
        {"Owner": "alice"},
        {"user:Owner": "bob"},
        {"Owner": "", "user:Owner": "carol"},
        {"Owner": " alice "},
        {"Environment": "dev"},
        {},
        None,
    ]
)


@st.composite
def _export_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=25))):
        month = draw(st.sampled_from(["2026-04", "2026-05", "2026-06"]))
        period = draw(st.sampled_from([month, "2026-06"]))  # corrections filed later
        if period < month:
            period = month
        row = _row(
            f"{month}-{draw(st.integers(min_value=1, max_value=28)):02d}",
            "0",
            period=period,
            tags=draw(_TAGS),
        )
        consumed = draw(st.sampled_from(["Hours", "", "GB"]))
        row.update(
            {
                "BilledCost": str(draw(_AMOUNTS)),
                "EffectiveCost": str(draw(_AMOUNTS)),
                "ConsumedQuantity": str(draw(_AMOUNTS)) if consumed else "",
                "ConsumedUnit": consumed,
                "PricingQuantity": str(draw(_AMOUNTS)),
                "PricingUnit": draw(st.sampled_from(["Hours", "Units", ""])),
                "ChargeCategory": draw(st.sampled_from(["Usage", "Tax", "Purchase", "Credit"])),
                "ServiceName": draw(st.sampled_from(["AmazonEC2", "AmazonS3", ""])),
                "ResourceId": draw(st.sampled_from(["i-1", "i-2", ""])),
                "BillingCurrency": draw(st.sampled_from(["USD", "EUR"])),
            }
        )
        rows.append(row)
    return rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_export_rows(), today=st.sampled_from([IN_MAY, AFTER_MAY]))
def test_any_export_reads_the_same_through_duckdb(rows: list[dict[str, str]], today: date) -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_rows(rows, Path(folder))
        header = list(rows[0])
        out = io.StringIO()
        writer = csv.DictWriter(out, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        direct = FocusSource.from_bytes(out.getvalue().encode(), today=today).fetch(MAY, JUNE)
        via_sql = DuckDbSource(Path(folder), today=today).fetch(MAY, JUNE)

        assert sorted(via_sql, key=_key) == sorted(direct, key=_key)
        assert via_sql.covered_days == direct.covered_days
        assert via_sql.estimated_days == direct.estimated_days
