"""The reports function: its job queue (encrypted, SSL only, a dead-letter queue after the
handler's last delivery), what starts the recommendations refresh, what it and the API may do
with the files, the bucket's lifecycle for them, and the alarms."""

from __future__ import annotations

from typing import Any

from reports.settings import JOB_MAX_RECEIVES, REPORTS_PREFIX

from infra import outputs
from infra.constructs import reports as construct
from infra.nag import flatten_reference
from tally import events
from tests.infra.conftest import Synthesized
from tests.infra.test_iam import _as_list, _role_of, _statements


def _function(synth: Synthesized) -> dict[str, Any]:
    return synth.properties(synth.output_target(outputs.REPORTS_FUNCTION_NAME))


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _grants(synth: Synthesized, output_id: str) -> set[tuple[str, str]]:
    return {
        (action, flatten_reference(resource))
        for statement in _statements(synth, _role_of(synth, output_id))
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }


def test_the_function_has_room_for_large_exports(synth: Synthesized) -> None:
    function = _function(synth)
    assert function["MemorySize"] == 1024
    assert function["Timeout"] == 300
    variables = function["Environment"]["Variables"]
    assert variables["TALLY_REPORTS_BUCKET"] == {"Ref": synth.output_target(outputs.EXPORT_BUCKET)}
    assert variables["TALLY_SENDER_EMAIL"] == synth.stack.config.sender_email
    assert "TALLY_SES_CONFIGURATION_SET" in variables


def test_invoices_carry_the_organisation_name_of_the_context(
    synth: Synthesized, variant: Synthesized
) -> None:
    assert _function(synth)["Environment"]["Variables"]["TALLY_ORG_NAME"] == "Tally"
    assert _function(variant)["Environment"]["Variables"]["TALLY_ORG_NAME"] == "Example Org"


