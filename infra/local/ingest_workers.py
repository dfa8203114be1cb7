"""The ingest fan-out's workers, locally: what Lambda's SQS event source does with the batches
queue in AWS, done by one thread over moto's queue (one container: Powertools keeps
per-invocation state on module objects, so one invocation at a time per module).

The handler is the worker function's own (``ingest.worker.lambda_handler``), given each batch
as Lambda's event; what it reports in ``batchItemFailures`` comes back after the retry delay,
the rest is deleted; moto applies the redrive policy (three receives, then the dead-letter
queue), as SQS does.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from infra.local.alerts import failed_ids, sqs_event
from infra.local.gateway import LocalLambdaContext

log = logging.getLogger("tally.local.ingest")

FUNCTION_NAME = "tally-local-ingest-worker"
BATCH_SIZE = 5  # the event source mapping's batch size in AWS (infra/constructs/ingest.py)
RETRY_DELAY_SECONDS = 2
# A run that moves no partition forward for this long is stuck (its batches failing or no
# worker taking them): ``drain_run`` stops waiting and says so.
STALL_SECONDS = 120.0

# One invocation at a time in this process, whichever thread asks (``make run``'s worker and
# a ``make ingest`` in the same process, in tests).
_invoke = threading.Lock()


def _client(region: str) -> Any:
    import boto3

    return boto3.client(
        "sqs", region_name=region, endpoint_url=os.environ.get("TALLY_AWS_ENDPOINT_URL")
    )


def work_once(sqs: Any, queue_url: str, queue_arn: str, region: str, *, wait: int = 1) -> int:
    """One poll: receive up to a batch, invoke the worker, delete what it did not report as
    failed (those come back after the retry delay). Returns the messages received."""
    from ingest.worker import lambda_handler

    got = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=BATCH_SIZE,
        WaitTimeSeconds=wait,
        AttributeNames=["All"],
    ).get("Messages", [])
    if not got:
        return 0
    event = sqs_event(got, queue_arn=queue_arn, region=region)
    with _invoke:
        try:
            failed = failed_ids(lambda_handler(event, LocalLambdaContext(FUNCTION_NAME)))
        except Exception:  # the whole batch failed, as Lambda would retry it
            log.exception("ingest worker invocation failed")
            failed = {m["MessageId"] for m in got}
    for m in got:
        if m["MessageId"] in failed:
            sqs.change_message_visibility(
                QueueUrl=queue_url,
                ReceiptHandle=m["ReceiptHandle"],
                VisibilityTimeout=RETRY_DELAY_SECONDS,
            )
        else:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return len(got)


def _queue(region: str) -> tuple[Any, str, str]:
    url = os.environ["TALLY_INGEST_QUEUE_URL"]
    sqs = _client(region)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return sqs, url, str(arn)


class IngestWorkers:
    """The stack's worker thread: works the batches queue for as long as the stack runs, so
    the scheduled ingest's batches are done without anyone running ``make ingest``."""

    def __init__(self, region: str) -> None:
        self._region = region
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> IngestWorkers:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ingest-worker", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        sqs, url, arn = _queue(self._region)
        while not self._stopping.is_set():
            try:
                work_once(sqs, url, arn, self._region)
            except Exception:  # the emulator going away at shutdown, say: keep polling
                log.exception("ingest worker poll failed")
                self._stopping.wait(1.0)


def drain_run(
    run_id: str, *, region: str, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Work the queue until run ``run_id`` is finalized; its announced detail. Raises
    ``RuntimeError`` when it stops moving (a partition in the dead-letter queue, say)."""
    from ingest.settings import IngestSettings
    from tally.store import dynamodb_stores

    runs = dynamodb_stores(IngestSettings.load()).ingest_runs
    sqs, url, arn = _queue(region)
    last_done, moved = -1, time.monotonic()
    while True:
        run = runs.get(run_id)
        if run is None:
            raise RuntimeError(f"no ingest run {run_id}")
        if progress is not None:
            progress(run.done, len(run.partitions))
        if run.finalized and run.announced is not None:
            return dict(run.announced)
        if run.done != last_done:
            last_done, moved = run.done, time.monotonic()
        elif time.monotonic() - moved > STALL_SECONDS:
            raise RuntimeError(
                f"ingest run {run_id} is stuck at {run.done} of {len(run.partitions)} "
                "partitions: see the dead-letter queue and the run's failed partitions "
                "(docs/operations.md)"
            )
        work_once(sqs, url, arn, region)
