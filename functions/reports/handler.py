"""Exports, invoices and recommendations: the heavy work kept out of the API's function.

Events:
- SQS (``Records[].eventSource == "aws:sqs"``), one record per job ``{"jobId": ...}`` from the
  reports queue: the job (``stores.report_jobs``) is run: an export streams its CSV into a
  multipart upload at ``reports/exports/<requester>/<jobId>.csv`` (a chargeback statement:
  ``.pdf``); an invoice is built, given
  its number, rendered to ``reports/invoices/<requester>/<jobId>.pdf`` and, when asked,
  emailed. The job is then marked ready (or failed, with a short reason: never a trace).
  SQS delivers at least once: a job no longer pending is skipped. A job whose run fails on
  infrastructure is reported in ``batchItemFailures`` and retried; on its last delivery
  (``JOB_MAX_RECEIVES``) it is marked failed instead, so no job waits for ever.
- EventBridge ``CostsIngested`` (source ``tally.ingest``) and the daily schedule
  (``{"source": "aws.events", "detail-type": "Scheduled Event"}`` or
  ``{"action": "recommendations"}``): the recommendations are refreshed.
Anything else is logged and ignored.

Each path imports what it needs only when it runs: fpdf2 (~250 ms) loads with the first
invoice, not with an export or a refresh.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from reports.settings import JOB_MAX_RECEIVES, REPORTS_PREFIX, ReportsSettings
from tally import events, observability, periods
from tally.clock import utc_now
from tally.errors import TallyError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from tally.invoices import Invoice
    from tally.models import ReportJob
    from tally.notify import Channels
    from tally.store import Stores

SERVICE = "tally-reports"
logger = Logger(service=SERVICE)
tracer = observability.tracer(SERVICE)
# The stack sets the namespace for every function; the default keeps tests and the local
# stack's metrics in the same one.
metrics = observability.metrics(SERVICE)
observability.start_error_tracking(SERVICE)

EXPORT = "export"
INVOICE = "invoice"
PERIODS = "periods"  # a change of billing periods: every roll-up rebuilt (tally.periods)
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
PDF_CONTENT_TYPE = "application/pdf"
# What a job says when it failed for a reason that is ours, not the request's.
INTERNAL_FAILURE = "the report could not be produced; please try again later"
MAX_ERROR_CHARS = 300

EventKind = Literal["jobs", "refresh", "unknown"]


class JobRetry(RuntimeError):
    """A job's run failed on infrastructure before its last delivery: SQS delivers it again."""


def event_kind(event: Any) -> EventKind:
    if not isinstance(event, Mapping):
        return "unknown"
    records = event.get("Records")
    if isinstance(records, list):
        first = records[0] if records and isinstance(records[0], Mapping) else {}
        return "jobs" if first.get("eventSource") == "aws:sqs" else "unknown"
    if event.get("source") == events.SOURCE and event.get("detail-type") == events.COSTS_INGESTED:
        return "refresh"
    scheduled = event.get("source") == "aws.events" and event.get("detail-type") == (
        "Scheduled Event"
    )
    if scheduled or event.get("action") == "recommendations":
        return "refresh"
    return "unknown"


def object_key(job: ReportJob) -> str:
    """Where a job's file goes: per requester, so a listing or a grant can follow who asked."""
    folder, suffix = ("exports", "csv") if job.kind == EXPORT else ("invoices", "pdf")
    if job.kind == EXPORT and job.params.get("format") == "pdf":
        suffix = "pdf"  # a chargeback statement
    return f"{REPORTS_PREFIX}{folder}/{job.requester_id}/{job.job_id}.{suffix}"


# -- dependencies (one per container; tests replace them) -------------------------------------


@lru_cache(maxsize=1)
def _stores() -> Stores:
    from tally.store import dynamodb_stores

    return dynamodb_stores(ReportsSettings.load())


@lru_cache(maxsize=1)
def _session() -> Any:
    import boto3

    return boto3.session.Session(region_name=ReportsSettings.load().region)