def test_the_job_queue_is_encrypted_ssl_only_and_redrives_after_the_last_delivery(
    synth: Synthesized,
) -> None:
    queue = synth.output_target(outputs.REPORTS_QUEUE_URL)
    dlq = synth.output_target(outputs.REPORTS_JOBS_DEAD_LETTER_QUEUE_URL)
    props = synth.properties(queue)
    assert props["SqsManagedSseEnabled"] is True
    # The handler fails a job on its JOB_MAX_RECEIVES-th delivery: the same number here.
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": _arn(dlq),
        "maxReceiveCount": JOB_MAX_RECEIVES,
    }
    # Six times the function's timeout (Lambda's guidance for an SQS event source).
    assert props["VisibilityTimeout"] >= 6 * _function(synth)["Timeout"]
    for q in (queue, dlq):
        policies = [
            p["Properties"]
            for p in synth.resources("AWS::SQS::QueuePolicy").values()
            if {"Ref": q} in p["Properties"]["Queues"]
        ]
        (policy,) = policies
        (deny,) = policy["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_jobs_arrive_one_at_a_time_with_partial_failures(synth: Synthesized) -> None:
    function = synth.output_target(outputs.REPORTS_FUNCTION_NAME)
    queue = synth.output_target(outputs.REPORTS_QUEUE_URL)
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert mapping["EventSourceArn"] == _arn(queue)
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_costs_ingested_and_a_daily_schedule_refresh_recommendations(synth: Synthesized) -> None:
    function = synth.output_target(outputs.REPORTS_FUNCTION_NAME)
    dlq = synth.output_target(outputs.REPORTS_DEAD_LETTER_QUEUE_URL)
    rules = [
        r["Properties"]
        for r in synth.resources("AWS::Events::Rule").values()
        if any(t["Arn"] == _arn(function) for t in r["Properties"]["Targets"])
    ]
    patterns = [r.get("EventPattern") for r in rules]
    schedules = [r.get("ScheduleExpression") for r in rules]
    assert {"source": [events.SOURCE], "detail-type": [events.COSTS_INGESTED]} in patterns
    assert "cron(30 5 * * ? *)" in schedules
    for rule in rules:
        (target,) = rule["Targets"]
        assert target["DeadLetterConfig"] == {"Arn": _arn(dlq)}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == construct.RULE_RETRY_ATTEMPTS
    assert _function(synth)["DeadLetterConfig"] == {"TargetArn": _arn(dlq)}


def test_files_only_under_reports(synth: Synthesized) -> None:
    exports = synth.output_target(outputs.EXPORT_BUCKET)
    objects = f"<{exports}.Arn>/{REPORTS_PREFIX}*"
    mine = _grants(synth, outputs.REPORTS_FUNCTION_NAME)
    s3 = {(a, r) for a, r in mine if a.startswith("s3:") and "Lifecycle" not in a}
    assert s3 == {
        (action, objects)
        for action in (
            "s3:PutObject",
            "s3:GetObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
        )
    } | {("s3:ListAllMyBuckets", "*")}
    api = _grants(synth, outputs.API_FUNCTION_NAME)
    assert ("s3:GetObject", objects) in api
    assert not any(a == "s3:PutObject" for a, _ in api)
    queue = synth.output_target(outputs.REPORTS_QUEUE_URL)
    assert ("sqs:SendMessage", f"<{queue}.Arn>") in api


def test_the_api_knows_the_queue_and_the_bucket(synth: Synthesized) -> None:
    api = synth.properties(synth.output_target(outputs.API_FUNCTION_NAME))
    variables = api["Environment"]["Variables"]
    assert variables["TALLY_REPORTS_QUEUE_URL"] == {
        "Ref": synth.output_target(outputs.REPORTS_QUEUE_URL)
    }
    assert variables["TALLY_REPORTS_BUCKET"] == {"Ref": synth.output_target(outputs.EXPORT_BUCKET)}
    assert variables["TALLY_REPORT_LINK_SECONDS"] == "900"
    # Only the local stack has a public S3 endpoint of its own.
    assert "TALLY_S3_PUBLIC_ENDPOINT_URL" not in variables


def test_report_files_expire_after_a_week(synth: Synthesized) -> None:
    bucket = synth.properties(synth.output_target(outputs.EXPORT_BUCKET))
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-reports"]["Prefix"] == REPORTS_PREFIX
    assert rules["expire-reports"]["ExpirationInDays"] == 7
    assert rules["expire-reports"]["Status"] == "Enabled"
    # The FOCUS files' own rule is still there.
    assert "expire-exports" in rules


def test_alarms_watch_the_function_and_both_dead_letter_queues(synth: Synthesized) -> None:
    watched = {
        flatten_reference(d["Value"])
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        for d in a["Properties"].get("Dimensions", [])
    }
    assert f"<{synth.output_target(outputs.REPORTS_FUNCTION_NAME)}>" in watched
    for output_id in (
        outputs.REPORTS_DEAD_LETTER_QUEUE_URL,
        outputs.REPORTS_JOBS_DEAD_LETTER_QUEUE_URL,
    ):
        assert f"<{synth.output_target(output_id)}.QueueName>" in watched


def test_the_commitments_refresh_may_call_exactly_its_reads(synth: Synthesized) -> None:
    mine = _grants(synth, outputs.REPORTS_FUNCTION_NAME)
    reads = {a for a, _ in mine if a.startswith(("ce:", "savingsplans:"))}
    assert reads == set(construct.COMMITMENT_ACTIONS)
    assert {r for a, r in mine if a in construct.COMMITMENT_ACTIONS} == {"*"}
    # The calls the reader makes, by their IAM names: nothing granted it does not call.
    import inspect

    from tally.commitments import cost_explorer

    called = {
        name
        for name in (
            "get_reservation_utilization",
            "get_reservation_coverage",
            "get_reservation_purchase_recommendation",
            "get_savings_plans_utilization",
            "get_savings_plans_coverage",
            "get_savings_plans_purchase_recommendation",
            "describe_savings_plans",
        )
        if f".{name}" in inspect.getsource(cost_explorer)
    }
    assert len(called) == len(construct.COMMITMENT_ACTIONS)
    # Its expiry notices publish to the admins' topic, and only there.
    topic = synth.output_target(outputs.ADMIN_ALERTS_TOPIC_ARN)
    published = {r for a, r in mine if a == "sns:Publish"}
    assert len(published) == 1 and topic in published.pop()
