"""The local SQS event source with several threads (the ingest fan-out's workers): the
partitions of a run are handled at once, each as its own batch, and ``wait_idle`` waits for
all of them. One thread's behaviour (batches, partial failures, dead letters) is covered
through the alerts and reports workers (test_alerts_routing.py, test_reports_local.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.aws import LocalAws
from infra.local.queue_worker import FunctionSpec, QueueSource, QueueWorker

THREADS = 3


class Rendezvous:
    """A handler that returns only once ``THREADS`` invocations run at the same time."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(THREADS, timeout=10)
        self.lock = threading.Lock()
        self.bodies: list[Any] = []
        self.broken = 0

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert context.function_name == "tally-local-ingest-worker"
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            with self.lock:
                self.broken += 1
            raise
        with self.lock:
            self.bodies += [json.loads(r["body"]) for r in event["Records"]]
        return {"batchItemFailures": []}


@pytest.fixture
def handler() -> Rendezvous:
    return Rendezvous()


@pytest.fixture
def workers(local_aws: LocalAws, handler: Rendezvous) -> Iterator[QueueWorker]:
    running = QueueWorker(
        local_aws.client("sqs"),
        handler,
        [QueueSource(local_aws.ingest_queue_url, batch_size=1)],
        function=FunctionSpec("tally-local-ingest-worker", memory_mb=1769),
        region=local_aws.region,
        threads=THREADS,
        retry_delay=0,
        poll_interval=0.02,
    ).start()
    yield running
    running.stop()


def test_partitions_are_handled_by_several_workers_at_once(
    local_aws: LocalAws, workers: QueueWorker, handler: Rendezvous
) -> None:
    # Given one message per partition, as the coordinator sends them,
    partitions = [{"kind": "partition", "runId": "r-1", "partition": f"u{n:04}"} for n in range(3)]
    local_aws.client("sqs").send_message_batch(
        QueueUrl=local_aws.ingest_queue_url,
        Entries=[{"Id": str(n), "MessageBody": json.dumps(p)} for n, p in enumerate(partitions)],
    )

    # when the workers drain the queue, then each thread held one partition at the same time
    # (the handler returns only once all three invocations meet).
    assert workers.wait_idle(15)
    assert handler.broken == 0
    assert sorted(handler.bodies, key=lambda p: p["partition"]) == partitions
    assert workers.depth(local_aws.ingest_dlq_url).total == 0


def test_a_worker_needs_a_queue_and_a_thread(local_aws: LocalAws, handler: Rendezvous) -> None:
    sqs = local_aws.client("sqs")
    function = FunctionSpec("tally-local-ingest-worker")
    with pytest.raises(ValueError, match="queue"):
        QueueWorker(sqs, handler, [], function=function, region=local_aws.region)
    with pytest.raises(ValueError, match="thread"):
        QueueWorker(
            sqs,
            handler,
            [QueueSource(local_aws.ingest_queue_url)],
            function=function,
            region=local_aws.region,
            threads=0,
        )
