"""``CostsIngested`` on the bus (``tally.events``): its source, detail-type and detail, as a
subscriber's rule sees them (moto's EventBridge delivering to SQS)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal

import boto3
from moto import mock_aws

from tally import events
from tally.ingest import IngestResult


def test_the_detail_of_costs_ingested() -> None:
    totals: defaultdict[str, Decimal] = defaultdict(Decimal, {"USD": Decimal("12.50")})
    result = IngestResult(
        days=[date(2028, 2, 29), date(2028, 3, 1)],
        records=7,
        owners={"u-alice", "u-bob"},
        months={"2028-03", "2028-02"},
        totals=totals,
        restated=[{"month": "2028-01"}],
    )
    job = {"start": "2028-02-29", "end": "2028-03-02", "focusBucket": None, "focusKey": None}
    assert events.costs_ingested(job, result, 3) == {
        "start": "2028-02-29",
        "end": "2028-03-02",
        "focusBucket": None,
        "focusKey": None,
        "days": ["2028-02-29", "2028-03-01"],
        "months": ["2028-02", "2028-03"],
        "owners": 2,
        "records": 7,
        "totals": {"USD": "12.50"},
        "restatements": 1,
        "sourceRequests": 3,
    }


def test_a_rule_on_the_detail_type_receives_the_event() -> None:
    with mock_aws():
        bus = boto3.client("events", region_name="us-east-1")
        bus.create_event_bus(Name="tally")
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        bus.put_rule(
            Name="ingested",
            EventBusName="tally",
            EventPattern=json.dumps({"source": ["tally.ingest"], "detail-type": ["CostsIngested"]}),
        )
        bus.put_targets(Rule="ingested", EventBusName="tally", Targets=[{"Id": "q", "Arn": arn}])

        events.publish(bus, "tally", events.COSTS_INGESTED, {"days": ["2026-11-19"]})

        (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"]) == ("tally.ingest", "CostsIngested")
    assert event["detail"] == {"days": ["2026-11-19"]}
