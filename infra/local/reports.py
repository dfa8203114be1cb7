"""The reports function's triggers, locally: what Lambda's SQS event source and EventBridge
do in AWS, done by one worker thread over moto's queues (``infra.local.queue_worker``, as for
the alerts function).

- The job queue (``TALLY_REPORTS_QUEUE_URL``, where the API puts export and invoice jobs) is
  read one message at a time (the CDK event source's batch size) and handed to the handler as
  an SQS event; a record it reports in ``batchItemFailures`` (or every record, if it raises)
  comes back after ``retry_delay``, and moto's redrive moves it to the dead-letter queue after
  ``MAX_RECEIVES`` deliveries, as SQS does.
- The bus's second rule delivers ``CostsIngested`` to the events queue; each body is the
  EventBridge event, handed over as the rule would (the recommendations refresh).
- The daily refresh (an EventBridge schedule in AWS) is put on the events queue as a
  ``Scheduled Event``.

The handler runs in this process, one event at a time, as one Lambda container does.
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

log = logging.getLogger("tally.local.reports")

REPORTS_HANDLER_MODULE = "reports.handler"
FUNCTION_NAME = "tally-local-reports"
BATCH_SIZE = 1  # as the CDK event source (infra/constructs/reports.py)
REFRESH_EVERY_SECONDS = 24 * 3600.0


def load_reports_handler() -> Handler | None:
    """``reports.handler.lambda_handler``, or None while it does not exist (jobs then wait in
    their queue). An error inside an existing module is raised."""
    try:
        module = importlib.import_module(REPORTS_HANDLER_MODULE)
    except ModuleNotFoundError as error:
        if error.name not in ("reports", REPORTS_HANDLER_MODULE):
            raise
        log.warning("%s not found: report jobs wait in their queue", error.name)
        return None
    handler: Handler = module.lambda_handler
    return handler


class ReportsWorker:
    """Polls the job and events queues (one ``QueueWorker`` thread) and invokes ``handler``;
    ``wait_idle`` tells tests when every job and event sent so far has been handled."""

    def __init__(
        self,
        aws: LocalAws,
        handler: Handler,
        *,
        retry_delay: int = 1,
        poll_interval: float = 0.1,
        refresh_every: float | None = REFRESH_EVERY_SECONDS,
    ) -> None:
        if not aws.reports_queue_url or not aws.reports_events_queue_url:
            raise ValueError("the local AWS has no reports queues (provision creates them)")
        self.aws = aws
        self.handler = handler
        self.refresh_every = refresh_every
        self._sqs = aws.client("sqs")
        # One thread: an event, then a job.
        self.worker = QueueWorker(
            self._sqs,
            handler,
            [
                QueueSource(aws.reports_events_queue_url, eventbridge=True),
                QueueSource(aws.reports_queue_url, batch_size=BATCH_SIZE),
            ],
            function=FunctionSpec(FUNCTION_NAME),
            region=aws.region,
            name="reports",
            retry_delay=retry_delay,
            poll_interval=poll_interval,
            log=log,
        )
        self._stopping = threading.Event()
        self._refresh: threading.Thread | None = None

    def start(self) -> ReportsWorker:
        self.worker.start()
        if self.refresh_every and self._refresh is None:
            self._refresh = threading.Thread(
                target=self._refresh_loop, name="reports-daily", daemon=True
            )
            self._refresh.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.worker.stop()
        if self._refresh is not None:
            self._refresh.join(timeout=30)
            self._refresh = None

    def _refresh_loop(self) -> None:
        assert self.refresh_every is not None
        while not self._stopping.wait(self.refresh_every):
            try:
                self.schedule_refresh()
            except Exception:
                log.exception("the local reports worker could not schedule the refresh")

    def schedule_refresh(self) -> None:
        self._sqs.send_message(
            QueueUrl=self.aws.reports_events_queue_url,
            MessageBody=json.dumps(scheduled_rule_event(self.aws.region)),
        )

    def poll_once(self) -> bool:
        """One event, then one job; True if either queue had something."""
        return self.worker.poll_once()

    def depth(self, queue_url: str) -> QueueDepth:
        return self.worker.depth(queue_url)

    def dead_letters(self) -> int:
        return sum(
            self.depth(url).total
            for url in (self.aws.reports_dlq_url, self.aws.reports_events_dlq_url)
        )

    def is_idle(self) -> bool:
        return self.worker.is_idle()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return self.worker.wait_idle(timeout)
