"""Daily cost ingest: read the organisation's costs, allocate them, replace records and
roll-ups, forecast, then announce ``CostsIngested``.

Events:
- scheduled (EventBridge Scheduler; any event without dates): the restatement window
  ending yesterday (today, exclusive);
- manual backfill ``{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}`` (end exclusive);
- a FOCUS file ``{"focus": {"bucket": "...", "key": "..."}}``: every day of the billing
  periods the file covers, or the dates given;
- ``"force": true`` runs even if the same job ran within the idempotency window.
Duplicate delivery of the same job does its work once (Powertools idempotency, keyed on the
resolved job); the replace-by-day design makes even a repeated run harmless. Failures raise,
so the scheduler's retries and dead-letter queue see them.

This module turns the event into a job and runs it once; which source a run reads is
``tally.sources.selection``'s, the event it announces ``tally.events``', its settings
``ingest.settings.IngestSettings``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from ingest import fanout
from ingest.fanout import lag_seconds  # noqa: F401  (re-exported: the lag's one definition)
from ingest.settings import EXPORT_BUCKET, IngestSettings
from tally import observability, periods
from tally.allocation import OwnerTagRule
from tally.clock import utc_now
from tally.ingest import DEFAULT_RESTATEMENT_DAYS, restatement_window
from tally.store import Stores, dynamodb_stores

SERVICE = "tally-ingest"
logger = Logger(service=SERVICE)
metrics = observability.metrics(SERVICE)
# The ingest function carries no X-Ray SDK and no Sentry: with pyarrow's layer it sits within
# a few MB of Lambda's size limit (docs/operations.md). Lambda's active tracing still records
# its segment; its failures raise, so the errors alarm and the dead-letter queue see them.
tracer = observability.tracer(SERVICE)

MAX_BACKFILL_DAYS = 400


class BadJob(ValueError):
    """The event does not describe a job this function can run (not retried usefully)."""


@dataclass(frozen=True)
class Job:
    start: date
    end: date  # exclusive
    focus_bucket: str | None = None
    focus_key: str | None = None

    def as_key(self) -> dict[str, str | None]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "focusBucket": self.focus_bucket,
            "focusKey": self.focus_key,
        }


def _day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadJob(f"{name} must be YYYY-MM-DD, got {value!r}") from None


def focus_file_window(bucket: str, key: str) -> tuple[date, date]:
    """The days a FOCUS file in S3 replaces: every day of the billing periods it covers."""
    from tally.sources import SourceFormatError
    from tally.sources.focus import FocusSource

    try:
        return FocusSource.from_s3(_aws_client("s3"), bucket, key).billing_window()
    except SourceFormatError as error:
        raise BadJob(f"s3://{bucket}/{key}: {error}") from None


def resolve_job(
    event: dict[str, Any],
    *,
    today: date,
    estimated: frozenset[date] = frozenset(),
    restatement_days: int = DEFAULT_RESTATEMENT_DAYS,
    export_bucket: str | None = None,
    file_window: Callable[[str, str], tuple[date, date]] = focus_file_window,
) -> Job:
    """The event -> the days to read. Dates win; a FOCUS file alone covers its billing
    periods (a restatement window would replace three days of a month-long file); otherwise
    the restatement window. ``restatement_days`` and ``export_bucket`` (where a file named
    without a bucket is) are the function's settings."""
    focus = event.get("focus") or {}
    if "start" in event or "end" in event:
        start = _day(event.get("start"), "start")
        end = _day(event.get("end"), "end") if event.get("end") else today
        if end <= start:
            raise BadJob("end must be after start (end is exclusive)")
    elif focus.get("key"):
        bucket = focus.get("bucket") or export_bucket
        if not bucket:
            raise BadJob(f"the FOCUS file names no bucket and {EXPORT_BUCKET} is not set")
        start, end = file_window(bucket, focus["key"])
    else:
        start, end = restatement_window(today, days=restatement_days, estimated=estimated)
    if (end - start).days > MAX_BACKFILL_DAYS:
        raise BadJob(f"a job covers at most {MAX_BACKFILL_DAYS} days")
    return Job(start, end, focus.get("bucket"), focus.get("key"))


