"""Budget alerts, digests and restatement notices: the events that start them, in, the
evaluation (``tally.alerts.evaluate``) run, the run's counts out as metrics.

Events:
- ``CostsIngested`` (EventBridge, source ``tally.ingest``): plan a run over the users whose
  figures changed and the digests due. Fewer than ``TALLY_ALERTS_FANOUT_MIN_USERS`` users run
  here; more are drained of deferred emails here and sent to the fan-out queue, one message
  per user ``{"runId", "userId", "months", "today"}``.
- SQS (``Records[].eventSource == "aws:sqs"``): the fan-out's users, each on its own; a user
  that fails is reported alone (``batchItemFailures``), so the others are not evaluated again.
- the hourly drain (``{"source": "aws.events", "detail-type": "Scheduled Event"}`` or
  ``{"action": "drain"}``): deferred emails, oldest first, within the run's cap.
- SES feedback through SNS (``Records[].EventSource == "aws:sns"``): bounces and complaints
  stop email to that address (``tally.email_feedback``); on the same path, a CloudWatch alarm
  Tally made (the estate-alarms topic) notifies its resource's owners in the app
  (``tally.estate.actions.alarm_notices``).
Anything else is logged and ignored: a retry would not make it recognisable.

Every side effect is claimed in the alert ledger first, so a retried event or a redelivered
message sends nothing twice; a run's id (the EventBridge event's id, carried in each fan-out
message) keeps the email cap per run however many invocations it spreads over.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from alerts.settings import AlertsSettings
from tally import events, observability, periods
from tally.clock import utc_now

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from tally.alerts.evaluate import AlertEvaluation, RunReport
    from tally.notify import Channels
    from tally.store import Stores

SERVICE = "tally-alerts"
logger = Logger(service=SERVICE)
tracer = observability.tracer(SERVICE)
# The stack sets the namespace for every function; the default keeps tests and the local
# stack's metrics in the same one.
metrics = observability.metrics(SERVICE)
observability.start_error_tracking(SERVICE)

# Metric name -> RunReport field. Every run emits all of them, zeros included, so a graph
# shows quiet runs and the EmailsDeferred alarm sees data.
REPORT_METRICS = {
    "EmailsSent": "emails_sent",
    "EmailsDeferred": "emails_deferred",
    "EmailsFailed": "emails_failed",
    "AlertsEvaluatedUsers": "users",
    "AdminAlerts": "admin_messages",
    "WebhooksFailed": "webhooks_failed",
    "DigestsSent": "digests",
}

# SendMessageBatch takes at most ten entries; entries SQS refuses for a passing reason
# (throttling, an internal error) are sent again a few times before the run fails.
SQS_BATCH = 10
SEND_ATTEMPTS = 4
SEND_BACKOFF_SECONDS = 0.2

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

EventKind = Literal["ingested", "users", "drain", "feedback", "unknown"]


class FanOutFailed(RuntimeError):
    """Some users could not be queued: the run fails, so EventBridge retries it (the ledger
    keeps the users already evaluated from being notified twice)."""


def event_kind(event: Any) -> EventKind:
    if not isinstance(event, Mapping):
        return "unknown"
    records = event.get("Records")
    if isinstance(records, list):
        first = records[0] if records and isinstance(records[0], Mapping) else {}
        if first.get("eventSource") == "aws:sqs":
            return "users"
        if first.get("EventSource") == "aws:sns":
            return "feedback"
        return "unknown"
    if event.get("source") == events.SOURCE and event.get("detail-type") == events.COSTS_INGESTED:
        return "ingested"
    scheduled = event.get("source") == "aws.events" and event.get("detail-type") == (
        "Scheduled Event"
    )
    if scheduled or event.get("action") == "drain":
        return "drain"
    return "unknown"


def months_of(value: Any) -> list[str]:
    """The well-formed YYYY-MM strings of an event's ``months``, sorted, each once."""
    if not isinstance(value, list):
        return []
    return sorted({m for m in value if isinstance(m, str) and _MONTH.match(m)})


# -- dependencies (one per container; tests replace them) -------------------------------------


@lru_cache(maxsize=1)
def _stores() -> Stores:
    from tally.store import dynamodb_stores

    return dynamodb_stores(AlertsSettings.load())


@lru_cache(maxsize=1)
def _channels() -> Channels:
    from tally.notify import aws_channels

    return aws_channels(AlertsSettings.load().notify_settings())


@lru_cache(maxsize=1)
def _sqs() -> Any:
    import boto3

    settings = AlertsSettings.load()
    return boto3.client("sqs", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)


def _evaluation(settings: AlertsSettings, *, run_id: str, today: date) -> AlertEvaluation:
    from tally.alerts.evaluate import AlertEvaluation

    return AlertEvaluation(
        _stores(),
        _channels(),
        settings.alert_settings(),
        today=today,
        clock=utc_now,
        run_id=run_id,
    )


def _empty_report() -> RunReport:
    from tally.alerts.evaluate import RunReport

    return RunReport()


# -- the four events ----------------------------------------------------------------------------


