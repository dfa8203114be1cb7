"""The reports function's triggers, locally: what Lambda's SQS event source and EventBridge
do in AWS, done by one worker thread over moto's queues (as ``infra.local.alerts`` does for
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
import time
import uuid
from typing import Any

from infra.local.alerts import Handler, QueueDepth, failed_ids, sqs_event
from infra.local.aws import LocalAws
from infra.local.gateway import LocalLambdaContext
from tally.clock import system_now

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


def scheduled_event(aws: LocalAws) -> dict[str, Any]:
    """What the daily schedule sends (an EventBridge ``Scheduled Event``)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": system_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": aws.region,
        "resources": [],
        "detail": {},
    }


class ReportsWorker:
    """Polls the job and events queues and invokes ``handler``; ``wait_idle`` tells tests
    when every job and event sent so far has been handled."""

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
        self.retry_delay = retry_delay
        self.poll_interval = poll_interval
        self.refresh_every = refresh_every
        self._sqs = aws.client("sqs")
        self._stopping = threading.Event()
        self._busy = threading.Event()
        self._threads: list[threading.Thread] = []
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=aws.reports_queue_url, AttributeNames=["QueueArn"]
        )
        self._jobs_arn = str(attributes["Attributes"]["QueueArn"])

    def start(self) -> ReportsWorker:
        if self._threads:
            return self
        self._threads.append(threading.Thread(target=self._loop, name="reports", daemon=True))
        if self.refresh_every:
            self._threads.append(
                threading.Thread(target=self._refresh_loop, name="reports-daily", daemon=True)
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
                log.exception("the local reports worker failed")
                worked = False
            if not worked:
                self._stopping.wait(self.poll_interval)

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
            MessageBody=json.dumps(scheduled_event(self.aws)),
        )

    def poll_once(self) -> bool:
        """One event, then one job; True if either queue had something."""
        self._busy.set()
        try:
            events = self._receive(self.aws.reports_events_queue_url)
            for message in events:
                self._deliver_event(message)
            jobs = self._receive(self.aws.reports_queue_url)
            if jobs:
                self._deliver_jobs(jobs)
            return bool(events or jobs)
        finally:
            self._busy.clear()

    def _receive(self, queue_url: str) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=BATCH_SIZE,
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
        queue = self.aws.reports_events_queue_url
        try:
            self._invoke(json.loads(message["Body"]))
        except Exception:
            log.exception("the reports handler failed on an event; it is retried")
            self._retry_later(queue, [message])
            return
        self._sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    def _deliver_jobs(self, messages: list[dict[str, Any]]) -> None:
        queue = self.aws.reports_queue_url
        event = sqs_event(messages, queue_arn=self._jobs_arn, region=self.aws.region)
        try:
            failed = failed_ids(self._invoke(event))
        except Exception:
            log.exception("the reports handler failed on %d job(s); retried", len(messages))
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failed:
                self._retry_later(queue, [message])
            else:
                self._sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    def _retry_later(self, queue_url: str, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            self._sqs.change_message_visibility(
                QueueUrl=queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=self.retry_delay,
            )

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
        return sum(
            self.depth(url).total
            for url in (self.aws.reports_dlq_url, self.aws.reports_events_dlq_url)
        )

    def is_idle(self) -> bool:
        if self._busy.is_set():
            return False
        return all(
            self.depth(url).total == 0
            for url in (self.aws.reports_events_queue_url, self.aws.reports_queue_url)
        )

    def wait_idle(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        settled = 0
        while True:
            settled = settled + 1 if self.is_idle() else 0
            if settled >= 2:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.poll_interval)
