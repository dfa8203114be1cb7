"""The ingest function's settings: the shared ones (``tally.settings``) plus where its costs
come from and where its results go.

Read through ``IngestSettings.load()``: parsed on the first invocation of a container and
kept (``tally.settings.FunctionSettings``); a missing or bad value fails the run with a
``ConfigurationError`` naming the variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from tally.ingest import DEFAULT_RESTATEMENT_DAYS
from tally.settings import ConfigurationError, Environment, FunctionSettings
from tally.sources.selection import SOURCE_KINDS, SourceKind

if TYPE_CHECKING:
    from tally.sources.athena import AthenaSettings

COST_SOURCE = "TALLY_COST_SOURCE"
EXPORT_BUCKET = "TALLY_EXPORT_BUCKET"
EXPORT_PREFIX = "TALLY_EXPORT_PREFIX"
RESTATEMENT_DAYS = "TALLY_RESTATEMENT_DAYS"
USER_POOL_ID = "TALLY_USER_POOL_ID"
EVENT_BUS_NAME = "TALLY_EVENT_BUS_NAME"
INGEST_QUEUE_URL = "TALLY_INGEST_QUEUE_URL"
INGEST_WORK_BUCKET = "TALLY_INGEST_WORK_BUCKET"
# The Athena source: the export's Glue table, the workgroup (which holds the bytes-scanned
# limit) and where its UNLOAD results go (an s3:// prefix).
ATHENA_DATABASE = "TALLY_ATHENA_DATABASE"
ATHENA_TABLE = "TALLY_ATHENA_TABLE"
ATHENA_WORKGROUP = "TALLY_ATHENA_WORKGROUP"
ATHENA_OUTPUT = "TALLY_ATHENA_OUTPUT"
ATHENA_VARIABLES = (ATHENA_DATABASE, ATHENA_TABLE, ATHENA_WORKGROUP, ATHENA_OUTPUT)


@dataclass(frozen=True)
class IngestSettings(FunctionSettings):
    # cost-explorer | focus (every file under export_prefix in export_bucket) | athena (the
    # export's Glue table) | duckdb (the Parquet files under export_prefix; local stack only)
    cost_source: SourceKind = "cost-explorer"
    # Where FOCUS exports land; also where an event's file is read when it names no bucket.
    export_bucket: str | None = None
    export_prefix: str = ""
    # A scheduled run re-reads this many days back (and every day still estimated).
    restatement_days: int = DEFAULT_RESTATEMENT_DAYS
    # The directory synced into the users table before each run; None: no sync.
    user_pool_id: str | None = None
    # Where CostsIngested is announced; None: not announced.
    event_bus_name: str | None = None
    # The fan-out: the queue of partitions the workers read and the bucket the stages hand
    # their work through. Both or neither: without them a run does every stage in this
    # invocation (tests, tools, a deployment too small to need workers).
    ingest_queue_url: str | None = None
    ingest_work_bucket: str | None = None
    # The Athena source's settings, all four or none.
    athena_database: str | None = None
    athena_table: str | None = None
    athena_workgroup: str | None = None
    athena_output: str | None = None

    variables: ClassVar[tuple[str, ...]] = (
        COST_SOURCE,
        EXPORT_BUCKET,
        EXPORT_PREFIX,
        RESTATEMENT_DAYS,
        USER_POOL_ID,
        EVENT_BUS_NAME,
        INGEST_QUEUE_URL,
        INGEST_WORK_BUCKET,
        *ATHENA_VARIABLES,
    )

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        source = env[COST_SOURCE] or "cost-explorer"
        if source not in SOURCE_KINDS:
            raise ConfigurationError(f"{COST_SOURCE} must be one of {', '.join(SOURCE_KINDS)}")
        bucket = env[EXPORT_BUCKET] or None
        if source in ("focus", "duckdb") and not bucket:
            raise ConfigurationError(f"{COST_SOURCE}={source} needs {EXPORT_BUCKET}")
        athena = {name: env[name] or None for name in ATHENA_VARIABLES}
        if source == "athena":
            missing = [name for name, value in athena.items() if not value]
            if missing:
                raise ConfigurationError(f"{COST_SOURCE}=athena needs {', '.join(missing)}")
            output = athena[ATHENA_OUTPUT] or ""
            if not output.startswith("s3://"):
                raise ConfigurationError(f"{ATHENA_OUTPUT} must be an s3:// URI: {output!r}")
        raw_days = env[RESTATEMENT_DAYS] or str(DEFAULT_RESTATEMENT_DAYS)
        try:
            days = int(raw_days)
        except ValueError:
            days = 0
        if days < 1:
            raise ConfigurationError(
                f"{RESTATEMENT_DAYS} must be a whole number of days, at least 1: {raw_days!r}"
            )
        queue, work = env[INGEST_QUEUE_URL] or None, env[INGEST_WORK_BUCKET] or None
        if bool(queue) != bool(work):
            raise ConfigurationError(
                f"set both {INGEST_QUEUE_URL} and {INGEST_WORK_BUCKET}, or neither"
            )
        return {
            "ingest_queue_url": queue,
            "ingest_work_bucket": work,
            "cost_source": cast(SourceKind, source),
            "export_bucket": bucket,
            "export_prefix": env[EXPORT_PREFIX] or "",
            "restatement_days": days,
            "user_pool_id": env[USER_POOL_ID] or None,
            "event_bus_name": env[EVENT_BUS_NAME] or None,
            "athena_database": athena[ATHENA_DATABASE],
            "athena_table": athena[ATHENA_TABLE],
            "athena_workgroup": athena[ATHENA_WORKGROUP],
            "athena_output": athena[ATHENA_OUTPUT],
        }

    def athena(self) -> AthenaSettings | None:
        """The Athena source's settings (``select_source(..., athena=...)``), when all set."""
        if not (
            self.athena_database
            and self.athena_table
            and self.athena_workgroup
            and self.athena_output
        ):
            return None
        from tally.sources.athena import AthenaSettings

        return AthenaSettings(
            database=self.athena_database,
            table=self.athena_table,
            workgroup=self.athena_workgroup,
            output=self.athena_output,
        )
