"""The alerts function's handler: the four events it is sent (CostsIngested, the fan-out's
SQS batches, the hourly drain, SES feedback through SNS) on in-memory stores and channels,
with the fan-out queue on moto. The evaluation's own rules are tests/unit/test_alert_evaluation.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from datetime import date
from types import ModuleType
from typing import Any

import boto3
import pytest

from alerts.settings import AlertsSettings
from tally.models import UserProfile
from tally.settings import ConfigurationError, get_settings
from tests.conftest import table_env
from tests.harness import LambdaContext
from tests.unit.alert_world import World

NOV = "2026-11"
MONTHS = ["2026-10", NOV]
QUEUE = "tally-test-alerts"
# What the stack gives the function, but the fan-out queue (each test says).
ENV = {
    "TALLY_SENDER_EMAIL": "Tally <alerts@example.com>",
    "TALLY_ADMIN_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:tally-admin-alerts",
    "TALLY_WEBHOOK_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/1234",
    "TALLY_UNSUBSCRIBE_SECRET_ID": "arn:aws:secretsmanager:us-east-1:123456789012:secret:u",
    "TALLY_ALERTS_FANOUT_MIN_USERS": "3",
}


_queues = itertools.count()


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def handler(
    moto_module: None, world: World, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    """The handler on the world's stores and channels; the fan-out queue on moto."""
    from alerts import handler

    for name, value in {**table_env(), **ENV}.items():
        monkeypatch.setenv(name, value)
    # The fan-out queue is moto's in-process one, whatever endpoint another test left behind.
    monkeypatch.delenv("TALLY_AWS_ENDPOINT_URL", raising=False)
    get_settings.cache_clear()  # parsed again from this environment, not an earlier test's
    # A queue per test: moto lives as long as the module.
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"{QUEUE}-{next(_queues)}")["QueueUrl"]
    monkeypatch.setenv("TALLY_ALERTS_QUEUE_URL", url)
    monkeypatch.setattr(handler, "_stores", lambda: world.stores)
    monkeypatch.setattr(handler, "_channels", lambda: world.channels)
    handler._sqs.cache_clear()
    yield handler
    handler._sqs.cache_clear()
    get_settings.cache_clear()


def crossing(world: World, *users: str) -> None:
    """Each user at 85% of a 100 USD November budget (threshold 80%)."""
    for user in users:
        world.user(user)
        world.budget(user, "100")
        world.spend(user, date(2026, 11, 18), "85")


def ingested(event_id: str = "evt-1", months: Any = MONTHS) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "source": "tally.ingest",
        "detail-type": "CostsIngested",
        "time": "2026-11-20T00:05:00Z",
        "detail": {"months": months, "days": ["2026-11-18"], "restatements": 0},
    }


def sqs_event(bodies: list[Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{n}",
                "receiptHandle": f"r-{n}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{QUEUE}",
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies)
        ]
    }


def queued(handler: ModuleType) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = AlertsSettings.load().queue_url
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def call(handler: ModuleType, event: Any) -> dict[str, Any]:
    result: dict[str, Any] = handler.lambda_handler(event, LambdaContext())
    return result


def emf(out: str) -> dict[str, Any]:
    """The metrics of the last invocation, from the embedded metric format Powertools prints."""
    lines = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    # Powertools writes each value as a list of the values added.
    return {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in lines[-1].items()}


# -- CostsIngested --------------------------------------------------------------------------


