"""Admin topic: the message and its String attributes reach an SQS subscriber (raw delivery,
with a filter policy on level, as an on-call integration would subscribe) on moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tally.notify.ports import SendFailed
from tally.notify.sns import SnsAdminTopic, sns_subject

ATTRIBUTES = {"level": "exceeded", "userId": "u-alice", "period": "2026-11"}


def subscribed_queue(sns: Any, sqs: Any, topic_arn: str, name: str, policy: Any) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes = {"RawMessageDelivery": "true"}
    if policy is not None:
        attributes["FilterPolicy"] = json.dumps(policy)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return str(url)


def received(sqs: Any, url: str) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    )
    return list(response.get("Messages", []))


def test_attributes_arrive_and_subscribers_can_filter_on_them(aws: Any) -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic_arn = sns.create_topic(Name="tally-admin-alerts")["TopicArn"]
    exceeded_only = subscribed_queue(sns, sqs, topic_arn, "oncall", {"level": ["exceeded"]})
    forecasts_only = subscribed_queue(sns, sqs, topic_arn, "planning", {"level": ["forecast"]})
    topic = SnsAdminTopic(sns, topic_arn)

    message_id = topic.publish(
        subject="Alice is over her November budget",
        message="Alice has spent $1,210.00 of $1,000.00 (121%).",
        attributes=ATTRIBUTES,
    )

    assert message_id
    [delivered] = received(sqs, exceeded_only)
    assert delivered["Body"] == "Alice has spent $1,210.00 of $1,000.00 (121%)."
    assert {
        name: (value["DataType"], value["StringValue"])
        for name, value in delivered["MessageAttributes"].items()
    } == {name: ("String", value) for name, value in ATTRIBUTES.items()}
    assert received(sqs, forecasts_only) == []


def test_the_subject_is_made_acceptable_to_sns() -> None:
    assert sns_subject("Zoë is over budget\nagain") == "Zoe is over budget again"
    assert len(sns_subject("x" * 300)) == 99
    assert sns_subject("€€€") == "Tally alert"


def test_an_empty_attribute_is_left_out_rather_than_refused() -> None:
    client = boto3.client("sns", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "publish",
            {"MessageId": "m-1"},
            {
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                "Subject": "s",
                "Message": "m",
                "MessageAttributes": {"level": {"DataType": "String", "StringValue": "exceeded"}},
            },
        )
        topic = SnsAdminTopic(client, "arn:aws:sns:us-east-1:123456789012:t")
        assert topic.publish(subject="s", message="m", attributes={"level": "exceeded", "x": ""})


def test_a_missing_topic_is_permanent(aws: Any) -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    topic = SnsAdminTopic(sns, "arn:aws:sns:us-east-1:123456789012:gone")
    with pytest.raises(SendFailed) as failure:
        topic.publish(subject="s", message="m", attributes=ATTRIBUTES)
    assert failure.value.retryable is False


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [("Throttled", 400, True), ("InternalError", 500, True), ("AuthorizationError", 403, False)],
)
def test_sns_errors_map_to_retryable_or_permanent(code: str, status: int, retryable: bool) -> None:
    client = boto3.client("sns", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("publish", code, "no", http_status_code=status)
        with pytest.raises(SendFailed) as failure:
            SnsAdminTopic(client, "arn:aws:sns:us-east-1:123456789012:t").publish(
                subject="s", message="m", attributes=ATTRIBUTES
            )
    assert failure.value.retryable is retryable