def plan_run(
    event: Mapping[str, Any], settings: AlertsSettings, *, now: datetime
) -> dict[str, Any]:
    """A ``CostsIngested`` event -> evaluate its users here, or drain here and fan out."""
    detail = event.get("detail")
    months = months_of(detail.get("months") if isinstance(detail, Mapping) else None)
    run_id = str(event.get("id") or f"run-{now:%Y%m%dT%H%M%S}")
    # The run's id on every log line of it (and in its emails' tags): one query finds a run.
    logger.set_correlation_id(run_id)
    ingest_run = detail.get("runId") if isinstance(detail, Mapping) else None
    if ingest_run:
        logger.append_keys(ingestRunId=str(ingest_run))
    today = now.date()
    evaluation = _evaluation(settings, run_id=run_id, today=today)
    users = evaluation.candidates(months)
    fan_out = settings.queue_url is not None and len(users) >= settings.fanout_min_users
    logger.info(
        "alert run planned",
        extra={"runId": run_id, "months": months, "users": len(users), "fanOut": fan_out},
    )
    if not fan_out:
        return {**evaluation.run(users, months).as_dict(), "runId": run_id, "queued": 0}
    # The drain happens once, here; each queued user is then evaluated on its own. Teams
    # (their budgets alert their managers) are few beside the users: evaluated here.
    report = evaluation.drain_deferred()
    report += evaluation.evaluate_teams(months)
    bodies = [
        {"runId": run_id, "userId": user, "months": months, "today": today.isoformat()}
        for user in users
    ]
    enqueue(_sqs(), settings.queue_url or "", bodies)
    return {**report.as_dict(), "runId": run_id, "queued": len(bodies)}


def enqueue(
    client: Any,
    queue_url: str,
    bodies: Sequence[Mapping[str, Any]],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """One message per body, ten per SendMessageBatch; refused entries are sent again (SQS
    answers a batch with the entries it failed), and a sender fault is not retried."""
    for start in range(0, len(bodies), SQS_BATCH):
        pending = {str(i): body for i, body in enumerate(bodies[start : start + SQS_BATCH])}
        failed: list[dict[str, Any]] = []
        for attempt in range(SEND_ATTEMPTS):
            if attempt:
                sleep(SEND_BACKOFF_SECONDS * 2 ** (attempt - 1))
            response = client.send_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": entry_id, "MessageBody": json.dumps(body, sort_keys=True)}
                    for entry_id, body in pending.items()
                ],
            )
            failed = response.get("Failed") or []
            pending = {f["Id"]: pending[f["Id"]] for f in failed}
            if not pending or any(f.get("SenderFault") for f in failed):
                break
        if pending:
            reasons = sorted({str(f.get("Code")) for f in failed})
            raise FanOutFailed(f"{len(pending)} users could not be queued: {', '.join(reasons)}")


def evaluate_users(event: dict[str, Any], context: Any, settings: AlertsSettings) -> dict[str, Any]:
    """The fan-out's messages: each user evaluated alone; the failures reported one by one."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    total = _empty_report()
    evaluations: dict[tuple[str, date], AlertEvaluation] = {}

    def handle(record: SQSRecord) -> None:
        nonlocal total
        body = json.loads(record.body)
        run_id, user_id = str(body["runId"]), str(body["userId"])
        logger.set_correlation_id(run_id)
        today = date.fromisoformat(str(body["today"]))
        key = (run_id, today)
        if key not in evaluations:
            evaluations[key] = _evaluation(settings, run_id=run_id, today=today)
        total += evaluations[key].evaluate_user(user_id, months_of(body.get("months")))

    # A batch whose every user failed is answered with every record, not an exception: the
    # messages return to the queue the same way, and the function's error count stays for
    # real faults.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=handle, processor=processor, context=context
    )
    return {**total.as_dict(), **response}


def drain(settings: AlertsSettings, *, now: datetime) -> dict[str, Any]:
    run_id = f"drain-{now:%Y%m%dT%H}"
    logger.set_correlation_id(run_id)
    report = _evaluation(settings, run_id=run_id, today=now.date()).drain_deferred()
    return {**report.as_dict(), "runId": run_id}


def record_feedback(event: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """SES bounces and complaints (the configuration set's SNS destination), and the state
    changes of the alarms Tally made on owners' resources (the estate-alarms topic)."""
    from tally.email_feedback import record
    from tally.estate.actions.alarm_notices import is_alarm_message, notify_alarm

    recorded = alarms = 0
    for item in event.get("Records") or []:
        try:
            message = json.loads(item["Sns"]["Message"])
        except (KeyError, TypeError, ValueError):
            logger.warning("SNS record without a JSON message ignored")
            continue
        if is_alarm_message(message):
            # An alarm Tally made on an owner's resource (the estate-alarms topic).
            alarms += notify_alarm(_stores(), message, now=now)
            continue
        if record(_stores(), message, now=now):
            recorded += 1
    return {"feedback": recorded, **({"alarmNotices": alarms} if alarms else {})}


def _emit(report: Mapping[str, Any]) -> None:
    for name, field in REPORT_METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=int(report.get(field, 0)))


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
@periods.follow_stored(lambda: _stores())  # budgets are judged in the billing periods
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = AlertsSettings.load()  # a bad configuration fails here, before any message
    now = utc_now()
    kind = event_kind(event)
    if kind == "ingested":
        result = plan_run(event, settings, now=now)
    elif kind == "users":
        result = evaluate_users(event, context, settings)
    elif kind == "drain":
        result = drain(settings, now=now)
    elif kind == "feedback":
        result = record_feedback(event, now=now)
        metrics.add_metric(name="EmailsStopped", unit=MetricUnit.Count, value=result["feedback"])
        return result
    else:
        logger.warning(
            "unrecognised event ignored",
            extra={"keys": sorted(event)[:20] if isinstance(event, Mapping) else None},
        )
        metrics.add_metric(name="EventsIgnored", unit=MetricUnit.Count, value=1)
        return {"ignored": True}
    _emit(result)
    logger.info(
        "alert run done",
        extra={"kind": kind, **{k: v for k, v in result.items() if k != "batchItemFailures"}},
    )
    return result
