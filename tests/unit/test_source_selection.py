"""Which source a run reads (``tally.sources.selection``), against moto's S3."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tally.sources.cost_explorer import CostExplorerSource
from tally.sources.focus import FocusSource
from tally.sources.selection import ExportNotFound, latest_exports, select_source
from tests.focus_files import daily_charges


class Clients:
    """A client factory that records what it was asked for."""

    def __init__(self) -> None:
        self.made: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, service: str, **options: Any) -> Any:
        self.made.append((service, options))
        return boto3.client(service, region_name="us-east-1", **options)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="exports")
        yield client


def put(s3: Any, key: str, day: date, cost: str) -> None:
    s3.put_object(Bucket="exports", Key=key, Body=daily_charges([(day, "alice", cost)]))


def billed(source: Any, start: date, end: date) -> dict[date, Decimal]:
    return {line.day: line.billed_cost for line in source.fetch(start, end)}


def test_latest_exports_lists_the_data_files_under_the_prefix(s3: Any) -> None:
    put(s3, "focus/2026-02/part-1.csv", date(2026, 2, 1), "1")
    put(s3, "focus/2026-01/part-0.csv", date(2026, 1, 31), "2")
    s3.put_object(Bucket="exports", Key="focus/2026-02/manifest.json", Body=b"{}")
    put(s3, "elsewhere/part-0.csv", date(2026, 1, 1), "3")
    assert latest_exports(s3, "exports", "focus/") == [
        "focus/2026-01/part-0.csv",
        "focus/2026-02/part-1.csv",
    ]


def test_an_empty_export_is_an_error_not_a_day_without_costs(s3: Any) -> None:
    s3.put_object(Bucket="exports", Key="focus/manifest.json", Body=b"{}")
    with pytest.raises(ExportNotFound, match="no FOCUS files in s3://exports/focus/"):
        latest_exports(s3, "exports", "focus/")


def test_the_focus_kind_reads_every_file_of_the_export(s3: Any) -> None:
    put(s3, "focus/2026-01/part-0.csv", date(2026, 1, 31), "2.50")
    put(s3, "focus/2026-02/part-0.csv", date(2026, 2, 1), "1.25")
    source = select_source(
        "focus", Clients(), owner_tag_key="Owner", export_bucket="exports", export_prefix="focus/"
    )
    assert isinstance(source, FocusSource)
    assert billed(source, date(2026, 1, 31), date(2026, 2, 2)) == {
        date(2026, 1, 31): Decimal("2.50"),
        date(2026, 2, 1): Decimal("1.25"),
    }


def test_a_named_file_wins_over_the_configured_kind(s3: Any) -> None:
    put(s3, "focus/2026-01/part-0.csv", date(2026, 1, 31), "2.50")
    put(s3, "focus/manual/fix.csv", date(2026, 1, 31), "9.00")
    for kind in ("cost-explorer", "focus"):
        source = select_source(
            kind,  # type: ignore[arg-type]
            Clients(),
            owner_tag_key="Owner",
            export_bucket="exports",
            export_prefix="focus/",
            focus_key="focus/manual/fix.csv",
        )
        assert billed(source, date(2026, 1, 31), date(2026, 2, 1)) == {
            date(2026, 1, 31): Decimal("9.00")
        }


def test_a_focus_source_without_a_bucket_says_which_setting(s3: Any) -> None:
    with pytest.raises(ExportNotFound, match="TALLY_EXPORT_BUCKET"):
        select_source("focus", Clients(), owner_tag_key="Owner", export_bucket=None)
    with pytest.raises(ExportNotFound, match="TALLY_EXPORT_BUCKET"):
        select_source("cost-explorer", Clients(), owner_tag_key="Owner", focus_key="f.csv")


def test_cost_explorer_is_read_with_the_owner_tag_and_a_client_of_its_own(s3: Any) -> None:
    clients = Clients()
    source = select_source("cost-explorer", clients, owner_tag_key="CostOwner")
    assert isinstance(source, CostExplorerSource)
    assert source.owner_tag_key == "CostOwner"
    ((service, options),) = clients.made
    assert service == "ce"
    assert options["config"].retries["mode"] == "standard"


def test_botocore_sends_each_cost_explorer_request_once() -> None:
    """The source's own backoff is the only retry: botocore retrying too would multiply the
    attempts, each a billed request. Against a server that always throttles, one request."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[str] = []

    class Throttling(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            self.send_response(400)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:

        def client(service: str, **options: Any) -> Any:
            return boto3.client(
                service,
                region_name="us-east-1",
                endpoint_url=endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                **options,
            )

        source = select_source("cost-explorer", client, owner_tag_key="Owner")
        assert isinstance(source, CostExplorerSource)
        with pytest.raises(Exception, match="Throttling"):
            source._client.get_cost_and_usage(
                TimePeriod={"Start": "2026-01-01", "End": "2026-01-02"},
                Granularity="DAILY",
                Metrics=["UnblendedCost"],
            )
    finally:
        server.shutdown()
    assert len(received) == 1
