"""Cost lines and records as JSON lines, for the fan-out's spill files and partitions.

Arrays, not objects: a partition holds tens of thousands of records and the field names would
be most of its bytes. Amounts travel as decimal strings, so nothing passes through a float.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tally.models import CostLine, CostRecord


def line_row(line: CostLine) -> list[Any]:
    return [
        line.day.isoformat(),
        line.service,
        line.resource_id,
        str(line.billed_cost),
        str(line.effective_cost),
        line.currency,
        str(line.usage_quantity),
        line.usage_unit,
        line.charge_category,
        line.estimated,
        line.tags,
        line.commitment_id,
        line.commitment_status,
        line.resource_name,
    ]


def line_of(row: list[Any]) -> CostLine:
    return CostLine(
        day=date.fromisoformat(row[0]),
        service=row[1],
        resource_id=row[2],
        billed_cost=Decimal(row[3]),
        effective_cost=Decimal(row[4]),
        currency=row[5],
        usage_quantity=Decimal(row[6]),
        usage_unit=row[7],
        charge_category=row[8],
        estimated=bool(row[9]),
        tags=dict(row[10]),
        commitment_id=row[11] if len(row) > 11 else None,
        commitment_status=row[12] if len(row) > 12 else None,
        resource_name=row[13] if len(row) > 13 else None,
    )


def record_row(r: CostRecord) -> list[Any]:
    return [
        r.owner,
        r.day.isoformat(),
        r.line_id,
        r.service,
        r.resource_id,
        str(r.usage_quantity),
        r.usage_unit,
        str(r.billed_cost),
        str(r.effective_cost),
        r.currency,
        r.charge_category,
        r.estimated,
        r.source,
        r.fetched_at.isoformat(),
        r.allocation,
        str(r.share_pct),
        r.resource_name,
    ]


def record_of(row: list[Any]) -> CostRecord:
    return CostRecord(
        owner=row[0],
        day=date.fromisoformat(row[1]),
        line_id=row[2],
        service=row[3],
        resource_id=row[4],
        usage_quantity=Decimal(row[5]),
        usage_unit=row[6],
        billed_cost=Decimal(row[7]),
        effective_cost=Decimal(row[8]),
        currency=row[9],
        charge_category=row[10],
        estimated=bool(row[11]),
        source=row[12],
        fetched_at=datetime.fromisoformat(row[13]),
        allocation=row[14],
        share_pct=Decimal(row[15]),
        resource_name=row[16] if len(row) > 16 else None,
    )


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


# One encoder for every row: ``json.dumps`` with options builds a new one per call, a tenth of
# the partition stage's time at a million lines.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_default)


def gzip_lines(rows: Iterable[Any]) -> bytes:
    return gzip.compress("".join(dumps(r) + "\n" for r in rows).encode(), compresslevel=5)


def gunzip_lines(body: bytes) -> Iterator[Any]:
    for raw in gzip.decompress(body).splitlines():
        if raw:
            yield json.loads(raw)


def gzip_json(value: Any) -> bytes:
    return gzip.compress(dumps(value).encode(), compresslevel=5)


def gunzip_json(body: bytes) -> Any:
    return json.loads(gzip.decompress(body))
