"""The alerts function's triggers, locally: what EventBridge and Lambda's SQS event source do
in AWS, done by one worker thread over moto's queues.

- The bus's rule delivers ``CostsIngested`` to the events queue (moto sends rule targets to
  SQS), so an ingest in any process (``make ingest``) reaches the running stack. Each message
  body is the EventBridge event; the handler gets it as Lambda would from the rule.
- The fan-out queue (``TALLY_ALERTS_QUEUE_URL``) is read in batches, and the handler gets them
  as an SQS event: records it reports in ``batchItemFailures`` (or all of them, if it raises)
  come back after ``retry_delay``; the others are deleted.
- A message received ``MAX_RECEIVES`` times moves to its dead-letter queue (moto applies the
  redrive policy, as SQS does).
- The hourly drain (EventBridge Scheduler in AWS) is put on the events queue as a
  ``Scheduled Event``.

One thread calls the handler, one event at a time, as one Lambda container runs one
invocation at a time (Powertools keeps per-invocation state on module objects).
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from infra.local.aws import LocalAws
from infra.local.gateway import LocalLambdaContext
from tally.clock import system_now

log = logging.getLogger("tally.local.alerts")

ALERTS_HANDLER_MODULE = "alerts.handler"
FUNCTION_NAME = "tally-local-alerts"
# Lambda's SQS event source: up to ten records per invocation.
BATCH_SIZE = 10
DRAIN_EVERY_SECONDS = 3600.0

Handler = Callable[[dict[str, Any], Any], Any]


def load_alerts_handler() -> Handler | None:
    """``alerts.handler.lambda_handler``, or None while the module does not exist (the
    events then wait in their queue). An error inside an existing module is raised."""
    try:
        module = importlib.import_module(ALERTS_HANDLER_MODULE)
    except ModuleNotFoundError as error:
        if error.name not in ("alerts", ALERTS_HANDLER_MODULE):
            raise
        log.warning("%s not found: alerts wait in their queue until it exists", error.name)
        return None
    handler: Handler = module.lambda_handler
    return handler


def scheduled_drain_event(aws: LocalAws) -> dict[str, Any]:
    """What the hourly schedule sends (an EventBridge ``Scheduled Event``)."""
    now = system_now()
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": aws.region,
        "resources": [],
        "detail": {},
    }


def sqs_event(records: Sequence[dict[str, Any]], *, queue_arn: str, region: str) -> dict[str, Any]:
    """Lambda's SQS event for messages as ``ReceiveMessage`` returned them."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in records
        ]
    }


def failed_ids(result: Any) -> set[str]:
    """The message ids a partial batch response reports as failed."""
    if not isinstance(result, dict):
        return set()
    return {
        str(item.get("itemIdentifier"))
        for item in result.get("batchItemFailures") or []
        if isinstance(item, dict)
    }


@dataclass(frozen=True)
class QueueDepth:
    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