def _aws_client(service: str, **options: Any) -> Any:
    return fanout.aws_client(service, **options)


@lru_cache(maxsize=1)
def _stores() -> Stores:
    return dynamodb_stores(IngestSettings.load())


def _sync_users(stores: Stores, pool: str | None) -> None:
    if not pool:
        return
    from tally.users import CognitoUserSource, sync_directory

    written = sync_directory(CognitoUserSource(_aws_client("cognito-idp"), pool), stores.users)
    logger.info("user directory synced", extra={"written": written})


def run_job(
    job: Job,
    *,
    now: datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """One ingest: the part ``lambda_handler`` and ``make ingest`` share.

    The run fans out (``tally.ingest.fanout``): this invocation reads the source once and
    partitions the work; workers replace each partition's days and roll-ups; the last one
    has the organisation's roll-up made and ``CostsIngested`` announced. With the queue
    configured the answer says what was dispatched; without it every stage runs here, and the
    answer is the ``CostsIngested`` detail.

    ``now`` is the run's moment (the schedule's time for a scheduled run): it decides the
    forecast's "as of" and which months are closed, so a delayed retry computes the same.
    ``run_id`` (the Lambda entry's correlation id) names the run: a re-run under the same id
    (a retried delivery, or an operator's ``force``) resumes it, redoing only what is not done.
    """
    from tally.commitments.amortise import amortised
    from tally.commitments.focus import recording_uses
    from tally.ingest.fanout import InlineDispatch, dispatch_run
    from tally.ingest.partition import partition_run
    from tally.sources.selection import ExportNotFound, select_source

    now = now or utc_now()
    settings = IngestSettings.load()
    stores = _stores()
    _sync_users(stores, settings.user_pool_id)
    run_id = fanout.safe_run_id(run_id)
    earlier = stores.ingest_runs.get(run_id)
    if earlier is not None and earlier.finalized:
        # The same id again after the run finished: an operator's deliberate re-run (force),
        # not a resume. A run of its own, so the finished one's state stays as it was.
        run_id = fanout.safe_run_id(f"{run_id}-{utc_now():%Y%m%dT%H%M%S%f}")
    elif earlier is not None:
        # A resume: the run's own window and moment, whatever the re-run's event said.
        job = Job(
            date.fromisoformat(str(earlier.job["start"])),
            date.fromisoformat(str(earlier.job["end"])),
            earlier.job.get("focusBucket"),
            earlier.job.get("focusKey"),
        )
        now = earlier.now
    try:
        source = select_source(
            settings.cost_source,
            _aws_client,
            owner_tag_key=settings.owner_tag_key,
            export_bucket=job.focus_bucket or settings.export_bucket,
            export_prefix=settings.export_prefix,
            focus_key=job.focus_key,
            athena=settings.athena(),
        )
    except ExportNotFound as error:
        raise BadJob(str(error)) from None
    worker = fanout.worker(settings, stores, _aws_client)
    # Commitment fees are spread over their consumers before anything is allocated; a FOCUS
    # read's commitment uses (utilisation, coverage) are stored once the read is over.
    fetch = amortised(
        recording_uses(source.fetch(job.start, job.end), stores.commitments.replace_focus_uses)
    )
    plan = partition_run(
        fetch,
        run_id=run_id,
        job=job.as_key(),
        stores=stores,
        blobs=worker.blobs,
        rule=OwnerTagRule(key=settings.owner_tag_key, explicit=settings.owner_tag_map),
        now=now,
        progress=progress,
    )
    for name, value in (
        ("IngestLines", plan.run.lines),
        ("SourceRequests", plan.run.source_requests),
        ("IngestPartitions", len(plan.pending)),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    dispatch_run(plan.run, plan.pending, worker.dispatch)
    if isinstance(worker.dispatch, InlineDispatch):
        finished = stores.ingest_runs.get(run_id)
        if finished is not None and finished.announced is not None:
            return dict(finished.announced)
    summary = {
        **job.as_key(),
        "runId": run_id,
        "partitions": len(plan.run.partitions),
        "dispatched": len(plan.pending),
        "lines": plan.run.lines,
        "records": plan.run.records,
        "totals": {c: str(v) for c, v in plan.run.totals.items()},
    }
    # The allocation's CPU per process (one per vCPU): a skewed split shows here.
    logger.info(
        "ingest run partitioned",
        extra={**summary, "allocationCpuSeconds": [round(c, 1) for c in plan.allocation_cpu]},
    )
    return summary


@lru_cache(maxsize=1)
def _idempotent_runner() -> Callable[..., dict[str, Any]]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    settings = IngestSettings.load()
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.table_names["idempotency"],
        key_attr="id",
        expiry_attr="expiration",
        boto3_client=_aws_client("dynamodb"),
    )
    # A job is the same job for six hours: a duplicate delivery is answered from the record.
    config = IdempotencyConfig(expires_after_seconds=6 * 3600, raise_on_no_idempotency_key=True)

    @idempotent_function(
        data_keyword_argument="job_key", persistence_store=persistence, config=config
    )
    def run(job_key: dict[str, Any], now: str, run_id: str | None = None) -> dict[str, Any]:
        # ``now`` is passed beside the key, not in it: a manual event's window stays its key.
        return run_job(
            Job(
                date.fromisoformat(job_key["start"]),
                date.fromisoformat(job_key["end"]),
                job_key.get("focusBucket"),
                job_key.get("focusKey"),
            ),
            now=datetime.fromisoformat(now),
            run_id=run_id,
        )

    run.config = config  # type: ignore[attr-defined]
    return run


def _estimated_days(today: date) -> frozenset[date]:
    """Days of this and last month still marked estimated, from the ORG roll-ups (one Query)."""
    from tally.calendar import month_of, previous_month
    from tally.models import ORG

    this_month = month_of(today)
    days: set[date] = set()
    for r in _stores().rollups.months(ORG, previous_month(this_month), this_month):
        days |= {date.fromisoformat(d) for d in r.estimated_days}
    return frozenset(days)


def run_moment(event: dict[str, Any]) -> datetime:
    """The moment a run is for: the schedule's own time when the event says so (a delayed or
    retried attempt still reads the same window and judges the same months), else the one
    clock's now."""
    scheduled = event.get("scheduledTime")
    if scheduled:
        try:
            moment = datetime.fromisoformat(str(scheduled).replace("Z", "+00:00"))
        except ValueError:
            raise BadJob(f"scheduledTime is not a timestamp: {scheduled!r}") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc_now()


def run_id_of(event: dict[str, Any], context: Any) -> str:
    """The run's correlation id: the schedule's execution id (the same for its retries), an
    EventBridge event's id, else this invocation's request id."""
    return str(
        event.get("executionId")
        or event.get("id")
        or getattr(context, "aws_request_id", None)
        or "manual"
    )


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(log_event=True, clear_state=True)
@periods.follow_stored(lambda: _stores())  # the periods roll-ups are made for
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = IngestSettings.load()  # a bad configuration fails here, before any work
    event = event or {}
    run_id = run_id_of(event, context)
    logger.set_correlation_id(run_id)
    now = run_moment(event)
    today = now.astimezone(UTC).date()
    job = resolve_job(
        event,
        today=today,
        estimated=_estimated_days(today),
        restatement_days=settings.restatement_days,
        export_bucket=settings.export_bucket,
    )
    if event.get("force") is True:
        return run_job(job, now=now, run_id=run_id)  # an operator's deliberate re-run
    runner = _idempotent_runner()
    runner.config.register_lambda_context(context)  # type: ignore[attr-defined]
    # One delivery = one key: the schedule's execution id (or EventBridge's event id); a
    # manual event without either is deduplicated on its window for the record's lifetime.
    trigger = event.get("executionId") or event.get("id") or "manual"
    return runner(
        job_key={**job.as_key(), "trigger": str(trigger)}, now=now.isoformat(), run_id=run_id
    )
