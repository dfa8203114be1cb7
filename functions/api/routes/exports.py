"""Exports (CSV) and invoices (PDF): asked for here, made by the reports function.

A POST checks the request (who may export or invoice what, the range or month), stores a
pending job and sends its id to the reports queue: 202 with the job's id. A GET answers the
job's state and, once it is ready, a pre-signed link to the file made at that moment (valid
``TALLY_REPORT_LINK_SECONDS``). A job is its requester's, and readable by whoever reads every
cost (costs:read at the organisation); to anyone else it does not exist (404), like another
user's budget.

If the queue refuses the message the job is marked failed at once and the POST answers 503
(with Retry-After): the client asks again; no pending job is left that nothing would run.

Making files is the API's most expensive work, so each user's POSTs (exports and invoices
together) take a token of their "reports" rate limit (``tally.ratelimit``) once the request is
known to be valid and allowed, just before the job is stored: over it, 429 with Retry-After.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from api import context, convert, downloads
from api.problems import problem, responses
from api.schemas import (
    ExportCreatedOut,
    ExportIn,
    ExportOut,
    InvoiceCreatedOut,
    InvoiceIn,
    InvoiceOut,
    JobId,
)
from api.settings import ApiSettings
from tally import access, calendar
from tally.authz import Target
from tally.clock import utc_now
from tally.errors import Invalid, NotFound
from tally.ratelimit import RateLimited, consume
from tally.view import View

if TYPE_CHECKING:
    from tally.models import ReportJob

router = Router()
logger = Logger(service="tally-api")

EXPORT = "export"
INVOICE = "invoice"
CSV = "text/csv; charset=utf-8"
PDF = "application/pdf"
RETRY_AFTER_SECONDS = "30"


@router.exception_handler(RateLimited)
def rate_limited(error: RateLimited) -> Response[str]:
    reply = problem(429, error.detail, instance=router.current_event.path)
    reply.headers["Retry-After"] = str(error.retry_after)
    return reply


def _submit(view: View, kind: str, params: dict[str, str | None]) -> ReportJob | Response[str]:
    """A pending job, stored and queued; or the 503 to answer when the queue refused it.
    Refused (``RateLimited``) when the caller has used up their reports limit."""
    from tally.models import JobStatus, ReportJob

    queue = downloads.queue()  # a missing TALLY_REPORTS_QUEUE_URL fails before anything is stored
    consume(view.stores.rate_limits, ApiSettings.load().reports_limit, view.caller.user_id)
    now = utc_now()
    job = ReportJob(
        job_id=str(uuid.uuid4()),
        kind=kind,
        requester_id=view.caller.user_id,
        params={k: v for k, v in params.items() if v},
        status=JobStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    view.stores.report_jobs.create(job)
    try:
        queue.send(job.job_id)
    except downloads.QueueUnavailable as error:
        logger.error(
            "the reports queue refused a job", extra={"jobId": job.job_id, "error": str(error)}
        )
        view.stores.report_jobs.fail(
            job.job_id, error="the job could not be queued; please ask again", at=utc_now()
        )
        reply = problem(503, "reports cannot be queued at the moment; try again shortly")
        reply.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return reply
    return job


def _created(body: str) -> Response[str]:
    return Response(status_code=202, content_type="application/json", body=body)


def _own_job(view: View, job_id: str, kind: str) -> ReportJob:
    """A job of the caller's, or anyone's for whoever reads every cost; else not found."""
    job = view.stores.report_jobs.get(job_id)
    missing = f"no {kind} {job_id}"
    if job is None or job.kind != kind:
        raise NotFound(missing)
    if job.requester_id != view.caller.user_id:
        access.require(view.caller, "costs:read", Target.org(), not_found=missing)
    return job


def _link(job: ReportJob, *, filename: str, content_type: str) -> downloads.Link | None:
    if str(job.status) != "ready" or not job.object_key:
        return None
    # A header value: nothing but what any file system and Content-Disposition take as is.
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return downloads.signer().link(job.object_key, filename=safe, content_type=content_type)


@router.post(
    "/exports",
    summary="Ask for a CSV export of costs",
    description="Answers 202 with the export's id at once; the file is made in the background. "
    "Poll GET /api/exports/{exportId} until its status is ready (then `url` downloads it) or "
    "failed. kind costs: a user's cost lines (default: yours; another user's, ORG or "
    "UNALLOCATED need exports:create on them); kind all-users (exports:create and users:read at "
    "the organisation): one row per user and service; kind chargeback (exports:create and "
    "costs:read at the organisation): a month's chargeback by `groupBy`, as CSV or as a PDF "
    "statement per unit (`format`), of every unit or of `unit`. "
    "The file format is in docs/user-guide.md. Each user may ask for 5 files at once, then 10 "
    "an hour (exports and invoices together; settings): over that, 429 with Retry-After.",
    responses=responses(202, ExportCreatedOut, 403, 503),
    tags=["exports"],
)
def create_export(body: Annotated[ExportIn, Body()]) -> Response[str]:
    from tally.exports import ExportRequest, validate_export
    from tally.exports.request import export_range

    view = context.view(router)
    start, end = export_range(body.kind, body.start_date, body.end_date, body.month)
    request = validate_export(
        view,
        ExportRequest(
            kind=body.kind,
            start=start,
            end=end,
            user_id=body.user_id,
            service=body.service,
            resource_id=body.resource_id,
            search=body.search,
            month=body.month,
            group_by=body.group_by,
            format=body.format or "csv",
            unit=body.unit,
        ),
    )
    submitted = _submit(
        view,
        EXPORT,
        {
            "kind": request.kind,
            "startDate": request.start.isoformat(),
            "endDate": request.end.isoformat(),
            "userId": request.user_id,
            "service": request.service,
            "resourceId": request.resource_id,
            "search": request.search,
            "month": request.month,
            "groupBy": request.group_by,
            "format": request.format if request.kind == "chargeback" else None,
            "unit": request.unit,
        },
    )
    if isinstance(submitted, Response):
        return submitted
    out = ExportCreatedOut(
        export_id=submitted.job_id,
        status="pending",
        kind=body.kind,
        created_at=submitted.created_at.isoformat(),
    )
    return _created(out.model_dump_json(by_alias=True))


@router.get(
    "/exports/<exportId>",
    summary="An export's state, and its download link once ready",
    description="`url` is a pre-signed link made for this request, valid until `expiresAt` "
    "(15 minutes by default); ask again for a fresh one. Another user's export is 404.",
    responses=responses(200, ExportOut, 404),
    tags=["exports"],
)
def get_export(exportId: Annotated[JobId, Path()]) -> ExportOut:
    job = _own_job(context.view(router), exportId, EXPORT)
    params = job.params
    if params.get("kind") == "chargeback":
        pdf = params.get("format") == "pdf"
        unit = f"-{params['unit']}" if params.get("unit") else ""
        name = f"tally-chargeback-{params.get('month')}-{params.get('groupBy')}{unit}"
        filename, content_type = (f"{name}.pdf", PDF) if pdf else (f"{name}.csv", CSV)
        return convert.export_out(job, _link(job, filename=filename, content_type=content_type))
    filename = f"tally-{params.get('kind')}-{params.get('startDate')}-{params.get('endDate')}.csv"
    return convert.export_out(job, _link(job, filename=filename, content_type=CSV))


def _invoice_subject(view: View, body: InvoiceIn) -> dict[str, str | None]:
    """Whose invoice, checked (exports:create on them): a user's (default yours) or a cost
    centre's (at the organisation); not a month after the current one."""
    if body.cost_center is not None:
        access.require(view.caller, "exports:create", Target.org())
        subject: dict[str, str | None] = {"costCenter": body.cost_center}
    else:
        user_id = body.user_id or view.caller.user_id
        access.require(view.caller, "exports:create", Target.user(user_id))
        subject = {"userId": user_id}
    today: date = view.today
    if body.month > calendar.month_of(today):
        raise Invalid.field("month", "a future month has no costs to invoice")
    return subject