def aws_client(service: str) -> Any:
    """A boto3 client (kept per service): S3 here, the describe and metric calls of the
    recommendations refresh."""
    return _client(service)


@lru_cache(maxsize=16)
def _client(service: str) -> Any:
    from botocore.config import Config

    settings = ReportsSettings.load()
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    return _session().client(service, endpoint_url=settings.aws_endpoint_url, config=config)


@lru_cache(maxsize=1)
def _channels() -> Channels:
    from tally.notify import aws_channels

    return aws_channels(ReportsSettings.load().notify_settings())


# -- jobs ---------------------------------------------------------------------------------------


def _short(error: TallyError) -> str:
    detail = " ".join(str(error.detail).split())
    return detail[:MAX_ERROR_CHARS] or INTERNAL_FAILURE


def run_export(job: ReportJob, settings: ReportsSettings, *, today: date, now: datetime) -> int:
    from tally.exports import ExportRequest, S3MultipartWriter, write_export
    from tally.models import Metric

    params = job.params
    if params["kind"] == "chargeback":
        return run_chargeback(job, settings, today=today, now=now)
    request = ExportRequest(
        kind=params["kind"],
        start=date.fromisoformat(params["startDate"]),
        end=date.fromisoformat(params["endDate"]),
        user_id=params.get("userId") or None,
        service=params.get("service") or None,
        resource_id=params.get("resourceId") or None,
        search=params.get("search") or None,
    )
    writer = S3MultipartWriter(
        aws_client("s3"),
        bucket=settings.reports_bucket,
        key=object_key(job),
        content_type=CSV_CONTENT_TYPE,
    )
    with writer:
        return write_export(
            _stores(), request, writer, metric=Metric(settings.budget_metric), today=today, now=now
        )


def run_chargeback(job: ReportJob, settings: ReportsSettings, *, today: date, now: datetime) -> int:
    """A chargeback export: the CSV (its data rows) or the PDF statements (their units)."""
    from tally.chargeback import GroupBy, build_chargeback, unallocated_rule
    from tally.models import Metric

    params = job.params
    report = build_chargeback(
        _stores(),
        month=params["month"],
        group_by=GroupBy(params["groupBy"]),
        metric=Metric(settings.budget_metric),
        today=today,
        rule=unallocated_rule(),
    )
    unit = params.get("unit") or None
    if params.get("format") == "pdf":
        from tally.chargeback.pdf import render_statement, statement_units
        from tally.invoices import InvoiceOrg

        pdf = render_statement(report, unit=unit, org=InvoiceOrg.from_env(os.environ))
        aws_client("s3").put_object(
            Bucket=settings.reports_bucket,
            Key=object_key(job),
            Body=pdf,
            ContentType=PDF_CONTENT_TYPE,
        )
        return len(statement_units(report, unit))
    from tally.exports import S3MultipartWriter
    from tally.exports.chargeback_csv import write_chargeback_csv

    writer = S3MultipartWriter(
        aws_client("s3"),
        bucket=settings.reports_bucket,
        key=object_key(job),
        content_type=CSV_CONTENT_TYPE,
    )
    with writer:
        return write_chargeback_csv(report, writer, now=now, unit=unit)


