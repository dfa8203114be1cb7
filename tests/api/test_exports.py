"""Export and invoice jobs through the API: asked for (202, a pending job, one message on the
reports queue), read back by their requester or an admin only, and a fresh pre-signed link
once ready. The files themselves are the reports function's (tests/unit/test_reports_handler.py)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from tally.clock import system_now
from tally.identity import Caller
from tally.models import JobStatus, ReportJob
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api

BUCKET = "tally-test-exports"
QUEUE = "tally-test-reports"


@pytest.fixture
def reports(api: Api, monkeypatch: pytest.MonkeyPatch) -> str:
    """The reports queue (emptied) and bucket in this module's moto; the API told of them."""
    from api import downloads

    sqs = boto3.client("sqs", region_name="us-east-1")
    # A queue per test: moto lives for the module, and SQS purges once a minute at most.
    url = sqs.create_queue(QueueName=f"{QUEUE}-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("TALLY_REPORTS_QUEUE_URL", url)
    monkeypatch.setenv("TALLY_REPORTS_BUCKET", BUCKET)
    downloads._queue.cache_clear()
    downloads._signer.cache_clear()
    return str(url)


def _messages(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def _export(api: Api, caller: Caller, **fields: Any) -> Any:
    body = {"kind": "costs", "startDate": "2026-11-01", "endDate": "2026-11-19", **fields}
    return api.call("POST", "/api/exports", caller, body=body)


def _job(api: Api, job_id: str) -> ReportJob:
    job = api.stores.report_jobs.get(job_id)
    assert job is not None
    return job


def _ready(api: Api, job_id: str, key: str, **details: str) -> None:
    api.stores.report_jobs.complete(
        job_id, object_key=key, rows=42, details=details, at=datetime(2026, 11, 20, tzinfo=UTC)
    )


# -- exports -------------------------------------------------------------------------------


def test_an_export_is_stored_pending_and_queued_once(api: Api, reports: str) -> None:
    reply = _export(api, ALICE, service="AmazonEC2", search="web")
    assert reply.status == 202, reply.body
    assert set(reply.body) == {"exportId", "status", "kind", "createdAt"}
    assert (reply.body["status"], reply.body["kind"]) == ("pending", "costs")
    job = _job(api, reply.body["exportId"])
    assert (job.kind, job.requester_id, job.status) == ("export", "u-alice", JobStatus.PENDING)
    # The owner defaults to the caller; only what was asked is kept.
    assert job.params == {
        "kind": "costs",
        "startDate": "2026-11-01",
        "endDate": "2026-11-19",
        "userId": "u-alice",
        "service": "AmazonEC2",
        "search": "web",
    }
    assert _messages(reports) == [{"jobId": job.job_id}]


def test_a_pending_export_has_no_link(api: Api, reports: str) -> None:
    export_id = _export(api, ALICE).body["exportId"]
    reply = api.call("GET", f"/api/exports/{export_id}", ALICE)
    assert reply.status == 200
    assert reply.body["status"] == "pending"
    assert reply.body["url"] is None and reply.body["expiresAt"] is None


def test_a_ready_export_answers_a_fresh_signed_link(
    api: Api, reports: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_REPORT_LINK_SECONDS", "120")
    export_id = _export(api, ALICE).body["exportId"]
    key = f"reports/exports/u-alice/{export_id}.csv"
    _ready(api, export_id, key)
    before = system_now()
    reply = api.call("GET", f"/api/exports/{export_id}", ALICE)
    assert reply.status == 200, reply.body
    assert (reply.body["status"], reply.body["rows"], reply.body["kind"]) == ("ready", 42, "costs")
    url = urlsplit(reply.body["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path.endswith(f"/{key}") and BUCKET in url.netloc + url.path
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "120"
    assert query["response-content-disposition"] == (
        'attachment; filename="tally-costs-2026-11-01-2026-11-19.csv"'
    )
    expires = datetime.fromisoformat(reply.body["expiresAt"])
    assert before + timedelta(seconds=118) <= expires <= system_now() + timedelta(seconds=120)


def test_the_default_link_lives_fifteen_minutes(api: Api, reports: str) -> None:
    export_id = _export(api, ALICE).body["exportId"]
    _ready(api, export_id, f"reports/exports/u-alice/{export_id}.csv")
    url = api.call("GET", f"/api/exports/{export_id}", ALICE).body["url"]
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["900"]


@pytest.mark.parametrize(("caller", "status"), [(ALICE, 200), (ADMIN, 200), (BOB, 404)])
def test_an_export_is_its_requesters_and_the_admins(
    api: Api, reports: str, caller: Caller, status: int
) -> None:
    export_id = _export(api, ALICE).body["exportId"]
    reply = api.call("GET", f"/api/exports/{export_id}", caller)
    assert reply.status == status
    if status == 404:
        # The same answer as an id that never existed: nothing tells bob it is there.
        ghost = api.call("GET", "/api/exports/00000000-0000-0000-0000-000000000000", BOB)
        assert ghost.status == 404
        assert {k: v for k, v in reply.problem.items() if k not in ("detail", "instance")} == {
            k: v for k, v in ghost.problem.items() if k not in ("detail", "instance")
        }


def test_an_invoice_id_is_not_an_export(api: Api, reports: str) -> None:
    invoice_id = api.call("POST", "/api/invoices", ALICE, body={"month": "2026-10"}).body[
        "invoiceId"
    ]
    assert api.call("GET", f"/api/exports/{invoice_id}", ALICE).status == 404
    export_id = _export(api, ALICE).body["exportId"]
    assert api.call("GET", f"/api/invoices/{export_id}", ALICE).status == 404


def test_a_failed_export_says_why(api: Api, reports: str) -> None:
    export_id = _export(api, ALICE).body["exportId"]
    api.stores.report_jobs.fail(export_id, error="no costs", at=datetime(2026, 11, 20, tzinfo=UTC))
    reply = api.call("GET", f"/api/exports/{export_id}", ALICE)
    assert (reply.body["status"], reply.body["error"], reply.body["url"]) == (
        "failed",
        "no costs",
        None,
    )


@pytest.mark.parametrize(
    ("caller", "fields", "status"),
    [
        (ALICE, {"userId": "u-bob"}, 403),
        (ALICE, {"userId": "ORG"}, 403),
        (ALICE, {"kind": "all-users"}, 403),
        (ADMIN, {"kind": "all-users"}, 202),
        (ADMIN, {"userId": "u-alice"}, 202),
        (ADMIN, {"userId": "UNALLOCATED"}, 202),
    ],
)
def test_who_may_export_what(
    api: Api, reports: str, caller: Caller, fields: dict[str, str], status: int
) -> None:
    reply = _export(api, caller, **fields)
    assert reply.status == status, reply.body
    assert len(_messages(reports)) == (1 if status == 202 else 0)


def test_a_refused_message_fails_the_job_and_answers_503(
    api: Api, reports: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_REPORTS_QUEUE_URL", reports.rsplit("/", 1)[0] + "/no-such-queue")
    reply = _export(api, ALICE)
    assert reply.status == 503, reply.body
    assert reply.headers["Retry-After"] == "30"
    assert reply.problem["status"] == 503


def test_without_a_queue_the_api_says_so(
    api: Api, reports: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALLY_REPORTS_QUEUE_URL")
    reply = _export(api, ALICE)
    assert reply.status == 500


# -- invoices ------------------------------------------------------------------------------


def test_an_invoice_defaults_to_the_caller(api: Api, reports: str) -> None:
    reply = api.call("POST", "/api/invoices", ALICE, body={"month": "2026-10", "email": True})
    assert reply.status == 202, reply.body
    assert set(reply.body) == {"invoiceId", "status", "createdAt"}
    job = _job(api, reply.body["invoiceId"])
    assert job.kind == "invoice"
    assert job.params == {"userId": "u-alice", "month": "2026-10", "email": "true"}
    assert _messages(reports) == [{"jobId": job.job_id}]


@pytest.mark.parametrize(
    ("caller", "body", "status", "field"),
    [
        (ALICE, {"userId": "u-bob", "month": "2026-10"}, 403, None),
        (ALICE, {"costCenter": "research", "month": "2026-10"}, 403, None),
        (ADMIN, {"costCenter": "research", "month": "2026-10"}, 202, None),
        (ADMIN, {"userId": "u-alice", "month": "2026-11"}, 202, None),  # the current month
        (ALICE, {"month": "2026-12"}, 422, "month"),  # TALLY_TODAY is 2026-11-20
        (ADMIN, {"userId": "u-alice", "costCenter": "research", "month": "2026-10"}, 422, None),
    ],
)
def test_who_may_invoice_what(
    api: Api,
    reports: str,
    caller: Caller,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    reply = api.call("POST", "/api/invoices", caller, body=body)
    assert reply.status == status, reply.body
    if field:
        assert [e["field"] for e in reply.problem["errors"]] == [field]
    assert len(_messages(reports)) == (1 if status == 202 else 0)


def test_a_ready_invoice_shows_its_number_and_links_the_pdf(api: Api, reports: str) -> None:
    invoice_id = api.call("POST", "/api/invoices", ALICE, body={"month": "2026-10"}).body[
        "invoiceId"
    ]
    _ready(
        api,
        invoice_id,
        f"reports/invoices/u-alice/{invoice_id}.pdf",
        invoiceNumber="INV-2026-10-ABC-R2",
        provisional="false",
        emailed="false",
    )
    for caller in (ALICE, ADMIN):
        reply = api.call("GET", f"/api/invoices/{invoice_id}", caller)
        assert reply.status == 200
        assert reply.body["invoiceNumber"] == "INV-2026-10-ABC-R2"
        assert (reply.body["provisional"], reply.body["emailed"]) == (False, False)
        query = parse_qs(urlsplit(reply.body["url"]).query)
        assert query["response-content-disposition"] == [
            'attachment; filename="invoice-INV-2026-10-ABC-R2.pdf"'
        ]
        assert query["response-content-type"] == ["application/pdf"]
    assert api.call("GET", f"/api/invoices/{invoice_id}", BOB).status == 404


# -- the per-user limit of files ------------------------------------------------------------

LIMITED_AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def rate_clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The rate limit's (real-time) clock, pinned: set ``[0]`` to move it."""
    from tally import ratelimit

    now = [LIMITED_AT]
    monkeypatch.setattr(ratelimit, "system_now", lambda: now[0])
    return now


def _invoice(api: Api, caller: Caller) -> Any:
    return api.call("POST", "/api/invoices", caller, body={"month": "2026-10"})


def test_past_the_limit_a_report_is_429_with_retry_after(
    api: Api, reports: str, rate_clock: list[datetime]
) -> None:
    # Exports and invoices share the limit: a burst of 5, then one every 6 minutes.
    assert [r.status for r in (_export(api, ALICE) for _ in range(3))] == [202] * 3
    assert [_invoice(api, ALICE).status for _ in range(2)] == [202] * 2
    rate_clock[0] = LIMITED_AT + timedelta(seconds=20)
    for refused in (_export(api, ALICE), _invoice(api, ALICE)):
        assert refused.status == 429, refused.body
        assert refused.headers["Retry-After"] == "340"
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.problem["status"] == 429
        assert refused.problem["type"].endswith("/too-many-requests")
        assert "5 at once, then 10 per hour" in refused.problem["detail"]
    # Nothing was stored or queued for the refused ones.
    assert len(_messages(reports)) == 5
    rate_clock[0] = LIMITED_AT + timedelta(seconds=360)
    assert _export(api, ALICE).status == 202


def test_one_users_limit_leaves_the_others_alone(
    api: Api, reports: str, rate_clock: list[datetime]
) -> None:
    for _ in range(5):
        assert _export(api, ALICE).status == 202
    assert _export(api, ALICE).status == 429
    assert _export(api, BOB).status == 202
    assert _export(api, ADMIN, userId="u-alice").status == 202  # the admin's own bucket


def test_refused_or_invalid_requests_take_no_token(
    api: Api, reports: str, rate_clock: list[datetime]
) -> None:
    for _ in range(6):
        assert _export(api, ALICE, userId="u-bob").status == 403
        assert _export(api, ALICE, startDate="2026-11-19", endDate="2026-11-01").status == 422
    assert [_export(api, ALICE).status for _ in range(5)] == [202] * 5
    # Bad input is still 422, not 429, once the limit is used up.
    assert _export(api, ALICE, startDate="2026-11-19", endDate="2026-11-01").status == 422


def test_the_limit_is_a_setting(
    api: Api, reports: str, rate_clock: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_REPORTS_BURST", "1")
    monkeypatch.setenv("TALLY_REPORTS_PER_HOUR", "2")
    assert _export(api, ALICE).status == 202
    refused = _export(api, ALICE)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1800"
    assert "1 at once, then 2 per hour" in refused.problem["detail"]
