"""The ingest fan-out's workers, locally: the worker function's own handler
(``ingest.worker.lambda_handler``) on the batches queue, as Lambda's SQS event source calls it
in AWS (``infra.local.queue_worker``: batches of five, partial batch failures retried, moto's
redrive to the dead-letter queue after three receives).

Two ways in: the stack's worker thread, working the queue for as long as ``make run`` runs (so
the daily schedule's batches are done), and ``drain_run``, which works the queue in the
calling thread until one run is finished (``make ingest``, the demo's seed). Both may take
messages of the same run: the run's state, not either loop, says when it is done. One thread
each, as one container: the handler module keeps per-invocation state (Powertools).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from infra.local.queue_worker import FunctionSpec, QueueSource, QueueWorker

FUNCTION = FunctionSpec("tally-local-ingest-worker", memory_mb=1769, timeout_seconds=300.0)
BATCH_SIZE = 5  # the event source mapping's batch size in AWS (infra/constructs/ingest.py)
# A run that moves no partition forward for this long is stuck (a partition failing for good,
# or nobody taking its batches): ``drain_run`` stops waiting and says where to look.
STALL_SECONDS = 120.0


def ingest_worker(sqs: Any, queue_url: str, *, region: str) -> QueueWorker:
    from ingest.worker import lambda_handler

    return QueueWorker(
        sqs,
        lambda_handler,
        [QueueSource(queue_url, batch_size=BATCH_SIZE)],
        function=FUNCTION,
        region=region,
        name="ingest-worker",
        retry_delay=2,
    )


def drain_run(
    run_id: str,
    *,
    sqs: Any,
    queue_url: str,
    region: str,
    progress: Callable[[int, int], None] | None = None,
    stall_seconds: float = STALL_SECONDS,
) -> dict[str, Any]:
    """Work the queue until run ``run_id`` is finalized; what it announced. Raises
    ``RuntimeError`` when it stops moving."""
    from ingest.settings import IngestSettings
    from tally.store import dynamodb_stores

    runs = dynamodb_stores(IngestSettings.load()).ingest_runs
    worker = ingest_worker(sqs, queue_url, region=region)
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
        elif time.monotonic() - moved > stall_seconds:
            raise RuntimeError(
                f"ingest run {run_id} is stuck at {run.done} of {len(run.partitions)} "
                "partitions: see the run's failed partitions and the dead-letter queue "
                "(docs/operations.md, ingest-batches-dead-letters)"
            )
        if not worker.poll_once():
            time.sleep(0.1)
