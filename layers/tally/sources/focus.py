"""A FOCUS 1.x CostAndUsage export (AWS Data Exports) as a cost source.

Rows are streamed (CSV, optionally gzip-compressed; Parquet when ``pyarrow`` is importable)
and rolled up to one line per UTC day, service, resource, charge category, billing currency,
consumed unit and owner tag. Amounts are summed exactly as ``Decimal``.

Choices, and why:

* **Day of a row**: the UTC date of ``ChargePeriodStart``. Hourly rows roll up to their
  day; a row whose charge period spans several days (monthly fees, tax) is booked whole on
  its first day, as Cost Explorer books monthly charges, so the file's totals are kept exactly
  and a day's figures never depend on which range was asked for.
* **Estimated**: FOCUS has no "estimated" column. A billing period that is not closed yet is
  still being restated by AWS (Data Exports refresh it several times a day and finalise it
  once the month's bill is closed, in the first days of the next month), which is what Cost
  Explorer's ``Estimated`` flag means. So every day of a billing period is estimated until
  ``settle_days`` after the period's end, and final afterwards; the restatement window then
  keeps re-reading those days until they settle. A file may state it per row instead, in the
  custom column ``x_Estimated`` (FOCUS allows ``x_`` columns; a generator of demo data can use
  it); when that column is present, it alone decides.
* **Corrections** (``ChargeClass = Correction``) restate earlier charges; they are summed into
  the day their charge period names, so reading the files of every billing period in the
  restatement window yields each day's corrected figure.
* **Commitments**: a row's ``CommitmentDiscountId`` and ``CommitmentDiscountStatus`` are part
  of its line, so a commitment's purchase and the usage that consumed it stay apart until
  ``tally.commitments.amortise`` has spread the purchase over its consumers.
* **Coverage**: a file covers every day of the billing periods it holds, so a day of that
  period with no rows is read as zero (a line that disappeared is gone), while days outside
  its billing periods are left alone.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import IO, Any, Literal, NamedTuple

from tally.clock import utc_today
from tally.models import CostLine
from tally.money import ZERO
from tally.names import best_name
from tally.sources import CostFetch, FetchLog, SourceFormatError, iter_days

SOURCE_NAME = "focus"
ESTIMATED_COLUMN = "x_Estimated"
REQUIRED_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ChargePeriodStart",
    "ServiceName",
    "BillingCurrency",
    "ChargeCategory",
)
# Everything read; other columns are ignored (and not even loaded from Parquet).
READ_COLUMNS = (
    *REQUIRED_COLUMNS,
    "ChargePeriodEnd",
    "ChargeClass",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ResourceId",
    "ResourceName",
    "Tags",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    ESTIMATED_COLUMN,
)
UNKNOWN_SERVICE = "Unknown"
_TRUE = frozenset({"true", "1", "yes", "y", "t"})

Format = Literal["auto", "csv", "parquet"]
Opener = Callable[[], IO[bytes]]


def parse_timestamp(value: str | datetime) -> datetime:
    """A FOCUS date-time (``2026-05-01T00:00:00Z``, or a Parquet timestamp) as UTC."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip()
        if not text:
            raise ValueError("empty timestamp")
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # FOCUS date-times are UTC
    return parsed.astimezone(UTC)


def _moment(value: Any) -> str | datetime:
    return value if isinstance(value, datetime) else _text(value)


# Exports repeat the same few timestamps (one per hour) on every row: parse each once.
@lru_cache(maxsize=1 << 16)
def _day_of(value: str | datetime) -> date:
    return parse_timestamp(value).date()


@lru_cache(maxsize=1 << 12)
def _end_day(value: str | datetime) -> date:
    """The first day not in a period that ends at ``value`` (exclusive end)."""
    moment = parse_timestamp(value)
    day = moment.date()
    if moment.time() != datetime.min.time():
        return date.fromordinal(day.toordinal() + 1)
    return day


