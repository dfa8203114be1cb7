"""The report job store contract, run against DynamoDB (moto) and the in-memory fake alike
(the ``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest

from tally import tables
from tally.errors import Conflict, NotFound
from tally.models import JobStatus, ReportJob
from tally.settings import Settings
from tally.store import Stores
from tally.store.report_jobs import expires
from tests.conftest import NOW

LATER = NOW + timedelta(minutes=2)


def pending(job_id: str = "job-1", kind: str = "export") -> ReportJob:
    return ReportJob(
        job_id=job_id,
        kind=kind,
        requester_id="u-alice",
        params={"kind": "costs", "startDate": "2026-11-01", "endDate": "2026-11-19"},
        status=JobStatus.PENDING,
        created_at=NOW,
        updated_at=NOW,
    )


class TestReportJobs:
    def test_created_pending_and_read_back(self, stores: Stores) -> None:
        stores.report_jobs.create(pending())
        assert stores.report_jobs.get("job-1") == pending()
        assert stores.report_jobs.get("job-2") is None

    def test_an_id_is_never_reused(self, stores: Stores) -> None:
        stores.report_jobs.create(pending())
        with pytest.raises(Conflict):
            stores.report_jobs.create(pending(kind="invoice"))
        assert stores.report_jobs.get("job-1") == pending()

    def test_completed_with_its_file(self, stores: Stores) -> None:
        stores.report_jobs.create(pending("inv-1", "invoice"))
        details = {"invoiceNumber": "TALLY-2026-11-0001", "provisional": "true"}
        stores.report_jobs.complete(
            "inv-1", object_key="invoices/inv-1.pdf", rows=None, details=details, at=LATER
        )
        job = stores.report_jobs.get("inv-1")
        assert job is not None
        assert (job.status, job.object_key, job.rows, job.details) == (
            JobStatus.READY,
            "invoices/inv-1.pdf",
            None,
            details,
        )
        assert (job.created_at, job.updated_at, job.requester_id) == (NOW, LATER, "u-alice")

    def test_failed_with_its_error_then_a_retry_completes_it(self, stores: Stores) -> None:
        stores.report_jobs.create(pending())
        stores.report_jobs.fail("job-1", error="the export failed", at=LATER)
        job = stores.report_jobs.get("job-1")
        assert job is not None and (job.status, job.error) == (
            JobStatus.FAILED,
            "the export failed",
        )
        stores.report_jobs.complete("job-1", object_key="k", rows=12, details={}, at=LATER)
        job = stores.report_jobs.get("job-1")
        assert job is not None
        assert (job.status, job.rows, job.error, job.details) == (JobStatus.READY, 12, None, {})

    def test_a_failure_never_overwrites_a_ready_job(self, stores: Stores) -> None:
        stores.report_jobs.create(pending())
        stores.report_jobs.complete("job-1", object_key="k", rows=3, details={}, at=LATER)
        stores.report_jobs.fail("job-1", error="late duplicate", at=LATER + timedelta(minutes=1))
        job = stores.report_jobs.get("job-1")
        assert job is not None
        assert (job.status, job.object_key, job.rows, job.error, job.updated_at) == (
            JobStatus.READY,
            "k",
            3,
            None,
            LATER,
        )

    def test_an_unknown_job_cannot_be_completed_or_failed(self, stores: Stores) -> None:
        with pytest.raises(NotFound):
            stores.report_jobs.complete("nope", object_key="k", rows=1, details={}, at=LATER)
        with pytest.raises(NotFound):
            stores.report_jobs.fail("nope", error="x", at=LATER)
        assert stores.report_jobs.get("nope") is None  # no item was made by either


def test_a_job_expires_thirty_days_after_it_was_created(
    aws: Settings, dynamo_stores: Stores
) -> None:
    dynamo_stores.report_jobs.create(pending())
    table = aws.table_names["reports"]
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=table, Key={"pk": {"S": "JOB#job-1"}, "sk": {"S": "JOB"}}
    )["Item"]
    assert int(item["expires"]["N"]) == expires(NOW) == int((NOW + timedelta(days=30)).timestamp())
    assert tables.REPORTS.ttl_attribute == "expires"  # CDK and the local stack read it
