"""S3MultipartWriter against moto's S3: a small file is one PutObject, a large one a multipart
upload of bounded parts, and a failure leaves neither an object nor an open upload."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest

from tally.exports import S3MultipartWriter, csv_export, write_export
from tally.exports.s3 import MIN_PART_SIZE
from tally.models import Metric
from tally.settings import Settings
from tally.store import Stores
from tests.unit.test_exports import ALL_USERS, costs, world

BUCKET = "tally-exports"
MiB = 1024 * 1024


class CountingS3:
    """A real (moto) client that counts each call and the largest part it was sent."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()
        self.largest_part = 0

    def __getattr__(self, name: str) -> Any:
        self.calls[name] += 1
        return getattr(self._client, name)

    def upload_part(self, **kwargs: Any) -> Any:
        self.calls["upload_part"] += 1
        self.largest_part = max(self.largest_part, len(kwargs["Body"]))
        return self._client.upload_part(**kwargs)


@pytest.fixture
def s3(aws: Settings) -> CountingS3:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return CountingS3(client)


def stored(s3: CountingS3, key: str) -> tuple[bytes, str]:
    got = s3._client.get_object(Bucket=BUCKET, Key=key)
    return got["Body"].read(), got["ContentType"]


def exists(s3: CountingS3, key: str) -> bool:
    # moto's S3 lives as long as the test module: look for this test's key only.
    return bool(s3._client.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount"))


def open_uploads(s3: CountingS3) -> list[Any]:
    return s3._client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])


def test_a_small_file_is_one_put(s3: CountingS3) -> None:
    with S3MultipartWriter(s3, BUCKET, "small.csv", content_type="text/csv") as w:
        w.write(b"a,b\r\n")
        w.write(b"1,2\r\n")
    assert stored(s3, "small.csv") == (b"a,b\r\n1,2\r\n", "text/csv")
    assert s3.calls["put_object"] == 1 and s3.calls["create_multipart_upload"] == 0


def test_an_empty_file_is_still_made(s3: CountingS3) -> None:
    S3MultipartWriter(s3, BUCKET, "empty.csv", content_type="text/csv").close()
    assert stored(s3, "empty.csv")[0] == b""


def test_a_large_file_goes_up_in_parts(s3: CountingS3) -> None:
    chunk = bytes(range(256)) * 4096  # 1 MiB
    with S3MultipartWriter(
        s3, BUCKET, "big.csv", content_type="text/csv; charset=utf-8", part_size=MIN_PART_SIZE
    ) as w:
        for _ in range(12):  # 12 MiB in 1 MiB writes: parts of 5, 5 and 2 MiB
            w.write(chunk)
        assert s3.calls["upload_part"] == 2  # before close: sent as the parts filled
    body, content_type = stored(s3, "big.csv")
    assert body == chunk * 12 and content_type == "text/csv; charset=utf-8"
    assert s3.calls["upload_part"] == 3 and s3.largest_part == MIN_PART_SIZE
    assert s3.calls["put_object"] == 0 and open_uploads(s3) == []
    head = s3._client.head_object(Bucket=BUCKET, Key="big.csv")
    assert head["ETag"].strip('"').endswith("-3")


def test_an_error_aborts_the_upload(s3: CountingS3) -> None:
    with (
        pytest.raises(RuntimeError, match="export failed"),
        S3MultipartWriter(
            s3, BUCKET, "broken.csv", content_type="text/csv", part_size=5 * MiB
        ) as w,
    ):
        w.write(b"x" * (6 * MiB))
        assert len(open_uploads(s3)) == 1
        raise RuntimeError("export failed")
    assert open_uploads(s3) == []
    assert not exists(s3, "broken.csv")
    with pytest.raises(ValueError, match="closed"):
        w.write(b"more")


def test_an_error_before_the_first_part_makes_nothing(s3: CountingS3) -> None:
    with (
        pytest.raises(RuntimeError),
        S3MultipartWriter(s3, BUCKET, "nothing.csv", content_type="text/csv") as w,
    ):
        w.write(b"a few bytes")
        raise RuntimeError("export failed")
    assert not exists(s3, "nothing.csv")
    assert s3.calls["create_multipart_upload"] == 0 and s3.calls["abort_multipart_upload"] == 0


def test_parts_smaller_than_s3_allows_are_refused(s3: CountingS3) -> None:
    with pytest.raises(ValueError):
        S3MultipartWriter(s3, BUCKET, "k", content_type="text/csv", part_size=MIN_PART_SIZE - 1)


def test_an_export_streams_into_s3_and_parses_back(s3: CountingS3) -> None:
    stores = world()
    with S3MultipartWriter(s3, BUCKET, "exports/e1.csv", content_type="text/csv") as w:
        rows = write_export(
            stores,
            ALL_USERS,
            w,
            metric=Metric.EFFECTIVE,
            today=date(2026, 11, 20),
            now=datetime(2026, 11, 20, 8, tzinfo=UTC),
        )
    body, _ = stored(s3, "exports/e1.csv")
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert lines[0] == ["# Tally cost export"] and lines[-1][0] == "TOTAL"
    assert rows == len(lines) - 9 - 2  # metadata, blank, header; two TOTAL rows


def test_dynamodb_gives_the_same_files_as_the_memory_stores(
    dynamo_stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paging the roll-ups' by-month index and batch-reading profiles on DynamoDB (moto), in
    pages small enough that every owner is on a page of its own making."""
    monkeypatch.setattr(csv_export, "ROLLUP_PAGE", 2)
    monkeypatch.setattr(csv_export, "USER_BATCH", 2)
    when = {"today": date(2026, 11, 20), "now": datetime(2026, 11, 20, 8, tzinfo=UTC)}
    dynamo, memory = world(dynamo_stores), world()
    for request in (ALL_USERS, costs("u-alice")):
        files = []
        for stores in (dynamo, memory):
            out = io.BytesIO()
            write_export(stores, request, out, metric=Metric.EFFECTIVE, **when)  # type: ignore[arg-type]
            files.append(out.getvalue())
        assert files[0] == files[1]
