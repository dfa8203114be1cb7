"""FOCUS files for the tests: the project's own export and the shared AWS sample.

The project's export is written by the demo generator (``infra.local.demo_costs``) into a
temporary folder, so every clone tests the FOCUS source end to end. It exercises what the
sample does: several services, tags besides ``Owner``, Usage, Purchase, Tax and Credit
charges, billed differing from effective cost, and untagged (unallocated) cost; and more:
two billing periods (April and May 2026), with or without the ``x_Estimated`` column.

The shared sample (``../shared`` beside the repository, as in CI) has no licence: it is read
where it lies, never copied into the repository. Tests that read it carry
``needs_focus_sample`` and skip, saying why, when it is absent. ``TALLY_SHARED_DIR`` moves
the shared folder (an empty folder shows the skips).

Expected figures are summed here from the file's own rows with ``csv`` and ``Decimal``, never
by the code under test.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from infra.local.demo_costs import DemoResource, generate_focus_csv

REPO = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("TALLY_SHARED_DIR") or REPO.parent / "shared")
FOCUS_SAMPLE = SHARED_DIR / "data" / "focus" / "focus_1.2_aws_sample.csv"
needs_focus_sample = pytest.mark.skipif(
    not FOCUS_SAMPLE.is_file(),
    reason=(
        f"the shared FOCUS sample is not at {FOCUS_SAMPLE} (a clone without ../shared; "
        "TALLY_SHARED_DIR moves it); the project's own export covers the same code paths"
    ),
)
# The sample's reference figures, reconciled by hand against the file (issue 8).
SAMPLE_TOTALS = {"billed": Decimal("67941.200509"), "effective": Decimal("6049.012393")}

MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)
TEAMS = ("team-data", "team-platform", "team-payments")  # the Owner tags of both files
METRIC_COLUMNS = {"billed": "BilledCost", "effective": "EffectiveCost"}

_ARN = "arn:aws:{}:us-east-1:123456789012:{}"
PROJECT_RESOURCES = [
    DemoResource(
        "AmazonEC2",
        _ARN.format("ec2", "instance/i-0data00000000001"),
        "Instance",
        Decimal("41.20"),
        "Hrs",
        {"Owner": "team-data", "Environment": "prod", "CostCenter": "cc-10"},
        name="data-warehouse",
    ),
    DemoResource(
        "AmazonRDS",
        _ARN.format("rds", "db:payments"),
        "DBInstance",
        Decimal("18.75"),
        "Hrs",
        {"Owner": "team-payments", "Environment": "prod"},
        pattern="flat",
        name="payments-db",
    ),
    DemoResource(
        "AmazonS3",
        "arn:aws:s3:::platform-logs",
        "Bucket",
        Decimal("3.10"),
        "GB-Mo",
        {"user:Owner": "team-platform"},  # the prefix some exports write
        pattern="flat",
        name="platform-logs",
    ),
    DemoResource(
        "AWSLambda",
        _ARN.format("lambda", "function:enrich"),
        "Function",
        Decimal("2.40"),
        "Requests",
        {"Owner": "team-data", "Environment": "dev"},
        pattern="spike",
        name="enrich",
    ),
    DemoResource(
        "AmazonEC2",
        _ARN.format("ec2", "instance/i-0idle0000000002"),
        "Instance",
        Decimal("1.15"),
        "Hrs",
        {"Owner": "team-platform"},
        pattern="idle",
        name="bastion",
    ),
    DemoResource(
        "AmazonCloudWatch",
        _ARN.format("logs", "log-group:shared"),
        "LogGroup",
        Decimal("0.80"),
        "GB",
        {"Environment": "prod"},  # nobody's: unallocated
        pattern="flat",
        name="shared-logs",
    ),
]


@dataclass(frozen=True)
class FocusFile:
    """A FOCUS file on disk and what a test may expect of it."""

    path: Path
    owners: frozenset[str | None]  # Owner tag values, None for untagged rows
    categories: frozenset[str]
    estimated_column: bool
    reference: dict[str, Decimal] | None = None  # hand-checked May totals, when known

    def rows(self) -> list[dict[str, str]]:
        with self.path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def totals(
        self, column: str, *, key: str | None = None, start: date = MAY, end: date = JUNE
    ) -> dict[str | None, Decimal]:
        """``column`` summed over the rows charged in ``[start, end)``, by ``key``: "Owner"
        (the tag, with or without ``user:``), a column name, or None for the grand total."""
        sums: dict[str | None, Decimal] = defaultdict(Decimal)
        for row in self.rows():
            if not start.isoformat() <= row["ChargePeriodStart"][:10] < end.isoformat():
                continue
            if key == "Owner":
                tags = json.loads(row["Tags"] or "{}")
                group = tags.get("Owner") or tags.get("user:Owner")
            else:
                group = row[key] if key else None
            sums[group] += Decimal(row[column] or "0")
        return dict(sums)

    def total(self, column: str, *, start: date = MAY, end: date = JUNE) -> Decimal:
        return self.totals(column, start=start, end=end).get(None, Decimal(0))


def project_export(folder: Path, *, estimated_column: bool = False) -> FocusFile:
    """The demo generator's export for April and May 2026, plus a Savings Plan purchase."""
    text = generate_focus_csv(PROJECT_RESOURCES, end=JUNE, days=61)
    rows = list(csv.DictReader(io.StringIO(text)))
    header = list(rows[0])
    template = next(r for r in rows if r["ChargeCategory"] == "Tax")
    # Bought upfront: billed whole on the day, amortized (effective) elsewhere, as in the
    # sample; so the two metrics give different figures.
    rows.append(
        {
            **template,
            "BillingPeriodStart": "2026-05-01T00:00:00Z",
            "BillingPeriodEnd": "2026-06-01T00:00:00Z",
            "ChargePeriodStart": "2026-05-04T00:00:00Z",
            "ChargePeriodEnd": "2026-05-05T00:00:00Z",
            "ChargeCategory": "Purchase",
            "ChargeDescription": "Savings Plan, 1 year, all upfront",
            "BilledCost": "365.000000",
            "EffectiveCost": "0.000000",
            "ListCost": "365.000000",
            "ConsumedQuantity": "1",
            "ConsumedUnit": "Units",
            "ServiceName": "AmazonEC2",
            "ResourceId": _ARN.format("savingsplans", "savingsplan/sp-1"),
            "Tags": json.dumps({"Owner": "team-platform"}),
            "x_Estimated": "false",
        }
    )
    if not estimated_column:
        header.remove("x_Estimated")
    path = folder / ("tally-focus-estimated.csv" if estimated_column else "tally-focus.csv")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return FocusFile(
        path,
        owners=frozenset({*TEAMS, None}),
        categories=frozenset({"Usage", "Purchase", "Tax", "Credit"}),
        estimated_column=estimated_column,
    )


