"""The internal chargeback journal: the month's chargeback as a double-entry ledger export for
an accounting system (the internal adapter of the payments port: units pay by journal).

One entry per unit, period and currency: a debit of the unit's expense (the expense account,
with the unit's cost center as the dimension) and a credit of the central cloud-costs account,
for the unit's chargeback total. The "no team" line and, under the separate rule, the
unallocated cost are entries too, so the journal's debits are the organisation's total. Every
entry balances, hence every currency does; currencies are never added together. A unit whose
total is negative (credits above its costs) has its sides swapped, so amounts stay positive.
Units with nothing in a currency have no entry in it.

The account codes are settings (``TALLY_JOURNAL_EXPENSE_ACCOUNT``, default ``6100``;
``TALLY_JOURNAL_CLOUD_ACCOUNT``, default ``6190``). The formats are in docs/data-model.md.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from tally.calendar import last_day
from tally.chargeback.model import NO_TEAM, NO_UNIT, Chargeback, ChargebackUnit, GroupBy
from tally.exports.csv_export import neutralise
from tally.models import Metric
from tally.settings import ConfigurationError

if TYPE_CHECKING:
    from tally.view import View

EXPENSE_ACCOUNT_VARIABLE = "TALLY_JOURNAL_EXPENSE_ACCOUNT"
CLOUD_ACCOUNT_VARIABLE = "TALLY_JOURNAL_CLOUD_ACCOUNT"
DEFAULT_EXPENSE_ACCOUNT = "6100"  # cloud services expense, charged to each unit
DEFAULT_CLOUD_ACCOUNT = "6190"  # central cloud costs (recharged), where the AWS bill sits
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")

DEBIT = "debit"
CREDIT = "credit"
UNALLOCATED_UNIT = "(unallocated)"
# Entry ids carry the unit; the lines that are not a unit get a plain word there.
_SPECIAL_IDS = {NO_TEAM: "NO-TEAM", NO_UNIT: "NONE", UNALLOCATED_UNIT: "UNALLOCATED"}
ZERO = Decimal(0)


@dataclass(frozen=True)
class JournalAccounts:
    expense: str = DEFAULT_EXPENSE_ACCOUNT
    cloud: str = DEFAULT_CLOUD_ACCOUNT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> JournalAccounts:
        """The two account codes (1-32 letters, digits, ``.``, ``_``, ``/``, ``-``); a bad
        value fails loudly, naming the variable."""
        source = env if env is not None else os.environ
        codes = []
        for name, default in (
            (EXPENSE_ACCOUNT_VARIABLE, DEFAULT_EXPENSE_ACCOUNT),
            (CLOUD_ACCOUNT_VARIABLE, DEFAULT_CLOUD_ACCOUNT),
        ):
            code = source.get(name, "").strip() or default
            if not _ACCOUNT.match(code):
                raise ConfigurationError(f"{name} must be an account code such as 6100")
            codes.append(code)
        if codes[0] == codes[1]:
            raise ConfigurationError(
                f"{EXPENSE_ACCOUNT_VARIABLE} and {CLOUD_ACCOUNT_VARIABLE} must differ"
            )
        return cls(expense=codes[0], cloud=codes[1])


@dataclass(frozen=True)
class JournalLine:
    account: str
    side: str  # debit | credit
    amount: Decimal  # > 0
    cost_center: str | None


@dataclass(frozen=True)
class JournalEntry:
    """One unit's charge for the period in one currency: a debit line and a credit line of
    the same amount."""

    entry_id: str
    posting_date: date
    period: str
    unit_id: str
    unit_name: str
    unit_kind: str
    currency: str
    description: str
    lines: tuple[JournalLine, JournalLine]

    @property
    def amount(self) -> Decimal:
        return self.lines[0].amount

    def total(self, side: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.side == side), ZERO)


@dataclass(frozen=True)
class Journal:
    month: str
    group_by: GroupBy
    metric: Metric
    final: bool
    accounts: JournalAccounts
    currencies: tuple[str, ...]
    entries: tuple[JournalEntry, ...]

    def totals(self, currency: str) -> tuple[Decimal, Decimal]:
        """(debits, credits) in ``currency``: always equal."""
        chosen = [e for e in self.entries if e.currency == currency]
        return (
            sum((e.total(DEBIT) for e in chosen), ZERO),
            sum((e.total(CREDIT) for e in chosen), ZERO),
        )


def _entry_id(month: str, group_by: GroupBy, unit_id: str, currency: str) -> str:
    # Stable for a unit, month and currency: re-exporting a month gives the same ids, so an
    # accounting system can recognise an entry it has already posted.
    unit = _SPECIAL_IDS.get(unit_id, unit_id)
    return f"CB-{month}-{group_by.value}-{unit}-{currency}"


def _entry(
    report: Chargeback,
    accounts: JournalAccounts,
    *,
    unit_id: str,
    name: str,
    kind: str,
    cost_center: str | None,
    currency: str,
    total: Decimal,
) -> JournalEntry:
    amount = abs(total)
    unit_side, cloud_side = (DEBIT, CREDIT) if total > 0 else (CREDIT, DEBIT)
    return JournalEntry(
        entry_id=_entry_id(report.month, report.group_by, unit_id, currency),
        posting_date=last_day(report.month),
        period=report.month,
        unit_id=unit_id,
        unit_name=name,
        unit_kind=kind,
        currency=currency,
        description=f"Cloud costs {report.month}: {name}",
        lines=(
            JournalLine(accounts.expense, unit_side, amount, cost_center),
            JournalLine(accounts.cloud, cloud_side, amount, None),
        ),
    )


def build_journal(report: Chargeback, accounts: JournalAccounts) -> Journal:
    """The journal of ``report``: balanced in every currency, and its debits less its
    credits on the expense account equal the organisation's total."""
    units: list[ChargebackUnit] = [*report.units, report.no_team]
    entries = []
    for currency in report.currencies:
        for unit in units:
            total = unit.in_currency(currency).total
            if total != ZERO:
                entries.append(
                    _entry(
                        report,
                        accounts,
                        unit_id=unit.unit_id,
                        name=unit.name,
                        kind=unit.kind,
                        cost_center=unit.cost_center,
                        currency=currency,
                        total=total,
                    )
                )
        left = report.unallocated.get(currency, ZERO)
        if left != ZERO:
            entries.append(
                _entry(
                    report,
                    accounts,
                    unit_id=UNALLOCATED_UNIT,
                    name="Unallocated",
                    kind="unallocated",
                    cost_center=None,
                    currency=currency,
                    total=left,
                )
            )
    return Journal(
        month=report.month,
        group_by=report.group_by,
        metric=report.metric,
        final=report.final,
        accounts=accounts,
        currencies=report.currencies,
        entries=tuple(entries),
    )