def test_a_small_run_is_evaluated_in_the_invocation(
    handler: ModuleType, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    crossing(world, "u-alice", "u-bob")

    result = call(handler, ingested())

    assert sorted(e.to for _, e in world.email.sent) == ["u-alice@example.com", "u-bob@example.com"]
    assert (result["runId"], result["queued"], result["emails_sent"]) == ("evt-1", 0, 2)
    assert result["users"] == 2
    assert queued(handler) == []
    metrics = emf(capsys.readouterr().out)
    assert (metrics["EmailsSent"], metrics["AlertsEvaluatedUsers"]) == (2.0, 2.0)
    assert metrics["EmailsDeferred"] == metrics["AdminAlerts"] == 0.0
    # The namespace and dimension the stack's EmailsDeferred alarm watches (test_alerts.py).
    (declared,) = metrics["_aws"]["CloudWatchMetrics"]
    assert (declared["Namespace"], declared["Dimensions"]) == ("Tally", [["service"]])
    assert metrics["service"] == handler.SERVICE == "tally-alerts"


def test_a_run_logs_under_its_id_and_the_ingest_run_it_follows(
    handler: ModuleType, world: World
) -> None:
    crossing(world, "u-alice")
    event = ingested("evt-7")
    event["detail"]["runId"] = "sched-exec-42"  # the ingest run's id (functions/ingest)

    call(handler, event)

    # What every log line of the run carries (Powertools appends them to each line).
    assert handler.logger.get_correlation_id() == "evt-7"
    assert handler.logger.get_current_keys()["ingestRunId"] == "sched-exec-42"
    (email,) = [e for _, e in world.email.sent]
    assert email.tags["runId"] == "evt-7"
    # The next invocation starts clean: no key of that run is carried over.
    call(handler, {"action": "drain"})
    assert str(handler.logger.get_correlation_id()).startswith("drain-20261120T")
    assert "ingestRunId" not in handler.logger.get_current_keys()


def test_a_large_run_fans_out_one_message_per_user(handler: ModuleType, world: World) -> None:
    users = [f"u-{n:02d}" for n in range(12)]  # two SendMessageBatch calls
    crossing(world, *users)

    result = call(handler, ingested())

    assert (result["queued"], result["emails_sent"], result["users"]) == (12, 0, 0)
    assert world.email.sent == []
    bodies = queued(handler)
    assert sorted(b["userId"] for b in bodies) == users
    assert {json.dumps({k: v for k, v in b.items() if k != "userId"}) for b in bodies} == {
        json.dumps({"months": MONTHS, "runId": "evt-1", "today": "2026-11-20"})
    }

    # Each message, evaluated by the queue's consumer: every user told once.
    result = call(handler, sqs_event(bodies))
    assert result["batchItemFailures"] == []
    assert (result["emails_sent"], result["users"]) == (12, 12)
    assert sorted(e.to for _, e in world.email.sent) == [f"{u}@example.com" for u in users]
    # A redelivered message sends nothing again (the ledger holds the claim).
    again = call(handler, sqs_event(bodies[:1]))
    assert (again["emails_sent"], again["batchItemFailures"]) == (0, [])


def test_a_fanned_out_run_drains_what_earlier_runs_deferred(
    handler: ModuleType, world: World
) -> None:
    crossing(world, "u-alice", "u-bob")
    world.run(date(2026, 11, 19), cap=1, run_id="earlier")  # bob waits
    crossing(world, "u-carol", "u-dave", "u-erin")

    result = call(handler, ingested(event_id="evt-2"))

    assert result["queued"] == 5
    assert [e.to for _, e in world.email.sent] == ["u-alice@example.com", "u-bob@example.com"]


def test_a_malformed_months_list_is_read_for_what_it_holds(
    handler: ModuleType, world: World
) -> None:
    crossing(world, "u-alice")
    result = call(handler, ingested(months=["2026-11", 7, "November", "2026-13"]))
    assert result["emails_sent"] == 1
    assert call(handler, ingested(event_id="evt-3", months="2026-11"))["users"] == 0


# -- the fan-out's messages -----------------------------------------------------------------


@dataclasses.dataclass
class FailingDirectory:
    """The user directory, failing for one user as DynamoDB might (a timeout)."""

    inner: Any
    broken: str

    def get(self, user_id: str) -> UserProfile | None:
        if user_id == self.broken:
            raise ConnectionError("read timeout on endpoint URL")
        result: UserProfile | None = self.inner.get(user_id)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def body(user: str, run: str = "evt-1") -> dict[str, Any]:
    return {"runId": run, "userId": user, "months": MONTHS, "today": "2026-11-20"}


def test_a_failing_user_returns_only_its_record(
    handler: ModuleType, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    crossing(world, "u-alice", "u-bob", "u-carol")
    stores = dataclasses.replace(world.stores, users=FailingDirectory(world.stores.users, "u-bob"))
    monkeypatch.setattr(handler, "_stores", lambda: stores)

    result = call(handler, sqs_event([body("u-alice"), body("u-bob"), "not json", body("u-carol")]))

    assert result["batchItemFailures"] == [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]
    assert sorted(e.to for _, e in world.email.sent) == [
        "u-alice@example.com",
        "u-carol@example.com",
    ]
    assert result["emails_sent"] == 2


def test_a_batch_that_fails_entirely_is_reported_not_raised(
    handler: ModuleType, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    crossing(world, "u-bob")
    stores = dataclasses.replace(world.stores, users=FailingDirectory(world.stores.users, "u-bob"))
    monkeypatch.setattr(handler, "_stores", lambda: stores)

    result = call(handler, sqs_event([body("u-bob")]))

    assert result["batchItemFailures"] == [{"itemIdentifier": "m-0"}]


def test_messages_of_different_runs_count_against_their_own_caps(
    handler: ModuleType, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_ALERT_EMAIL_CAP", "1")
    crossing(world, "u-alice", "u-bob", "u-carol")

    result = call(
        handler, sqs_event([body("u-alice", "run-a"), body("u-bob", "run-a"), body("u-carol")])
    )

    assert (result["emails_sent"], result["emails_deferred"]) == (2, 1)
    assert [d.user_id for d in world.stores.alert_ledger.deferred(limit=10)] == ["u-bob"]


# -- the hourly drain -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.events", "detail-type": "Scheduled Event", "id": "x", "detail": {}},
        {"action": "drain"},
    ],
)
def test_the_drain_sends_what_was_deferred(
    handler: ModuleType, world: World, event: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    crossing(world, "u-alice", "u-bob")
    world.run(date(2026, 11, 19), cap=1, run_id="earlier")

    result = call(handler, event)

    assert [e.to for _, e in world.email.sent] == ["u-alice@example.com", "u-bob@example.com"]
    assert result["emails_sent"] == 1
    assert result["runId"].startswith("drain-20261120T")
    assert world.stores.alert_ledger.deferred(limit=10) == []
    assert emf(capsys.readouterr().out)["EmailsSent"] == 1.0


# -- SES feedback -----------------------------------------------------------------------------


def bounce(user: str, address: str) -> dict[str, Any]:
    message = {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address}],
            "timestamp": "2026-11-20T09:30:00.000Z",
        },
        "mail": {"messageId": "ses-1", "tags": {"userId": [user], "kind": ["threshold"]}},
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:feedback:1",
                "Sns": {"Type": "Notification", "MessageId": "n-1", "Message": json.dumps(message)},
            },
            {"EventSource": "aws:sns", "Sns": {"Message": "not json"}},
        ]
    }


