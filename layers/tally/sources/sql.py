"""One SQL aggregate over a FOCUS 1.x Parquet export, for Athena (deployed) and DuckDB (local).

The query rolls the export's rows up to exactly the lines ``FocusSource`` makes: one per UTC
day of ``ChargePeriodStart``, service, resource, charge category, billing currency, consumed
unit (the pricing unit when there is none), the values of the tags allocation reads and the
commitment (``CommitmentDiscountId`` and ``CommitmentDiscountStatus``). Its
result is written as Parquet (Athena ``UNLOAD``, DuckDB ``COPY``) and read back here with
pyarrow into ``CostLine`` objects, so both engines share every line of code but the statement
that wraps the ``SELECT``.

The ``SELECT`` text is byte for byte the same in both engines. It keeps to what Trino (Athena
engine 3) and DuckDB both accept; the differences met, and how the query steps round them:

* **Map lookup.** A missing key is an error for Trino's ``m['k']`` and ``element_at`` returns a
  list in DuckDB. ``CASE WHEN contains(map_keys(tags), 'k') THEN tags['k'] END`` means the same
  in both (Trino evaluates the subscript only when the key is there).
* **Time zones.** Athena reads Parquet timestamps as UTC; DuckDB turns a ``TIMESTAMPTZ`` into a
  date in the session's zone, so the DuckDB connection is set to UTC first.
* **Table name.** Athena reads ``"database"."table"`` from the Glue catalog; DuckDB gets a schema
  and a view of the same names over ``read_parquet(..., hive_partitioning = true)``, the
  ``BILLING_PERIOD=YYYY-MM`` folders of Data Exports becoming the partition column in both.
* **Writing the result.** ``UNLOAD (...) TO 's3://...' WITH (format = 'PARQUET')`` against
  ``COPY (...) TO 'file' (FORMAT parquet)``: the only text that differs.
* **Money.** The export holds amounts as ``double``. Athena casts a double to a decimal
  through Java's shortest decimal form of it (``1637016.4388``), DuckDB through its exact binary
  value (``1637016.4387999998``). Both turn a double into that same shortest text, and both
  parse text (``4.17e-08`` too) into a decimal alike, so each row's amount is
  ``CAST(CAST(x AS VARCHAR) AS DECIMAL(38, 10))``: the figure the direct reader gets with
  ``Decimal(str(x))``, in both engines. Sums of those are exact, and pyarrow hands them back
  as ``Decimal`` (never a float); trailing zeros of the fixed scale are dropped on reading.
  Ten places hold every amount AWS bills; an amount with more would be rounded at the tenth.
* Ordinal ``GROUP BY`` and ``CAST(NULL AS ...)`` for the typed empty columns of ``UNION ALL``
  are accepted by both; result columns avoid words either engine reserves or uses as a
  keyword (``charge_day``, not ``day``).

Coverage comes from the same query: a second branch (``row_kind = 'period'``) lists the billing
periods of the partitions the window touches, so a day of a period without rows is covered as
zero, as with ``FocusSource``. Corrections may sit in a later billing period than the day they
restate, so the lines' branch reads every partition from the window's first month on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from tally.models import CostLine
from tally.money import ZERO
from tally.sources import FetchLog, SourceFormatError, iter_days
from tally.sources.focus import parse_timestamp

# The export's columns the query reads, with the Glue types AWS Data Exports writes for FOCUS
# 1.x (its table dictionary: amounts and quantities ``double``, times milliseconds). The CDK
# table (infra/constructs/athena.py) and the tests' Parquet files are made from this list.
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("billingperiodstart", "timestamp"),
    ("billingperiodend", "timestamp"),
    ("chargeperiodstart", "timestamp"),
    ("chargeperiodend", "timestamp"),
    ("chargecategory", "string"),
    ("chargeclass", "string"),
    ("billedcost", "double"),
    ("effectivecost", "double"),
    ("billingcurrency", "string"),
    ("servicename", "string"),
    ("resourceid", "string"),
    ("resourcename", "string"),
    ("consumedquantity", "double"),
    ("consumedunit", "string"),
    ("pricingquantity", "double"),
    ("pricingunit", "string"),
    ("tags", "map<string,string>"),
    ("commitmentdiscountid", "string"),
    ("commitmentdiscountstatus", "string"),
)
# Data Exports writes each billing period under ``BILLING_PERIOD=YYYY-MM/``.
PARTITION_COLUMN = "billing_period"
# The Glue database and table CDK makes; DuckDB's schema and view take the same names.
DATABASE, TABLE = "tally_billing", "focus_export"
ESTIMATED_COLUMN = "x_estimated"  # FocusSource's x_Estimated (demo data only; never AWS's)
MONEY = "DECIMAL(38, 10)"
_TRUE = ("true", "1", "yes", "y", "t")
LINE, PERIOD = "line", "period"


def literal(text: str) -> str:
    """A SQL string literal (standard quoting, the same in Trino and DuckDB)."""
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    if not name or '"' in name:
        raise ValueError(f"not a usable SQL name: {name!r}")
    return f'"{name}"'


def _decimal(expression: str) -> str:
    """A number as ``DECIMAL(38, 10)`` through its shortest text (see the module's docstring);
    an empty text (an export that writes numbers as strings) counts as no amount."""
    return f"CAST(nullif(CAST({expression} AS VARCHAR), '') AS {MONEY})"


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class ExportQuery:
    """The aggregate of one window over the export table ``database.table``.

    ``tag_keys``: the tags allocation reads (each looked up also with AWS's ``user:`` prefix);
    ``estimated_column``: whether the table has ``x_Estimated`` (decides estimated days, as
    in ``FocusSource``)."""

    database: str
    table: str
    tag_keys: tuple[str, ...] = ("Owner",)
    estimated_column: bool = False

    def select(self, start: date, end: date) -> str:
        """The ``SELECT`` both engines run for the UTC days ``[start, end)``."""
        if end <= start:
            raise ValueError(f"empty or reversed range: {start} .. {end}")
        table = f"{_identifier(self.database)}.{_identifier(self.table)}"
        has_unit = "coalesce(trim(consumedunit), '') <> ''"
        quantity = f"CASE WHEN {has_unit} THEN consumedquantity ELSE pricingquantity END"
        tags = [
            f"coalesce({self._tag('tags', key)}, {self._tag('tags', 'user:' + key)}) AS tag_{n}"
            for n, key in enumerate(self.tag_keys)
        ]
        no_tags = [f"CAST(NULL AS VARCHAR) AS tag_{n}" for n in range(len(self.tag_keys))]
        estimated = (
            f"max(CASE WHEN lower(trim(CAST({ESTIMATED_COLUMN} AS VARCHAR))) IN "
            f"({', '.join(map(literal, _TRUE))}) THEN 1 ELSE 0 END)"
            if self.estimated_column
            else "CAST(NULL AS INTEGER)"
        )
        groups = ", ".join(str(n) for n in range(2, 10 + len(self.tag_keys)))
        last_month = _month(end - timedelta(days=1))
        lines = [
            f"SELECT {literal(LINE)} AS row_kind",
            "CAST(chargeperiodstart AS DATE) AS charge_day",
            "coalesce(nullif(trim(servicename), ''), 'Unknown') AS service",
            "nullif(trim(resourceid), '') AS resource_id",
            "coalesce(trim(chargecategory), '') AS charge_category",
            "coalesce(trim(billingcurrency), '') AS currency",
            f"CASE WHEN {has_unit} THEN trim(consumedunit) "
            "ELSE nullif(trim(pricingunit), '') END AS usage_unit",
            *tags,
            "nullif(trim(commitmentdiscountid), '') AS commitment_id",
            "nullif(trim(commitmentdiscountstatus), '') AS commitment_status",
            # Not a key (a renamed resource stays one line): the name as FocusSource finds it,
            # the ResourceName column, else the Name tag (tally.names).
            "coalesce(max(nullif(trim(resourcename), '')), "
            f"max(coalesce({self._tag('tags', 'Name')}, {self._tag('tags', 'user:Name')}))) "
            "AS resource_name",
            f"sum({_decimal('billedcost')}) AS billed_cost",
            f"sum({_decimal('effectivecost')}) AS effective_cost",
            f"sum({_decimal(quantity)}) AS usage_quantity",
            f"{estimated} AS stated_estimated",
            "CAST(NULL AS TIMESTAMP) AS period_start",
            "CAST(NULL AS TIMESTAMP) AS period_end",
        ]
        periods = [
            f"SELECT {literal(PERIOD)} AS row_kind",
            "CAST(NULL AS DATE) AS charge_day",
            "CAST(NULL AS VARCHAR) AS service",
            "CAST(NULL AS VARCHAR) AS resource_id",
            "CAST(NULL AS VARCHAR) AS charge_category",
            "CAST(NULL AS VARCHAR) AS currency",
            "CAST(NULL AS VARCHAR) AS usage_unit",
            *no_tags,
            "CAST(NULL AS VARCHAR) AS commitment_id",
            "CAST(NULL AS VARCHAR) AS commitment_status",
            "CAST(NULL AS VARCHAR) AS resource_name",
            f"CAST(NULL AS {MONEY}) AS billed_cost",
            f"CAST(NULL AS {MONEY}) AS effective_cost",
            f"CAST(NULL AS {MONEY}) AS usage_quantity",
            "CAST(NULL AS INTEGER) AS stated_estimated",
            "CAST(billingperiodstart AS TIMESTAMP) AS period_start",
            "CAST(billingperiodend AS TIMESTAMP) AS period_end",
        ]
        return (
            ",\n  ".join(lines)
            + f"\nFROM {table}\nWHERE {PARTITION_COLUMN} >= {literal(_month(start))}"
            + f"\n  AND chargeperiodstart >= TIMESTAMP {literal(f'{start} 00:00:00')}"
            + f"\n  AND chargeperiodstart < TIMESTAMP {literal(f'{end} 00:00:00')}"
            + f"\nGROUP BY {groups}"
            + "\nUNION ALL\n"
            + ",\n  ".join(periods)
            + f"\nFROM {table}\nWHERE {PARTITION_COLUMN} >= {literal(_month(start))}"
            + f"\n  AND {PARTITION_COLUMN} <= {literal(last_month)}"
            + "\n  AND billingperiodstart IS NOT NULL AND billingperiodend IS NOT NULL"
            + "\nGROUP BY billingperiodstart, billingperiodend"
        )

    def unload(self, start: date, end: date, location: str) -> str:
        """Athena: the aggregate written as Parquet under ``location`` (an empty S3 prefix)."""
        return (
            f"UNLOAD (\n{self.select(start, end)}\n) TO {literal(location)} "
            "WITH (format = 'PARQUET', compression = 'SNAPPY')"
        )

    def copy(self, start: date, end: date, path: str) -> str:
        """DuckDB: the aggregate written as one Parquet file at ``path``."""
        return f"COPY (\n{self.select(start, end)}\n) TO {literal(path)} (FORMAT parquet)"

    @staticmethod
    def _tag(column: str, key: str) -> str:
        lookup = literal(key)
        return (
            f"nullif(trim(CASE WHEN contains(map_keys({column}), {lookup}) "
            f"THEN {column}[{lookup}] END), '')"
        )


# A result repeats the same few prices on many lines: convert each once.
@lru_cache(maxsize=1 << 16)
def exact(value: str | Decimal | None) -> Decimal:
    """An amount of the result (a ``DECIMAL(38, 10)``, as Arrow writes it in text:
    ``1.5000000000``, ``1.000E-7``) as the decimal it is, without the fixed scale's zeros."""
    if value is None:
        return ZERO
    text = value if isinstance(value, str) else format(value, "f")
    if "E" in text or "e" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def _end_day(moment: datetime) -> date:
    """The first day not in a period ending at ``moment`` (exclusive end), as FocusSource."""
    day = moment.date()
    return day + timedelta(days=1) if moment.time() != datetime.min.time() else day


@dataclass(frozen=True)
class ResultReader:
    """The aggregate's Parquet files -> ``CostLine`` objects, streamed in two passes: the first
    reads only coverage (days, periods, stated estimates), the second yields lines batch by
    batch, so memory stays bounded by a batch whatever the result's size."""

    tag_keys: tuple[str, ...]
    estimated_column: bool
    today: date
    settle_days: int = 5
    batch_size: int = 50_000

    def lines(
        self, paths: Sequence[str], log: FetchLog, start: date, end: date
    ) -> Iterator[CostLine]:
        estimated_days = self._coverage(paths, log, start, end)
        tag_columns = [f"tag_{n}" for n in range(len(self.tag_keys))]
        for batch in self._batches(paths, None):
            # Column by column: a result holds millions of lines, and a dict per row of the
            # batch costs as much again as the lines themselves.
            tags = zip(*(batch[c] for c in tag_columns), strict=True) if tag_columns else None
            for n, (kind, day, service, resource_id, category, currency, unit) in enumerate(
                zip(
                    batch["row_kind"],
                    batch["charge_day"],
                    batch["service"],
                    batch["resource_id"],
                    batch["charge_category"],
                    batch["currency"],
                    batch["usage_unit"],
                    strict=True,
                )
            ):
                commitment = batch["commitment_id"][n] if "commitment_id" in batch else None
                values = next(tags) if tags is not None else ()
                if kind != LINE:
                    continue
                yield CostLine(
                    day=day,
                    service=service,
                    resource_id=resource_id,
                    billed_cost=exact(batch["billed_cost"][n]),
                    effective_cost=exact(batch["effective_cost"][n]),
                    currency=currency,
                    usage_quantity=exact(batch["usage_quantity"][n]),
                    usage_unit=unit,
                    charge_category=category,
                    estimated=day in estimated_days,
                    tags={
                        key: value
                        for key, value in zip(self.tag_keys, values, strict=True)
                        if value is not None
                    },
                    commitment_id=commitment,
                    commitment_status=(
                        batch["commitment_status"][n] if "commitment_status" in batch else None
                    ),
                    resource_name=(
                        batch["resource_name"][n]
                        if "resource_name" in batch and resource_id
                        else None
                    ),
                )

    def _coverage(self, paths: Sequence[str], log: FetchLog, start: date, end: date) -> set[date]:
        periods: set[tuple[date, date]] = set()
        stated: dict[date, bool] = {}
        columns = ["row_kind", "charge_day", "stated_estimated", "period_start", "period_end"]
        for batch in self._batches(paths, columns):
            for kind, day, flag, period_start, period_end in zip(
                *(batch[c] for c in columns), strict=True
            ):
                if kind == PERIOD:
                    start_moment = parse_timestamp(period_start)
                    periods.add((start_moment.date(), _end_day(parse_timestamp(period_end))))
                elif kind == LINE:
                    if not start <= day < end:
                        raise SourceFormatError(
                            f"the query returned a day outside the window: {day}"
                        )
                    stated[day] = stated.get(day, False) or bool(flag)
                else:
                    raise SourceFormatError(f"unknown row kind in the result: {kind!r}")
        if self.estimated_column:
            estimated = {day for day, flag in stated.items() if flag}
        else:
            # Open billing periods are estimated until they settle (FocusSource's rule).
            settled_before = self.today - timedelta(days=self.settle_days)
            estimated = {
                day
                for period_start, period_end in periods
                if period_end > settled_before
                for day in iter_days(period_start, period_end)
            }
        covered = set(stated)
        for period_start, period_end in periods:
            covered.update(iter_days(max(period_start, start), min(period_end, end)))
        for day in covered:
            log.returned(day, estimated=day in estimated)
        return estimated

    def _batches(
        self, paths: Iterable[str], columns: list[str] | None
    ) -> Iterator[dict[str, list[Any]]]:
        # The ingest layer's pyarrow, imported only when a result is read.
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        for path in paths:
            parquet = pq.ParquetFile(path)
            names = set(parquet.schema_arrow.names)
            missing = {"row_kind", "charge_day", "billed_cost"} - names
            if missing:
                raise SourceFormatError(
                    f"not the aggregate's result: {path} lacks {sorted(missing)}"
                )
            for batch in parquet.iter_batches(batch_size=self.batch_size, columns=columns):
                # Decimals as text, converted by Arrow in C++: four times faster than
                # building a Decimal per value, and exact either way (``exact`` parses it).
                yield {
                    name: (
                        pc.cast(column, pa.string()) if pa.types.is_decimal(column.type) else column
                    ).to_pylist()
                    for name, column in zip(batch.schema.names, batch.columns, strict=True)
                }