class AlertsRouter:
    """Polls the events and fan-out queues and invokes ``handler``; ``wait_idle`` tells tests
    (and ``/outbox.json?wait=``) when everything sent so far has been handled."""

    def __init__(
        self,
        aws: LocalAws,
        handler: Handler,
        *,
        retry_delay: int = 1,
        poll_interval: float = 0.1,
        drain_every: float | None = DRAIN_EVERY_SECONDS,
    ) -> None:
        self.aws = aws
        self.handler = handler
        self.retry_delay = retry_delay
        self.poll_interval = poll_interval
        self.drain_every = drain_every
        self._sqs = aws.client("sqs")
        self._stopping = threading.Event()
        self._busy = threading.Event()
        self._threads: list[threading.Thread] = []
        self._fanout_arn = self._queue_arn(aws.alerts_queue_url)

    def _queue_arn(self, url: str) -> str:
        attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    # -- running ------------------------------------------------------------------------------

    def start(self) -> AlertsRouter:
        if self._threads:
            return self
        self._threads.append(threading.Thread(target=self._loop, name="alerts-router", daemon=True))
        if self.drain_every:
            self._threads.append(
                threading.Thread(target=self._drain_loop, name="alerts-drain", daemon=True)
            )
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.poll_once()
            except Exception:
                # moto gone (the stack stopping) or a bug here: log, breathe, go on.
                log.exception("the local alerts routing failed")
                worked = False
            if not worked:
                self._stopping.wait(self.poll_interval)

    def _drain_loop(self) -> None:
        assert self.drain_every is not None
        while not self._stopping.wait(self.drain_every):
            try:
                self.schedule_drain()
            except Exception:
                log.exception("the local alerts routing could not schedule the drain")

    def schedule_drain(self) -> None:
        self._sqs.send_message(
            QueueUrl=self.aws.alerts_events_queue_url,
            MessageBody=json.dumps(scheduled_drain_event(self.aws)),
        )

    # -- one round ------------------------------------------------------------------------------

    def poll_once(self) -> bool:
        """One message of the events queue, then one batch of the fan-out queue; True if
        either had something."""
        self._busy.set()
        try:
            events = self._receive(self.aws.alerts_events_queue_url, 1)
            for message in events:
                self._deliver_event(message)
            batch = self._receive(self.aws.alerts_queue_url, BATCH_SIZE)
            if batch:
                self._deliver_batch(batch)
            return bool(events or batch)
        finally:
            self._busy.clear()

    def _receive(self, queue_url: str, count: int) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=count,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages

    def _invoke(self, event: dict[str, Any]) -> Any:
        context = LocalLambdaContext(
            aws_request_id=str(uuid.uuid4()),
            function_name=FUNCTION_NAME,
            memory_limit_in_mb=1024,
            log_group_name=f"/aws/lambda/{FUNCTION_NAME}",
            timeout_seconds=300.0,
        )
        return self.handler(event, context)

    def _deliver_event(self, message: dict[str, Any]) -> None:
        queue = self.aws.alerts_events_queue_url
        try:
            event = json.loads(message["Body"])
            self._invoke(event)
        except Exception:
            log.exception(
                "the alerts handler failed on an event (receive %s); it is retried",
                message.get("Attributes", {}).get("ApproximateReceiveCount", "?"),
            )
            self._retry_later(queue, [message])
            return
        self._sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    def _deliver_batch(self, messages: list[dict[str, Any]]) -> None:
        queue = self.aws.alerts_queue_url
        event = sqs_event(messages, queue_arn=self._fanout_arn, region=self.aws.region)
        try:
            failed = failed_ids(self._invoke(event))
        except Exception:
            log.exception(
                "the alerts handler failed on a batch of %d; it is retried", len(messages)
            )
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=queue,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)
                ],
            )
        if failed:
            log.warning(
                "%d of %d fan-out messages failed; they are retried", len(failed), len(messages)
            )
            self._retry_later(queue, [m for m in messages if m["MessageId"] in failed])

    def _retry_later(self, queue_url: str, messages: list[dict[str, Any]]) -> None:
        """Back in the queue after ``retry_delay`` (the queue's visibility timeout in AWS)."""
        for message in messages:
            self._sqs.change_message_visibility(
                QueueUrl=queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=self.retry_delay,
            )

    # -- observing ------------------------------------------------------------------------------

    def depth(self, queue_url: str) -> QueueDepth:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)[
            "Attributes"
        ]
        visible, in_flight, delayed = (int(attributes.get(name, 0)) for name in names)
        return QueueDepth(visible, in_flight, delayed)

    def dead_letters(self) -> int:
        """Messages given up on, in both dead-letter queues."""
        return sum(
            self.depth(url).total
            for url in (self.aws.alerts_events_dlq_url, self.aws.alerts_dlq_url)
        )

    def is_idle(self) -> bool:
        if self._busy.is_set():
            return False
        return all(
            self.depth(url).total == 0
            for url in (self.aws.alerts_events_queue_url, self.aws.alerts_queue_url)
        )

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until both queues are empty and no invocation runs (twice in a row: a
        message moves from the events queue to the fan-out queue inside an invocation)."""
        deadline = time.monotonic() + timeout
        settled = 0
        while True:
            settled = settled + 1 if self.is_idle() else 0
            if settled >= 2:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.poll_interval)