def run_invoice(
    job: ReportJob, settings: ReportsSettings, *, today: date, now: datetime
) -> dict[str, str]:
    """Build, number, render, store and (when asked) email one invoice; its details."""
    from tally.invoice_templates.service import choice_for, style_for
    from tally.invoices import InvoiceOrg, build_invoice, issue, render_pdf
    from tally.models import Metric

    params = job.params
    stores = _stores()
    invoice = build_invoice(
        stores,
        user_id=params.get("userId") or None,
        cost_center=params.get("costCenter") or None,
        month=params["month"],
        metric=Metric(settings.budget_metric),
        today=today,
        now=now,
        org=InvoiceOrg.from_env(os.environ),
    )
    # The template in force numbers a new revision and renders it; an unchanged re-issue
    # renders with the version its revision recorded, so the document stays the same.
    invoice = issue(stores.invoice_numbers, invoice, now=now, template=choice_for(stores, invoice))
    pdf = render_pdf(invoice, style=style_for(stores, invoice))
    aws_client("s3").put_object(
        Bucket=settings.reports_bucket,
        Key=object_key(job),
        Body=pdf,
        ContentType=PDF_CONTENT_TYPE,
    )
    details = {
        "invoiceNumber": str(invoice.number),
        "provisional": "true" if invoice.provisional else "false",
        "emailed": "false",
    }
    taxes = [s.tax for s in invoice.sections if s.tax is not None]
    if taxes:
        from tally.tax.model import totals_doc

        details["tax"] = totals_doc(taxes)  # net, tax and gross per currency (tally.tax)
    if invoice.template_id is not None:
        details["templateId"] = invoice.template_id
        details["templateVersion"] = str(invoice.template_version)
    if params.get("email") == "true":
        # The invoiced user receives their invoice; a cost centre's goes to whoever asked.
        recipient = params.get("userId") or job.requester_id
        sent = send_invoice(invoice, pdf, recipient, settings)
        details["emailed"] = "true" if sent else "false"
    return details


def send_invoice(
    invoice: Invoice, pdf: bytes, recipient_id: str, settings: ReportsSettings
) -> bool:
    """Email the invoice; False (logged) when it cannot go: no sender configured, no address,
    or SES refused it for good. The PDF stays downloadable either way (``emailed`` says so).
    A passing SES failure (throttling) raises, so SQS delivers the job again."""
    from tally.invoices import invoice_email
    from tally.notify import SendFailed

    profile = _stores().users.get(recipient_id)
    if not settings.sender_email or profile is None or not profile.email:
        logger.warning(
            "invoice not emailed: no sender or no address",
            extra={"userId": recipient_id, "sender": bool(settings.sender_email)},
        )
        return False
    email = invoice_email(
        invoice,
        pdf,
        to=profile.email,
        to_name=profile.username,
        dashboard_url=settings.dashboard_url,
    )
    try:
        _channels().email.send(email)
    except SendFailed as error:
        if error.retryable:
            raise
        logger.warning("invoice not emailed: SES refused it", extra={"reason": error.reason})
        return False
    return True


class _JobRefused(TallyError):
    """A job that cannot be done as asked: failed with this reason, not retried."""


def run_periods(job: ReportJob, settings: ReportsSettings, *, now: datetime) -> dict[str, str]:
    """Every roll-up rebuilt under the billing periods the job names, from the stored records.
    A job a later change superseded does nothing: the later one's recompute rebuilds all."""
    from tally import periods
    from tally.models import Metric

    stores = _stores()
    section = stores.billing_settings.section(periods.PERIOD)
    if section is None or section.values.get("recomputeJobId") != job.job_id:
        return {"superseded": "true"}
    definition = periods.from_values(json.loads(job.params["definition"]))
    done = periods.recompute(stores, definition, now=now, metric=Metric(settings.budget_metric))
    logger.info("billing periods recomputed", extra=done.details())
    return done.details()


