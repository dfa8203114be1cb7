"""FOCUS CSV files as the Parquet export AWS Data Exports writes, for the SQL sources' tests.

Typed as the export's table dictionary says (``tally.sources.sql.EXPORT_COLUMNS``: amounts as
``double``, times as UTC milliseconds, ``Tags`` as a map), empty cells as nulls, one folder per
billing period (``BILLING_PERIOD=YYYY-MM``), as the Glue table's partitions are laid out.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tally.sources.focus import parse_timestamp
from tally.sources.sql import EXPORT_COLUMNS

# The CSV's FOCUS names for the lower-case Glue names.
FOCUS_NAMES = {
    name.lower(): name
    for name in (
        "BillingPeriodStart",
        "BillingPeriodEnd",
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "ChargeCategory",
        "ChargeClass",
        "BilledCost",
        "EffectiveCost",
        "BillingCurrency",
        "ServiceName",
        "ResourceId",
        "ResourceName",
        "ConsumedQuantity",
        "ConsumedUnit",
        "PricingQuantity",
        "PricingUnit",
        "Tags",
        "CommitmentDiscountId",
        "CommitmentDiscountStatus",
    )
}
ARROW_TYPES = {
    "timestamp": pa.timestamp("ms", tz="UTC"),
    "double": pa.float64(),
    "string": pa.string(),
    "map<string,string>": pa.map_(pa.string(), pa.string()),
}


def _value(kind: str, text: str | None) -> Any:
    if text is None or not text.strip():
        return None
    if kind == "timestamp":
        return parse_timestamp(text)
    if kind == "double":
        return float(text)
    if kind == "map<string,string>":
        return list(json.loads(text).items())
    return text


def export_schema(*, estimated_column: bool = False) -> pa.Schema:
    fields = [pa.field(FOCUS_NAMES[name], ARROW_TYPES[kind]) for name, kind in EXPORT_COLUMNS]
    if estimated_column:
        fields.append(pa.field("x_Estimated", pa.string()))
    return pa.schema(fields)


def write_rows(
    rows: Iterable[Mapping[str, str]],
    folder: Path,
    *,
    estimated_column: bool = False,
    name: str = "part-00001.parquet",
) -> list[Path]:
    """FOCUS rows (CSV cells) as Parquet under ``folder``, one file per billing period."""
    schema = export_schema(estimated_column=estimated_column)
    by_period: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        typed = {
            FOCUS_NAMES[n]: _value(kind, row.get(FOCUS_NAMES[n])) for n, kind in EXPORT_COLUMNS
        }
        if estimated_column:
            typed["x_Estimated"] = row.get("x_Estimated") or None
        start = typed["BillingPeriodStart"]
        assert isinstance(start, datetime), "every row of an export names its billing period"
        by_period[f"{start:%Y-%m}"].append(typed)
    paths = []
    for period, period_rows in sorted(by_period.items()):
        path = folder / f"BILLING_PERIOD={period}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(period_rows, schema=schema), path)
        paths.append(path)
    return paths


def csv_to_export(csv_path: Path, folder: Path) -> list[Path]:
    """A FOCUS CSV file (the sample, the project's export) as a Parquet export in ``folder``."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        estimated = "x_Estimated" in (reader.fieldnames or [])
        return write_rows(list(reader), folder, estimated_column=estimated)
