"""Which source a run reads: Cost Explorer, every file of a FOCUS export, one named file, or
the export aggregated with SQL (Athena deployed, DuckDB on one machine).

The ingest's settings choose (``TALLY_COST_SOURCE``, ``TALLY_EXPORT_BUCKET``,
``TALLY_EXPORT_PREFIX``, ``TALLY_ATHENA_*``); an event naming a FOCUS file overrides them for
that run. Clients
come from the caller's factory, so the function, the local stack and tests point them where
they need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from tally.sources import CostSource, CostSourceError

if TYPE_CHECKING:
    from tally.sources.athena import AthenaSettings

SourceKind = Literal["cost-explorer", "focus", "athena", "duckdb"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("cost-explorer", "focus", "athena", "duckdb")
# What a deployment may choose: DuckDB is a development dependency, never in a Lambda package.
DEPLOYABLE_SOURCE_KINDS: tuple[SourceKind, ...] = ("cost-explorer", "focus", "athena")

# (service, **client options) -> a boto3 client
ClientFactory = Callable[..., Any]


class ExportNotFound(CostSourceError):
    """No FOCUS file to read: no bucket to read it from, or nothing under the prefix."""


def latest_exports(s3_client: Any, bucket: str, prefix: str) -> list[str]:
    """Every FOCUS file under the export prefix, in key order. Data Exports overwrites a
    billing period's files in place, so the current set is the latest; none is an error (a
    run that read nothing must not look like a day without costs)."""
    from tally.sources.focus import list_export_keys

    keys = list_export_keys(s3_client, bucket, prefix)
    if not keys:
        raise ExportNotFound(f"no FOCUS files in s3://{bucket}/{prefix}")
    return keys


def select_source(
    kind: SourceKind,
    client: ClientFactory,
    *,
    owner_tag_key: str,
    export_bucket: str | None = None,
    export_prefix: str = "",
    focus_key: str | None = None,
    athena: AthenaSettings | None = None,
) -> CostSource:
    """The source of one run. A named FOCUS file (``focus_key`` in ``export_bucket``) wins;
    otherwise ``kind``: every FOCUS file under ``export_prefix`` (focus), the export's Glue
    table through Athena (athena, with its ``athena`` settings), the Parquet files under
    ``export_prefix`` through DuckDB (duckdb, local only), or Cost Explorer for the whole
    organisation."""
    if focus_key or kind == "focus":
        from tally.sources.focus import FocusSource

        if not export_bucket:
            raise ExportNotFound("a FOCUS source needs a bucket (TALLY_EXPORT_BUCKET)")
        s3 = client("s3")
        keys = [focus_key] if focus_key else latest_exports(s3, export_bucket, export_prefix)
        return FocusSource.from_s3(s3, export_bucket, keys, owner_tag_key=owner_tag_key)
    if kind == "athena":
        from tally.sources.athena import AthenaSource

        if athena is None:
            raise ExportNotFound("an Athena source needs its settings (TALLY_ATHENA_*)")
        return AthenaSource(client("athena"), client("s3"), athena, owner_tag_key=owner_tag_key)
    if kind == "duckdb":
        from tally.sources.duckdb_source import DuckDbSource

        if not export_bucket:
            raise ExportNotFound("a DuckDB source needs a bucket (TALLY_EXPORT_BUCKET)")
        return DuckDbSource.from_s3(
            client("s3"), export_bucket, export_prefix, owner_tag_key=owner_tag_key
        )
    from botocore.config import Config

    from tally.sources.cost_explorer import CostExplorerSource

    # The source backs off itself (full jitter); botocore's own retries would multiply it, and
    # each Cost Explorer request is billed. One attempt in all: botocore's ``max_attempts``
    # counts retries after the first, ``total_max_attempts`` the attempts themselves.
    ce = client("ce", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    return CostExplorerSource(ce, owner_tag_key=owner_tag_key)
