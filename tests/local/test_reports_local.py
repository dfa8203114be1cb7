"""The reports function on the local stack: download links through the gateway's /s3/ (S3's
expiry and signature checks, which moto lacks) and the worker that hands the reports queue's
jobs and the bus's CostsIngested to the handler (a recording one in place of reports.handler)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3
import pytest
from botocore.config import Config

from infra.local.aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY, MAX_RECEIVES, LocalAws
from infra.local.gateway import LocalGateway
from infra.local.reports import ReportsWorker
from infra.local.s3_links import S3Links
from tally import events
from tally.clock import system_now
from tests.local.conftest import FakeHandler, call, start_gateway
from tests.local.test_alerts_routing import RecordingHandler

KEY = "reports/exports/u-alice/job-1.csv"
CSV = "\ufeff# Tally cost export\n\ndate,service\n2026-11-01,AmazonEC2\n".encode()


@pytest.fixture
def linked_gateway(local_aws: LocalAws) -> Iterator[LocalGateway]:
    local_aws.client("s3").put_object(
        Bucket=local_aws.exports_bucket, Key=KEY, Body=CSV, ContentType="text/csv; charset=utf-8"
    )
    gw = start_gateway(local_aws, FakeHandler())
    gw.s3_links = S3Links(local_aws.client("s3"), local_aws.exports_bucket)
    yield gw
    gw.stop()


def presign(gateway: LocalGateway, aws: LocalAws, key: str = KEY, *, seconds: int = 900) -> str:
    """A link as the local API makes it (TALLY_S3_PUBLIC_ENDPOINT_URL = the gateway + /s3)."""
    client = boto3.client(
        "s3",
        region_name=aws.region,
        endpoint_url=f"{gateway.url}/s3",
        aws_access_key_id=FAKE_ACCESS_KEY,
        aws_secret_access_key=FAKE_SECRET_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    return str(
        client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": aws.exports_bucket,
                "Key": key,
                "ResponseContentDisposition": 'attachment; filename="costs.csv"',
            },
            ExpiresIn=seconds,
        )
    )


def fetch(gateway: LocalGateway, url: str) -> Any:
    split = urlsplit(url)
    return call(gateway.url, "GET", f"{split.path}?{split.query}")


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def with_params(url: str, **changes: str) -> str:
    split = urlsplit(url)
    params = dict(parse_qsl(split.query, keep_blank_values=True))
    params.update(changes)
    return f"{split.scheme}://{split.netloc}{split.path}?{urlencode(params)}"


def test_a_valid_link_downloads_the_object(
    linked_gateway: LocalGateway, local_aws: LocalAws
) -> None:
    reply = fetch(linked_gateway, presign(linked_gateway, local_aws))
    assert reply.status == 200
    assert reply.body == CSV
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert reply.headers["Content-Disposition"] == 'attachment; filename="costs.csv"'


def test_an_expired_link_is_refused(linked_gateway: LocalGateway, local_aws: LocalAws) -> None:
    url = presign(linked_gateway, local_aws, seconds=60)
    # The clock moves on past the link's life (the real clock: security time).
    linked_gateway.s3_links = S3Links(
        local_aws.client("s3"),
        local_aws.exports_bucket,
        clock=lambda: system_now() + timedelta(seconds=61),
    )
    reply = fetch(linked_gateway, url)
    assert reply.status == 403
    assert reply.headers["Content-Type"] == "application/xml"
    assert b"<Code>AccessDenied</Code>" in reply.body and b"expired" in reply.body
    assert CSV not in reply.body


@pytest.mark.parametrize(
    "change",
    [
        {"X-Amz-Expires": "604800"},  # a longer life written into the link
        {"X-Amz-Date": "20991231T000000Z"},
        {"response-content-disposition": "inline"},
        {"X-Amz-Signature": "0" * 64},
    ],
)
def test_a_tampered_link_is_refused(
    linked_gateway: LocalGateway, local_aws: LocalAws, change: dict[str, str]
) -> None:
    reply = fetch(linked_gateway, with_params(presign(linked_gateway, local_aws), **change))
    assert reply.status == 403, reply.body
    assert CSV not in reply.body


def test_a_link_to_another_key_or_without_a_signature_is_refused(
    linked_gateway: LocalGateway, local_aws: LocalAws
) -> None:
    url = presign(linked_gateway, local_aws)
    other = url.replace("job-1.csv", "job-2.csv")
    assert fetch(linked_gateway, other).status == 403  # the signature covers the path
    split = urlsplit(url)
    assert call(linked_gateway.url, "GET", split.path).status == 403
    missing = presign(linked_gateway, local_aws, key="reports/exports/u-alice/none.csv")
    reply = fetch(linked_gateway, missing)
    assert reply.status == 404 and b"NoSuchKey" in reply.body


def test_only_the_reports_bucket_is_served(
    linked_gateway: LocalGateway, local_aws: LocalAws
) -> None:
    local_aws.client("s3").create_bucket(Bucket=f"{local_aws.exports_bucket}-other")
    local_aws.client("s3").put_object(
        Bucket=f"{local_aws.exports_bucket}-other", Key="x.csv", Body=b"secret"
    )
    linked_gateway.s3_links = S3Links(local_aws.client("s3"), local_aws.exports_bucket)
    url = presign(linked_gateway, local_aws, key="x.csv").replace(
        f"/{local_aws.exports_bucket}/", f"/{local_aws.exports_bucket}-other/"
    )
    assert fetch(linked_gateway, url).status == 403


# -- the worker -----------------------------------------------------------------------------


@pytest.fixture
def recorder() -> RecordingHandler:
    return RecordingHandler(answer=lambda event: {"jobs": {}, "batchItemFailures": []})


@pytest.fixture
def worker(local_aws: LocalAws, recorder: RecordingHandler) -> Iterator[ReportsWorker]:
    running = ReportsWorker(
        local_aws, recorder, retry_delay=0, poll_interval=0.02, refresh_every=None
    ).start()
    yield running
    running.stop()


def test_a_queued_job_reaches_the_handler_as_an_sqs_event(
    local_aws: LocalAws, recorder: RecordingHandler, worker: ReportsWorker
) -> None:
    local_aws.client("sqs").send_message(
        QueueUrl=local_aws.reports_queue_url, MessageBody=json.dumps({"jobId": "j-1"})
    )
    assert worker.wait_idle(10)
    assert recorder.sqs_bodies() == [{"jobId": "j-1"}]
    (record,) = recorder.calls[0]["Records"]
    assert record["eventSource"] == "aws:sqs"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"


def test_costs_ingested_reaches_the_reports_function_too(
    local_aws: LocalAws, recorder: RecordingHandler, worker: ReportsWorker
) -> None:
    events.publish(
        local_aws.client("events"),
        local_aws.event_bus_name,
        events.COSTS_INGESTED,
        {"months": ["2026-11"]},
    )
    assert wait_for(lambda: recorder.eventbridge())
    (event,) = recorder.eventbridge()
    assert (event["source"], event["detail-type"]) == (events.SOURCE, events.COSTS_INGESTED)
    # The alerts' own rule still has its copy: each function gets the event.
    alerts = local_aws.client("sqs").receive_message(QueueUrl=local_aws.alerts_events_queue_url)
    assert len(alerts.get("Messages", [])) == 1


def test_the_daily_refresh_is_a_scheduled_event(
    local_aws: LocalAws, recorder: RecordingHandler, worker: ReportsWorker
) -> None:
    worker.schedule_refresh()
    assert wait_for(lambda: recorder.eventbridge())
    (event,) = recorder.eventbridge()
    assert (event["source"], event["detail-type"]) == ("aws.events", "Scheduled Event")


def test_a_failing_job_is_retried_then_dead_lettered(
    local_aws: LocalAws, recorder: RecordingHandler, worker: ReportsWorker
) -> None:
    def fail(event: dict[str, Any]) -> dict[str, Any]:
        ids = [r["messageId"] for r in event["Records"]]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}

    recorder.answer = fail
    local_aws.client("sqs").send_message(
        QueueUrl=local_aws.reports_queue_url, MessageBody=json.dumps({"jobId": "j-bad"})
    )
    assert wait_for(lambda: worker.dead_letters() == 1, timeout=15)
    assert len(recorder.sqs_bodies()) == MAX_RECEIVES
