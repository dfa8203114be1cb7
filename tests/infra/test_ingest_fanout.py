"""The ingest fan-out (issue 14): the coordinator's partitions go through the batches queue to
the worker function, each partition retried alone and dead-lettered after three attempts; the
working files in a bucket of their own that forgets them after 14 days; the run's state in the
ingestruns table; what each function may touch; the alarms and the dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import outputs
from infra.constructs import ingest as construct
from infra.constructs.storage import INGEST_WORK_RETENTION_DAYS
from infra.nag import flatten_reference
from tally.tables import BILLING, COSTS, INGEST_RUNS, ROLLUPS
from tests.infra.conftest import INGEST_WORKER, VARIANT_CONTEXT, Synthesized
from tests.infra.test_iam import _as_list, _role_of, _statements

DAY = 24 * 3600


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _ingest(synth: Synthesized) -> construct.Ingest:
    found = synth.stack.node.find_child("Ingest")
    assert isinstance(found, construct.Ingest)
    return found


def _queue_id(synth: Synthesized) -> str:
    return synth.logical_id(_ingest(synth).batches_queue)


def _dead_letter_queue_id(synth: Synthesized) -> str:
    return synth.logical_id(_ingest(synth).batches_dead_letter_queue)


def _bucket_id(synth: Synthesized) -> str:
    return synth.logical_id(synth.stack.node.find_child("Storage").ingest_work)


def _worker(synth: Synthesized) -> dict[str, Any]:
    return synth.properties(synth.function_id(INGEST_WORKER))


def _coordinator(synth: Synthesized) -> dict[str, Any]:
    return synth.properties(synth.output_target(outputs.INGEST_FUNCTION_NAME))


# -- the queue ------------------------------------------------------------------------------


def test_a_partition_is_tried_three_times_then_waits_in_the_dead_letter_queue(
    synth: Synthesized,
) -> None:
    queue = synth.properties(_queue_id(synth))
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": _arn(_dead_letter_queue_id(synth)),
        "maxReceiveCount": 3,
    }
    # Lambda's guidance: six times the worker's timeout, so a partition being worked on is not
    # handed to a second worker.
    assert queue["VisibilityTimeout"] == 6 * _worker(synth)["Timeout"]
    # SQS drops expired messages without a dead letter: they last as long as the run's files.
    assert queue["MessageRetentionPeriod"] == INGEST_WORK_RETENTION_DAYS * DAY
    assert queue["SqsManagedSseEnabled"] is True
    dead_letters = synth.properties(_dead_letter_queue_id(synth))
    assert dead_letters["MessageRetentionPeriod"] == 14 * DAY
    assert dead_letters["SqsManagedSseEnabled"] is True
    # The contract's name, so the queue is recognisable in the console.
    assert _dead_letter_queue_id(synth).startswith("IngestBatchesFailed")


def test_both_queues_refuse_plain_http(synth: Synthesized) -> None:
    for queue in (_queue_id(synth), _dead_letter_queue_id(synth)):
        (policy,) = [
            p["Properties"]
            for p in synth.resources("AWS::SQS::QueuePolicy").values()
            if {"Ref": queue} in p["Properties"]["Queues"]
        ]
        (deny,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def _mapping(synth: Synthesized) -> dict[str, Any]:
    worker = {"Ref": synth.function_id(INGEST_WORKER)}
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == worker
    ]
    return mapping


def test_the_queue_feeds_the_worker_reporting_each_failed_partition(synth: Synthesized) -> None:
    mapping = _mapping(synth)
    assert mapping["EventSourceArn"] == _arn(_queue_id(synth))
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 5
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}  # ingestWorkers' default


def test_the_number_of_workers_is_a_setting(variant: Synthesized) -> None:
    # ingestWorkers given on the command line (a string): the event source reads that many.
    assert _mapping(variant)["ScalingConfig"] == {
        "MaximumConcurrency": int(VARIANT_CONTEXT["ingestWorkers"])
    }


# -- the functions --------------------------------------------------------------------------


def test_the_worker_runs_one_vcpu_for_five_minutes_without_pyarrow(synth: Synthesized) -> None:
    worker = _worker(synth)
    assert worker["Handler"] == "ingest.worker.lambda_handler"
    assert worker["MemorySize"] == 1769
    assert worker["Timeout"] == 300
    variables = worker["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "tally-ingest-worker"
    parquet = synth.logical_id(_ingest(synth).parquet_layer)
    assert {"Ref": parquet} not in worker["Layers"]
    # Only the SQS event source invokes it: no asynchronous dead-letter queue to configure.
    assert "DeadLetterConfig" not in worker


@pytest.mark.parametrize("function", ["coordinator", "worker"])
def test_both_functions_are_told_the_queue_the_bucket_and_the_runs_table(
    synth: Synthesized, function: str
) -> None:
    properties = _coordinator(synth) if function == "coordinator" else _worker(synth)
    variables = properties["Environment"]["Variables"]
    assert variables["TALLY_INGEST_QUEUE_URL"] == {"Ref": _queue_id(synth)}
    assert variables["TALLY_INGEST_WORK_BUCKET"] == {"Ref": _bucket_id(synth)}
    assert variables["TALLY_EVENT_BUS_NAME"] == {"Ref": synth.output_target(outputs.EVENT_BUS_NAME)}
    runs = synth.output_target(outputs.table_name(INGEST_RUNS))
    assert variables["TALLY_TABLE_INGESTRUNS"] == {"Ref": runs}


def test_the_coordinator_has_room_to_spill_the_lines(synth: Synthesized) -> None:
    assert _coordinator(synth)["EphemeralStorage"] == {"Size": 4096}


def test_the_coordinator_has_six_vcpus_for_the_allocation_processes(synth: Synthesized) -> None:
    # Lambda gives a vCPU per 1,769 MB: 10,240 MB is six, one allocation process each.
    assert _coordinator(synth)["MemorySize"] == 10_240
    assert "EphemeralStorage" not in _worker(synth)  # Lambda's 512 MB


def _grants(synth: Synthesized, output_id: str) -> set[tuple[str, str]]:
    return {
        (action, flatten_reference(resource))
        for statement in _statements(synth, _role_of(synth, output_id))
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }


@pytest.mark.parametrize("output_id", [outputs.INGEST_FUNCTION_NAME, INGEST_WORKER])
def test_work_files_and_messages_stay_inside_the_fan_out(
    synth: Synthesized, output_id: str
) -> None:
    # Given either function's grants, then its S3 and SQS sends reach only the fan-out's own
    # bucket prefix and queue (and, for the coordinator, its dead-letter queue of failed runs).
    grants = _grants(synth, output_id)
    work_objects = f"<{_bucket_id(synth)}.Arn>/runs/*"
    assert {r for a, r in grants if a in ("s3:PutObject", "s3:GetObject")} - {
        f"<{synth.output_target(outputs.EXPORT_BUCKET)}.Arn>/*"
    } == {work_objects}
    assert {r for a, r in grants if a == "s3:PutObject"} == {work_objects}
    sends = {r for a, r in grants if a == "sqs:SendMessage"}
    expected = {f"<{_queue_id(synth)}.Arn>"}
    if output_id == outputs.INGEST_FUNCTION_NAME:
        expected.add(f"<{synth.output_target(outputs.INGEST_DEAD_LETTER_QUEUE_URL)}.Arn>")
    assert sends == expected
    # No delete, no list: the bucket's lifecycle rule is the only thing that removes a file.
    assert not {a for a, r in grants if r.startswith(f"<{_bucket_id(synth)}.Arn>")} - {
        "s3:GetObject",
        "s3:PutObject",
    }


def test_the_worker_reads_only_its_queue_and_publishes_only_on_the_bus(
    synth: Synthesized,
) -> None:
    grants = _grants(synth, INGEST_WORKER)
    queue = f"<{_queue_id(synth)}.Arn>"
    assert {r for a, r in grants if a.startswith("sqs:")} == {queue}
    bus = synth.output_target(outputs.EVENT_BUS_NAME)
    assert {r for a, r in grants if a == "events:PutEvents"} == {f"<{bus}.Arn>"}
    # The users, budgets and assignments stay out of reach (the forecast needs none; the
    # exact actions per table are in tests/infra/test_iam.py); the billing settings are read
    # for the periods roll-ups are made for.
    tables = {r.strip("<").partition(".Arn>")[0] for a, r in grants if a.startswith("dynamodb:")}
    assert tables == {
        synth.output_target(outputs.table_name(spec))
        for spec in (COSTS, ROLLUPS, INGEST_RUNS, BILLING)
    }


# -- the work bucket and the runs table -----------------------------------------------------


def test_the_work_bucket_forgets_runs_after_14_days_and_is_locked_down(
    synth: Synthesized,
) -> None:
    bucket = synth.properties(_bucket_id(synth))
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == INGEST_WORK_RETENTION_DAYS == 14
    assert rule["Status"] == "Enabled"
    assert "Prefix" not in rule  # every object: the bucket holds the runs only
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "VersioningConfiguration" not in bucket
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "s3/ingest-work/"
    (policy,) = [
        p["Properties"]
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": _bucket_id(synth)}
    ]
    (deny,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_runs_table_expires_its_items_and_keeps_no_backups(synth: Synthesized) -> None:
    table = synth.properties(synth.output_target(outputs.table_name(INGEST_RUNS)))
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    (replica,) = table["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}


# -- alarms and the dashboard ---------------------------------------------------------------


def _alarms(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def test_a_dead_lettered_partition_raises_an_alarm(synth: Synthesized) -> None:
    alarm = _alarms(synth)["Tally-ingest-batches-dead-letters"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [_dead_letter_queue_id(synth), "QueueName"]}}
    ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )


def test_a_failed_attempt_at_a_partition_raises_a_warning_within_the_hour(
    synth: Synthesized,
) -> None:
    alarm = _alarms(synth)["Tally-ingest-batch-failures"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Tally", "IngestBatchFailures")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "tally-ingest-worker"}]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 3600, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_worker_has_the_function_alarms(synth: Synthesized) -> None:
    alarms = _alarms(synth)
    worker = {"Name": "FunctionName", "Value": {"Ref": synth.function_id(INGEST_WORKER)}}
    assert alarms["Tally-ingest-worker-errors"]["Dimensions"] == [worker]
    assert alarms["Tally-ingest-worker-throttles"]["Dimensions"] == [worker]


def test_the_dashboard_graphs_the_batches_and_the_queue(synth: Synthesized) -> None:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "IngestBatches",
        "IngestBatchFailures",
        "IngestBatchRecords",
        "IngestBatchWrites",
        "ApproximateAgeOfOldestMessage",
    ):
        assert metric in body, metric
    assert "tally-ingest-worker" in body
    # The batches queue itself (not only its dead-letter queue) is on a graph.
    assert json.dumps({"Fn::GetAtt": [_queue_id(synth), "QueueName"]})[1:-1] in body
