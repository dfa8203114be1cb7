"""Choosing the SQL sources: the ingest's settings (TALLY_COST_SOURCE=athena|duckdb and the
TALLY_ATHENA_* variables) and ``select_source``, against moto's S3."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ingest.settings import ATHENA_VARIABLES, IngestSettings
from tally.settings import ConfigurationError
from tally.sources.athena import AthenaSettings, AthenaSource
from tally.sources.duckdb_source import DuckDbSource
from tally.sources.selection import (
    DEPLOYABLE_SOURCE_KINDS,
    SOURCE_KINDS,
    ExportNotFound,
    select_source,
)
from tests.conftest import table_env
from tests.sources.export_parquet import write_rows

ATHENA_ENV = {
    "TALLY_ATHENA_DATABASE": "tally_billing",
    "TALLY_ATHENA_TABLE": "focus_export",
    "TALLY_ATHENA_WORKGROUP": "Tally-costs",
    "TALLY_ATHENA_OUTPUT": "s3://results/unload/",
}


def own(**values: str) -> dict[str, str | None]:
    return {name: values.get(name) for name in IngestSettings.variables}


def test_athena_settings_are_read_all_together() -> None:
    parsed = IngestSettings.parse(own(TALLY_COST_SOURCE="athena", **ATHENA_ENV))
    assert parsed["cost_source"] == "athena"
    assert {k: parsed[k] for k in parsed if k.startswith("athena_")} == {
        "athena_database": "tally_billing",
        "athena_table": "focus_export",
        "athena_workgroup": "Tally-costs",
        "athena_output": "s3://results/unload/",
    }


@pytest.mark.parametrize("missing", ATHENA_VARIABLES)
def test_athena_without_one_of_its_settings_is_refused_by_name(missing: str) -> None:
    values = {k: v for k, v in ATHENA_ENV.items() if k != missing}
    with pytest.raises(ConfigurationError, match=missing):
        IngestSettings.parse(own(TALLY_COST_SOURCE="athena", **values))


def test_athena_results_go_to_s3() -> None:
    values = {**ATHENA_ENV, "TALLY_ATHENA_OUTPUT": "results/unload/"}
    with pytest.raises(ConfigurationError, match="TALLY_ATHENA_OUTPUT must be an s3:// URI"):
        IngestSettings.parse(own(TALLY_COST_SOURCE="athena", **values))


def test_duckdb_needs_the_export_bucket() -> None:
    with pytest.raises(ConfigurationError, match="TALLY_EXPORT_BUCKET"):
        IngestSettings.parse(own(TALLY_COST_SOURCE="duckdb"))


def test_the_settings_hand_the_athena_source_its_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {**table_env(), "TALLY_COST_SOURCE": "athena", **ATHENA_ENV}.items():
        monkeypatch.setenv(name, value)
    assert IngestSettings.from_env().athena() == AthenaSettings(
        "tally_billing", "focus_export", "Tally-costs", "s3://results/unload/"
    )
    for name in ("TALLY_COST_SOURCE", *ATHENA_VARIABLES):
        monkeypatch.delenv(name)
    assert IngestSettings.from_env().athena() is None


def test_duckdb_is_never_deployed() -> None:
    assert set(SOURCE_KINDS) - set(DEPLOYABLE_SOURCE_KINDS) == {"duckdb"}


class Clients:
    def __init__(self) -> None:
        self.made: list[str] = []

    def __call__(self, service: str, **options: Any) -> Any:
        self.made.append(service)
        return boto3.client(service, region_name="us-east-1", **options)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="exports")
        yield client


def test_the_athena_kind_queries_the_table_through_athena(s3: Any) -> None:
    clients = Clients()
    settings = AthenaSettings("tally_billing", "focus_export", "wg", "s3://results/unload/")
    source = select_source("athena", clients, owner_tag_key="Team", athena=settings)
    assert isinstance(source, AthenaSource)
    assert source.settings == settings
    assert source.query.tag_keys == ("Team",)
    assert sorted(clients.made) == ["athena", "s3"]
    with pytest.raises(ExportNotFound, match="TALLY_ATHENA_"):
        select_source("athena", clients, owner_tag_key="Owner")


def test_the_duckdb_kind_reads_the_parquet_files_of_the_export(s3: Any, tmp_path: Path) -> None:
    row = {
        "BillingPeriodStart": "2026-05-01T00:00:00Z",
        "BillingPeriodEnd": "2026-06-01T00:00:00Z",
        "ChargePeriodStart": "2026-05-03T00:00:00Z",
        "ChargeCategory": "Usage",
        "BilledCost": "2.50",
        "EffectiveCost": "2.50",
        "BillingCurrency": "USD",
        "ServiceName": "AmazonEC2",
        "Tags": '{"Owner": "alice"}',
    }
    (path,) = write_rows([row], tmp_path)
    s3.upload_file(str(path), "exports", f"focus/data/{path.parent.name}/{path.name}")
    s3.put_object(Bucket="exports", Key="focus/data/notes.csv", Body=b"not the export")
    s3.put_object(Bucket="exports", Key="elsewhere/x.parquet", Body=b"not this prefix")

    source = select_source(
        "duckdb",
        Clients(),
        owner_tag_key="Owner",
        export_bucket="exports",
        export_prefix="focus/data/",
    )
    assert isinstance(source, DuckDbSource)
    lines = list(source.fetch(date(2026, 5, 3), date(2026, 5, 4)))
    assert [(line.billed_cost, line.tags) for line in lines] == [
        (Decimal("2.5"), {"Owner": "alice"})
    ]
    with pytest.raises(ExportNotFound, match="TALLY_EXPORT_BUCKET"):
        select_source("duckdb", Clients(), owner_tag_key="Owner")