@router.post(
    "/invoices",
    summary="Ask for a PDF invoice of a month",
    description="Answers 202 with the invoice's id at once; the PDF is made in the background "
    "(poll GET /api/invoices/{invoiceId}). A user's invoice (default: yours; another user's "
    "needs exports:create on them) or a cost centre's (exports:create at the organisation). "
    "`email: true` also emails the PDF. Counts against the caller's limit of files, like an "
    "export (429 with Retry-After over it).",
    responses=responses(202, InvoiceCreatedOut, 403, 503),
    tags=["exports"],
)
def create_invoice(body: Annotated[InvoiceIn, Body()]) -> Response[str]:
    view = context.view(router)
    params = {
        **_invoice_subject(view, body),
        "month": body.month,
        "email": "true" if body.email else "false",
    }
    submitted = _submit(view, INVOICE, params)
    if isinstance(submitted, Response):
        return submitted
    out = InvoiceCreatedOut(
        invoice_id=submitted.job_id,
        status="pending",
        created_at=submitted.created_at.isoformat(),
    )
    return _created(out.model_dump_json(by_alias=True))


@router.get(
    "/invoices/<invoiceId>",
    summary="An invoice's state, and its download link once ready",
    description="Like an export: `url` is valid until `expiresAt`. Another user's invoice is 404.",
    responses=responses(200, InvoiceOut, 404),
    tags=["exports"],
)
def get_invoice(invoiceId: Annotated[JobId, Path()]) -> InvoiceOut:
    view = context.view(router)
    job = _own_job(view, invoiceId, INVOICE)
    name = job.details.get("invoiceNumber") or job.params.get("month", "invoice")
    link = _link(job, filename=f"invoice-{name}.pdf", content_type=PDF)
    return convert.invoice_out(job, link, view.stores.payments.payments(job.job_id))
