"""A FOCUS 1.x Data Export aggregated by Athena: the cost source of large organisations.

One query per window (``tally.sources.sql``): Athena reads the export's Parquet through a Glue
table partitioned by billing period, groups it into the lines allocation needs and ``UNLOAD``s
them as Parquet under a fresh prefix of the results location; the source waits for the query
(backing off between polls, through an injectable ``sleep``), then reads those files with
pyarrow. What one query may scan is the workgroup's limit (``BytesScannedCutoffPerQuery``, set
in CDK), so a runaway query fails rather than costs.

A query that fails, is cancelled or outlives ``max_wait_seconds`` raises ``CostSourceError``
before any line is handed out, so the ingest writes nothing.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tally.clock import utc_today
from tally.models import CostLine
from tally.sources import CostFetch, CostSourceError, FetchLog
from tally.sources.sql import ExportQuery, ResultReader

SOURCE_NAME = "athena"
SUCCEEDED = "SUCCEEDED"
FINISHED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


@dataclass(frozen=True)
class AthenaSettings:
    """Where the export's table is and where results go (the ingest's TALLY_ATHENA_*)."""

    database: str
    table: str
    workgroup: str
    output: str  # s3://bucket/prefix/ for the UNLOAD results; each query writes a new folder

    def __post_init__(self) -> None:
        if not self.output.startswith("s3://"):
            raise ValueError(f"the Athena output location must be an s3:// URI: {self.output!r}")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b/`` -> ``("bucket", "a/b/")``."""
    rest = uri.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    return bucket, key


def backoff_delays(first: float = 0.5, factor: float = 2.0, cap: float = 10.0) -> Iterator[float]:
    """0.5, 1, 2, 4, 8, 10, 10, ... seconds: quick for a small query, gentle on a long one
    (GetQueryExecution is free, but throttled per account)."""
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, cap)


class AthenaSource:
    """Cost lines of the whole organisation from the export's Glue table, through Athena.

    ``athena`` and ``s3`` are boto3 clients (moto's or Stubber's in tests); ``sleep`` waits
    between polls (tests pass a recorder, so no test waits or reads a clock); ``new_token``
    names each query's result folder and is its ``ClientRequestToken``.
    """

    source_name = SOURCE_NAME

    def __init__(
        self,
        athena: Any,
        s3: Any,
        settings: AthenaSettings,
        *,
        owner_tag_key: str = "Owner",
        tag_keys: Sequence[str] | None = None,
        today: date | None = None,
        settle_days: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
        max_wait_seconds: float = 300.0,
    ) -> None:
        self._athena = athena
        self._s3 = s3
        self.settings = settings
        self.query = ExportQuery(
            settings.database,
            settings.table,
            tag_keys=tuple(tag_keys) if tag_keys is not None else (owner_tag_key,),
        )
        self._today = today
        self.settle_days = settle_days
        self._sleep = sleep
        self._new_token = new_token
        self.max_wait_seconds = max_wait_seconds
        # The last query's id and what it scanned, for logs and metrics.
        self.query_id: str | None = None
        self.bytes_scanned: int | None = None

    def fetch(self, start: date, end: date) -> CostFetch:
        def produce(log: FetchLog) -> Iterator[CostLine]:
            return self._produce(log, start, end)

        return CostFetch(SOURCE_NAME, start, end, produce)

    def result_location(self, start: date, end: date, token: str) -> str:
        """A folder of its own per query: UNLOAD refuses a location that holds files."""
        return f"{self.settings.output.rstrip('/')}/{start}_{end}/{token}/"

    def _produce(self, log: FetchLog, start: date, end: date) -> Iterator[CostLine]:
        from botocore.exceptions import BotoCoreError, ClientError

        token = self._new_token()
        location = self.result_location(start, end, token)
        try:
            query_id = self._athena.start_query_execution(
                QueryString=self.query.unload(start, end, location),
                QueryExecutionContext={"Database": self.settings.database},
                WorkGroup=self.settings.workgroup,
                ClientRequestToken=token,
            )["QueryExecutionId"]
            self.query_id = query_id
            log.requests += 1
            self._wait(query_id)
            keys = self._result_keys(location)
            with tempfile.TemporaryDirectory(prefix="tally-athena-") as folder:
                paths = self._download(keys, Path(folder))
                reader = ResultReader(
                    tag_keys=self.query.tag_keys,
                    estimated_column=False,
                    today=self._today or utc_today(),
                    settle_days=self.settle_days,
                )
                yield from reader.lines(paths, log, start, end)
        except (BotoCoreError, ClientError) as error:
            raise CostSourceError(f"Athena source: {error}") from error

    def _wait(self, query_id: str) -> None:
        waited = 0.0
        delays = backoff_delays()
        while True:
            execution = self._athena.get_query_execution(QueryExecutionId=query_id)[
                "QueryExecution"
            ]
            status = execution["Status"]
            state = status["State"]
            if state in FINISHED:
                break
            if waited >= self.max_wait_seconds:
                # Stopped, so a query we gave up on does not go on scanning (and costing).
                self._athena.stop_query_execution(QueryExecutionId=query_id)
                raise CostSourceError(
                    f"Athena query {query_id} still {state} after {waited:.0f} s; stopped"
                )
            delay = next(delays)
            self._sleep(delay)
            waited += delay
        self.bytes_scanned = execution.get("Statistics", {}).get("DataScannedInBytes")
        if state != SUCCEEDED:
            reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get(
                "ErrorMessage", "no reason given"
            )
            raise CostSourceError(f"Athena query {query_id} {state}: {reason}")

    def _result_keys(self, location: str) -> list[str]:
        bucket, prefix = split_s3_uri(location)
        keys: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            # Athena may add a manifest and metadata beside the data files.
            keys.extend(
                item["Key"]
                for item in page.get("Contents", [])
                if not item["Key"].endswith(("-manifest.csv", ".metadata", "/"))
            )
        # A query whose result is empty writes no file: that is a window without costs,
        # which the coverage then reads as such (no billing period either means no days).
        return sorted(keys)

    def _download(self, keys: list[str], folder: Path) -> list[str]:
        bucket, _ = split_s3_uri(self.settings.output)
        paths = []
        for n, key in enumerate(keys):
            path = folder / f"{n:05d}.parquet"
            self._s3.download_file(bucket, key, str(path))
            paths.append(str(path))
        return paths
