"""The fan-out through the real functions on moto: the coordinator partitions into S3 and
sends to SQS, the worker function takes the messages as Lambda's event source hands them over
(partial batch failures, the queue's redrive to its dead-letter queue), the last batch has
the run finalized and ``CostsIngested`` announced once.

The fault is a real one, not a mock: a partition's object is missing from the work bucket
for the first two receives (as if S3 had not yet served it) and back for the third."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from infra.local.queue_worker import failed_ids, sqs_event
from tally.identity import Role
from tally.models import UserProfile
from tally.settings import Settings
from tally.store import Stores
from tests.focus_files import TEAMS, focus_file
from tests.harness import LambdaContext
from tests.ingest.test_ingest_handler import table_contents

REGION = "us-east-1"


@pytest.fixture
def fanout_env(
    aws: Settings, dynamo_stores: Stores, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, str]]:
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    for bucket in ("exports", "work"):
        s3.create_bucket(Bucket=bucket)
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    # Queues of this test's own: moto lives as long as the module, and SQS purges slowly.
    name = f"batches-{uuid.uuid4().hex[:8]}"
    dlq = sqs.create_queue(QueueName=f"{name}-failed")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue = sqs.create_queue(
        QueueName=name,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
            "VisibilityTimeout": "0",  # a failed message is visible again at once
        },
    )["QueueUrl"]
    exported = focus_file("project", tmp_path)
    s3.upload_file(str(exported.path), "exports", "focus/2026-05/part-0.csv")
    for n, team in enumerate(TEAMS):
        dynamo_stores.users.put(UserProfile(f"u-team-{n}", team, None, Role.USER))
    env = {
        "TALLY_EXPORT_BUCKET": "exports",
        "TALLY_COST_SOURCE": "focus",
        "TALLY_INGEST_QUEUE_URL": queue,
        "TALLY_INGEST_WORK_BUCKET": "work",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from ingest import handler, worker

    for cached in (handler._stores, handler._idempotent_runner, worker._worker):
        cached.cache_clear()
    yield {**env, "dlq": dlq}
    for cached in (handler._stores, handler._idempotent_runner, worker._worker):
        cached.cache_clear()


def drain(worker: ModuleType, queue: str, *, batch: int = 5, rounds: int = 50) -> list[set[str]]:
    """Lambda's SQS poller, as far as these tests need it: receive, invoke, delete what did not
    fail. Returns each invocation's failed message ids."""
    sqs = boto3.client("sqs", region_name=REGION)
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    failures: list[set[str]] = []
    for _ in range(rounds):
        got = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=batch, AttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            break
        result = worker.lambda_handler(
            sqs_event(got, queue_arn=arn, region=REGION), LambdaContext()
        )
        failed = failed_ids(result)
        failures.append(failed)
        for m in got:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return failures


