"""The ingest functions' side of the fan-out (``tally.ingest.fanout``): the work bucket, the
queue, and how a finished run is announced. Shared by the coordinator (``ingest.handler``)
and the workers (``ingest.worker``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from ingest.settings import IngestSettings
from tally import events, observability
from tally.ingest import IngestResult
from tally.ingest.blobs import Blobs, MemoryBlobs, S3Blobs
from tally.ingest.fanout import Dispatch, InlineDispatch, SqsDispatch, Worker
from tally.ingest.runs import IngestRun
from tally.models import Metric
from tally.store import Stores

logger = Logger(service="tally-ingest", child=True)
# The run's figures keep the service they always had (the lag alarm and the dashboard read
# them under tally-ingest), whichever function finishes the run.
RUN_SERVICE = "tally-ingest"

ClientFactory = Callable[..., Any]


def aws_client(service: str, **options: Any) -> Any:
    """A boto3 client of the ingest functions' region and endpoint (the emulator, locally)."""
    import boto3

    settings = IngestSettings.load()
    return boto3.client(
        service, region_name=settings.region, endpoint_url=settings.aws_endpoint_url, **options
    )


def lag_seconds(result: IngestResult, *, window_start: date, now: datetime) -> float:
    """How old the newest costs are once the run is done: from the end of the newest day the
    source had lines for (or, with none at all, the start of the window it read) to ``now``.
    Cost Explorer is about a day behind; days more means the source stopped delivering."""
    newest_end = (result.newest_day or window_start - timedelta(days=1)) + timedelta(days=1)
    return max(0.0, (now - datetime.combine(newest_end, time(), tzinfo=UTC)).total_seconds())


def run_metrics(result: IngestResult, run: IngestRun) -> None:
    """The figures of a finished run, flushed at once (EMF on stdout). The lag is measured to
    the run's moment (the schedule's time), so a retried run reports what the first would."""
    now = run.now
    metrics = observability.metrics(RUN_SERVICE)
    for name, value in (
        ("IngestRecords", result.records),
        ("IngestDays", len(result.days)),
        ("IngestOwners", len(result.owners)),
        ("IngestRestatements", len(result.restated)),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    start = run.job.get("start")
    window_start = date.fromisoformat(start) if start else min(run.days, default=now.date())
    metrics.add_metric(
        name="IngestLag",
        unit=MetricUnit.Seconds,
        value=lag_seconds(result, window_start=window_start, now=now),
    )
    metrics.flush_metrics()


class Announcer:
    """How a finished run is told: its metrics, and ``CostsIngested`` on the bus (with the
    run's id, so the alert run it starts logs which ingest it follows). Returns the detail:
    the run's state keeps it."""

    def __init__(self, settings: IngestSettings, client: ClientFactory) -> None:
        self._settings = settings
        self._client = client

    def __call__(self, run: IngestRun, result: IngestResult) -> dict[str, Any]:
        run_metrics(result, run)
        detail = events.costs_ingested(run.job, result, run.source_requests)
        detail["runId"] = run.run_id
        if self._settings.event_bus_name:
            events.publish(
                self._client("events"), self._settings.event_bus_name, events.COSTS_INGESTED, detail
            )
        # The event carries every day; the log line only how many, to stay one readable line.
        logger.info("costs ingested", extra={**detail, "days": len(result.days)})
        return detail


def work_bucket(settings: IngestSettings, client: ClientFactory) -> Blobs:
    if settings.ingest_work_bucket:
        return S3Blobs(client("s3"), settings.ingest_work_bucket)
    return MemoryBlobs()


def worker(
    settings: IngestSettings,
    stores: Stores,
    client: ClientFactory,
    *,
    blobs: Blobs | None = None,
) -> Worker:
    """A worker wired to this deployment: SQS when the queue is configured, else inline."""
    dispatch: Dispatch
    if settings.ingest_queue_url:
        dispatch = SqsDispatch(client("sqs"), settings.ingest_queue_url)
    else:
        dispatch = InlineDispatch()
    bound = Worker(
        stores,
        blobs or work_bucket(settings, client),
        dispatch,
        Announcer(settings, client),
        Metric(settings.budget_metric),
    )
    if isinstance(dispatch, InlineDispatch):
        dispatch.worker = bound
    return bound


def safe_run_id(run_id: str | None) -> str:
    """A run id fit for a key and an S3 prefix: the correlation id when it is plain (a
    schedule's execution id, an event id), else a digest of it; a fresh one without any."""
    import hashlib
    import re
    import uuid

    if not run_id or run_id == "manual":
        return f"run-{uuid.uuid4()}"
    if re.fullmatch(r"[A-Za-z0-9._:-]{1,100}", run_id):
        return run_id
    return "run-" + hashlib.sha256(run_id.encode()).hexdigest()[:32]