def run_job(job_id: str, settings: ReportsSettings, *, receive_count: int) -> str:
    """One job, start to end; what became of it ("ready", "failed", "skipped", ...)."""
    stores = _stores()
    job = stores.report_jobs.get(job_id)
    if job is None:
        logger.warning("a job message names no job; dropped", extra={"jobId": job_id})
        return "missing"
    if job.status != "pending":
        # A redelivery of a job already done (or given up): SQS delivers at least once.
        return "skipped"
    now = utc_now()
    today = now.date()
    try:
        if job.kind == EXPORT:
            rows: int | None = run_export(job, settings, today=today, now=now)
            details: dict[str, str] = {}
        elif job.kind == INVOICE:
            rows, details = None, run_invoice(job, settings, today=today, now=now)
        elif job.kind == PERIODS:
            rows, details = None, run_periods(job, settings, now=now)
        else:
            raise _JobRefused(f"unknown job kind {job.kind!r}")
    except TallyError as error:
        # The request cannot be met (no data for the month, access withdrawn, ...): retrying
        # would give the same answer.
        logger.info("job refused", extra={"jobId": job_id, "reason": error.detail})
        stores.report_jobs.fail(job_id, error=_short(error), at=utc_now())
        return "failed"
    except Exception as error:
        if receive_count < JOB_MAX_RECEIVES:
            logger.warning(
                "job failed; SQS delivers it again",
                extra={"jobId": job_id, "receive": receive_count},
                exc_info=True,
            )
            raise JobRetry(job_id) from error
        logger.exception("job failed on its last delivery", extra={"jobId": job_id})
        stores.report_jobs.fail(job_id, error=INTERNAL_FAILURE, at=utc_now())
        return "failed"
    stores.report_jobs.complete(
        job_id,
        object_key=None if job.kind == PERIODS else object_key(job),
        rows=rows,
        details=details,
        at=utc_now(),
    )
    logger.info("job done", extra={"jobId": job_id, "kind": job.kind, "rows": rows, **details})
    return "ready"


def run_jobs(event: dict[str, Any], context: Any, settings: ReportsSettings) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    outcomes: dict[str, int] = {}

    def handle(record: SQSRecord) -> None:
        try:
            job_id = str(json.loads(record.body)["jobId"])
        except (ValueError, KeyError, TypeError):
            logger.warning("a reports message without a jobId dropped")
            outcomes["malformed"] = outcomes.get("malformed", 0) + 1
            return
        receive_count = int(record.attributes.approximate_receive_count or 1)
        outcome = run_job(job_id, settings, receive_count=receive_count)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=handle, processor=processor, context=context
    )
    for outcome, name in (("ready", "ReportsReady"), ("failed", "ReportsFailed")):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=outcomes.get(outcome, 0))
    return {"jobs": outcomes, **response}


# -- recommendations ----------------------------------------------------------------------------


def refresh(settings: ReportsSettings) -> dict[str, Any]:
    from tally.recommendations import refresh_recommendations

    now = utc_now()
    report = refresh_recommendations(
        _stores(), aws_client, today=now.date(), now=now, settings=settings
    )
    summary = dataclasses.asdict(report)
    logger.info("recommendations refreshed", extra={"report": summary})
    return {"recommendations": summary, "commitments": refresh_commitments(now)}


def refresh_commitments(now: datetime) -> dict[str, Any]:
    """Reserved capacity: Cost Explorer's utilisation, coverage, commitments and purchase
    recommendations stored, expiry notices sent (tally.commitments)."""
    from tally.commitments.refresh import refresh_commitments as refresh_reserved

    try:
        done = refresh_reserved(
            _stores(), aws_client, topic=_channels().admin_topic, today=now.date(), now=now
        )
    except Exception as error:
        # The recommendations are stored already; a Cost Explorer failure here keeps the last
        # commitments snapshot and is retried by tomorrow's refresh (an alarm on the metric).
        logger.exception("commitments refresh failed")
        metrics.add_metric(name="CommitmentsRefreshFailed", unit=MetricUnit.Count, value=1)
        return {"failed": type(error).__name__}
    summary = dataclasses.asdict(done)
    logger.info("commitments refreshed", extra={"report": summary})
    return summary


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
@periods.follow_stored(lambda: _stores())  # exports, invoices, chargeback in billing periods
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = ReportsSettings.load()  # a bad configuration fails here, before any job
    kind = event_kind(event)
    if kind == "jobs":
        return run_jobs(event, context, settings)
    if kind == "refresh":
        return refresh(settings)
    logger.warning(
        "unrecognised event ignored",
        extra={"keys": sorted(event)[:20] if isinstance(event, Mapping) else None},
    )
    metrics.add_metric(name="EventsIgnored", unit=MetricUnit.Count, value=1)
    return {"ignored": True}
