"""Where the stages of a fan-out run leave their work for each other: partitions for the
workers, partial results for the finalize step. S3 in AWS (the ingest work bucket, objects
expire after 14 days), a dict in tests."""

from __future__ import annotations

from typing import Any, Protocol


class Blobs(Protocol):
    def put(self, key: str, body: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...


class S3Blobs:
    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def put(self, key: str, body: bytes) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body)

    def get(self, key: str) -> bytes:
        body: bytes = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return body


class MemoryBlobs:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, body: bytes) -> None:
        self.objects[key] = bytes(body)

    def get(self, key: str) -> bytes:
        return self.objects[key]


def part_key(run_id: str, partition: str) -> str:
    return f"runs/{run_id}/parts/{partition}.jsonl.gz"


def result_key(run_id: str, partition: str) -> str:
    return f"runs/{run_id}/results/{partition}.json.gz"


def resources_key(run_id: str, bucket: int, partition: str) -> str:
    return f"runs/{run_id}/resources/{bucket:03d}/{partition}.jsonl.gz"
