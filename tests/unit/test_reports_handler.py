"""The reports function's handler: export and invoice jobs from SQS records (stored, run,
completed or failed, redeliveries skipped, infrastructure failures retried until the last
delivery) and the recommendations refresh, on moto (DynamoDB, S3, SES) with the real domain
(tally.exports, tally.invoices, tally.recommendations)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest
from reports.settings import JOB_MAX_RECEIVES

from tally.models import JobStatus, ReportJob, Role, UserProfile
from tally.settings import Settings
from tally.store import Stores
from tests.harness import LambdaContext

BUCKET = "tally-test-reports"
SENDER = "tally@example.com"
AT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_jobs = itertools.count()


@pytest.fixture
def handler(
    aws: Settings, dynamo_stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    from reports import handler

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SENDER)
    monkeypatch.setenv("TALLY_REPORTS_BUCKET", BUCKET)
    monkeypatch.setenv("TALLY_SENDER_EMAIL", SENDER)
    dynamo_stores.users.put(UserProfile("u-alice", "alice", "alice@example.com", Role.USER))
    caches = (handler._stores, handler._session, handler._client, handler._channels)
    for cache in caches:
        cache.cache_clear()
    yield handler
    for cache in caches:
        cache.cache_clear()


def job(stores: Stores, kind: str, params: dict[str, str]) -> ReportJob:
    made = ReportJob(
        job_id=f"job-{next(_jobs)}",
        kind=kind,
        requester_id="u-alice",
        params=params,
        status=JobStatus.PENDING,
        created_at=AT,
        updated_at=AT,
    )
    stores.report_jobs.create(made)
    return made


EXPORT = {"kind": "costs", "startDate": "2026-11-01", "endDate": "2026-11-19", "userId": "u-alice"}


def records(*job_ids: str, receive: int = 1) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{job_id}",
                "receiptHandle": f"r-{job_id}",
                "body": json.dumps({"jobId": job_id}),
                "attributes": {"ApproximateReceiveCount": str(receive)},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:tally-reports",
                "awsRegion": "us-east-1",
            }
            for job_id in job_ids
        ]
    }


def call(handler: ModuleType, event: Any) -> dict[str, Any]:
    result: dict[str, Any] = handler.lambda_handler(event, LambdaContext())
    return result


def stored(stores: Stores, job_id: str) -> ReportJob:
    found = stores.report_jobs.get(job_id)
    assert found is not None
    return found


def s3_object(key: str) -> dict[str, Any]:
    got: dict[str, Any] = boto3.client("s3", region_name="us-east-1").get_object(
        Bucket=BUCKET, Key=key
    )
    return got


def test_an_export_job_writes_its_csv_under_the_requester(
    handler: ModuleType, dynamo_stores: Stores
) -> None:
    made = job(dynamo_stores, "export", EXPORT)
    result = call(handler, records(made.job_id))
    assert result["batchItemFailures"] == []
    done = stored(dynamo_stores, made.job_id)
    assert done.status is JobStatus.READY
    assert done.object_key == f"reports/exports/u-alice/{made.job_id}.csv"
    assert done.rows == 0  # alice has no costs in this world; the file still says so
    found = s3_object(done.object_key)
    assert found["ContentType"] == "text/csv; charset=utf-8"
    text = found["Body"].read().decode("utf-8")
    assert text.startswith("\ufeff# Tally cost export")
    assert "# range,2026-11-01,2026-11-19" in text


def test_a_redelivered_job_is_not_run_again(handler: ModuleType, dynamo_stores: Stores) -> None:
    made = job(dynamo_stores, "export", EXPORT)
    call(handler, records(made.job_id))
    first = s3_object(f"reports/exports/u-alice/{made.job_id}.csv")["ETag"]
    boto3.client("s3", region_name="us-east-1").delete_object(
        Bucket=BUCKET, Key=f"reports/exports/u-alice/{made.job_id}.csv"
    )
    again = call(handler, records(made.job_id))
    assert again["jobs"] == {"skipped": 1}
    assert first  # written once, and not written again after it was removed
    with pytest.raises(Exception, match="NoSuchKey"):
        s3_object(f"reports/exports/u-alice/{made.job_id}.csv")


def test_a_request_that_cannot_be_met_fails_with_a_reason(
    handler: ModuleType, dynamo_stores: Stores
) -> None:
    made = job(dynamo_stores, "chart", {})
    result = call(handler, records(made.job_id))
    assert result["batchItemFailures"] == []
    failed = stored(dynamo_stores, made.job_id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == "unknown job kind 'chart'"


def test_an_infrastructure_failure_is_retried_then_fails_the_job(
    handler: ModuleType, dynamo_stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_REPORTS_BUCKET", "no-such-bucket")
    made = job(dynamo_stores, "export", EXPORT)
    result = call(handler, records(made.job_id))
    assert result["batchItemFailures"] == [{"itemIdentifier": f"m-{made.job_id}"}]
    assert stored(dynamo_stores, made.job_id).status is JobStatus.PENDING
    # The last delivery: the job fails (never a trace in it) and the message is done with.
    last = call(handler, records(made.job_id, receive=JOB_MAX_RECEIVES))
    assert last["batchItemFailures"] == []
    failed = stored(dynamo_stores, made.job_id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == handler.INTERNAL_FAILURE


def test_one_failing_record_does_not_fail_the_others(
    handler: ModuleType, dynamo_stores: Stores
) -> None:
    good = job(dynamo_stores, "export", EXPORT)
    result = call(handler, records(good.job_id, "no-such-job"))
    assert result["batchItemFailures"] == []
    assert result["jobs"] == {"ready": 1, "missing": 1}


def test_an_invoice_job_renders_stores_and_emails_the_pdf(
    handler: ModuleType, dynamo_stores: Stores
) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent_before = len(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)
    made = job(dynamo_stores, "invoice", {"userId": "u-alice", "month": "2026-10", "email": "true"})
    result = call(handler, records(made.job_id))
    assert result["batchItemFailures"] == [], result
    done = stored(dynamo_stores, made.job_id)
    assert done.status is JobStatus.READY, done.error
    assert done.object_key == f"reports/invoices/u-alice/{made.job_id}.pdf"
    assert done.details["emailed"] == "true"
    assert done.details["provisional"] in ("true", "false")
    assert done.details["invoiceNumber"]
    pdf = s3_object(done.object_key)
    assert pdf["ContentType"] == "application/pdf"
    assert pdf["Body"].read().startswith(b"%PDF")
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages[sent_before:]
    assert len(sent) == 1
    assert "alice@example.com" in json.dumps(sent[0].destinations, default=str)


def test_an_invoice_for_someone_without_an_address_is_ready_but_not_emailed(
    handler: ModuleType, dynamo_stores: Stores
) -> None:
    dynamo_stores.users.put(UserProfile("u-alice", "alice", None, Role.USER))
    made = job(dynamo_stores, "invoice", {"userId": "u-alice", "month": "2026-10", "email": "true"})
    call(handler, records(made.job_id))
    done = stored(dynamo_stores, made.job_id)
    assert (done.status, done.details["emailed"]) == (JobStatus.READY, "false")


def test_an_invoice_without_email_is_not_sent(handler: ModuleType, dynamo_stores: Stores) -> None:
    made = job(
        dynamo_stores, "invoice", {"userId": "u-alice", "month": "2026-10", "email": "false"}
    )
    call(handler, records(made.job_id))
    assert stored(dynamo_stores, made.job_id).details["emailed"] == "false"


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ({"source": "tally.ingest", "detail-type": "CostsIngested", "detail": {}}, "refresh"),
        ({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, "refresh"),
        ({"action": "recommendations"}, "refresh"),
        (records("j"), "jobs"),
        ({"Records": [{"EventSource": "aws:sns"}]}, "unknown"),
        ({"source": "tally.ingest", "detail-type": "Other"}, "unknown"),
        ([], "unknown"),
    ],
)
def test_event_kinds(event: Any, kind: str) -> None:
    from reports.handler import event_kind

    assert event_kind(event) == kind


def test_costs_ingested_refreshes_the_recommendations(
    handler: ModuleType, dynamo_stores: Stores
) -> None:
    result = call(handler, {"source": "tally.ingest", "detail-type": "CostsIngested", "detail": {}})
    # The reports bucket has no lifecycle rule of its own in this account: it is found.
    report = result["recommendations"]
    assert report["findings"] >= 1
    assert report["stored"] == len(dynamo_stores.recommendations.all())


def test_an_unknown_event_is_ignored(handler: ModuleType) -> None:
    assert call(handler, {"hello": "world"}) == {"ignored": True}


def test_the_cold_import_leaves_pdf_and_csv_code_for_their_jobs() -> None:
    import os
    import subprocess
    import sys

    probe = (
        "import sys, reports.handler; "
        "print(sorted(m for m in ('fpdf', 'tally.invoices', 'tally.exports', "
        "'tally.recommendations', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": "layers:functions:."},
    )
    assert out.stdout.strip() == "[]"


def test_an_invoice_job_records_its_tax_totals(handler: ModuleType, dynamo_stores: Stores) -> None:
    """With a VAT rule, the job's details carry net, tax and gross per currency (the API shows
    them beside the PDF); 2 days x 10.00 at 19% = 3.80."""
    from datetime import date
    from decimal import Decimal

    from tally.allocation import OwnerTagRule
    from tally.ingest import ingest_days
    from tally.models import AuditEntry, CostLine
    from tally.tax.model import TaxRule, Unit

    days = [date(2026, 10, 1), date(2026, 10, 2)]
    lines = [
        CostLine(d, "AmazonEC2", "i-1", Decimal(10), Decimal(10), "USD", tags={"Owner": "alice"})
        for d in days
    ]
    ingest_days(lines, days, stores=dynamo_stores, rule=OwnerTagRule(), source="t", now=AT)
    vat = TaxRule("tr-0000000000a1", "VAT", "DE", Decimal(19), Unit.org(), date(2026, 1, 1), None)
    audit = AuditEntry("tax:x", AT, "u-admin", "tax.rule.created", "x", {})
    dynamo_stores.tax.save_rule(vat, read_at=0, audit=audit)
    made = job(
        dynamo_stores, "invoice", {"userId": "u-alice", "month": "2026-10", "email": "false"}
    )
    call(handler, records(made.job_id))
    done = stored(dynamo_stores, made.job_id)
    assert done.status is JobStatus.READY, done.error
    assert json.loads(done.details["tax"]) == [
        {"currency": "USD", "net": "20.00", "tax": "3.80", "gross": "23.80"}
    ]
