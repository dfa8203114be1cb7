"""The ingest Lambda end to end on moto: FOCUS from S3, API figures, duplicate delivery.

Each FOCUS test runs on the project's own export (every clone) and on the shared AWS sample
(skipped, with the reason, when ``../shared`` is absent)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import boto3
import pytest

from tally.identity import Role
from tally.models import UserProfile
from tally.settings import Settings
from tally.store import Stores
from tests.conftest import ADMIN
from tests.focus_files import (
    FOCUS_FILES,
    FOCUS_SAMPLE,
    METRIC_COLUMNS,
    ONE_PER_ORIGIN,
    TEAMS,
    FocusFile,
    daily_charges,
    focus_file,
    needs_focus_sample,
)
from tests.harness import Api, LambdaContext


@pytest.fixture
def ingest(
    aws: Settings, dynamo_stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    """The handler, reading FOCUS files from an (empty) export bucket; the teams as users."""
    from ingest import handler

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="exports")
    # moto lives as long as the module: no file of an earlier test stays in the bucket.
    for item in s3.list_objects_v2(Bucket="exports").get("Contents", []):
        s3.delete_object(Bucket="exports", Key=item["Key"])
    monkeypatch.setenv("TALLY_EXPORT_BUCKET", "exports")
    monkeypatch.setenv("TALLY_COST_SOURCE", "focus")
    for n, team in enumerate(TEAMS):
        dynamo_stores.users.put(UserProfile(f"u-team-{n}", team, None, Role.USER))
    handler._stores.cache_clear()
    handler._idempotent_runner.cache_clear()
    yield handler
    handler._stores.cache_clear()
    handler._idempotent_runner.cache_clear()


def upload(path: Path, key: str) -> None:
    boto3.client("s3", region_name="us-east-1").upload_file(str(path), "exports", key)


@pytest.fixture(params=FOCUS_FILES)
def export(request: pytest.FixtureRequest, tmp_path: Path, ingest: ModuleType) -> FocusFile:
    """Every FOCUS file variant, as May 2026's export in the bucket."""
    exported = focus_file(request.param, tmp_path)
    upload(exported.path, "focus/2026-05/part-0.csv")
    return exported


@pytest.fixture(params=ONE_PER_ORIGIN)
def may(request: pytest.FixtureRequest, tmp_path: Path, ingest: ModuleType) -> FocusFile:
    """The project's export and the sample, as May 2026's export in the bucket."""
    exported = focus_file(request.param, tmp_path)
    upload(exported.path, "focus/2026-05/part-0.csv")
    return exported


def table_contents(settings: Settings) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    client = boto3.client("dynamodb", region_name="us-east-1")
    out = {}
    for key in ("costs", "rollups"):
        items = client.scan(TableName=settings.table_names[key])["Items"]
        for item in items:  # when a run happened is not part of what it computed
            item.pop("updated_at", None)
            item.pop("fetched_at", None)
            item.pop("digest", None)  # a roll-up's version: it covers updated_at too
        out[key] = sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    return out


def test_focus_export_ingests_completely_and_api_agrees(
    ingest: ModuleType, export: FocusFile, api: Api, aws: Settings
) -> None:
    result = ingest.lambda_handler({"start": "2026-05-01", "end": "2026-06-01"}, LambdaContext())
    assert Decimal(result["totals"]["USD"]) == export.total("BilledCost")
    if export.reference:
        assert Decimal(result["totals"]["USD"]) == export.reference["billed"]
    for n, team in enumerate(TEAMS):
        reply = api.call(
            "GET",
            f"/api/billing/user/u-team-{n}/costs?startDate=2026-05-01&endDate=2026-05-31",
            ADMIN,
        )
        assert reply.status == 200
        expected = export.totals(METRIC_COLUMNS[reply.body["metric"]], key="Owner")
        assert Decimal(reply.body["total"]["amount"]) == expected[team], team
        assert len(reply.body["daily"]) == 31
    org = api.call("GET", "/api/billing/all-users?month=2026-05", ADMIN).body
    column = METRIC_COLUMNS[org["metric"]]
    expected = export.totals(column, key="Owner")
    assert Decimal(org["organisationTotal"]["amount"]) == export.total(column)
    if export.reference:
        assert Decimal(org["organisationTotal"]["amount"]) == export.reference[org["metric"]]
    assert Decimal(org["unallocated"]["amount"]) == expected.get(None, Decimal(0))
    rows = {r["username"]: Decimal(r["total"]["amount"]) for r in org["users"]}
    assert {t: rows[t] for t in TEAMS} == {t: expected[t] for t in TEAMS}