def test_a_bounce_stops_email_to_that_address(
    handler: ModuleType, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.user("u-alice")

    assert call(handler, bounce("u-alice", "u-alice@example.com")) == {"feedback": 1}
    assert emf(capsys.readouterr().out)["EmailsStopped"] == 1.0

    preferences = world.stores.preferences.get("u-alice")
    assert preferences is not None and preferences.email_suppressed is not None
    assert preferences.email_suppressed.reason == "bounce"
    # SNS delivers at least once: the same event again changes nothing.
    assert call(handler, bounce("u-alice", "u-alice@example.com")) == {"feedback": 0}


# -- anything else ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"hello": "world"},
        {"source": "tally.ingest", "detail-type": "SomethingElse"},
        {"Records": []},
        {"Records": [{"eventSource": "aws:kinesis"}]},
    ],
)
def test_an_unknown_event_is_logged_and_ignored(
    handler: ModuleType, world: World, event: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    crossing(world, "u-alice")
    assert call(handler, event) == {"ignored": True}
    assert world.email.sent == []
    assert emf(capsys.readouterr().out)["EventsIgnored"] == 1.0


def test_a_bad_configuration_fails_before_any_message(
    handler: ModuleType, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    crossing(world, "u-alice")
    monkeypatch.delenv("TALLY_SENDER_EMAIL")
    with pytest.raises(ConfigurationError, match="TALLY_SENDER_EMAIL"):
        call(handler, ingested())
    assert world.email.sent == []


# -- SendMessageBatch -----------------------------------------------------------------------


class FlakyQueue:
    """An SQS client whose batches fail for some entries, as SQS answers under load."""

    def __init__(self, failures: list[dict[str, dict[str, Any]]]) -> None:
        self.failures = failures  # per call: entry id -> the Failed entry's fields
        self.sent: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        assert len(Entries) <= 10
        failing = self.failures.pop(0) if self.failures else {}
        failed = [{"Id": e["Id"], **failing[e["Id"]]} for e in Entries if e["Id"] in failing]
        self.sent += [e["MessageBody"] for e in Entries if e["Id"] not in failing]
        return {"Successful": [], "Failed": failed}


def test_entries_sqs_refused_are_sent_again(handler: ModuleType) -> None:
    queue = FlakyQueue([{"1": {"Code": "InternalError", "SenderFault": False}}])
    pauses: list[float] = []
    bodies = [{"userId": f"u-{n}"} for n in range(3)]

    handler.enqueue(queue, "url", bodies, sleep=pauses.append)

    assert sorted(json.loads(b)["userId"] for b in queue.sent) == ["u-0", "u-1", "u-2"]
    assert len(pauses) == 1


def test_a_queue_that_keeps_refusing_fails_the_run(handler: ModuleType) -> None:
    refusing = {"0": {"Code": "InternalError", "SenderFault": False}}
    queue = FlakyQueue([refusing] * handler.SEND_ATTEMPTS)
    with pytest.raises(handler.FanOutFailed, match="1 users could not be queued: InternalError"):
        handler.enqueue(queue, "url", [{"userId": "u-0"}], sleep=lambda _: None)
    sender_fault = FlakyQueue([{"0": {"Code": "InvalidMessageContents", "SenderFault": True}}])
    with pytest.raises(handler.FanOutFailed):
        handler.enqueue(sender_fault, "url", [{"userId": "u-0"}], sleep=lambda _: None)
    assert sender_fault.failures == []  # not retried: it would fail the same way


# -- on moto: the event as EventBridge delivers it, the stores on DynamoDB --------------------


def test_costs_ingested_as_eventbridge_delivers_it_on_dynamodb(
    handler: ModuleType,
    world: World,
    dynamo_stores: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tally import events

    world.stores = dynamo_stores
    monkeypatch.setattr(handler, "_stores", lambda: world.stores)
    crossing(world, "u-alice", "u-bob")
    # The rule the stack puts on the domain bus, delivering to a queue we can read.
    bus = f"tally-test-bus-{next(_queues)}"
    client = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    client.create_event_bus(Name=bus)
    url = sqs.create_queue(QueueName=f"{bus}-target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {"source": [events.SOURCE], "detail-type": [events.COSTS_INGESTED]}
    client.put_rule(Name="alerts", EventBusName=bus, EventPattern=json.dumps(pattern))
    client.put_targets(Rule="alerts", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    detail = {"start": "2026-11-17", "end": "2026-11-20", "days": [], "months": MONTHS}
    events.publish(client, bus, events.COSTS_INGESTED, detail)
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    delivered = json.loads(message["Body"])

    result = call(handler, delivered)
    assert (result["runId"], result["emails_sent"]) == (delivered["id"], 2)
    # The same event delivered again (EventBridge retries): nobody is told twice.
    assert call(handler, delivered)["emails_sent"] == 0
    assert sorted(e.to for _, e in world.email.sent) == ["u-alice@example.com", "u-bob@example.com"]


# -- the estate's alarms (issue 15) -------------------------------------------------------------


def alarm(state: str, description: str) -> dict[str, Any]:
    message = {
        "AlarmName": "tally-orders-sync-Errors-Sum-ge-5",
        "AlarmDescription": description,
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [7.0] was >= 5.0",
        "StateChangeTime": "2026-11-20T09:30:00.000+0000",
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:estate-alarms:1",
                "Sns": {"Type": "Notification", "MessageId": "a-1", "Message": json.dumps(message)},
            }
        ]
    }


def test_an_alarm_tally_made_notifies_its_owners_once(handler: ModuleType, world: World) -> None:
    event = alarm("ALARM", "Tally alarm on arn:aws:lambda:...; owners=u-alice,u-bob")
    assert call(handler, event) == {"feedback": 0, "alarmNotices": 2}
    for user in ("u-alice", "u-bob"):
        (note,) = world.stores.notifications.list(user, limit=10, start_key=None).items
        assert note.kind == "estate-alarm" and "ALARM" in note.title
    # SNS delivers at least once: the same message adds nothing.
    assert call(handler, event) == {"feedback": 0}
    # Another alarm (no owners named) is not Tally's to announce.
    assert call(handler, alarm("ALARM", "someone else's alarm")) == {"feedback": 0}
