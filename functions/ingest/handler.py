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
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger

from tally.allocation import OwnerTagRule
from tally.clock import utc_now
from tally.ingest import DEFAULT_RESTATEMENT_DAYS, IngestResult, restatement_window, run_source
from tally.settings import get_settings
from tally.store import Stores, dynamodb_stores

logger = Logger(service="tally-ingest")

MAX_BACKFILL_DAYS = 400
EVENT_SOURCE = "tally.ingest"
EVENT_DETAIL_TYPE = "CostsIngested"


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
    file_window: Callable[[str, str], tuple[date, date]] = focus_file_window,
) -> Job:
    """The event -> the days to read. Dates win; a FOCUS file alone covers its billing
    periods (a restatement window would replace three days of a month-long file); otherwise
    the restatement window."""
    focus = event.get("focus") or {}
    if "start" in event or "end" in event:
        start = _day(event.get("start"), "start")
        end = _day(event.get("end"), "end") if event.get("end") else today
        if end <= start:
            raise BadJob("end must be after start (end is exclusive)")
    elif focus.get("key"):
        bucket = focus.get("bucket") or os.environ["TALLY_EXPORT_BUCKET"]
        start, end = file_window(bucket, focus["key"])
    else:
        days = int(os.environ.get("TALLY_RESTATEMENT_DAYS", DEFAULT_RESTATEMENT_DAYS))
        start, end = restatement_window(today, days=days, estimated=estimated)
    if (end - start).days > MAX_BACKFILL_DAYS:
        raise BadJob(f"a job covers at most {MAX_BACKFILL_DAYS} days")
    return Job(start, end, focus.get("bucket"), focus.get("key"))


def _aws_client(service: str, **options: Any) -> Any:
    import boto3

    settings = get_settings()
    return boto3.client(
        service, region_name=settings.region, endpoint_url=settings.aws_endpoint_url, **options
    )


def _source(job: Job) -> Any:
    settings = get_settings()
    kind = "focus" if job.focus_key else os.environ.get("TALLY_COST_SOURCE", "cost-explorer")
    if kind == "focus":
        from tally.sources.focus import FocusSource

        bucket = job.focus_bucket or os.environ["TALLY_EXPORT_BUCKET"]
        keys = [job.focus_key] if job.focus_key else _latest_exports(bucket)
        return FocusSource.from_s3(
            _aws_client("s3"), bucket, keys, owner_tag_key=settings.owner_tag_key
        )
    from botocore.config import Config

    from tally.sources.cost_explorer import CostExplorerSource

    # The source backs off itself (full jitter); botocore's own retries would multiply it.
    client = _aws_client("ce", config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    return CostExplorerSource(client, owner_tag_key=settings.owner_tag_key)


def _latest_exports(bucket: str) -> list[str]:
    """Every FOCUS object under the configured prefix (Data Exports overwrites a billing
    period's files in place, so the current set is the latest)."""
    prefix = os.environ.get("TALLY_EXPORT_PREFIX", "")
    s3 = _aws_client("s3")
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [
            o["Key"]
            for o in page.get("Contents", [])
            if o["Key"].endswith((".csv", ".csv.gz", ".parquet"))
        ]
    if not keys:
        raise BadJob(f"no FOCUS files in s3://{bucket}/{prefix}")
    return sorted(keys)


@lru_cache(maxsize=1)
def _stores() -> Stores:
    return dynamodb_stores(get_settings())


def _sync_users(stores: Stores) -> None:
    pool = os.environ.get("TALLY_USER_POOL_ID")
    if not pool:
        return
    from tally.users import CognitoUserSource, sync_directory

    written = sync_directory(CognitoUserSource(_aws_client("cognito-idp"), pool), stores.users)
    logger.info("user directory synced", extra={"written": written})


def _announce(job: Job, result: IngestResult, requests: int) -> dict[str, Any]:
    detail = {
        **job.as_key(),
        "days": [d.isoformat() for d in result.days],
        "months": sorted(result.months),
        "owners": len(result.owners),
        "records": result.records,
        "totals": {c: str(v) for c, v in result.totals.items()},
        "restatements": len(result.restated),
        "sourceRequests": requests,
    }
    bus = os.environ.get("TALLY_EVENT_BUS_NAME")
    if bus:
        _aws_client("events").put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": EVENT_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "EventBusName": bus,
                }
            ]
        )
    return detail


def run_job(
    job: Job,
    *,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """One ingest: the part ``lambda_handler`` and ``make ingest`` share.

    ``now`` is the run's moment (the schedule's time for a scheduled run): it decides the
    forecast's "as of" and which months are closed, so a delayed retry computes the same.
    """
    now = now or utc_now()
    stores = _stores()
    _sync_users(stores)
    settings = get_settings()
    result, fetch = run_source(
        _source(job),
        job.start,
        job.end,
        stores=stores,
        rule=OwnerTagRule(key=settings.owner_tag_key, explicit=settings.owner_tag_map),
        now=now,
        progress=progress,
        metric=settings.budget_metric,
    )
    detail = _announce(job, result, fetch.requests)
    # The event carries every day; the log line only how many, to stay one readable line.
    logger.info("costs ingested", extra={**detail, "days": len(result.days)})
    return detail


@lru_cache(maxsize=1)
def _idempotent_runner() -> Callable[..., dict[str, Any]]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    settings = get_settings()
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
    def run(job_key: dict[str, Any], now: str) -> dict[str, Any]:
        # ``now`` is passed beside the key, not in it: a manual event's window stays its key.
        return run_job(
            Job(
                date.fromisoformat(job_key["start"]),
                date.fromisoformat(job_key["end"]),
                job_key.get("focusBucket"),
                job_key.get("focusKey"),
            ),
            now=datetime.fromisoformat(now),
        )

    run.config = config  # type: ignore[attr-defined]
    return run


def _estimated_days(today: date) -> frozenset[date]:
    """Days of this and last month still marked estimated, from the ORG roll-ups (one Query)."""
    from tally.models import ORG
    from tally.reports import month_of

    previous = month_of(today.replace(day=1) - timedelta(days=1))
    days: set[date] = set()
    for r in _stores().rollups.months(ORG, previous, month_of(today)):
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


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    event = event or {}
    now = run_moment(event)
    today = now.astimezone(UTC).date()
    job = resolve_job(event, today=today, estimated=_estimated_days(today))
    if event.get("force") is True:
        return run_job(job, now=now)  # an operator's deliberate re-run
    runner = _idempotent_runner()
    runner.config.register_lambda_context(context)  # type: ignore[attr-defined]
    # One delivery = one key: the schedule's execution id (or EventBridge's event id); a
    # manual event without either is deduplicated on its window for the record's lifetime.
    trigger = event.get("executionId") or event.get("id") or "manual"
    return runner(job_key={**job.as_key(), "trigger": str(trigger)}, now=now.isoformat())
