"""``make bench``, sources section: the direct FOCUS reader against the SQL aggregate.

A generated FOCUS export in Parquet, as Data Exports writes it (one ``BILLING_PERIOD=`` folder,
one row group per day), of ``users`` x ``resources`` x ``days`` hourly-free daily rows (the
issue's 10,000 x 50 x 30 = 15 million by default), written once into a temporary folder and
streamed day by day, so the generator never holds the export. Each source then reads the whole
window in a fresh interpreter of its own, so its peak resident memory (``ru_maxrss``) is its
own: ``FocusSource`` rolls every row up in Python; ``DuckDbSource`` runs the Athena query in
DuckDB and streams its Parquet result. Both must give the same lines and totals (the bench
says so). Times are this machine's; figures, never assertions.

A quick run: ``PYTHONPATH=layers:functions:. python -m tests.bench.sources --users 500``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

USERS, RESOURCES, DAYS = 10_000, 50, 30
START = date(2026, 11, 1)  # one billing period: November 2026
TODAY = date(2026, 12, 20)  # November settled: nothing estimated
SERVICES = ("AmazonEC2", "AmazonRDS", "AmazonS3", "AWSLambda", "AmazonCloudWatch")
REPO = Path(__file__).resolve().parents[2]

Rows = Iterator[tuple[str, object]]


def generate(folder: Path, users: int, resources: int, days: int) -> tuple[Path, int]:
    """The export, one row group per day; returns its file and row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.sources.export_parquet import export_schema

    schema = export_schema()
    first = datetime.combine(START, datetime.min.time(), tzinfo=UTC)
    period_end = datetime(2026, 12, 1, tzinfo=UTC)
    path = folder / "BILLING_PERIOD=2026-11" / "bench-00001.snappy.parquet"
    path.parent.mkdir(parents=True)
    count = users * resources
    # The same for every day: ids, services, tags; amounts vary by resource (exact decimals).
    resource_ids = [
        f"arn:aws:ec2:us-east-1:123456789012:instance/i-{u:05d}{r:03d}"
        for u in range(users)
        for r in range(resources)
    ]
    services = [SERVICES[r % len(SERVICES)] for _ in range(users) for r in range(resources)]
    tags = [
        [("Owner", f"user{u:05d}"), ("Environment", "prod")]
        for u in range(users)
        for _ in range(resources)
    ]
    billed = [
        round(0.01 * (1 + r % 97) + 0.000123 * (u % 13), 6)
        for u in range(users)
        for r in range(resources)
    ]
    effective = [round(b * 0.9, 6) for b in billed]
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        for d in range(days):
            day = first + timedelta(days=d)
            table = pa.table(
                {
                    "BillingPeriodStart": pa.array(
                        [first] * count, schema.field("BillingPeriodStart").type
                    ),
                    "BillingPeriodEnd": pa.array(
                        [period_end] * count, schema.field("BillingPeriodEnd").type
                    ),
                    "ChargePeriodStart": pa.array(
                        [day] * count, schema.field("ChargePeriodStart").type
                    ),
                    "ChargePeriodEnd": pa.array(
                        [day + timedelta(days=1)] * count, schema.field("ChargePeriodEnd").type
                    ),
                    "ChargeCategory": ["Usage"] * count,
                    "ChargeClass": pa.nulls(count, pa.string()),
                    "BilledCost": billed,
                    "EffectiveCost": effective,
                    "BillingCurrency": ["USD"] * count,
                    "ServiceName": services,
                    "ResourceId": resource_ids,
                    "ConsumedQuantity": [24.0] * count,
                    "ConsumedUnit": ["Hrs"] * count,
                    "PricingQuantity": [24.0] * count,
                    "PricingUnit": ["Hrs"] * count,
                    "Tags": pa.array(tags, schema.field("Tags").type),
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=count)
    return path, count * days


def measure(kind: str, folder: Path, days: int) -> dict[str, object]:
    """One source's whole read, in this process (the child of ``run``)."""
    from tally.sources.duckdb_source import DuckDbSource
    from tally.sources.focus import FocusSource

    end = START + timedelta(days=days)
    files = sorted(folder.rglob("*.parquet"))
    source = (
        FocusSource.from_path(*files, today=TODAY)
        if kind == "focus"
        else DuckDbSource(folder, today=TODAY)
    )
    started = time.perf_counter()
    lines, billed, effective = 0, Decimal(0), Decimal(0)
    for line in source.fetch(START, end):
        lines += 1
        billed += line.billed_cost
        effective += line.effective_cost
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {
        "seconds": seconds,
        "lines": lines,
        "billed": str(billed),
        "effective": str(effective),
        "peak_bytes": peak,
    }


def _limit_memory(gigabytes: float) -> None:
    """In the child, before it reads: an address-space ceiling, so a reader that would take
    the machine's memory fails alone (MemoryError) instead of taking the machine down."""
    limit = int(gigabytes * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _child(kind: str, folder: Path, days: int, memory_gb: float) -> dict[str, object]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("layers", "functions", ".")),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bench.sources",
            "--measure",
            kind,
            "--folder",
            str(folder),
            "--days",
            str(days),
            "--memory-gb",
            str(memory_gb),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        failure = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"failed under a {memory_gb:g} GB address-space limit: {failure}"}
    return dict(json.loads(lines[-1]))


def run(
    users: int = USERS, resources: int = RESOURCES, days: int = DAYS, memory_gb: float = 12
) -> Rows:
    """(label, value) rows for ``make bench``. Each reader runs under a ``memory_gb``
    address-space limit: at the issue's scale the direct reader's roll-up of 15 million lines
    needs about 20 GB (1.4 KB a line measured at 300,000), more than this machine can spare,
    and the bench says so instead of swapping."""
    with tempfile.TemporaryDirectory(prefix="tally-bench-export-") as tmp:
        started = time.perf_counter()
        path, rows = generate(Path(tmp), users, resources, days)
        yield (
            f"generated export: {users:,} users x {resources} resources x {days} days",
            f"{rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB Parquet, "
            f"{time.perf_counter() - started:.0f} s to write",
        )
        results = {kind: _child(kind, Path(tmp), days, memory_gb) for kind in ("focus", "duckdb")}
    for kind, label in (
        ("focus", "FocusSource (Python rolls up rows)"),
        ("duckdb", "DuckDbSource (Athena's SQL in DuckDB)"),
    ):
        r = results[kind]
        if "error" in r:
            yield (f"{label}", str(r["error"]))
            continue
        yield (
            f"{label}: s / peak RSS / lines",
            f"{r['seconds']:.1f} s, {int(str(r['peak_bytes'])) / 1e6:,.0f} MB, {r['lines']:,}",
        )
    focus, duck = results["focus"], results["duckdb"]
    if "error" not in focus and "error" not in duck:
        same = all(focus[k] == duck[k] for k in ("lines", "billed", "effective"))
        yield (
            "the same lines and totals from both",
            f"{'yes' if same else 'NO'} (billed {duck['billed']})",
        )
    yield ("DuckDB threads", f"{os.cpu_count()} (its default: every core)")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.sources")
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--resources", type=int, default=RESOURCES)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--memory-gb", type=float, default=12, help="per reader (default 12)")
    parser.add_argument("--measure", choices=("focus", "duckdb"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _limit_memory(args.memory_gb)
        print(json.dumps(measure(args.measure, args.folder, args.days)))
        return 0
    print("== Cost sources on a generated export (tests/bench/sources.py)")
    for label, value in run(args.users, args.resources, args.days, args.memory_gb):
        print(f"  {label:<58} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