CSV_COLUMNS = [
    "entry_id",
    "posting_date",
    "period",
    "account",
    "cost_center",
    "unit_id",
    "unit_name",
    "description",
    "currency",
    "debit",
    "credit",
]


def _amount(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def journal_csv(journal: Journal, *, now: datetime) -> str:
    """The journal as CSV: ``#`` metadata rows, a blank row, the header, then one row per
    line (two per entry: debit, credit); text cells never run as formulas. The JSON and this
    file carry the same entries, lines and amounts."""
    out = io.StringIO()
    out.write("\ufeff")  # the BOM: spreadsheets then read the file as UTF-8
    writer = csv.writer(out)
    for cells in (
        ("# Tally chargeback journal",),
        ("# period", journal.month),
        ("# group by", journal.group_by.value),
        ("# metric", journal.metric.value),
        ("# currency", ";".join(journal.currencies)),
        ("# generated at", now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("# status", "final" if journal.final else "provisional"),
    ):
        writer.writerow([neutralise(c) for c in cells])
    writer.writerow([])
    writer.writerow(CSV_COLUMNS)
    for entry in journal.entries:
        for line in entry.lines:
            writer.writerow(
                [
                    *(
                        neutralise(c)
                        for c in (
                            entry.entry_id,
                            entry.posting_date.isoformat(),
                            entry.period,
                            line.account,
                            line.cost_center or "",
                            entry.unit_id,
                            entry.unit_name,
                            entry.description,
                            entry.currency,
                        )
                    ),
                    _amount(line.amount) if line.side == DEBIT else "",
                    _amount(line.amount) if line.side == CREDIT else "",
                ]
            )
    return out.getvalue()


def chargeback_journal(view: View, *, month: str, group_by: GroupBy | str) -> Journal:
    """The caller's journal of a month's chargeback: who may read the chargeback (costs:read
    at the organisation) may read its journal."""
    from tally.chargeback import chargeback

    return build_journal(
        chargeback(view, month=month, group_by=group_by), JournalAccounts.from_env()
    )
