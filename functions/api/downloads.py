"""What the export and invoice routes need beyond the stores: the reports queue a job is
handed to, and pre-signed links to the finished files.

Configured by its own variables (``DownloadSettings``), so the rest of the API runs without
them; a route that needs one fails loudly (500, naming the variable) when it is missing.
Clients are made on first use and kept per warm container; tests replace ``queue`` and
``signer`` (or point them at moto).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar

from tally.clock import system_now
from tally.settings import ConfigurationError, Environment, FunctionSettings

REPORTS_QUEUE_URL = "TALLY_REPORTS_QUEUE_URL"
REPORTS_BUCKET = "TALLY_REPORTS_BUCKET"
LINK_SECONDS = "TALLY_REPORT_LINK_SECONDS"
S3_PUBLIC_ENDPOINT_URL = "TALLY_S3_PUBLIC_ENDPOINT_URL"

DEFAULT_LINK_SECONDS = 900
# SigV4 query signing allows at most 7 days; a link is meant to be used at once.
MAX_LINK_SECONDS = 7 * 24 * 3600


class QueueUnavailable(RuntimeError):
    """SQS did not take the job's message."""


@dataclass(frozen=True)
class DownloadSettings(FunctionSettings):
    queue_url: str | None = None
    bucket: str | None = None
    link_seconds: int = DEFAULT_LINK_SECONDS
    # Where a browser reaches S3 when that is not the API's own endpoint: the local stack's
    # gateway (it enforces the links' expiry, which moto does not). Never set in AWS.
    public_endpoint_url: str | None = None

    variables: ClassVar[tuple[str, ...]] = (
        REPORTS_QUEUE_URL,
        REPORTS_BUCKET,
        LINK_SECONDS,
        S3_PUBLIC_ENDPOINT_URL,
    )

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        raw = (env[LINK_SECONDS] or str(DEFAULT_LINK_SECONDS)).strip()
        seconds = int(raw) if raw.isdigit() else 0
        if not 1 <= seconds <= MAX_LINK_SECONDS:
            raise ConfigurationError(
                f"{LINK_SECONDS} must be a number of seconds from 1 to {MAX_LINK_SECONDS}: {raw!r}"
            )
        return {
            "queue_url": env[REPORTS_QUEUE_URL] or None,
            "bucket": env[REPORTS_BUCKET] or None,
            "link_seconds": seconds,
            "public_endpoint_url": (env[S3_PUBLIC_ENDPOINT_URL] or "").rstrip("/") or None,
        }

    def required(self, value: str | None, variable: str) -> str:
        if not value:
            raise ConfigurationError(f"environment variable {variable} is required")
        return value


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime


class ReportQueue:
    """Hands a job to the reports function: one message ``{"jobId": ...}``."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    def send(self, job_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.send_message(
                QueueUrl=self.queue_url, MessageBody=json.dumps({"jobId": job_id})
            )
        except (BotoCoreError, ClientError) as error:
            raise QueueUnavailable(str(error)) from error


class LinkSigner:
    """Pre-signed GETs of the reports bucket's objects, valid ``seconds`` from now (the real
    clock: a link's life is security time, not the business date)."""

    def __init__(self, client: Any, bucket: str, seconds: int) -> None:
        self._client = client
        self.bucket = bucket
        self.seconds = seconds

    def link(self, key: str, *, filename: str, content_type: str) -> Link:
        expires_at = system_now() + timedelta(seconds=self.seconds)
        url = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                # The browser saves the file under this name instead of showing it.
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": content_type,
            },
            ExpiresIn=self.seconds,
        )
        return Link(url=str(url), expires_at=expires_at.replace(microsecond=0))


def settings() -> DownloadSettings:
    return DownloadSettings.load()


def _client(service: str, *, endpoint_url: str | None, path_style: bool = False) -> Any:
    import boto3
    from botocore.config import Config

    cfg = settings()
    config = Config(
        signature_version="s3v4" if service == "s3" else None,
        s3={"addressing_style": "path"} if path_style else None,
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=3,
        read_timeout=5,
    )
    return boto3.session.Session(region_name=cfg.region).client(
        service, endpoint_url=endpoint_url, config=config
    )


def queue() -> ReportQueue:
    cfg = settings()
    return _queue(cfg.required(cfg.queue_url, REPORTS_QUEUE_URL), cfg.aws_endpoint_url)


@lru_cache(maxsize=2)
def _queue(queue_url: str, endpoint_url: str | None) -> ReportQueue:
    return ReportQueue(_client("sqs", endpoint_url=endpoint_url), queue_url)


def signer() -> LinkSigner:
    cfg = settings()
    return _signer(
        cfg.required(cfg.bucket, REPORTS_BUCKET),
        cfg.link_seconds,
        cfg.public_endpoint_url or cfg.aws_endpoint_url,
        cfg.public_endpoint_url is not None,
    )


@lru_cache(maxsize=2)
def _signer(bucket: str, seconds: int, endpoint_url: str | None, path_style: bool) -> LinkSigner:
    client = _client("s3", endpoint_url=endpoint_url, path_style=path_style)
    return LinkSigner(client, bucket, seconds)