def test_same_event_twice_and_same_range_twice_leave_identical_tables(
    ingest: ModuleType, may: FocusFile, aws: Settings
) -> None:
    event = {"start": "2026-05-01", "end": "2026-06-01"}
    first = ingest.lambda_handler(event, LambdaContext())
    after_first = table_contents(aws)
    assert ingest.lambda_handler(event, LambdaContext()) == first  # answered from the record
    assert table_contents(aws) == after_first
    ingest._idempotent_runner.cache_clear()
    ingest.run_job(ingest.Job(date(2026, 5, 1), date(2026, 6, 1)))  # a real second run
    assert table_contents(aws) == after_first


@pytest.fixture
def seen_events(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A queue receiving every ``CostsIngested`` event of the bus the handler announces on."""
    events = boto3.client("events", region_name="us-east-1")
    events.create_event_bus(Name="tally")
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="ingested",
        EventBusName="tally",
        EventPattern=json.dumps({"detail-type": ["CostsIngested"]}),
    )
    events.put_targets(Rule="ingested", EventBusName="tally", Targets=[{"Id": "q", "Arn": arn}])
    monkeypatch.setenv("TALLY_EVENT_BUS_NAME", "tally")
    yield queue
    # moto lives as long as the module: the next test creates them afresh.
    events.remove_targets(Rule="ingested", EventBusName="tally", Ids=["q"])
    events.delete_rule(Name="ingested", EventBusName="tally")
    events.delete_event_bus(Name="tally")
    sqs.delete_queue(QueueUrl=queue)


def test_costs_ingested_event_is_emitted(
    ingest: ModuleType, may: FocusFile, seen_events: str
) -> None:
    ingest.run_job(ingest.Job(date(2026, 5, 1), date(2026, 5, 3)))
    sqs = boto3.client("sqs", region_name="us-east-1")
    (message,) = sqs.receive_message(QueueUrl=seen_events)["Messages"]
    detail = json.loads(message["Body"])["detail"]
    assert detail["days"] == ["2026-05-01", "2026-05-02"] and detail["records"] > 0


@pytest.mark.parametrize(
    "event",
    [
        {"start": "2026-13-01"},
        {"start": "2026-05-02", "end": "2026-05-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
    ],
)
def test_bad_manual_events_fail_loudly_and_write_nothing(
    ingest: ModuleType, aws: Settings, event: dict[str, str]
) -> None:
    with pytest.raises(ingest.BadJob):
        ingest.lambda_handler(event, LambdaContext())
    assert table_contents(aws) == {"costs": [], "rollups": []}


def test_scheduled_event_reads_the_restatement_window() -> None:
    from ingest.handler import resolve_job

    job = resolve_job({"source": "aws.scheduler"}, today=date(2026, 11, 25))
    assert (job.start, job.end) == (date(2026, 11, 22), date(2026, 11, 25))
    late = resolve_job({}, today=date(2026, 11, 25), estimated=frozenset({date(2026, 11, 2)}))
    assert late.start == date(2026, 11, 2)


def test_a_scheduled_run_reads_the_window_of_its_scheduled_time_once(
    ingest: ModuleType, may: FocusFile, aws: Settings
) -> None:
    event = {
        "source": "tally.schedule",
        "executionId": "exec-1",
        "scheduledTime": "2026-05-04T00:00:00Z",
    }
    first = ingest.lambda_handler(event, LambdaContext())
    assert (first["start"], first["end"]) == ("2026-05-01", "2026-05-04")
    tables = table_contents(aws)
    assert ingest.lambda_handler(event, LambdaContext()) == first  # duplicate delivery
    assert table_contents(aws) == tables
    forced = ingest.lambda_handler({**event, "force": True}, LambdaContext())
    assert forced["records"] == first["records"] and table_contents(aws) == tables


# -- a FOCUS file replaces the billing periods it covers ------------------------------------


def test_a_focus_job_without_dates_covers_the_files_billing_periods() -> None:
    from ingest.handler import BadJob, resolve_job

    def january(bucket: str, key: str) -> tuple[date, date]:
        assert (bucket, key) == ("exports", "focus/manual/jan.csv")
        return date(2026, 1, 1), date(2026, 2, 1)

    event = {"focus": {"bucket": "exports", "key": "focus/manual/jan.csv"}}
    job = resolve_job(event, today=date(2026, 11, 25), file_window=january)
    assert (job.start, job.end, job.focus_key) == (
        date(2026, 1, 1),
        date(2026, 2, 1),
        "focus/manual/jan.csv",
    )
    dated = resolve_job(
        {**event, "start": "2026-01-10", "end": "2026-01-12"}, today=date(2026, 11, 25)
    )  # the dates win: the file is not even read
    assert (dated.start, dated.end) == (date(2026, 1, 10), date(2026, 1, 12))

    def years(bucket: str, key: str) -> tuple[date, date]:
        return date(2024, 1, 1), date(2026, 1, 1)

    with pytest.raises(BadJob, match="at most"):
        resolve_job(event, today=date(2026, 11, 25), file_window=years)


def test_a_corrected_file_replaces_every_day_of_its_billing_period(
    ingest: ModuleType, api: Api, tmp_path: Path
) -> None:
    """A January file charges 4.00 on 5 January; the corrected January file stops on the
    3rd: 5 January is 0 afterwards, and December and February are untouched."""
    first = tmp_path / "first.csv"
    first.write_bytes(
        daily_charges(
            [
                (date(2025, 12, 31), "team-data", "7.00"),
                (date(2026, 1, 1), "team-data", "1.00"),
                (date(2026, 1, 5), "team-data", "4.00"),
                (date(2026, 1, 5), None, "0.50"),
                (date(2026, 1, 31), "team-data", "3.00"),
                (date(2026, 2, 1), "team-data", "9.00"),
            ]
        )
    )
    corrected = tmp_path / "corrected.csv"
    corrected.write_bytes(
        daily_charges(
            [
                (date(2026, 1, 1), "team-data", "1.50"),
                (date(2026, 1, 2), "team-data", "2.00"),
                (date(2026, 1, 3), None, "0.25"),
            ]
        )
    )

    def ingest_file(path: Path) -> dict[str, str]:
        upload(path, f"focus/manual/{path.name}")
        event = {"focus": {"bucket": "exports", "key": f"focus/manual/{path.name}"}}
        result: dict[str, str] = ingest.lambda_handler(event, LambdaContext())
        return result

    def daily() -> dict[str, Decimal]:
        reply = api.call(
            "GET", "/api/billing/user/u-team-0/costs?startDate=2025-12-31&endDate=2026-02-01", ADMIN
        )
        assert reply.status == 200, reply.body
        return {d["date"]: Decimal(d["cost"]["amount"]) for d in reply.body["daily"]}

    def org_total(month: str) -> tuple[Decimal, Decimal]:
        org = api.call("GET", f"/api/billing/all-users?month={month}", ADMIN).body
        return Decimal(org["organisationTotal"]["amount"]), Decimal(org["unallocated"]["amount"])

    result = ingest_file(first)
    assert (result["start"], result["end"]) == ("2025-12-01", "2026-03-01")
    assert daily()["2026-01-05"] == Decimal("4.00")

    result = ingest_file(corrected)
    assert (result["start"], result["end"]) == ("2026-01-01", "2026-02-01")
    days = daily()
    assert {day: cost for day, cost in days.items() if cost} == {
        "2025-12-31": Decimal("7.00"),
        "2026-01-01": Decimal("1.50"),
        "2026-01-02": Decimal("2.00"),
        "2026-02-01": Decimal("9.00"),
    }
    assert days["2026-01-05"] == days["2026-01-31"] == 0
    assert org_total("2026-01") == (Decimal("3.75"), Decimal("0.25"))
    assert org_total("2025-12") == (Decimal("7.00"), Decimal(0))
    assert org_total("2026-02") == (Decimal("9.00"), Decimal(0))


def test_a_file_that_is_not_focus_fails_loudly_and_writes_nothing(
    ingest: ModuleType, aws: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "costs.csv"
    bad.write_text("Cost,Date\n1,2026-05-01\n")
    upload(bad, "focus/manual/costs.csv")
    event = {"focus": {"bucket": "exports", "key": "focus/manual/costs.csv"}}
    with pytest.raises(ingest.BadJob, match="BilledCost"):
        ingest.lambda_handler(event, LambdaContext())
    assert table_contents(aws) == {"costs": [], "rollups": []}


def test_a_run_reports_its_lines_and_lag_as_metrics_and_its_id_in_the_event(
    ingest: ModuleType, may: FocusFile, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the run's moment fixed by its schedule, 06:00 on 1 June (the day after the window)
    event = {
        "start": "2026-05-01",
        "end": "2026-06-01",
        "id": "evt-ingest-1",
        "scheduledTime": "2026-06-01T06:00:00Z",
    }
    ingest.metrics.clear_metrics()  # another test's run_job, called without the Lambda entry
    capsys.readouterr()

    detail = ingest.lambda_handler(event, LambdaContext())

    # The alert run it starts logs this id beside its own (functions/alerts/handler.py).
    assert detail["runId"] == "evt-ingest-1"
    # Two EMF records: the read (the coordinator's, at its end) and the finished run's (the
    # invocation that finalizes it: here the same one, no queue being configured).
    emfs = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if '"_aws"' in line and '"tally-ingest"' in line
    ]
    assert len(emfs) == 2
    # Powertools writes each value as a list of the values added.
    record = {
        k: v[0] if isinstance(v, list) and len(v) == 1 else v
        for emf in emfs
        for k, v in emf.items()
    }
    may_rows = [r for r in may.rows() if r["ChargePeriodStart"][:7] == "2026-05"]
    # At most a line per row, plus a share per consumer of a commitment fee (amortisation).
    consumed = sum(1 for r in may_rows if r.get("CommitmentDiscountStatus") == "Used")
    assert 0 < record["IngestLines"] <= len(may_rows) + consumed
    assert record["IngestDays"] == 31
    assert record["IngestRecords"] == detail["records"]
    newest = max(date.fromisoformat(r["ChargePeriodStart"][:10]) for r in may_rows)
    # From the end of the newest day with costs to the run's moment.
    expected_hours = (date(2026, 6, 1) - newest).days * 24 - 24 + 6
    assert record["IngestLag"] == expected_hours * 3600
    (declared,) = record["_aws"]["CloudWatchMetrics"]
    assert declared["Namespace"] == "Tally"
    assert declared["Dimensions"] == [["service"]] and record["service"] == "tally-ingest"


def test_the_fanned_out_ingest_amortises_a_savings_plan_over_its_consumers(
    ingest: ModuleType, dynamo_stores: Stores, tmp_path: Path
) -> None:
    """The Lambda's path (partition, workers, finalize) spreads the purchase as ``run_source``
    does (tests/unit/test_commitment_amortisation.py): Alice 60.00, Bob 20.00, Frank 20.00."""
    from tests.unit.test_commitment_amortisation import SAVINGS_PLAN_MONTH, _csv

    for name in ("alice", "bob", "frank"):
        dynamo_stores.users.put(UserProfile(name, name, None, Role.USER))
    path = tmp_path / "sp.csv"
    path.write_bytes(_csv(SAVINGS_PLAN_MONTH))
    upload(path, "focus/2026-05/sp.csv")
    ingest.run_job(
        ingest.Job(date(2026, 5, 1), date(2026, 6, 1), "exports", "focus/2026-05/sp.csv")
    )
    purchases = {
        owner: sum(
            r.billed_cost
            for r in dynamo_stores.costs.for_owner(owner, date(2026, 5, 1), date(2026, 6, 1))
            if r.charge_category == "Purchase"
        )
        for owner in ("alice", "bob", "frank")
    }
    assert purchases == {
        "alice": Decimal("60.00"),
        "bob": Decimal("20.00"),
        "frank": Decimal("20.00"),
    }


@needs_focus_sample
def test_the_lambdas_ingest_of_the_sample_stores_its_commitment_uses(
    ingest: ModuleType, dynamo_stores: Stores
) -> None:
    """The Lambda's path stores what utilisation and coverage are computed from
    (tally.commitments.focus): the sample's figures, summed by hand in
    tests/unit/test_commitments_focus.py, come back from the commitments table."""
    from tally.commitments.focus import figures

    upload(FOCUS_SAMPLE, "focus/2026-05/part-0.csv")
    ingest.lambda_handler({"start": "2026-05-01", "end": "2026-06-01"}, LambdaContext())
    stored = figures(dynamo_stores.commitments.focus_uses(date(2026, 5, 1), date(2026, 6, 1)))
    assert [(c.kind, c.covered, c.on_demand_cost, c.percent) for c in stored.coverage] == [
        ("reservation", Decimal("14.919456"), Decimal("2.234802"), Decimal("86.97")),
        ("savings-plan", Decimal("25.676832"), Decimal("2.234802"), Decimal("91.99")),
    ]
    assert len(stored.by_commitment) == 93
