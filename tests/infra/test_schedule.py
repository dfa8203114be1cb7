"""The daily ingest: schedule expression from context, retries, one dead-letter queue, and the
event bus the ingest publishes "CostsIngested" on."""

from __future__ import annotations

from aws_cdk.assertions import Match

from infra import outputs
from infra.constructs.ingest import SCHEDULE_RETRY_ATTEMPTS
from tests.infra.conftest import VARIANT_CONTEXT, Synthesized


def test_daily_at_midnight_utc_with_retries_and_dead_letter_queue(synth: Synthesized) -> None:
    ingest = synth.output_target(outputs.INGEST_FUNCTION_NAME)
    queue = synth.output_target(outputs.INGEST_DEAD_LETTER_QUEUE_URL)
    synth.template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(0 0 * * ? *)",
            "ScheduleExpressionTimezone": "Etc/UTC",
            "State": "ENABLED",
            "Target": {
                "Arn": {"Fn::GetAtt": [ingest, "Arn"]},
                "RetryPolicy": {
                    "MaximumRetryAttempts": SCHEDULE_RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": Match.any_value(),
                },
                "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [queue, "Arn"]}},
                "Input": Match.serialized_json(
                    {
                        "source": "tally.schedule",
                        "trigger": "daily",
                        "executionId": "<aws.scheduler.execution-id>",
                        "scheduledTime": "<aws.scheduler.scheduled-time>",
                    }
                ),
            },
        },
    )


def test_schedule_expression_comes_from_context(variant: Synthesized) -> None:
    variant.template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {"ScheduleExpression": VARIANT_CONTEXT["scheduleExpression"]},
    )


def test_failed_runs_land_in_the_same_encrypted_queue(synth: Synthesized) -> None:
    queue = synth.output_target(outputs.INGEST_DEAD_LETTER_QUEUE_URL)
    ingest = synth.properties(synth.output_target(outputs.INGEST_FUNCTION_NAME))
    assert ingest["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue, "Arn"]}}
    properties = synth.properties(queue)
    assert properties["SqsManagedSseEnabled"] is True
    assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_dead_letter_queue_depth_alarms(synth: Synthesized) -> None:
    queue = synth.output_target(outputs.INGEST_DEAD_LETTER_QUEUE_URL)
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
            "Threshold": 1,
        },
    )


def test_ingest_may_publish_on_the_event_bus(synth: Synthesized) -> None:
    bus = synth.output_target(outputs.EVENT_BUS_NAME)
    synth.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "events:PutEvents",
                                "Resource": {"Fn::GetAtt": [bus, "Arn"]},
                            }
                        )
                    ]
                )
            }
        },
    )
