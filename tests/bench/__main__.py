"""``make bench``: Tally's figures, printed. Ratios and counts, so they mean the same on any
machine; times are stated with what they ran on.

Sections: API cold start; DynamoDB calls per request (against data and organisation size);
Cost Explorer requests per daily run; DynamoDB writes per 1,000 records; ingest throughput
from a FOCUS file; the fan-out ingest against the single invocation; forecast backtest;
alert evaluation for 10,000 users and emails rendered per second; CSV export time and peak
memory for a 10,000-user month; PDF invoice render time; Cedar decision time on a large
organisation; dashboard (when Chromium is installed); the FOCUS export read directly against
the Athena SQL in DuckDB (10,000 users x 50 resources x 30 days; tests/bench/sources.py); the
estate inventory's refresh of 1,000 functions, 50 VPCs and 500 IAM users (tests/bench/estate.py).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO.parent / "shared" / "data" / "focus" / "focus_1.2_aws_sample.csv"
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("layers", "functions", ".")),
}

# Figures are computed on a fixed date, so two runs on different days compare.
BENCH_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def heading(title: str) -> None:
    print(f"\n== {title}")


def row(label: str, value: object) -> None:
    print(f"  {label:<58} {value}")


# --- API cold start ----------------------------------------------------------------------


def _import_ms(module: str) -> float:
    code = (
        f"import time; t=time.perf_counter(); import {module}; print((time.perf_counter()-t)*1000)"
    )
    env = {**ENV, "AWS_REGION": "us-east-1", "TALLY_PAGE_TOKEN_SECRET": "x"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return float(out.stdout.strip())


def _compile_sources() -> None:
    """Bytecode for this repository's modules, as a deployed bundle carries it (infra/bundling.py).

    boto3 and every installed dependency were compiled when pip installed them; this repository's
    modules are compiled only when some run could write ``__pycache__`` (never under
    PYTHONDONTWRITEBYTECODE, and stale after each edit). Measured without it, the API's import
    would include compiling about fifty modules from source (+60 ms here) and boto3's would not.
    """
    for folder in ("layers", "functions"):
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(REPO / folder)],
            check=True,
            capture_output=True,
        )


def cold_start(runs: int = 9) -> None:
    heading(f"API cold start (fresh interpreter each run, median of {runs}; compiled bytecode)")
    _compile_sources()
    # Taken in turn, run by run, so a machine that gets busier halfway skews all three alike.
    # The third: with the policy engine (cedarpy, a Rust extension) loaded, as on a request's
    # first decision (the acceptance of issue 13).
    modules = ("boto3", "api.handler", "api.handler, tally.authz.engine")
    taken = [[_import_ms(module) for module in modules] for _ in range(runs)]
    boto, api, engine = (statistics.median(run[i] for run in taken) for i in range(3))
    row("import boto3 (ms)", f"{boto:.0f}")
    row("import api.handler (ms)", f"{api:.0f}")
    row("ratio api.handler / boto3", f"{api / boto:.2f}")
    row("import api.handler + tally.authz.engine (ms)", f"{engine:.0f}")
    row("ratio api.handler + tally.authz.engine / boto3 (target <= 1.8)", f"{engine / boto:.2f}")
    # The reports function: its cold import, then what an invoice job adds (fpdf2, fonts'
    # module) and an export job (the CSV writer), each paid only by the job that needs it.
    reports = statistics.median(_import_ms("reports.handler") for _ in range(runs))
    invoice = statistics.median(
        _import_ms("reports.handler, tally.invoices.pdf, fpdf") for _ in range(runs)
    )
    export = statistics.median(_import_ms("reports.handler, tally.exports") for _ in range(runs))
    row("import reports.handler (ms)", f"{reports:.0f}")
    row("  + an invoice job's modules (fpdf2) (ms)", f"{invoice:.0f}")
    row("  + an export job's modules (ms)", f"{export:.0f}")


# --- moto helpers ------------------------------------------------------------------------


@contextmanager
def moto_tables() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    from tally.settings import get_settings
    from tally.tables import ALL_TABLES, create_table_request

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "TALLY_PAGE_TOKEN_SECRET": "bench",
            "TALLY_APP_CLIENT_IDS": "test-client",  # the ``aud`` of tests/api/events.py
        }
    )
    for spec in ALL_TABLES:
        os.environ[spec.env_var] = spec.local_name("bench")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for spec in ALL_TABLES:
            client.create_table(**create_table_request(spec, spec.local_name("bench")))
        get_settings.cache_clear()
        yield get_settings()


@contextmanager
def counting_dynamodb() -> Iterator[Counter[str]]:
    from pynamodb.connection.base import Connection

    seen: Counter[str] = Counter()
    real = Connection.dispatch

    def counted(self: Connection, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        seen[operation] += 1
        return real(self, operation, kwargs)

    Connection.dispatch = counted  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        Connection.dispatch = real  # type: ignore[method-assign]


def _lines(users: int, resources: int, days: list[date]) -> list[Any]:
    from tally.models import CostLine

    return [
        CostLine(
            d,
            f"Service{r % 7}",
            f"i-{u}-{r}",
            Decimal("0.731"),
            Decimal("0.7"),
            "USD",
            Decimal(24),
            "Hrs",
            tags={"Owner": f"user{u:05}"},
        )
        for d in days
        for u in range(users)
        for r in range(resources)
    ]


def dynamodb_calls() -> None:
    heading("DynamoDB calls per API request (moto), small vs large organisation")
    from tally.allocation import OwnerTagRule
    from tally.identity import Caller, Role
    from tally.ingest import ingest_days
    from tally.models import UserProfile
    from tally.store import dynamodb_stores
    from tally.tables import ADMIN_GROUP as ADMINS

    with moto_tables() as settings:
        from api import context
        from api.handler import lambda_handler
        from tests.api.events import rest_event
        from tests.harness import LambdaContext

        stores = dynamodb_stores(settings)
        context.stores.cache_clear()
        admin = Caller("u-admin", "admin", None, frozenset({ADMINS}))
        today = BENCH_NOW.date()
        results = {}
        for label, users, days in (("2 users x 2 days", 2, 2), ("40 users x 60 days", 40, 60)):
            for n in range(users):
                stores.users.put(UserProfile(f"u-{n:05}", f"user{n:05}", None, Role.USER))
            window = [today - timedelta(days=d) for d in range(days)]
            ingest_days(
                _lines(users, 5, window),
                window,
                stores=stores,
                rule=OwnerTagRule(),
                source="bench",
                now=BENCH_NOW,
            )
            for name, url in (
                ("summary", "/api/billing/user/u-00000/summary"),
                (
                    "costs (366 days)",
                    "/api/billing/user/u-00000/costs"
                    f"?startDate={today - timedelta(days=365)}&endDate={today}",
                ),
                ("all-users (page of 100)", "/api/billing/all-users?limit=100"),
            ):
                with counting_dynamodb() as calls:
                    out = lambda_handler(rest_event("GET", url, caller=admin), LambdaContext())
                assert out["statusCode"] == 200, out
                results[(name, label)] = calls
        for name in ("summary", "costs (366 days)", "all-users (page of 100)"):
            small, large = (
                results[(name, "2 users x 2 days")],
                results[(name, "40 users x 60 days")],
            )
            row(
                f"{name}: calls small / large",
                f"{sum(small.values())} / {sum(large.values())}  {dict(large)}",
            )
            row(f"{name}: Scan operations", large.get("Scan", 0))
    organisation_size_calls()


def organisation_size_calls(sizes: tuple[int, int] = (10, 1_000)) -> None:
    from tests.bench import org_scale

    heading(
        f"DynamoDB calls per API request (moto): {sizes[0]:,} vs {sizes[1]:,} teams, "
        f"{org_scale.ROLES} custom roles (tests/bench/org_scale.py)"
    )
    measured = []
    for teams in sizes:
        with moto_tables() as settings, counting_dynamodb() as calls:
            from api import context
            from api.handler import lambda_handler
            from tally.store import dynamodb_stores
            from tests.api.events import rest_event
            from tests.harness import LambdaContext

            dynamodb_stores(settings)  # binds the items the organisation is written with
            context.stores.cache_clear()
            context.access_source.cache_clear()
            org = org_scale.seed(teams)

            def call(method: str, url: str, caller: Any, body: Any) -> int:
                event = rest_event(method, url, caller=caller, body=body)
                return int(lambda_handler(event, LambdaContext())["statusCode"])

            measured.append(org_scale.measure(call, calls, context.access_source.cache_clear))
            context.stores.cache_clear()
            context.access_source.cache_clear()
        row(
            f"{org.teams:,} teams: people, ORG/SNAPSHOT item",
            f"{org.people:,} people, {org.snapshot_bytes / 1024:.0f} KB of 400 KB",
        )
    for label, value in org_scale.compare(*measured):
        row(label, value)
    row("cold: the container's access cache empty; warm: the same request again", "")
    row("a department's summary lists every team (one Query while they fit in 1 MB)", "")


# --- Cost Explorer requests --------------------------------------------------------------


class PagingCostExplorer:
    """A Cost Explorer double that pages a large organisation's groups, counting requests.

    Page size is not documented by AWS; 5,000 groups a page is assumed. What matters is the
    shape: requests grow with groups (pages), never with users."""

    def __init__(self, users: int, resources: int, page_size: int = 5000) -> None:
        self.users, self.resources, self.page_size = users, resources, page_size
        self.requests: Counter[str] = Counter()

    def _page(self, op: str, params: dict[str, Any]) -> dict[str, Any]:
        self.requests[op] += 1
        start = date.fromisoformat(params["TimePeriod"]["Start"])
        end = date.fromisoformat(params["TimePeriod"]["End"])
        total = (
            self.users * self.resources if op == "GetCostAndUsageWithResources" else self.users * 7
        )
        offset = int(params.get("NextPageToken") or 0)
        results = []
        day = start
        while day < end:
            groups = [
                {
                    "Keys": [
                        f"i-{n}" if op == "GetCostAndUsageWithResources" else "AmazonEC2",
                        f"Owner$user{n % self.users:05}",
                    ],
                    "Metrics": {
                        m: {"Amount": "0.5", "Unit": "USD"}
                        for m in ("UnblendedCost", "AmortizedCost", "UsageQuantity")
                    },
                }
                for n in range(offset, min(offset + self.page_size, total))
            ]
            results.append(
                {
                    "TimePeriod": {
                        "Start": day.isoformat(),
                        "End": (day + timedelta(days=1)).isoformat(),
                    },
                    "Groups": groups,
                    "Estimated": True,
                }
            )
            day += timedelta(days=1)
        nxt = offset + self.page_size
        out: dict[str, Any] = {"ResultsByTime": results}
        if nxt < total:
            out["NextPageToken"] = str(nxt)
        return out

    def get_cost_and_usage(self, **params: Any) -> dict[str, Any]:
        return self._page("GetCostAndUsage", params)

    def get_cost_and_usage_with_resources(self, **params: Any) -> dict[str, Any]:
        return self._page("GetCostAndUsageWithResources", params)


def cost_explorer_requests() -> None:
    heading("Cost Explorer requests per daily run (restatement window of 3 days)")
    from tally.sources.cost_explorer import CostExplorerSource

    today = BENCH_NOW.date()
    for users in (100, 10_000):
        client = PagingCostExplorer(users, 50)
        fetch = CostExplorerSource(client, today=today, sleep=lambda _: None).fetch(
            today - timedelta(days=3), today
        )
        lines = sum(1 for _ in fetch)
        row(
            f"{users:>6} users x 50 resources: requests (pages)",
            f"{fetch.requests}  {dict(client.requests)}  lines {lines}",
        )
    row("requests made per user", "0 (one organisation-wide read, allocated in memory)")


def dynamodb_writes() -> None:
    heading("DynamoDB write requests per 1,000 records (replace one day, moto)")
    from tally.allocation import allocate
    from tally.store import dynamodb_stores

    with moto_tables() as settings:
        stores = dynamodb_stores(settings)
        day = BENCH_NOW.date()
        records = allocate(
            _lines(20, 50, [day]),
            assignments=[],
            tag_owners={},
            owner_tag_key="Owner",
            source="bench",
            fetched_at=BENCH_NOW,
        )
        with counting_dynamodb() as first:
            stores.costs.replace_day(day, records)
        with counting_dynamodb() as again:
            stores.costs.replace_day(day, records)
        row(f"first write of {len(records)} records", dict(first))
        row("the same day again (restatement)", dict(again))


# --- ingest throughput -------------------------------------------------------------------


def _focus_day(users: int, resources: int, day: date) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "BilledCost",
            "EffectiveCost",
            "ChargePeriodStart",
            "ChargePeriodEnd",
            "ServiceName",
            "ResourceId",
            "Tags",
            "BillingCurrency",
            "ChargeCategory",
            "ConsumedQuantity",
            "ConsumedUnit",
            "BillingPeriodStart",
            "BillingPeriodEnd",
        ]
    )
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    for u in range(users):
        tags = json.dumps({"Owner": f"user{u:05}"})
        for r in range(resources):
            writer.writerow(
                [
                    "0.731200",
                    "0.700000",
                    f"{day}T00:00:00Z",
                    f"{day + timedelta(days=1)}T00:00:00Z",
                    "AmazonEC2",
                    f"arn:aws:ec2:us-east-1:123456789012:instance/i-{u:05}{r:03}",
                    tags,
                    "USD",
                    "Usage",
                    "24",
                    "Hrs",
                    f"{first}T00:00:00Z",
                    f"{nxt}T00:00:00Z",
                ]
            )
    return out.getvalue().encode()


def ingest_throughput(users: int, resources: int) -> None:
    heading(
        f"Ingest throughput: one day of {users:,} users x {resources} resources from a FOCUS file"
    )
    from tally.allocation import OwnerTagRule
    from tally.identity import Role
    from tally.ingest import run_source
    from tally.models import UserProfile
    from tally.sources.focus import FocusSource
    from tally.store import memory_stores

    day = BENCH_NOW.date() - timedelta(days=1)
    data = _focus_day(users, resources, day)
    stores = memory_stores()
    for u in range(users):
        stores.users.put(UserProfile(f"u-{u:05}", f"user{u:05}", None, Role.USER))
    started = time.perf_counter()
    result, _ = run_source(
        FocusSource.from_bytes(data),
        day,
        day + timedelta(days=1),
        stores=stores,
        rule=OwnerTagRule(),
        now=BENCH_NOW,
    )
    elapsed = time.perf_counter() - started
    row("file size (MB)", f"{len(data) / 1e6:.0f}")
    row("records written", f"{result.records:,}")
    row("seconds (parse, allocate, replace, roll up, forecast; in-memory stores)", f"{elapsed:.1f}")
    row("records per second", f"{result.records / elapsed:,.0f}")
    row(
        "DynamoDB writes this implies (records/25 batches + 2 per owner)",
        f"{result.records // 25 + 2 * users:,}",
    )


# --- forecast backtest -------------------------------------------------------------------

BENCH_TODAY = date(2026, 11, 20)  # the same figures whatever day the bench runs
CUTOFFS = (0, 10, 20)  # 0: the forecast made on the 1st, before any cost of the month
DemoSeries = tuple[dict[date, Decimal], dict[date, dict[str, Decimal]]]


def _owner_series(stores: Any, owners: list[str], *, metric: str, end: date) -> dict[str, Any]:
    """Each owner's daily usage and other charges, split as the ingest's forecast splits them;
    days without a record before ``end`` (exclusive: the first day not read) cost zero."""
    from tally.ingest import _series
    from tally.models import Metric

    series: dict[str, DemoSeries] = {}
    for owner in owners:
        rollups = stores.rollups.months(owner, "2000-01", "2999-12")
        usage, charges = _series(rollups, "USD", Metric(metric), date.max)
        day = min([*usage, *charges], default=end)
        while day < end:
            usage.setdefault(day, Decimal(0))
            day += timedelta(days=1)
        series[owner] = (usage, charges)
    return series


def _as_usage(usage: dict[date, Decimal], charges: dict[date, dict[str, Decimal]]) -> Any:
    """Every charge added into the daily series: what the forecast was fed before."""
    merged = dict(usage)
    for day, per in charges.items():
        merged[day] = merged.get(day, Decimal(0)) + sum(per.values(), Decimal(0))
    return merged


def _backtest(series: dict[str, DemoSeries], *, split: bool, model: Any) -> dict[str, list[Any]]:
    """Each owner's backtest cases; ``split``: usage and charges apart, as the ingest feeds
    the forecast, otherwise every charge inside the daily series (the old input)."""
    from tally.forecast.backtest import backtest_month_end

    cases: dict[str, list[Any]] = {}
    for owner, (usage, charges) in series.items():
        result = backtest_month_end(
            usage if split else _as_usage(usage, charges),
            charges=charges if split else None,
            cutoff_days=CUTOFFS,
            models=(model,),
        )
        cases[owner] = list(result[model].cases)
    return cases


def _print_backtest(name: str, series: dict[str, DemoSeries]) -> None:
    from tally.forecast.backtest import BacktestSummary

    runs = (
        ("usage + expected charges, chosen model", True, "auto"),
        ("usage + expected charges, plain regression", True, "linear"),
        ("every charge fitted as daily usage (the old input)", False, "auto"),
    )
    print(f"  {name}")
    print(f"    {'':<52} {'cut-off':>8} {'cases':>5} {'MAPE %':>7} {'in 80%':>7} {'80% width':>10}")
    for label, split, model in runs:
        by_owner = _backtest(series, split=split, model=model)
        summary = BacktestSummary(model, tuple(c for cases in by_owner.values() for c in cases))
        for cutoff in CUTOFFS:
            cases = [c for c in summary.cases if c.cutoff_day == cutoff]
            if not cases:
                continue
            mape, cover, width = (
                summary.mape_at(cutoff),
                summary.coverage80_at(cutoff),
                summary.width80_at(cutoff),
            )
            day = "the 1st" if cutoff == 0 else f"day {cutoff}"
            print(
                f"    {label:<52} {day:>8} {len(cases):>5} "
                f"{mape if mape is None else f'{mape:.1f}':>7} "
                f"{cover if cover is None else f'{100 * cover:.0f}%':>7} "
                f"{width if width is None else f'{width:.0f}%':>10}"
            )
        collapsed = [c for c in summary.cases if c.lower80 == c.projected < c.upper80]
        print(f"    {label:<52} lower bound on the point: {len(collapsed)} of {len(summary.cases)}")
        for owner, found in by_owner.items():
            day10 = [c for c in found if c.cutoff_day == 10]
            if day10:
                signed = [
                    float((c.projected - c.actual) / c.actual) * 100 for c in day10 if c.actual
                ]
                print(
                    f"      {owner:<50} day 10 mean error {statistics.mean(signed):+.1f}% "
                    f"({len(day10)} months)"
                )
    print("    (80% width: the interval's width in % of the actual month; coverage alone")
    print("     rewards a useless interval, so the two are read together)")


def forecast_backtest() -> None:
    heading(
        "Forecast backtest: month-end projection made on the 1st, day 10 and day 20 of past months"
    )
    from tally.allocation import OwnerTagRule
    from tally.identity import Role
    from tally.ingest import run_source
    from tally.models import UserProfile
    from tally.sources.focus import FocusSource
    from tally.store import memory_stores
    from tests.demo_org import USERS, demo_export, demo_stores, ingest_export

    today = BENCH_TODAY
    row("business date (fixed, so the figures repeat)", today.isoformat())
    start = today - timedelta(days=240)
    stores = demo_stores(since=start)
    ingest_export(stores, demo_export(end=today, days=240), start, today)
    _print_backtest(
        "demo organisation (240 days; a monthly tax line on the 1st, a credit)",
        _owner_series(stores, [*USERS, "UNALLOCATED"], metric="effective", end=today),
    )

    if not SAMPLE.exists():
        row("FOCUS sample", f"skipped: {SAMPLE} is absent (it lives in ../shared)")
        return
    sample = memory_stores()
    teams = ["team-data", "team-platform", "team-payments"]
    for team in teams:
        sample.users.put(UserProfile(team, team, None, Role.USER))
    run_source(
        FocusSource.from_path(SAMPLE, today=date(2026, 6, 10)),
        date(2026, 5, 1),
        date(2026, 6, 1),
        stores=sample,
        rule=OwnerTagRule(),
        now=datetime(2026, 6, 10, tzinfo=UTC),
    )
    for metric, what in (
        ("effective", "amortized: purchases spread into usage"),
        ("billed", "purchases whole on their day"),
    ):
        _print_backtest(
            f"FOCUS sample, May 2026 only, {metric} ({what})",
            _owner_series(sample, teams, metric=metric, end=date(2026, 6, 1)),
        )


# --- alerts ------------------------------------------------------------------------------

ALERT_USERS = 10_000


def alert_evaluation(users: int = ALERT_USERS) -> None:
    heading(f"Alert evaluation: {users:,} users with budgets, 2026-11-20 (tests/bench/alerts.py)")
    from tests.bench import alerts

    try:
        import tally.alerts.evaluate  # noqa: F401
    except ImportError:
        row("evaluation", "skipped: layers/tally/alerts/evaluate.py is not there yet")
    else:
        for label, value in alerts.evaluation_in_memory(users):
            row(label, value)
        sample = alerts.DYNAMODB_SAMPLE
        heading(f"Alert evaluation on moto's DynamoDB: requests per user ({sample} of the mix)")
        for label, value in alerts.dynamodb_requests(sample, moto_tables, counting_dynamodb):
            row(label, value)
    heading("Emails rendered per second (tally.email.render, every kind)")
    for label, value in alerts.emails_per_second():
        row(label, value)


# --- exports -----------------------------------------------------------------------------


def csv_exports() -> None:
    heading("CSV exports: time and peak memory (tests/bench/exports.py)")
    from tests.bench.exports import exports

    for label, value in exports():
        row(label, value)


# --- anomalies ---------------------------------------------------------------------------


def anomaly_detection() -> None:
    heading(
        "Anomaly detection on synthetic series with planted anomalies (tests/bench/anomalies.py)"
    )
    from tests.bench import anomalies

    for label, value in anomalies.run():
        row(label, value)


# --- dashboard ---------------------------------------------------------------------------


def dashboard() -> None:
    heading("Dashboard (headless Chromium on the demo organisation)")
    if not Path("/usr/bin/chromium").exists():
        row("skipped", "Chromium is not installed (make test installs it)")
        return
    try:
        from tests.bench.dashboard import run
    except ImportError:
        row("skipped", "tests/bench/dashboard.py is not there yet")
        return
    import tempfile

    from infra.local.client import local_stack_process

    with (
        tempfile.TemporaryDirectory() as tmp,
        local_stack_process(Path(tmp) / "local.json", timeout=240) as stack,
    ):
        for key, value in run(stack.local_json).items():
            row(key, value)


# --- authorization -------------------------------------------------------------------------


def authorization() -> None:
    heading("Authorization: Cedar decisions on a large organisation (tests/bench/authz.py)")
    from tests.bench import authz

    for label, value in authz.decisions():
        row(label, value)


# --- invoices ------------------------------------------------------------------------------


def invoice_rendering() -> None:
    heading("PDF invoices: render time (tests/bench/invoices.py)")
    from tests.bench import invoices

    for label, value in invoices.render_times():
        row(label, value)


def ingest_fanout() -> None:
    """The fan-out ingest beside the single invocation (tests/bench/fanout.py).
    ``TALLY_BENCH_USERS`` runs it smaller (the issue's figure is 10,000)."""
    from tests.bench.fanout import fanout_figures

    users = int(os.environ.get("TALLY_BENCH_USERS") or 10_000)
    heading(f"Ingest fan-out: a daily run of {users:,} users x 50 resources, both paths")
    for label, value in fanout_figures(users, 50):
        row(label, value)


# --- cost sources --------------------------------------------------------------------------


def cost_sources() -> None:
    heading("Cost sources: FocusSource against the Athena SQL in DuckDB (tests/bench/sources.py)")
    from tests.bench import sources

    for label, value in sources.run():
        row(label, value)


# --- estate inventory -----------------------------------------------------------------------


def estate_inventory() -> None:
    """The inventory's refresh of 1,000 functions, 50 VPCs and 500 IAM users in moto
    (tests/bench/estate.py). ``TALLY_BENCH_ESTATE_SCALE=0.1`` runs a tenth of it."""
    from tests.bench import estate

    scale = float(os.environ.get("TALLY_BENCH_ESTATE_SCALE") or 1)
    size = estate.Size.scaled(scale)
    heading(
        f"Estate inventory: refresh of {size.functions:,} functions, {size.vpcs} VPCs and "
        f"{size.users} IAM users in moto, plus an empty region (tests/bench/estate.py)"
    )
    for label, value in estate.run(size, moto_tables):
        row(label, value)


def estate_views() -> None:
    heading("Estate views: AWS calls / DynamoDB requests per request (moto)")
    from tests.bench import estate_views as bench

    for label, value in bench.run(moto_tables, counting_dynamodb):
        row(label, value)


SECTIONS: dict[str, Callable[[], None]] = {
    "cold-start": cold_start,
    "dynamodb-calls": dynamodb_calls,
    "cost-explorer": cost_explorer_requests,
    "dynamodb-writes": dynamodb_writes,
    "ingest": lambda: ingest_throughput(10_000, 50),
    "fanout": ingest_fanout,
    "forecast": forecast_backtest,
    "alerts": alert_evaluation,
    "anomalies": anomaly_detection,
    "exports": csv_exports,
    "invoices": invoice_rendering,
    "authz": authorization,
    "dashboard": dashboard,
    "sources": cost_sources,
    "estate": estate_inventory,
    "estate-views": estate_views,
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (default: all)")
    args = parser.parse_args()
    made = datetime.now(UTC)  # real time: when the report was made
    print(
        f"Tally benchmarks, {made:%Y-%m-%d %H:%M} UTC, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    for name in args.sections or SECTIONS:
        SECTIONS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