def shared_sample() -> FocusFile:
    return FocusFile(
        FOCUS_SAMPLE,
        owners=frozenset(TEAMS),
        categories=frozenset({"Usage", "Purchase", "Tax"}),
        estimated_column=False,
        reference=SAMPLE_TOTALS,
    )


FOCUS_FILES = [
    pytest.param("project", id="project"),
    pytest.param("project-estimated", id="project-estimated"),
    pytest.param("sample", id="sample", marks=needs_focus_sample),
]

# The project's export and the sample: its column variants differ in the source only.
ONE_PER_ORIGIN = [p for p in FOCUS_FILES if p.id != "project-estimated"]


def focus_file(kind: str, folder: Path) -> FocusFile:
    """One of ``FOCUS_FILES`` (a fixture's ``request.param``), written into ``folder``."""
    if kind == "sample":
        return shared_sample()
    return project_export(folder, estimated_column=kind == "project-estimated")


def daily_charges(
    charges: Iterable[tuple[date, str | None, str]], *, billing_periods: bool = True
) -> bytes:
    """A FOCUS file of one Usage row per (day, Owner tag or None, cost), each in its
    month's billing period (or with no billing-period columns at all)."""
    header = [
        "BillingPeriodStart",
        "BillingPeriodEnd",
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "ChargeCategory",
        "BilledCost",
        "EffectiveCost",
        "BillingCurrency",
        "ServiceName",
        "ResourceId",
        "Tags",
    ]
    if not billing_periods:
        header = header[2:]
    out = io.StringIO()
    writer = csv.DictWriter(out, header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for day, owner, cost in charges:
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        writer.writerow(
            {
                "BillingPeriodStart": f"{first}T00:00:00Z",
                "BillingPeriodEnd": f"{after}T00:00:00Z",
                "ChargePeriodStart": f"{day}T00:00:00Z",
                "ChargePeriodEnd": f"{day + timedelta(days=1)}T00:00:00Z",
                "ChargeCategory": "Usage",
                "BilledCost": cost,
                "EffectiveCost": cost,
                "BillingCurrency": "USD",
                "ServiceName": "AmazonEC2",
                "ResourceId": "i-0correction",
                "Tags": json.dumps({"Owner": owner} if owner else {}),
            }
        )
    return out.getvalue().encode()
