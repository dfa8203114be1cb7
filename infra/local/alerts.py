"""The alerts function's triggers, locally: what EventBridge and Lambda's SQS event source do
in AWS, done by one worker thread over moto's queues (``infra.local.queue_worker``).

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

from infra.local.aws import LocalAws
from infra.local.queue_worker import (
    FunctionSpec,
    Handler,
    QueueDepth,
    QueueSource,
    QueueWorker,
    scheduled_rule_event,
)

log = logging.getLogger("tally.local.alerts")

ALERTS_HANDLER_MODULE = "alerts.handler"
FUNCTION_NAME = "tally-local-alerts"
# Lambda's SQS event source: up to ten records per invocation.
BATCH_SIZE = 10
DRAIN_EVERY_SECONDS = 3600.0


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


class AlertsRouter:
    """Polls the events and fan-out queues (one ``QueueWorker`` thread) and invokes
    ``handler``; ``wait_idle`` tells tests (and ``/outbox.json?wait=``) when everything sent so
    far has been handled."""

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
        self.drain_every = drain_every
        self._sqs = aws.client("sqs")
        # One thread, the events queue first: an ingest's event before the fan-out it starts.
        self.worker = QueueWorker(
            self._sqs,
            handler,
            [
                QueueSource(aws.alerts_events_queue_url, eventbridge=True),
                QueueSource(aws.alerts_queue_url, batch_size=BATCH_SIZE),
            ],
            function=FunctionSpec(FUNCTION_NAME),
            region=aws.region,
            name="alerts",
            retry_delay=retry_delay,
            poll_interval=poll_interval,
            log=log,
        )
        self._stopping = threading.Event()
        self._drain: threading.Thread | None = None

    # -- running ------------------------------------------------------------------------------

    def start(self) -> AlertsRouter:
        self.worker.start()
        if self.drain_every and self._drain is None:
            self._drain = threading.Thread(
                target=self._drain_loop, name="alerts-drain", daemon=True
            )
            self._drain.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.worker.stop()
        if self._drain is not None:
            self._drain.join(timeout=30)
            self._drain = None

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
            MessageBody=json.dumps(scheduled_rule_event(self.aws.region)),
        )

    def poll_once(self) -> bool:
        """One message of the events queue, then one batch of the fan-out queue; True if
        either had something."""
        return self.worker.poll_once()

    # -- observing ------------------------------------------------------------------------------

    def depth(self, queue_url: str) -> QueueDepth:
        return self.worker.depth(queue_url)

    def dead_letters(self) -> int:
        """Messages given up on, in both dead-letter queues."""
        return sum(
            self.depth(url).total
            for url in (self.aws.alerts_events_dlq_url, self.aws.alerts_dlq_url)
        )

    def is_idle(self) -> bool:
        return self.worker.is_idle()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until both queues are empty and no invocation runs (twice in a row: a
        message moves from the events queue to the fan-out queue inside an invocation)."""
        return self.worker.wait_idle(timeout)
