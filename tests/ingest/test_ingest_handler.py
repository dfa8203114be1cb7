"""The ingest Lambda end to end on moto: FOCUS from S3, API figures, duplicate delivery."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from tally.identity import Role
from tally.models import UserProfile
from tally.settings import Settings
from tally.store import Stores
from tests.conftest import ADMIN
from tests.harness import Api, LambdaContext

SAMPLE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "focus" / "focus_1.2_aws_sample.csv"
)
TEAMS = ("team-data", "team-platform", "team-payments")


@pytest.fixture
def ingest(
    aws: Settings, dynamo_stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> Iterator[object]:
    from ingest import handler

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="exports")
    s3.upload_file(str(SAMPLE), "exports", "focus/2026-05/part-0.csv")
    monkeypatch.setenv("TALLY_EXPORT_BUCKET", "exports")
    monkeypatch.setenv("TALLY_COST_SOURCE", "focus")
    for n, team in enumerate(TEAMS):
        dynamo_stores.users.put(UserProfile(f"u-team-{n}", team, None, Role.USER))
    handler._stores.cache_clear()
    handler._idempotent_runner.cache_clear()
    yield handler
    handler._stores.cache_clear()
    handler._idempotent_runner.cache_clear()


def file_totals() -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    with SAMPLE.open(newline="") as f:
        for row in csv.DictReader(f):
            totals[json.loads(row["Tags"] or "{}").get("Owner", "")] += Decimal(row["BilledCost"])
    return totals


def table_contents(settings: Settings) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    client = boto3.client("dynamodb", region_name="us-east-1")
    out = {}
    for key in ("costs", "rollups"):
        items = client.scan(TableName=settings.table_names[key])["Items"]
        for item in items:  # when a run happened is not part of what it computed
            item.pop("updated_at", None)
            item.pop("fetched_at", None)
        out[key] = sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    return out


def test_focus_sample_ingests_completely_and_api_agrees(ingest, api: Api, aws: Settings) -> None:  # type: ignore[no-untyped-def]
    result = ingest.lambda_handler({"start": "2026-05-01", "end": "2026-06-01"}, LambdaContext())
    assert Decimal(result["totals"]["USD"]) == Decimal("67941.200509")
    expected = file_totals()
    for n, team in enumerate(TEAMS):
        reply = api.call(
            "GET",
            f"/api/billing/user/u-team-{n}/costs?startDate=2026-05-01&endDate=2026-05-31",
            ADMIN,
        )
        assert reply.status == 200
        assert Decimal(reply.body["total"]["amount"]) == expected[team], team
        assert len(reply.body["daily"]) == 31
    org = api.call("GET", "/api/billing/all-users?month=2026-05", ADMIN).body
    assert Decimal(org["organisationTotal"]["amount"]) == Decimal("67941.200509")
    assert Decimal(org["unallocated"]["amount"]) == expected.get("", Decimal(0))
    rows = {r["username"]: Decimal(r["total"]["amount"]) for r in org["users"]}
    assert {t: rows[t] for t in TEAMS} == {t: expected[t] for t in TEAMS}


def test_same_event_twice_and_same_range_twice_leave_identical_tables(
    ingest, aws: Settings
) -> None:  # type: ignore[no-untyped-def]
    event = {"start": "2026-05-01", "end": "2026-06-01"}
    first = ingest.lambda_handler(event, LambdaContext())
    after_first = table_contents(aws)
    assert ingest.lambda_handler(event, LambdaContext()) == first  # answered from the record
    assert table_contents(aws) == after_first
    ingest._idempotent_runner.cache_clear()
    ingest.run_job(ingest.Job(date(2026, 5, 1), date(2026, 6, 1)))  # a real second run
    assert table_contents(aws) == after_first


def test_costs_ingested_event_is_emitted(
    ingest, aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
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
    ingest.run_job(ingest.Job(date(2026, 5, 1), date(2026, 5, 3)))
    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
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
    ingest, aws: Settings, event: dict
) -> None:  # type: ignore[no-untyped-def,type-arg]
    with pytest.raises(ingest.BadJob):
        ingest.lambda_handler(event, LambdaContext())
    assert table_contents(aws) == {"costs": [], "rollups": []}


def test_scheduled_event_reads_the_restatement_window() -> None:
    from ingest.handler import resolve_job

    job = resolve_job({"source": "aws.scheduler"}, today=date(2026, 11, 25))
    assert (job.start, job.end) == (date(2026, 11, 22), date(2026, 11, 25))
    late = resolve_job({}, today=date(2026, 11, 25), estimated=frozenset({date(2026, 11, 2)}))
    assert late.start == date(2026, 11, 2)


def test_a_scheduled_run_reads_the_window_of_its_scheduled_time_once(ingest, aws: Settings) -> None:  # type: ignore[no-untyped-def]
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
