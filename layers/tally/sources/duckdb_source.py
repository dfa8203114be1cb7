"""The Athena source's query, run by DuckDB over local Parquet files: the local stack and tests.

DuckDB is a development dependency only (requirements-dev.txt): it is imported when a fetch
runs, never by the Lambda functions, whose packages are at Lambda's size limit. The ``SELECT``
is ``tally.sources.sql``'s, unchanged; DuckDB gets a schema and a view named like the Glue
database and table, so the text Athena runs finds its table here too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from tally.clock import utc_today
from tally.models import CostLine
from tally.sources import CostFetch, FetchLog, SourceFormatError
from tally.sources.focus import list_export_keys
from tally.sources.sql import (
    DATABASE,
    ESTIMATED_COLUMN,
    PARTITION_COLUMN,
    TABLE,
    ExportQuery,
    ResultReader,
    literal,
)

SOURCE_NAME = "duckdb"


class DuckDbSource:
    """Cost lines of the FOCUS Parquet files under ``root`` (Data Exports' layout:
    ``.../BILLING_PERIOD=YYYY-MM/*.parquet``), aggregated by DuckDB with the Athena query."""

    source_name = SOURCE_NAME

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        fill: Callable[[Path], None] | None = None,
        owner_tag_key: str = "Owner",
        tag_keys: Sequence[str] | None = None,
        today: date | None = None,
        settle_days: int = 5,
        threads: int | None = None,
    ) -> None:
        if (root is None) == (fill is None):
            raise ValueError("give the export's folder, or how to fill a temporary one")
        self.root = Path(root) if root is not None else None
        self._fill = fill
        self.tag_keys = tuple(tag_keys) if tag_keys is not None else (owner_tag_key,)
        self._today = today
        self.settle_days = settle_days
        self._threads = threads
        self.last_sql: str | None = None  # the statement of the last fetch (tests, the bench)

    @classmethod
    def from_s3(cls, s3_client: Any, bucket: str, prefix: str, **options: Any) -> DuckDbSource:
        """The export's Parquet files under ``prefix``, copied (with their ``BILLING_PERIOD=``
        folders) into a temporary folder for each fetch: the local stack keeps its exports in
        the emulator's S3, and DuckDB's S3 support is an extension downloaded at run time."""

        def fill(folder: Path) -> None:
            for key in list_export_keys(s3_client, bucket, prefix):
                if not key.endswith(".parquet"):
                    continue
                path = folder / key.removeprefix(prefix).lstrip("/")
                path.parent.mkdir(parents=True, exist_ok=True)
                s3_client.download_file(bucket, key, str(path))

        return cls(fill=fill, **options)

    def fetch(self, start: date, end: date) -> CostFetch:
        def produce(log: FetchLog) -> Iterator[CostLine]:
            return self._produce(log, start, end)

        return CostFetch(SOURCE_NAME, start, end, produce)

    def _produce(self, log: FetchLog, start: date, end: date) -> Iterator[CostLine]:
        with tempfile.TemporaryDirectory(prefix="tally-duckdb-") as folder:
            root = self.root
            if root is None:
                root = Path(folder) / "export"
                assert self._fill is not None
                self._fill(root)
            result = str(Path(folder) / "result.parquet")
            query = self.aggregate(root, start, end, result)
            reader = ResultReader(
                tag_keys=self.tag_keys,
                estimated_column=query.estimated_column,
                today=self._today or utc_today(),
                settle_days=self.settle_days,
            )
            yield from reader.lines([result], log, start, end)

    def aggregate(self, root: Path, start: date, end: date, result: str) -> ExportQuery:
        """Run the aggregate over the export in ``root`` into the Parquet file ``result``,
        as Athena's UNLOAD would write it; the query it ran is returned (and ``last_sql``)."""
        import duckdb  # development only: see the module's docstring

        files = sorted(str(p) for p in root.rglob("*.parquet"))
        if not files:
            raise SourceFormatError(f"no Parquet files in the export ({self.root or 'S3'})")
        with duckdb.connect(":memory:") as con:
            query = self._prepare(con, files, root)
            self.last_sql = query.copy(start, end, result)
            try:
                con.execute(self.last_sql)
            except duckdb.Error as error:
                raise SourceFormatError(
                    f"DuckDB could not aggregate the export: {error}"
                ) from error
        return query

    def _prepare(self, con: Any, files: list[str], root: Path) -> ExportQuery:
        # A TIMESTAMPTZ becomes a date in the session's zone; Athena's timestamps are UTC.
        con.execute("SET TimeZone = 'UTC'")
        if self._threads:
            con.execute(f"SET threads = {int(self._threads)}")
        listing = ", ".join(literal(f) for f in files)
        con.execute(f'CREATE SCHEMA "{DATABASE}"')
        # Names are this module's constants and paths go in as quoted literals (sql.literal).
        con.execute(
            f'CREATE VIEW "{DATABASE}"."{TABLE}" AS SELECT * FROM read_parquet([{listing}], '  # noqa: S608
            # Partition values stay text ('2026-05'), as in the Glue table.
            "hive_partitioning = true, hive_types_autocast = false, union_by_name = true)"
        )
        columns = {
            str(name).lower()
            for (name,) in con.execute(
                f'SELECT column_name FROM (DESCRIBE "{DATABASE}"."{TABLE}")'  # noqa: S608
            ).fetchall()
        }
        if PARTITION_COLUMN not in columns:
            raise SourceFormatError(
                f"{root}: files must sit in BILLING_PERIOD=YYYY-MM folders, as Data Exports "
                "writes them"
            )
        return ExportQuery(
            DATABASE,
            TABLE,
            tag_keys=self.tag_keys,
            estimated_column=ESTIMATED_COLUMN in columns,
        )
