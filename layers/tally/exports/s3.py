"""A file-like sink that streams to an S3 object: a multipart upload fed one part at a time,
so a large export never sits in the function's memory whole.

S3 parts are at least 5 MiB (all but the last), so the writer holds up to ``part_size`` bytes.
A file smaller than one part is a single PutObject: no multipart upload is started (and
none can be left behind). Used as a context manager, an exception aborts the upload, so no
half-written object appears and no orphaned parts are billed.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's lower bound for every part but the last
DEFAULT_PART_SIZE = 8 * 1024 * 1024


class S3MultipartWriter:
    """``write(bytes)`` buffers up to one part; ``close()`` uploads the rest and completes;
    ``abort()`` discards everything uploaded. ``client`` is a boto3 S3 client."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        content_type: str,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 parts are at least {MIN_PART_SIZE} bytes")
        self._client = client
        self._bucket = bucket
        self._key = key
        self._content_type = content_type
        self._part_size = part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._closed = False
        self.bytes_written = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, data: bytes) -> int:
        if self._closed:
            raise ValueError("write to a closed S3MultipartWriter")
        self._buffer += data
        self.bytes_written += len(data)
        while len(self._buffer) >= self._part_size:
            self._upload_part(bytes(self._buffer[: self._part_size]))
            del self._buffer[: self._part_size]
        return len(data)

    def _upload_part(self, body: bytes) -> None:
        if self._upload_id is None:
            started = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, ContentType=self._content_type
            )
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        answer = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def close(self) -> None:
        """Upload what is buffered and make the object; closing twice does nothing."""
        if self._closed:
            return
        if self._upload_id is None:
            self._client.put_object(
                Bucket=self._bucket,
                Key=self._key,
                Body=bytes(self._buffer),
                ContentType=self._content_type,
            )
        else:
            if self._buffer:
                self._upload_part(bytes(self._buffer))
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._buffer.clear()
        self._closed = True

    def abort(self) -> None:
        """Discard the upload: no object is made, the parts sent are deleted."""
        if self._closed:
            return
        self._closed = True
        self._buffer.clear()
        if self._upload_id is not None:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )

    def __enter__(self) -> S3MultipartWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()