def _decimal(value: Any) -> Decimal:
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    text = str(value).strip()
    if not text:
        return ZERO
    return Decimal(text)  # floats from Parquet go through str, so 0.1 stays 0.1


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _tags(value: Any) -> dict[str, str]:
    """The ``Tags`` column: a JSON object in CSV, a map (dict or key/value pairs) in Parquet."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        raw: Mapping[str, Any] = value
    elif isinstance(value, list):
        raw = dict(value)
    else:
        text = str(value).strip()
        if not text:
            return {}
        parsed = json.loads(text)
        if not isinstance(parsed, dict):
            raise ValueError("Tags is not a JSON object")
        raw = parsed
    return {str(k): _text(v) for k, v in raw.items() if v is not None}


def _tag_value(tags: Mapping[str, str], key: str) -> str | None:
    # AWS writes user-defined cost allocation tags with a "user:" prefix in some exports.
    value = tags.get(key) or tags.get(f"user:{key}")
    return value or None


class _Key(NamedTuple):  # a tuple: hashed and compared in C, once per row
    day: date
    service: str
    resource_id: str | None
    category: str
    currency: str
    unit: str | None
    tags: tuple[tuple[str, str], ...]
    commitment: str | None
    commitment_status: str | None


class _Totals:
    __slots__ = ("billed", "effective", "quantity")

    def __init__(self) -> None:
        self.billed = ZERO
        self.effective = ZERO
        self.quantity = ZERO


class _RawReader(io.RawIOBase):
    """Any object with ``read(n)`` (e.g. botocore's StreamingBody) as a raw byte stream."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._stream.read(len(buffer))
        size = len(chunk)
        buffer[:size] = chunk
        return size

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()
        super().close()


def _buffered(stream: Any) -> io.BufferedReader:
    return io.BufferedReader(_RawReader(stream), buffer_size=1 << 20)


def _looks_like_parquet(head: bytes) -> bool:
    return head[:4] == b"PAR1"


def _looks_like_gzip(head: bytes) -> bool:
    return head[:2] == b"\x1f\x8b"


def iter_csv_rows(stream: IO[bytes]) -> Iterator[dict[str, str]]:
    """The rows of a FOCUS CSV (plain or gzip), streamed; the header must name the columns."""
    buffered = stream if isinstance(stream, io.BufferedReader) else _buffered(stream)
    source: IO[bytes] | gzip.GzipFile = buffered
    if _looks_like_gzip(buffered.peek(2)):
        source = gzip.GzipFile(fileobj=buffered, mode="rb")
    # newline="" lets the csv module handle line breaks inside quoted fields.
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    header = reader.fieldnames or []
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise SourceFormatError(f"not a FOCUS CostAndUsage file: missing {', '.join(missing)}")
    yield from reader


def iter_parquet_rows(stream: IO[bytes], *, batch_size: int = 50_000) -> Iterator[dict[str, Any]]:
    """The rows of a FOCUS Parquet file, batch by batch (needs ``pyarrow``)."""
    try:
        import pyarrow.parquet as pq  # optional dependency: imported only when needed
    except ImportError as exc:
        raise SourceFormatError("reading Parquet needs pyarrow, which is not installed") from exc
    # Parquet needs random access; a spooled file keeps small exports in memory only.
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
        while chunk := stream.read(1 << 20):
            spool.write(chunk)
        spool.seek(0)
        parquet = pq.ParquetFile(spool)
        names = set(parquet.schema_arrow.names)
        missing = [column for column in REQUIRED_COLUMNS if column not in names]
        if missing:
            raise SourceFormatError(f"not a FOCUS CostAndUsage file: missing {', '.join(missing)}")
        columns = [column for column in READ_COLUMNS if column in names]
        for batch in parquet.iter_batches(batch_size=batch_size, columns=columns):
            yield from batch.to_pylist()


def iter_rows(stream: IO[bytes], *, file_format: Format = "auto") -> Iterator[Mapping[str, Any]]:
    """Rows of a FOCUS file as mappings, choosing CSV or Parquet by content when ``auto``."""
    if file_format == "auto":
        buffered = stream if isinstance(stream, io.BufferedReader) else _buffered(stream)
        file_format = "parquet" if _looks_like_parquet(buffered.peek(4)) else "csv"
        stream = buffered
    if file_format == "parquet":
        return iter_parquet_rows(stream)
    return iter_csv_rows(stream)


class FocusSource:
    """Cost lines from one or more FOCUS files (the parts of an export).

    ``openers`` each return a fresh binary stream; a fetch opens every file once and reads
    it front to back. Build one with ``from_bytes``, ``from_path`` or ``from_s3``.
    ``today`` decides which billing periods are still open (estimated); default: the one
    clock's today (``tally.clock``).
    A billing period's days stay estimated until ``settle_days`` after the period ends.
    """

    source_name = SOURCE_NAME

    def __init__(
        self,
        openers: Sequence[Opener],
        *,
        owner_tag_key: str = "Owner",
        tag_keys: Sequence[str] | None = None,
        today: date | None = None,
        settle_days: int = 5,
        file_format: Format = "auto",
    ) -> None:
        self._openers = list(openers)
        self.owner_tag_key = owner_tag_key
        # Only tags allocation reads are kept: other tags would split lines for nothing.
        self.tag_keys = tuple(tag_keys) if tag_keys is not None else (owner_tag_key,)
        self._today = today
        self.settle_days = settle_days
        self._format = file_format

    @classmethod
    def from_bytes(cls, *files: bytes, **options: Any) -> FocusSource:
        """A source over in-memory files (tests, small uploads)."""
        return cls([_bytes_opener(data) for data in files], **options)

    @classmethod
    def from_path(cls, *paths: str | Any, **options: Any) -> FocusSource:
        """A source over local files."""
        return cls([_path_opener(str(path)) for path in paths], **options)

    @classmethod
    def from_s3(
        cls, s3_client: Any, bucket: str, keys: str | Sequence[str], **options: Any
    ) -> FocusSource:
        """A source over objects in S3, streamed with ``get_object`` at fetch time."""
        key_list = [keys] if isinstance(keys, str) else list(keys)
        return cls([_s3_opener(s3_client, bucket, key) for key in key_list], **options)

    def billing_window(self) -> tuple[date, date]:
        """The UTC days ``[start, end)`` these files replace: every day of the billing periods
        they cover, from the first period's start to the last one's end, so a corrected file
        whose rows stop early still clears the later days of its period. A file without
        billing-period columns covers the days it charges. One streaming pass per file."""
        first: date | None = None
        after: date | None = None
        for opener in self._openers:
            with opener() as stream:
                for number, row in enumerate(iter_rows(stream, file_format=self._format), 2):
                    try:
                        day = _day_of(_moment(row["ChargePeriodStart"]))
                        start, end = day, date.fromordinal(day.toordinal() + 1)
                        period_start = _moment(row.get("BillingPeriodStart"))
                        period_end = _moment(row.get("BillingPeriodEnd"))
                        if period_start and period_end:
                            # A correction may charge a day of an earlier period: keep both.
                            start = min(start, _day_of(period_start))
                            end = max(end, _end_day(period_end))
                    except (ValueError, KeyError) as exc:
                        raise SourceFormatError(f"row {number}: {exc}") from exc
                    first = start if first is None else min(first, start)
                    after = end if after is None else max(after, end)
        if first is None or after is None:
            raise SourceFormatError("the file has no rows")
        return first, after

    def fetch(self, start: date, end: date) -> CostFetch:
        """Every line for the UTC days ``[start, end)``, rolled up to days."""

        def produce(log: FetchLog) -> Iterator[CostLine]:
            return self._produce(log, start, end)

        return CostFetch(SOURCE_NAME, start, end, produce)

    # -- reading ------------------------------------------------------------------------

    def _produce(self, log: FetchLog, start: date, end: date) -> Iterator[CostLine]:
        today = self._today or utc_today()
        totals: dict[_Key, _Totals] = {}
        periods: set[tuple[date, date]] = set()
        stated: dict[date, bool] = {}  # day -> any row said x_Estimated (when the column exists)
        has_stated = False
        tag_cache: dict[str, tuple[tuple[str, str], ...]] = {}
        names: dict[str, str] = {}  # resource id -> its name (tally.names.best_name)
        for opener in self._openers:
            with opener() as stream:
                for number, row in enumerate(iter_rows(stream, file_format=self._format), 2):
                    try:
                        has_stated |= self._add(
                            row, start, end, totals, periods, stated, tag_cache, names
                        )
                    except (ValueError, InvalidOperation, KeyError) as exc:
                        raise SourceFormatError(f"row {number}: {exc}") from exc

        settled_before = date.fromordinal(today.toordinal() - self.settle_days)
        estimated_days = self._estimated_days(settled_before, periods, stated, has_stated)
        covered = set(stated)
        for period_start, period_end in periods:
            covered.update(iter_days(max(period_start, start), min(period_end, end)))
        for day in covered:
            log.returned(day, estimated=day in estimated_days)

        for key in sorted(totals, key=_sort_key):
            amounts = totals.pop(key)
            yield CostLine(
                day=key.day,
                service=key.service,
                resource_id=key.resource_id,
                billed_cost=amounts.billed,
                effective_cost=amounts.effective,
                currency=key.currency,
                usage_quantity=amounts.quantity,
                usage_unit=key.unit,
                charge_category=key.category,
                estimated=key.day in estimated_days,
                tags=dict(key.tags),
                commitment_id=key.commitment,
                commitment_status=key.commitment_status,
                resource_name=names.get(key.resource_id or "") or None,
            )

    def _add(
        self,
        row: Mapping[str, Any],
        start: date,
        end: date,
        totals: dict[_Key, _Totals],
        periods: set[tuple[date, date]],
        stated: dict[date, bool],
        tag_cache: dict[str, tuple[tuple[str, str], ...]],
        names: dict[str, str],
    ) -> bool:
        period_start = _moment(row.get("BillingPeriodStart"))
        period_end = _moment(row.get("BillingPeriodEnd"))
        if period_start and period_end:
            periods.add((_day_of(period_start), _end_day(period_end)))

        day = _day_of(_moment(row["ChargePeriodStart"]))
        has_stated = ESTIMATED_COLUMN in row
        if not start <= day < end:
            return has_stated
        if has_stated:
            flag = _text(row.get(ESTIMATED_COLUMN)).lower() in _TRUE
            stated[day] = stated.get(day, False) or flag
        else:
            stated.setdefault(day, False)

        unit = _text(row.get("ConsumedUnit"))
        quantity = row.get("ConsumedQuantity")
        if not unit:
            unit = _text(row.get("PricingUnit"))
            quantity = row.get("PricingQuantity")
        kept = self._kept_tags(row.get("Tags"), tag_cache)
        resource_id = _text(row.get("ResourceId")) or None
        if resource_id is not None:
            self._note_name(resource_id, row, names)
        key = _Key(
            day=day,
            service=_text(row["ServiceName"]) or UNKNOWN_SERVICE,
            resource_id=resource_id,
            category=_text(row["ChargeCategory"]),
            currency=_text(row["BillingCurrency"]),
            unit=unit or None,
            tags=kept,
            commitment=_text(row.get("CommitmentDiscountId")) or None,
            commitment_status=_text(row.get("CommitmentDiscountStatus")) or None,
        )
        amounts = totals.get(key)
        if amounts is None:
            amounts = totals[key] = _Totals()
        amounts.billed += _decimal(row["BilledCost"])
        amounts.effective += _decimal(row["EffectiveCost"])
        amounts.quantity += _decimal(quantity)
        return has_stated

    @staticmethod
    def _note_name(resource_id: str, row: Mapping[str, Any], names: dict[str, str]) -> None:
        """The resource's name, once per resource: its ResourceName, else its Name tag. The
        name is not part of a line's key (a resource renamed mid-day stays one line); the
        last one read wins."""
        given = _text(row.get("ResourceName"))
        if given:
            names[resource_id] = given
        elif resource_id not in names:
            # A resource's tags are parsed once (every row of it carries the same): "" is
            # "looked, no name", which a later row's ResourceName still replaces.
            names[resource_id] = best_name(resource_id, tags=_tags(row.get("Tags"))) or ""

    def _kept_tags(
        self, value: Any, cache: dict[str, tuple[tuple[str, str], ...]]
    ) -> tuple[tuple[str, str], ...]:
        """The allocation-relevant tags of a row; the same JSON text recurs on many rows."""
        if isinstance(value, str) and value in cache:
            return cache[value]
        tags = _tags(value)
        kept = tuple(
            (name, tag) for name in self.tag_keys if (tag := _tag_value(tags, name)) is not None
        )
        if isinstance(value, str) and len(cache) < 1 << 16:
            cache[value] = kept
        return kept

    @staticmethod
    def _estimated_days(
        settled_before: date,
        periods: Iterable[tuple[date, date]],
        stated: Mapping[date, bool],
        has_stated: bool,
    ) -> set[date]:
        if has_stated:
            return {day for day, flag in stated.items() if flag}
        open_periods = [(s, e) for s, e in periods if e > settled_before]
        days: set[date] = set()
        for period_start, period_end in open_periods:
            days.update(iter_days(period_start, period_end))
        return days


def _sort_key(key: _Key) -> tuple[Any, ...]:
    return (
        key.day,
        key.service,
        key.resource_id or "",
        key.category,
        key.currency,
        key.tags,
        key.commitment or "",
        key.commitment_status or "",
    )


def _bytes_opener(data: bytes) -> Opener:
    return lambda: io.BytesIO(data)


def _path_opener(path: str) -> Opener:
    return lambda: open(path, "rb")  # the caller closes it


def _s3_opener(s3_client: Any, bucket: str, key: str) -> Opener:
    def open_object() -> IO[bytes]:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
        return _buffered(body)

    return open_object


def list_export_keys(s3_client: Any, bucket: str, prefix: str) -> list[str]:
    """The data files (CSV, gzip CSV, Parquet) under an export prefix, in key order."""
    keys: list[str] = []
    paginator = s3_client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith((".csv", ".csv.gz", ".parquet", ".snappy.parquet")):
                keys.append(key)
    return sorted(keys)
