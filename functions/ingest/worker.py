"""The ingest fan-out's worker (``tally.ingest.fanout``): SQS messages from the batches queue,
each a partition of a run to replace, or a run's finalize step.

The event source reports partial batch failures: a failed message is retried on its own (its
batch's other messages are not redone) and after its third receive moves to the dead-letter
queue, whose alarm says so; the run's state says which partition failed and why
(``docs/operations.md``). Every message is safe to receive twice: a done partition is not
redone and a finalized run is not announced again.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ingest import fanout
from ingest.settings import IngestSettings
from tally import observability, periods
from tally.ingest.batch import BatchOutcome
from tally.ingest.fanout import BadMessage, Worker, parse_message
from tally.store import dynamodb_stores

SERVICE = "tally-ingest-worker"
logger = Logger(service=SERVICE)
metrics = observability.metrics(SERVICE)
tracer = observability.tracer(SERVICE)
observability.start_error_tracking(SERVICE)


@lru_cache(maxsize=1)
def _worker() -> Worker:
    settings = IngestSettings.load()
    return fanout.worker(settings, dynamodb_stores(settings), fanout.aws_client)


def handle_record(record: SQSRecord) -> None:
    try:
        message = parse_message(record.body)
    except BadMessage as error:
        # Nothing of ours sends it and no retry can make sense of it: dropped, and counted.
        logger.warning("an ingest message dropped", extra={"reason": str(error)})
        metrics.add_metric(name="IngestMessagesDropped", unit=MetricUnit.Count, value=1)
        return
    logger.set_correlation_id(message["runId"])
    logger.append_keys(kind=message["kind"], partition=message.get("partition"))
    try:
        outcome = _worker().handle(message)
    except Exception:
        metrics.add_metric(name="IngestBatchFailures", unit=MetricUnit.Count, value=1)
        logger.exception(
            "ingest message failed",
            extra={"receiveCount": record.attributes.approximate_receive_count},
        )
        raise
    if isinstance(outcome, BatchOutcome):
        metrics.add_metric(name="IngestBatches", unit=MetricUnit.Count, value=1)
        if outcome.duplicate:
            metrics.add_metric(name="IngestBatchDuplicates", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="IngestBatchRecords", unit=MetricUnit.Count, value=outcome.records)
        metrics.add_metric(
            name="IngestBatchWrites", unit=MetricUnit.Count, value=outcome.write_requests
        )
        logger.info(
            "partition done",
            extra={
                "records": outcome.records,
                "written": outcome.written,
                "writeRequests": outcome.write_requests,
                "done": outcome.done,
                "duplicate": outcome.duplicate,
            },
        )


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
@periods.follow_stored(lambda: dynamodb_stores(IngestSettings.load()))  # roll-ups' periods
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    IngestSettings.load()  # a bad configuration fails here, before any message
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
    return dict(response)
