"""The Athena source through the emulator's API: moto's Athena takes the query and walks it
through its states (no SQL runs there), and the UNLOAD result it would have written is put in
moto's S3 by the test, recorded by DuckDB from the very same SELECT over the same Parquet.
A failed, cancelled or endless query raises before anything is written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.moto_api import state_manager

from tally.allocation import OwnerTagRule
from tally.ingest import run_source
from tally.models import ORG, CostLine
from tally.sources import CostSourceError
from tally.sources.athena import AthenaSettings, AthenaSource, backoff_delays, split_s3_uri
from tally.sources.duckdb_source import DuckDbSource
from tally.store import memory_stores
from tests.focus_files import project_export
from tests.sources.export_parquet import csv_to_export

MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)
AFTER_MAY = date(2026, 11, 25)
TOKEN = "0123456789abcdef0123456789abcdef"
SETTINGS = AthenaSettings(
    database="tally_billing",
    table="focus_export",
    workgroup="tally-costs",
    output="s3://tally-athena-results/unload/",
)
EXECUTION = "athena::execution"


@pytest.fixture
def aws(moto_module: None) -> Iterator[dict[str, Any]]:
    """moto's Athena (a workgroup as CDK makes it) and S3; each get_query_execution moves a
    query one state on (QUEUED -> RUNNING -> SUCCEEDED), so the poll loop has to wait."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="tally-athena-results")
    athena = boto3.client("athena", region_name="us-east-1")
    athena.create_work_group(  # as infra/constructs/athena.py makes it
        Name=SETTINGS.workgroup,
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://tally-athena-results/query-results/"},
            "EnforceWorkGroupConfiguration": True,
            "BytesScannedCutoffPerQuery": 10 * 1024**3,
        },
    )
    state_manager.set_transition(EXECUTION, {"progression": "manual", "times": 1})
    yield {"athena": athena, "s3": s3}
    state_manager.unset_transition(EXECUTION)
    athena.delete_work_group(WorkGroup=SETTINGS.workgroup, RecursiveDeleteOption=True)
    for item in s3.list_objects_v2(Bucket="tally-athena-results").get("Contents", []):
        s3.delete_object(Bucket="tally-athena-results", Key=item["Key"])
    s3.delete_bucket(Bucket="tally-athena-results")


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("athena")
    csv_to_export(project_export(folder).path, folder / "export")
    return folder / "export"


def _source(aws: dict[str, Any], **options: Any) -> tuple[AthenaSource, list[float]]:
    slept: list[float] = []
    options.setdefault("sleep", slept.append)
    source = AthenaSource(
        aws["athena"],
        aws["s3"],
        SETTINGS,
        today=AFTER_MAY,
        new_token=lambda: TOKEN,
        **options,
    )
    return source, slept


