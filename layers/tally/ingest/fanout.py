"""The fan-out ingest, end to end: partition, dispatch, work, finalize.

``Dispatch`` is how partitions reach workers: an SQS queue in AWS and in the local stack
(``SqsDispatch``; one message per partition, the worker function's event source retries a
failed one on its own and finally moves it to the dead-letter queue), or straight calls in
this process (``InlineDispatch``, for tests and tools). ``handle_message`` is what a worker
does with one message, whichever way it came.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tally.ingest import IngestResult
from tally.ingest.batch import BatchOutcome, run_batch
from tally.ingest.blobs import Blobs
from tally.ingest.finalize import finalize_run
from tally.ingest.runs import IngestRun
from tally.models import Metric
from tally.store import Stores

PARTITION = "partition"
FINALIZE = "finalize"
SQS_BATCH = 10  # SendMessageBatch's limit

# (run, result) -> what was announced: tell the world a run finished (CostsIngested, metrics).
Announce = Callable[[IngestRun, IngestResult], Mapping[str, Any]]


class Dispatch(Protocol):
    def partitions(self, run_id: str, partitions: Sequence[str]) -> None: ...

    def finalize(self, run_id: str) -> None: ...


def partition_message(run_id: str, partition: str) -> dict[str, str]:
    return {"kind": PARTITION, "runId": run_id, "partition": partition}


def finalize_message(run_id: str) -> dict[str, str]:
    return {"kind": FINALIZE, "runId": run_id}


class BadMessage(ValueError):
    """A message no worker can act on (not retried usefully)."""


def parse_message(body: str | dict[str, Any]) -> dict[str, str]:
    try:
        message = json.loads(body) if isinstance(body, str) else dict(body)
    except (TypeError, ValueError):
        raise BadMessage("the message is not JSON") from None
    kind = message.get("kind")
    if kind not in (PARTITION, FINALIZE) or not isinstance(message.get("runId"), str):
        raise BadMessage(f"not an ingest message: {str(body)[:200]}")
    if kind == PARTITION and not isinstance(message.get("partition"), str):
        raise BadMessage("a partition message names no partition")
    return message


class SqsDispatch:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._queue_url = queue_url

    def _send(self, bodies: Sequence[dict[str, str]]) -> None:
        for start in range(0, len(bodies), SQS_BATCH):
            chunk = bodies[start : start + SQS_BATCH]
            answer = self._sqs.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(n), "MessageBody": json.dumps(b)} for n, b in enumerate(chunk)],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} ingest messages")

    def partitions(self, run_id: str, partitions: Sequence[str]) -> None:
        self._send([partition_message(run_id, p) for p in partitions])

    def finalize(self, run_id: str) -> None:
        self._send([finalize_message(run_id)])


@dataclass
class Worker:
    """What a worker needs: the stores, the work bucket, how to hand on the finalize step and
    how to announce a finished run."""

    stores: Stores
    blobs: Blobs
    dispatch: Dispatch
    announce: Announce
    metric: Metric = Metric.EFFECTIVE

    def handle(self, message: dict[str, str]) -> BatchOutcome | IngestResult | None:
        """One message: a partition (then, if it completed the run, ask for the finalize
        step), or the finalize step. Raises on failure, so the queue retries the message."""
        run_id = message["runId"]
        if message["kind"] == PARTITION:
            try:
                outcome = run_batch(
                    run_id,
                    message["partition"],
                    stores=self.stores,
                    blobs=self.blobs,
                    metric=self.metric,
                )
            except Exception as error:
                # The run's state says which partition failed and why, beside the metric.
                self.stores.ingest_runs.record_failure(
                    run_id, message["partition"], f"{type(error).__name__}: {error}"
                )
                raise
            # A duplicate also asks when the run is complete: the first delivery may have
            # marked its partition and failed before its finalize message was sent.
            if outcome.complete or (outcome.duplicate and self._complete_unfinished(run_id)):
                self.dispatch.finalize(run_id)
            return outcome
        finished = finalize_run(run_id, stores=self.stores, blobs=self.blobs, metric=self.metric)
        if finished is None:
            return None
        run, result = finished
        # Announced before it is marked: a failure in between announces twice (consumers are
        # idempotent) rather than never.
        announced = self.announce(run, result)
        self.stores.ingest_runs.mark_finalized(run_id, dict(announced))
        return result

    def _complete_unfinished(self, run_id: str) -> bool:
        run = self.stores.ingest_runs.get(run_id)
        return run is not None and run.complete and not run.finalized


class InlineDispatch:
    """Partitions and the finalize step run at once, in this process, one after another."""

    def __init__(self) -> None:
        self.worker: Worker | None = None
        self.outcomes: list[BatchOutcome] = []

    def partitions(self, run_id: str, partitions: Sequence[str]) -> None:
        assert self.worker is not None, "bind a worker first"
        for partition in partitions:
            outcome = self.worker.handle(partition_message(run_id, partition))
            if isinstance(outcome, BatchOutcome):
                self.outcomes.append(outcome)

    def finalize(self, run_id: str) -> None:
        assert self.worker is not None, "bind a worker first"
        self.worker.handle(finalize_message(run_id))


def dispatch_run(run: IngestRun, pending: Sequence[str], dispatch: Dispatch) -> None:
    """Send what a (re-)run still has to do: its pending partitions, or, when none is left
    but the run was never finalized, the finalize step."""
    if pending:
        dispatch.partitions(run.run_id, pending)
    elif not run.finalized:
        dispatch.finalize(run.run_id)