def messages(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def emf_values(out: str, name: str) -> list[float]:
    values = []
    for line in out.splitlines():
        if '"_aws"' in line and f'"{name}"' in line:
            value = json.loads(line)[name]
            values += value if isinstance(value, list) else [value]
    return values


def inline_tables(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    """The same job with every stage in one invocation (no queue): the reference."""
    from ingest import handler

    monkeypatch.delenv("TALLY_INGEST_QUEUE_URL")
    monkeypatch.delenv("TALLY_INGEST_WORK_BUCKET")
    handler._stores.cache_clear()
    handler.run_job(handler.Job(*may()), run_id="inline")
    return table_contents(aws)


def may() -> tuple[Any, Any]:
    from datetime import date

    return date(2026, 5, 1), date(2026, 6, 1)


def test_a_run_fans_out_over_the_queue_and_finishes_once(
    fanout_env: dict[str, str],
    aws: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ingest import handler, worker

    answer = handler.lambda_handler(
        {"start": "2026-05-01", "end": "2026-06-01", "id": "evt-1"}, LambdaContext()
    )
    assert answer["runId"] == "evt-1" and answer["dispatched"] == answer["partitions"] > 1
    failures = drain(worker, fanout_env["TALLY_INGEST_QUEUE_URL"])
    assert all(not f for f in failures)
    out = capsys.readouterr().out
    assert sum(emf_values(out, "IngestBatches")) == answer["partitions"]
    assert emf_values(out, "IngestDays") == [31]  # announced once, by the last worker
    fanned = table_contents(aws)
    assert fanned == inline_tables(aws, monkeypatch)


def test_a_batch_failing_twice_is_retried_alone_and_one_failing_for_good_lands_in_the_dlq(
    fanout_env: dict[str, str],
    aws: Settings,
    dynamo_stores: Stores,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ingest import handler, worker

    s3 = boto3.client("s3", region_name=REGION)
    queue = fanout_env["TALLY_INGEST_QUEUE_URL"]
    answer = handler.lambda_handler(
        {"start": "2026-05-01", "end": "2026-06-01", "id": "evt-2"}, LambdaContext()
    )
    run = dynamo_stores.ingest_runs.get("evt-2")
    assert run is not None
    flaky = f"runs/evt-2/parts/{run.partitions[0]}.jsonl.gz"
    body = s3.get_object(Bucket="work", Key=flaky)["Body"].read()
    s3.delete_object(Bucket="work", Key=flaky)

    # Two rounds fail that one message and no other; then the object is back.
    first = drain(worker, queue, batch=10, rounds=1)
    second = drain(worker, queue, batch=10, rounds=1)
    assert len(first[0]) == 1 and len(second[0]) == 1
    s3.put_object(Bucket="work", Key=flaky, Body=body)
    drain(worker, queue)
    out = capsys.readouterr().out
    assert sum(emf_values(out, "IngestBatchFailures")) == 2
    assert emf_values(out, "IngestDays") == [31]
    assert dynamo_stores.ingest_runs.get("evt-2").finalized  # type: ignore[union-attr]
    assert table_contents(aws) == inline_tables(aws, monkeypatch)
    assert answer["partitions"] == len(run.partitions)


def test_a_partition_that_keeps_failing_goes_to_the_dead_letter_queue_and_a_re_run_resumes(
    fanout_env: dict[str, str],
    aws: Settings,
    dynamo_stores: Stores,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ingest import handler, worker

    s3 = boto3.client("s3", region_name=REGION)
    handler.lambda_handler(
        {"start": "2026-05-01", "end": "2026-06-01", "id": "evt-3"}, LambdaContext()
    )
    run = dynamo_stores.ingest_runs.get("evt-3")
    assert run is not None
    s3.delete_object(Bucket="work", Key=f"runs/evt-3/parts/{run.partitions[0]}.jsonl.gz")
    drain(worker, fanout_env["TALLY_INGEST_QUEUE_URL"])
    out = capsys.readouterr().out
    assert sum(emf_values(out, "IngestBatchFailures")) == 3
    assert messages(fanout_env["dlq"]) == [
        {"kind": "partition", "runId": "evt-3", "partition": run.partitions[0]}
    ]
    after = dynamo_stores.ingest_runs.get("evt-3")
    assert after is not None and not after.finalized
    assert after.done == len(run.partitions) - 1
    assert emf_values(out, "IngestDays") == []  # no CostsIngested for an unfinished run

    # The operator re-runs it (the same id, force; the window in the event does not matter):
    # only the failed partition is written and sent again, and the run finishes.
    again = handler.lambda_handler(
        {"start": "2026-05-20", "end": "2026-05-21", "id": "evt-3", "force": True},
        LambdaContext(),
    )
    assert again["runId"] == "evt-3" and again["dispatched"] == 1
    assert (again["start"], again["end"]) == ("2026-05-01", "2026-06-01")
    drain(worker, fanout_env["TALLY_INGEST_QUEUE_URL"])
    assert emf_values(capsys.readouterr().out, "IngestDays") == [31]
    assert dynamo_stores.ingest_runs.get("evt-3").finalized  # type: ignore[union-attr]
    assert table_contents(aws) == inline_tables(aws, monkeypatch)
