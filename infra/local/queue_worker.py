"""Lambda's SQS event source (and an EventBridge rule's delivery), locally: worker threads that
poll moto's queues and invoke a handler in this process.

Each poll takes one batch from each of the worker's queues, in order:

- a queue read as an **SQS event source** gives the handler up to ``batch_size`` records as
  Lambda's SQS event (``sqs_event``); the records it reports in ``batchItemFailures`` (every
  record, if it raises) come back after ``retry_delay`` (the visibility timeout in AWS), the
  others are deleted;
- a queue that stands in for an **EventBridge rule's target** holds one EventBridge event per
  message (moto delivers rule targets to SQS); the handler gets the event itself, as Lambda
  would from the rule, and a raise brings the message back after ``retry_delay``.

moto applies each queue's redrive policy as SQS does: a message received ``MAX_RECEIVES`` times
moves to its dead-letter queue. Like SQS, delivery is at least once (with several threads on
one queue, moto may hand a message to two of them): handlers must be idempotent anyway.

One thread runs one invocation at a time, as one Lambda container does (Powertools keeps
per-invocation state on module objects); ``threads=N`` is N containers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from infra.local.gateway import LocalLambdaContext
from tally.clock import system_now

Handler = Callable[[dict[str, Any], Any], Any]


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


def scheduled_rule_event(region: str) -> dict[str, Any]:
    """What an EventBridge schedule rule sends its Lambda target (a ``Scheduled Event``): the
    alerts' hourly drain, the reports' daily refresh."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": system_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {},
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


_DEPTH_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


def queue_depth(sqs: Any, queue_url: str) -> QueueDepth:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=_DEPTH_ATTRIBUTES)[
        "Attributes"
    ]
    visible, in_flight, delayed = (int(attributes.get(name, 0)) for name in _DEPTH_ATTRIBUTES)
    return QueueDepth(visible, in_flight, delayed)


@dataclass(frozen=True)
class QueueSource:
    """One queue a worker reads. ``eventbridge``: each body is an EventBridge event, handed
    over one at a time as the rule would; otherwise batches of ``batch_size`` as an SQS event
    (the CDK event source's batch size)."""

    queue_url: str
    batch_size: int = 1
    eventbridge: bool = False


@dataclass(frozen=True)
class FunctionSpec:
    """What the handler's Lambda context says about the function it runs as."""

    name: str
    memory_mb: int = 1024
    timeout_seconds: float = 300.0


class QueueWorker:
    """Polls ``sources`` and invokes ``handler`` in ``threads`` threads; ``wait_idle`` tells
    tests (and ``make ingest``) when everything sent so far has been handled."""

    def __init__(
        self,
        sqs: Any,
        handler: Handler,
        sources: Sequence[QueueSource],
        *,
        function: FunctionSpec,
        region: str,
        name: str | None = None,
        threads: int = 1,
        retry_delay: int = 1,
        poll_interval: float = 0.1,
        log: logging.Logger | None = None,
    ) -> None:
        if not sources:
            raise ValueError("a queue worker needs at least one queue")
        if threads < 1:
            raise ValueError("a queue worker needs at least one thread")
        self.handler = handler
        self.sources = tuple(sources)
        self.function = function
        self.region = region
        self.name = name or function.name
        self.threads = threads
        self.retry_delay = retry_delay
        self.poll_interval = poll_interval
        self.log = log or logging.getLogger(f"tally.local.{self.name}")
        self._sqs = sqs
        self._arns = {
            source.queue_url: self._queue_arn(source.queue_url)
            for source in self.sources
            if not source.eventbridge
        }
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._busy = 0  # threads inside a poll (received messages not yet settled)
        self._threads: list[threading.Thread] = []

    def _queue_arn(self, url: str) -> str:
        attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    # -- running ------------------------------------------------------------------------------

    def start(self) -> QueueWorker:
        if self._threads:
            return self
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._loop, name=f"{self.name}-{n}", daemon=True)
            for n in range(self.threads)
        ]
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
                self.log.exception("the local %s worker failed", self.name)
                worked = False
            if not worked:
                self._stopping.wait(self.poll_interval)

    # -- one round ----------------------------------------------------------------------------

    def poll_once(self) -> bool:
        """One batch of each queue, in order; True if any had something."""
        with self._lock:
            self._busy += 1
        try:
            worked = False
            for source in self.sources:
                messages = self._receive(source)
                if not messages:
                    continue
                worked = True
                if source.eventbridge:
                    for message in messages:
                        self._deliver_event(source.queue_url, message)
                else:
                    self._deliver_batch(source.queue_url, messages)
            return worked
        finally:
            with self._lock:
                self._busy -= 1

    def _receive(self, source: QueueSource) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=source.queue_url,
            MaxNumberOfMessages=1 if source.eventbridge else source.batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages

    def _invoke(self, event: dict[str, Any]) -> Any:
        context = LocalLambdaContext(
            aws_request_id=str(uuid.uuid4()),
            function_name=self.function.name,
            memory_limit_in_mb=self.function.memory_mb,
            log_group_name=f"/aws/lambda/{self.function.name}",
            timeout_seconds=self.function.timeout_seconds,
        )
        return self.handler(event, context)

    def _deliver_event(self, queue_url: str, message: dict[str, Any]) -> None:
        try:
            self._invoke(json.loads(message["Body"]))
        except Exception:
            self.log.exception(
                "the %s handler failed on an event (receive %s); it is retried",
                self.name,
                message.get("Attributes", {}).get("ApproximateReceiveCount", "?"),
            )
            self._retry_later(queue_url, [message])
            return
        self._sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _deliver_batch(self, queue_url: str, messages: list[dict[str, Any]]) -> None:
        event = sqs_event(messages, queue_arn=self._arns[queue_url], region=self.region)
        try:
            failed = failed_ids(self._invoke(event))
        except Exception:
            self.log.exception(
                "the %s handler failed on a batch of %d; it is retried", self.name, len(messages)
            )
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)
                ],
            )
        if failed:
            self.log.warning(
                "%d of %d %s messages failed; they are retried",
                len(failed),
                len(messages),
                self.name,
            )
            self._retry_later(queue_url, [m for m in messages if m["MessageId"] in failed])

    def _retry_later(self, queue_url: str, messages: list[dict[str, Any]]) -> None:
        """Back in the queue after ``retry_delay`` (the queue's visibility timeout in AWS)."""
        for message in messages:
            self._sqs.change_message_visibility(
                QueueUrl=queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=self.retry_delay,
            )

    # -- observing ----------------------------------------------------------------------------

    def depth(self, queue_url: str) -> QueueDepth:
        return queue_depth(self._sqs, queue_url)

    def is_idle(self) -> bool:
        with self._lock:
            if self._busy:
                return False
        return all(self.depth(source.queue_url).total == 0 for source in self.sources)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queue is empty and no invocation runs (twice in a row: a handler
        may send to one of the queues inside an invocation, e.g. the alerts' fan-out)."""
        deadline = time.monotonic() + timeout
        settled = 0
        while True:
            settled = settled + 1 if self.is_idle() else 0
            if settled >= 2:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.poll_interval)
