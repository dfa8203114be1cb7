"""The alerts function's triggers on the local stack: the bus's rule, the fan-out queue with
partial batch failures, the dead-letter queues and the scheduled drain, against moto's server
with a recording handler in place of ``alerts.handler``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from infra.local.alerts import AlertsRouter
from infra.local.aws import MAX_RECEIVES, LocalAws
from tally import events


@dataclass
class RecordingHandler:
    """Records every invocation; ``answer`` decides what it returns or raises."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    answer: Callable[[dict[str, Any]], Any] = lambda event: {"users": 0}

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        assert context.get_remaining_time_in_millis() > 0
        self.calls.append(event)
        return self.answer(event)

    def sqs_bodies(self) -> list[Any]:
        return [
            json.loads(record["body"])
            for event in self.calls
            for record in event.get("Records", [])
        ]

    def eventbridge(self) -> list[dict[str, Any]]:
        return [event for event in self.calls if "detail-type" in event]


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def router(local_aws: LocalAws, handler: RecordingHandler) -> Iterator[AlertsRouter]:
    running = AlertsRouter(
        local_aws, handler, retry_delay=0, poll_interval=0.02, drain_every=None
    ).start()
    yield running
    running.stop()


def publish_costs_ingested(aws: LocalAws, months: list[str]) -> None:
    events.publish(
        aws.client("events"),
        aws.event_bus_name,
        events.COSTS_INGESTED,
        {"months": months, "days": [], "restatements": 0},
    )


def fan_out(aws: LocalAws, *user_ids: str) -> None:
    """One SendMessageBatch, as the handler sends them: the router sees them in one batch."""
    entries = [
        {
            "Id": str(n),
            "MessageBody": json.dumps(
                {"runId": "run-1", "userId": user, "months": ["2026-11"], "today": "2026-11-20"}
            ),
        }
        for n, user in enumerate(user_ids)
    ]
    aws.client("sqs").send_message_batch(QueueUrl=aws.alerts_queue_url, Entries=entries)


def test_an_ingest_event_on_the_bus_reaches_the_handler_as_eventbridge_sends_it(
    local_aws: LocalAws, router: AlertsRouter, handler: RecordingHandler
) -> None:
    publish_costs_ingested(local_aws, ["2026-10", "2026-11"])

    assert router.wait_idle(10)
    [event] = handler.eventbridge()
    assert event["source"] == events.SOURCE
    assert event["detail-type"] == events.COSTS_INGESTED
    assert event["detail"]["months"] == ["2026-10", "2026-11"]
    assert event["id"]  # the run's id
    assert router.dead_letters() == 0


def test_other_events_on_the_bus_are_not_routed(
    local_aws: LocalAws, router: AlertsRouter, handler: RecordingHandler
) -> None:
    events.publish(local_aws.client("events"), local_aws.event_bus_name, "SomethingElse", {"x": 1})
    events.publish(
        local_aws.client("events"),
        local_aws.event_bus_name,
        events.COSTS_INGESTED,
        {"months": []},
        source="someone.else",
    )

    assert router.wait_idle(10)
    assert handler.calls == []


def test_fan_out_messages_arrive_as_an_sqs_batch_and_only_failed_records_return(
    local_aws: LocalAws, router: AlertsRouter, handler: RecordingHandler
) -> None:
    failed_once: set[str] = set()

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            if json.loads(record["body"])["userId"] == "u2" and "u2" not in failed_once:
                failed_once.add("u2")
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    handler.answer = answer
    fan_out(local_aws, "u1", "u2", "u3")

    assert router.wait_idle(10)
    record = handler.calls[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":" + local_aws.alerts_queue_url.rsplit("/", 1)[1])
    assert record["receiptHandle"] and record["attributes"]["ApproximateReceiveCount"]
    users = [body["userId"] for body in handler.sqs_bodies()]
    assert sorted(users) == ["u1", "u2", "u2", "u3"]  # u2 again, the others once
    assert router.dead_letters() == 0


def test_a_record_that_keeps_failing_moves_to_the_dead_letter_queue(
    local_aws: LocalAws, router: AlertsRouter, handler: RecordingHandler
) -> None:
    def answer(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]}
                for r in event["Records"]
                if json.loads(r["body"])["userId"] == "bad"
            ]
        }

    handler.answer = answer
    fan_out(local_aws, "bad", "good")

    assert router.wait_idle(15)
    users = [body["userId"] for body in handler.sqs_bodies()]
    assert users.count("bad") == MAX_RECEIVES
    assert users.count("good") == 1
    assert router.dead_letters() == 1
    assert router.depth(local_aws.alerts_dlq_url).total == 1


def test_a_handler_that_raises_on_an_event_is_retried_then_dead_lettered(
    local_aws: LocalAws, router: AlertsRouter, handler: RecordingHandler
) -> None:
    def answer(event: dict[str, Any]) -> Any:
        raise RuntimeError("DynamoDB is down")

    handler.answer = answer
    publish_costs_ingested(local_aws, ["2026-11"])

    assert router.wait_idle(15)
    assert len(handler.eventbridge()) == MAX_RECEIVES
    assert router.depth(local_aws.alerts_events_dlq_url).total == 1


def test_a_batch_whose_invocation_raises_is_retried_whole(
    local_aws: LocalAws, router: AlertsRouter, handler: RecordingHandler
) -> None:
    raised: list[bool] = []

    def answer(event: dict[str, Any]) -> Any:
        if not raised:
            raised.append(True)
            raise RuntimeError("cold start failed")
        return {"batchItemFailures": []}

    handler.answer = answer
    fan_out(local_aws, "u1", "u2")

    assert router.wait_idle(10)
    users = sorted(body["userId"] for body in handler.sqs_bodies())
    assert users == ["u1", "u1", "u2", "u2"]  # both again after the failure
    assert router.dead_letters() == 0


def test_the_scheduled_drain_is_a_scheduled_event(
    router: AlertsRouter, handler: RecordingHandler
) -> None:
    router.schedule_drain()

    assert router.wait_idle(10)
    [event] = handler.eventbridge()
    assert (event["source"], event["detail-type"]) == ("aws.events", "Scheduled Event")


def test_wait_idle_is_false_while_an_invocation_runs(
    local_aws: LocalAws, router: AlertsRouter, handler: RecordingHandler
) -> None:
    import threading

    release = threading.Event()
    handler.answer = lambda event: release.wait(5) and {"batchItemFailures": []}
    fan_out(local_aws, "slow")

    assert router.wait_idle(0.5) is False
    release.set()
    assert router.wait_idle(10) is True
