"""The alerts: the function and what starts it (the CostsIngested rule, the hourly drain, the
fan-out queue, SES feedback through SNS), where failures land, what it may do, the key and
secret it shares with the API, and the alarms. The handler's side of each event shape is
checked against the same constants (tests/unit/test_alerts_handler.py runs the handler)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alerts import handler
from infra import nag, outputs
from infra.constructs import alerts as construct
from infra.nag import flatten_reference
from tally import events
from tests.infra.conftest import VARIANT_CONTEXT, Synthesized
from tests.infra.test_iam import _as_list, _role_of, _statements


def _function(synth: Synthesized) -> dict[str, Any]:
    return synth.properties(synth.output_target(outputs.ALERTS_FUNCTION_NAME))


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _one(synth: Synthesized, resource_type: str, prefix: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in synth.resources(resource_type).items()
        if logical_id.startswith(prefix)
    ]
    return found


# -- the function ---------------------------------------------------------------------------


def test_the_function_is_told_where_everything_is(synth: Synthesized) -> None:
    variables = _function(synth)["Environment"]["Variables"]
    config_set, _ = _one(synth, "AWS::SES::ConfigurationSet", "AlertsConfigurationSet")
    key, _ = _one(synth, "AWS::KMS::Key", "AlertsWebhookKey")
    assert variables["TALLY_SENDER_EMAIL"] == synth.stack.config.sender_email
    assert variables["TALLY_SES_CONFIGURATION_SET"] == {"Ref": config_set}
    assert variables["TALLY_ADMIN_TOPIC_ARN"] == {
        "Ref": synth.output_target(outputs.ADMIN_ALERTS_TOPIC_ARN)
    }
    assert variables["TALLY_ALERTS_QUEUE_URL"] == {
        "Ref": synth.output_target(outputs.ALERTS_QUEUE_URL)
    }
    assert variables["TALLY_WEBHOOK_KEY_ID"] == _arn(key)
    assert variables["TALLY_UNSUBSCRIBE_SECRET_ID"] == {
        "Ref": synth.output_target(outputs.UNSUBSCRIBE_SECRET_ARN)
    }
    assert variables["TALLY_ALERT_EMAIL_CAP"] == str(construct.DEFAULT_EMAIL_CAP)
    assert variables["TALLY_ALERTS_FANOUT_MIN_USERS"] == str(construct.DEFAULT_FANOUT_MIN_USERS)
    # Links: the dashboard (CloudFront) and the API stage, whose /unsubscribe the digests name.
    distribution = synth.output_target(outputs.DASHBOARD_DISTRIBUTION_ID)
    assert distribution in json.dumps(variables["TALLY_DASHBOARD_URL"])
    assert json.dumps(variables["TALLY_DASHBOARD_URL"]).endswith('/"]]}')
    assert json.dumps(variables["TALLY_API_URL"]) == json.dumps(
        synth.json["Outputs"][outputs.API_URL]["Value"]
    )
    # Never on a deployed function: the local stack's own webhook receiver only.
    assert "TALLY_WEBHOOK_ALLOW_LOOPBACK" not in variables


def test_the_sender_comes_from_context(variant: Synthesized) -> None:
    variables = _function(variant)["Environment"]["Variables"]
    assert variables["TALLY_SENDER_EMAIL"] == VARIANT_CONTEXT["senderEmail"]


def test_failed_invocations_land_in_the_dead_letter_queue(synth: Synthesized) -> None:
    queue = synth.output_target(outputs.ALERTS_DEAD_LETTER_QUEUE_URL)
    assert _function(synth)["DeadLetterConfig"] == {"TargetArn": _arn(queue)}
    assert synth.properties(queue)["MessageRetentionPeriod"] == 14 * 24 * 3600


# -- what starts it -------------------------------------------------------------------------


def _rules(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        logical_id: rule["Properties"]
        for logical_id, rule in synth.resources("AWS::Events::Rule").items()
        if logical_id.startswith("Alerts")
    }


def test_costs_ingested_reaches_the_function_with_retries_and_a_dead_letter_queue(
    synth: Synthesized,
) -> None:
    (rule,) = [r for r in _rules(synth).values() if "EventPattern" in r]
    assert rule["EventBusName"] == {"Ref": synth.output_target(outputs.EVENT_BUS_NAME)}
    assert rule["EventPattern"] == {
        "source": [events.SOURCE],
        "detail-type": [events.COSTS_INGESTED],
    }
    _assert_target(synth, rule)
    # What the rule delivers is what the handler plans a run for.
    event = {"source": events.SOURCE, "detail-type": events.COSTS_INGESTED, "id": "e"}
    assert handler.event_kind(event) == "ingested"


def test_the_drain_runs_hourly_with_the_scheduled_event_the_handler_knows(
    synth: Synthesized,
) -> None:
    (rule,) = [r for r in _rules(synth).values() if "ScheduleExpression" in r]
    assert rule["ScheduleExpression"] == "rate(1 hour)"
    assert "EventBusName" not in rule  # the default bus carries schedules
    (target,) = rule["Targets"]
    # No input: EventBridge sends its own scheduled event.
    assert not {"Input", "InputPath", "InputTransformer"} & target.keys()
    _assert_target(synth, rule)
    assert handler.event_kind({"source": "aws.events", "detail-type": "Scheduled Event"}) == (
        "drain"
    )


def _assert_target(synth: Synthesized, rule: dict[str, Any]) -> None:
    (target,) = rule["Targets"]
    assert target["Arn"] == _arn(synth.output_target(outputs.ALERTS_FUNCTION_NAME))
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": construct.RULE_RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": 6 * 3600,
    }
    assert target["DeadLetterConfig"] == {
        "Arn": _arn(synth.output_target(outputs.ALERTS_DEAD_LETTER_QUEUE_URL))
    }


def test_the_fan_out_queue_redrives_and_outlasts_the_function(synth: Synthesized) -> None:
    queue = synth.properties(synth.output_target(outputs.ALERTS_QUEUE_URL))
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": _arn(
            synth.output_target(outputs.ALERTS_FAN_OUT_DEAD_LETTER_QUEUE_URL)
        ),
        "maxReceiveCount": construct.FAN_OUT_MAX_RECEIVES,
    }
    # Lambda's guidance: six times the function's timeout, so a message being worked on is
    # not handed to a second invocation.
    assert queue["VisibilityTimeout"] >= 6 * _function(synth)["Timeout"]
    assert queue["SqsManagedSseEnabled"] is True


def test_the_queue_feeds_the_function_reporting_each_failed_user(synth: Synthesized) -> None:
    function = {"Ref": synth.output_target(outputs.ALERTS_FUNCTION_NAME)}
    (mapping,) = [  # the reports function has its own (tests/infra/test_reports.py)
        m
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == function
    ]
    properties = mapping["Properties"]
    assert properties["EventSourceArn"] == _arn(synth.output_target(outputs.ALERTS_QUEUE_URL))
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] <= 10
    assert properties["ScalingConfig"] == {"MaximumConcurrency": construct.FAN_OUT_MAX_CONCURRENCY}


# -- SES ------------------------------------------------------------------------------------


def test_bounces_and_complaints_come_back_through_sns_to_the_function(synth: Synthesized) -> None:
    config_set, settings = _one(synth, "AWS::SES::ConfigurationSet", "AlertsConfigurationSet")
    assert settings["SuppressionOptions"] == {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]}
    _, destination = _one(synth, "AWS::SES::ConfigurationSetEventDestination", "Alerts")
    assert destination["ConfigurationSetName"] == {"Ref": config_set}
    assert destination["EventDestination"]["Enabled"] is True
    assert {"bounce", "complaint"} <= set(destination["EventDestination"]["MatchingEventTypes"])
    topic = destination["EventDestination"]["SnsDestination"]["TopicARN"]["Ref"]

    # SES may publish to the topic for this configuration set only, and use its key.
    _, policy = _one(synth, "AWS::SNS::TopicPolicy", "AlertsFeedbackPolicy")
    (allow,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "ses.amazonaws.com"}
    assert f"configuration-set/<{config_set}>" in flatten_reference(
        allow["Condition"]["StringEquals"]["AWS:SourceArn"]
    )
    key = synth.properties(topic)["KmsMasterKeyId"]["Fn::GetAtt"][0]
    principals = [s.get("Principal") for s in synth.properties(key)["KeyPolicy"]["Statement"]]
    assert {"Service": "ses.amazonaws.com"} in principals

    (subscription,) = [
        s["Properties"]
        for s in synth.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic}
    ]
    assert subscription["Protocol"] == "lambda"
    assert subscription["Endpoint"] == _arn(synth.output_target(outputs.ALERTS_FUNCTION_NAME))
    assert subscription["RedrivePolicy"] == {
        "deadLetterTargetArn": _arn(synth.output_target(outputs.ALERTS_DEAD_LETTER_QUEUE_URL))
    }
    assert handler.event_kind({"Records": [{"EventSource": "aws:sns"}]}) == "feedback"


# -- what the function may do ----------------------------------------------------------------


def _grants(synth: Synthesized, output_id: str) -> set[tuple[str, str]]:
    return {
        (action, flatten_reference(resource))
        for statement in _statements(synth, _role_of(synth, output_id))
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }


def test_email_goes_only_from_the_sender_through_the_configuration_set(
    synth: Synthesized,
) -> None:
    config_set, _ = _one(synth, "AWS::SES::ConfigurationSet", "AlertsConfigurationSet")
    ((identity, sender),) = synth.resources("AWS::SES::EmailIdentity").items()
    assert sender["Properties"]["EmailIdentity"] == synth.stack.config.sender_email
    sent = {r for a, r in _grants(synth, outputs.ALERTS_FUNCTION_NAME) if a.startswith("ses:")}
    assert sent == {
        f"arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:{resource}"
        for resource in (f"identity/<{identity}>", f"configuration-set/<{config_set}>")
    }
    assert {a for a, _ in _grants(synth, outputs.ALERTS_FUNCTION_NAME) if a.startswith("ses:")} == {
        "ses:SendEmail",
        "ses:SendRawEmail",
    }


def test_the_function_publishes_to_the_admin_topic_and_queues_only_its_own(
    synth: Synthesized,
) -> None:
    grants = _grants(synth, outputs.ALERTS_FUNCTION_NAME)
    topic = synth.output_target(outputs.ADMIN_ALERTS_TOPIC_ARN)
    assert {r for a, r in grants if a == "sns:Publish"} == {f"<{topic}>"}
    queues = {
        f"<{synth.output_target(o)}.Arn>"
        for o in (outputs.ALERTS_QUEUE_URL, outputs.ALERTS_DEAD_LETTER_QUEUE_URL)
    }
    assert {r for a, r in grants if a == "sqs:SendMessage"} == queues


def _key_statements(synth: Synthesized, output_id: str) -> list[dict[str, Any]]:
    key, _ = _one(synth, "AWS::KMS::Key", "AlertsWebhookKey")
    return [
        s
        for s in _statements(synth, _role_of(synth, output_id))
        if _arn(key) in _as_list(s["Resource"])
    ]


@pytest.mark.parametrize(
    ("output_id", "actions"),
    [
        (outputs.API_FUNCTION_NAME, ["kms:Decrypt", "kms:Encrypt"]),
        (outputs.ALERTS_FUNCTION_NAME, "kms:Decrypt"),
    ],
)
def test_webhook_urls_are_sealed_by_the_api_and_opened_by_both(
    synth: Synthesized, output_id: str, actions: Any
) -> None:
    (statement,) = _key_statements(synth, output_id)
    assert statement["Action"] == actions
    # Only with the user id as encryption context (tally.notify.secrets binds it).
    assert statement["Condition"] == {"Null": {"kms:EncryptionContext:userId": "false"}}


def test_no_other_function_uses_the_webhook_key(synth: Synthesized) -> None:
    assert _key_statements(synth, outputs.INGEST_FUNCTION_NAME) == []


def test_the_webhook_key_rotates_and_outlives_the_stack(synth: Synthesized) -> None:
    key, properties = _one(synth, "AWS::KMS::Key", "AlertsWebhookKey")
    assert properties["EnableKeyRotation"] is True
    # The preferences holding the sealed URLs are retained: so is the key that opens them.
    assert synth.json["Resources"][key]["DeletionPolicy"] == "Retain"


def test_the_unsubscribe_keys_are_generated_retained_and_read_by_api_and_alerts(
    synth: Synthesized,
) -> None:
    secret = synth.output_target(outputs.UNSUBSCRIBE_SECRET_ARN)
    generated = synth.properties(secret)["GenerateSecretString"]
    assert generated == {
        "ExcludePunctuation": True,
        "GenerateStringKey": "current",
        "PasswordLength": 64,
        "SecretStringTemplate": "{}",
    }
    assert synth.json["Resources"][secret]["DeletionPolicy"] == "Retain"
    readers = {
        output_id
        for output_id in (
            outputs.API_FUNCTION_NAME,
            outputs.INGEST_FUNCTION_NAME,
            outputs.ALERTS_FUNCTION_NAME,
        )
        if ("secretsmanager:GetSecretValue", f"<{secret}>") in _grants(synth, output_id)
    }
    assert readers == {outputs.API_FUNCTION_NAME, outputs.ALERTS_FUNCTION_NAME}


def test_the_api_is_told_the_key_and_the_secret(synth: Synthesized) -> None:
    variables = synth.properties(synth.output_target(outputs.API_FUNCTION_NAME))["Environment"][
        "Variables"
    ]
    alerts = _function(synth)["Environment"]["Variables"]
    for name in ("TALLY_WEBHOOK_KEY_ID", "TALLY_UNSUBSCRIBE_SECRET_ID"):
        assert variables[name] == alerts[name]


# -- alarms and cdk-nag ------------------------------------------------------------------------


def _alarm(synth: Synthesized, name: str) -> dict[str, Any]:
    (alarm,) = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == f"Tally-{name}"
    ]
    return alarm


@pytest.mark.parametrize(
    ("name", "output_id"),
    [
        ("alerts-dead-letters", outputs.ALERTS_DEAD_LETTER_QUEUE_URL),
        ("alerts-fan-out-dead-letters", outputs.ALERTS_FAN_OUT_DEAD_LETTER_QUEUE_URL),
    ],
)
def test_dead_letter_queues_alarm(synth: Synthesized, name: str, output_id: str) -> None:
    alarm = _alarm(synth, name)
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {
            "Name": "QueueName",
            "Value": {"Fn::GetAtt": [synth.output_target(output_id), "QueueName"]},
        }
    ]


@pytest.mark.parametrize(("name", "metric"), [("errors", "Errors"), ("throttles", "Throttles")])
def test_function_alarms(synth: Synthesized, name: str, metric: str) -> None:
    alarm = _alarm(synth, f"alerts-{name}")
    assert alarm["MetricName"] == metric
    assert alarm["Dimensions"] == [
        {
            "Name": "FunctionName",
            "Value": {"Ref": synth.output_target(outputs.ALERTS_FUNCTION_NAME)},
        }
    ]


def test_deferred_emails_alarm_over_a_day(synth: Synthesized) -> None:
    alarm = _alarm(synth, "alerts-emails-deferred")
    # The metric the handler emits, under its namespace and service dimension.
    assert "EmailsDeferred" in handler.REPORT_METRICS
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Tally", "EmailsDeferred")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": handler.SERVICE}]
    assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 24 * 3600)
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_alerts_acknowledge_only_what_they_must(synth: Synthesized) -> None:
    acknowledged = {
        (a.path.removeprefix("Tally/Alerts/"), a.rule_id.split("[")[0])
        for a in nag.recorded_acknowledgements(synth.app)
        if a.path.startswith("Tally/Alerts/")
    }
    assert acknowledged == {
        ("FailedEvents", "Serverless-SQSRedrivePolicy"),
        ("FanOutFailures", "Serverless-SQSRedrivePolicy"),
        ("UnsubscribeKeys", "AwsSolutions-SMG4"),
        ("Function", "Serverless-LambdaEventSourceMappingDestination"),
        ("FunctionRole", "AwsSolutions-IAM5"),  # X-Ray (lambda_factory)
    }


def test_the_operations_dashboard_graphs_every_run_metric(synth: Synthesized) -> None:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for name in handler.REPORT_METRICS:
        assert f'\\"{name}\\"' in body, name