def _record_result(aws: dict[str, Any], export: Path, tmp_path: Path, *, parts: int = 1) -> str:
    """What Athena's UNLOAD writes, made by DuckDB from the same SELECT: the file(s) under
    the query's result folder in S3. Returns the SQL DuckDB ran."""
    recorder = DuckDbSource(export)
    result = tmp_path / "result.parquet"
    recorder.aggregate(export, MAY, JUNE, str(result))
    bucket, prefix = split_s3_uri(
        AthenaSource(None, None, SETTINGS).result_location(MAY, JUNE, TOKEN)
    )
    import pyarrow.parquet as pq

    table = pq.read_table(result)
    size = -(-table.num_rows // parts)
    for n in range(parts):  # Athena writes several files for a large result
        piece = tmp_path / f"part-{n}.parquet"
        pq.write_table(table.slice(n * size, size), piece)
        aws["s3"].upload_file(str(piece), bucket, f"{prefix}20261125_{n:05d}_abc")
    aws["s3"].put_object(Bucket=bucket, Key=f"{prefix}{TOKEN}-manifest.csv", Body=b"")
    assert recorder.last_sql is not None
    return recorder.last_sql


def _key(line: CostLine) -> tuple[object, ...]:
    return (
        line.day,
        line.service,
        line.resource_id or "",
        line.charge_category,
        line.currency,
        line.usage_unit or "",
        tuple(sorted(line.tags.items())),
    )


def test_the_unload_result_is_read_as_duckdb_reads_it(
    aws: dict[str, Any], export: Path, tmp_path: Path
) -> None:
    duckdb_sql = _record_result(aws, export, tmp_path, parts=3)
    source, slept = _source(aws)

    fetch = source.fetch(MAY, JUNE)
    lines = sorted(fetch, key=_key)

    local = DuckDbSource(export, today=AFTER_MAY).fetch(MAY, JUNE)
    assert lines == sorted(local, key=_key)
    assert fetch.covered_days == local.covered_days
    assert fetch.estimated_days == local.estimated_days == frozenset()
    assert fetch.requests == 1
    # The first poll finds it RUNNING, the second SUCCEEDED: one wait, the shortest.
    assert slept == [0.5]
    execution = aws["athena"].get_query_execution(QueryExecutionId=source.query_id)[
        "QueryExecution"
    ]
    assert execution["WorkGroup"] == "tally-costs"
    assert execution["QueryExecutionContext"] == {"Database": "tally_billing"}
    # Athena ran the SELECT DuckDB ran, only wrapped in UNLOAD instead of COPY.
    select = duckdb_sql.removeprefix("COPY (\n").rsplit("\n) TO ", 1)[0]
    location = source.result_location(MAY, JUNE, TOKEN)
    assert execution["Query"] == (
        f"UNLOAD (\n{select}\n) TO '{location}' WITH (format = 'PARQUET', compression = 'SNAPPY')"
    )


def test_an_empty_result_covers_no_day(aws: dict[str, Any]) -> None:
    """A window of no billing period and no rows writes no file: nothing is replaced (a run
    that read nothing must not wipe stored days)."""
    source, _ = _source(aws)
    fetch = source.fetch(MAY, JUNE)
    assert list(fetch) == []
    assert fetch.covered_days == frozenset()


def test_a_cancelled_query_fails_the_run_and_writes_nothing(
    aws: dict[str, Any], export: Path, tmp_path: Path
) -> None:
    _record_result(aws, export, tmp_path)
    athena = aws["athena"]

    def cancel_while_waiting(seconds: float) -> None:  # someone stops it in the console
        athena.stop_query_execution(QueryExecutionId=source.query_id)

    source, _ = _source(aws, sleep=cancel_while_waiting)
    stores = memory_stores()
    with pytest.raises(CostSourceError, match="CANCELLED"):
        run_source(
            source,
            MAY,
            JUNE,
            stores=stores,
            rule=OwnerTagRule(),
            now=datetime(2026, 6, 1, tzinfo=UTC),
        )
    assert stores.costs.for_owner(ORG, MAY, JUNE) == []
    assert stores.rollups.get(ORG, "2026-05") is None


def test_a_failed_query_names_athenas_reason_and_writes_nothing() -> None:
    """moto never fails a query: botocore's Stubber gives Athena's exact FAILED shape."""
    athena = boto3.client("athena", region_name="us-east-1")
    stub = Stubber(athena)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    reason = "Query exhausted resources: bytes scanned limit was exceeded"
    for state in ("RUNNING", "FAILED"):
        status: dict[str, Any] = {"State": state}
        if state == "FAILED":
            status["StateChangeReason"] = reason
            status["AthenaError"] = {"ErrorCategory": 2, "ErrorType": 1101}
        stub.add_response(
            "get_query_execution",
            {"QueryExecution": {"QueryExecutionId": "q-1", "Status": status}},
            {"QueryExecutionId": "q-1"},
        )
    slept: list[float] = []
    source = AthenaSource(athena, None, SETTINGS, today=AFTER_MAY, sleep=slept.append)
    stores = memory_stores()
    with stub, pytest.raises(CostSourceError, match="FAILED: Query exhausted resources"):
        run_source(
            source,
            MAY,
            JUNE,
            stores=stores,
            rule=OwnerTagRule(),
            now=datetime(2026, 6, 1, tzinfo=UTC),
        )
    stub.assert_no_pending_responses()
    assert slept == [0.5]
    assert stores.costs.for_owner(ORG, MAY, JUNE) == []


def test_a_query_that_outlives_the_wait_is_stopped(aws: dict[str, Any]) -> None:
    state_manager.set_transition(EXECUTION, {"progression": "manual", "times": 1000})
    source, slept = _source(aws, max_wait_seconds=20)

    with pytest.raises(CostSourceError, match="still QUEUED after 26 s; stopped"):
        list(source.fetch(MAY, JUNE))
    # Waited in all 25.5 s of backoff (no clock read), then stopped the query.
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    execution = aws["athena"].get_query_execution(QueryExecutionId=source.query_id)
    assert execution["QueryExecution"]["Status"]["State"] == "CANCELLED"


def test_an_api_error_is_a_source_error(aws: dict[str, Any]) -> None:
    stub = Stubber(aws["athena"])
    stub.add_client_error(
        "start_query_execution", "InvalidRequestException", "Database does not exist"
    )
    source, _ = _source(aws)
    with stub, pytest.raises(CostSourceError, match="Database does not exist"):
        list(source.fetch(MAY, JUNE))


def test_backoff_doubles_up_to_its_cap() -> None:
    delays = backoff_delays()
    assert [next(delays) for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_settings_need_an_s3_output() -> None:
    with pytest.raises(ValueError, match="s3://"):
        AthenaSettings("db", "t", "wg", "/tmp/results")
    assert split_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b/")
