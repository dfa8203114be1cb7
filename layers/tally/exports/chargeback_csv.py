"""The CSV file of a chargeback export: the same comment header and cell rules as the cost
exports (``csv_export``: a BOM, ``#`` metadata rows, formula-looking text neutralised, amounts
as plain exact decimals), then one row per unit and currency, the "no team" line, the
unallocated line and a ``TOTAL`` row per currency that equals the organisation total.

With a unit, only that unit's rows are written (no lines of the rest, no total)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tally.chargeback import NO_TEAM, Chargeback, ChargebackUnit
from tally.exports.csv_export import FLUSH_BYTES, TOTAL, BinarySink, _amount, _CsvStream, neutralise

TITLE = "# Tally chargeback"
UNALLOCATED_LINE = "(unallocated)"
COLUMNS = [
    "unit_id",
    "name",
    "kind",
    "parent_id",
    "cost_center",
    "people",
    "currency",
    "allocated",
    "shared",
    "unallocated",
    "total",
]


def write_chargeback_csv(
    report: Chargeback,
    out: BinarySink,
    *,
    now: datetime,
    unit: str | None = None,
    flush_bytes: int = FLUSH_BYTES,
) -> int:
    """Write ``report`` (or its ``unit`` alone) to ``out``; the number of data rows (not the
    metadata, header or ``TOTAL`` rows)."""
    stream = _CsvStream(out, flush_bytes)
    stream.text_row(TITLE)
    stream.text_row("# month", report.month)
    stream.text_row("# group by", report.group_by.value)
    stream.text_row("# unallocated rule", report.rule.value)
    stream.text_row("# filters", f"unit={unit}" if unit else "")
    stream.text_row("# currency", ";".join(report.currencies))
    stream.text_row("# metric", report.metric.value)
    stream.text_row("# generated at", now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    stream.text_row("# status", "final" if report.final else "provisional")
    stream.row([])
    stream.row(COLUMNS)
    rows = 0
    chosen = [u for u in report.units if u.unit_id == unit] if unit else list(report.units)
    if not unit or unit == NO_TEAM:
        chosen.append(report.no_team)
    for item in chosen:
        for currency in report.currencies:
            stream.row(_unit_row(item, currency))
            rows += 1
    if not unit:
        for currency in report.currencies:
            left = report.unallocated.get(currency)
            if left is None:
                continue
            amount = _amount(left)
            line = [UNALLOCATED_LINE, "Unallocated", "unallocated", "", "", ""]
            stream.row([*line, neutralise(currency), "0", "0", amount, amount])
            rows += 1
        for currency in report.currencies:
            total = _amount(report.organisation_total.get(currency, Decimal(0)))
            stream.row([TOTAL, "", "", "", "", "", neutralise(currency), "", "", "", total])
    stream.flush()
    return rows


def _unit_row(unit: ChargebackUnit, currency: str) -> list[str]:
    figures = unit.in_currency(currency)
    return [
        neutralise(unit.unit_id),
        neutralise(unit.name),
        unit.kind,
        neutralise(unit.parent_id or ""),
        neutralise(unit.cost_center or ""),
        str(unit.people),
        neutralise(currency),
        _amount(figures.allocated),
        _amount(figures.shared),
        _amount(figures.unallocated),
        _amount(figures.total),
    ]
