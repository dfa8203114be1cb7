"""Restated closed months: AWS revised a month's costs after it closed ("November changed:
$X -> $Y"). The ingest records each change on the month's roll-up
(``MonthlyRollup.restatements``: ``{at, month, currency, old, new}``, billed totals); this
decides which of them the user has not been told about yet.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal

from tally.models import MonthlyRollup
from tally.money import to_decimal


def restatement_key(period: str, currency: str, at: str) -> str:
    """The stable key of one recorded restatement: the ledger of notified ones holds these."""
    return f"{period}#{currency}#{at}"


@dataclass(frozen=True)
class RestatementNotice:
    """One notice per month and currency: the total before the first change not yet told and
    after the last one. ``keys`` are the restatements it covers, to mark notified once sent."""

    period: str  # YYYY-MM
    currency: str
    old: Decimal
    new: Decimal
    at: str  # when the latest change covered was recorded (ISO 8601)
    keys: tuple[str, ...]

    @property
    def change(self) -> Decimal:
        return self.new - self.old


def _entry_key(rollup: MonthlyRollup, entry: Mapping[str, object]) -> tuple[str, str, str]:
    period = str(entry.get("month") or rollup.month)
    return period, str(entry["currency"]), str(entry["at"])


def pending_restatements(
    rollup: MonthlyRollup, notified: Collection[str]
) -> list[RestatementNotice]:
    """The notices to send for ``rollup``'s restatements whose keys are not in ``notified``.

    Several changes not yet told about are folded into one notice per currency (from the first
    one's old total to the last one's new total), so a user told once hears the net change.
    Changes that cancel out (100 -> 105 -> 100) give no notice and stay pending: a later change
    folds them in and tells the true before and after.
    """
    groups: dict[tuple[str, str], list[tuple[str, Mapping[str, object]]]] = {}
    for entry in rollup.restatements:
        period, currency, at = _entry_key(rollup, entry)
        if restatement_key(period, currency, at) in notified:
            continue
        groups.setdefault((period, currency), []).append((at, entry))
    notices = []
    for (period, currency), entries in sorted(groups.items()):
        entries.sort(key=lambda pair: pair[0])  # ISO 8601 in UTC sorts by time
        old = to_decimal(entries[0][1]["old"])
        new = to_decimal(entries[-1][1]["new"])
        if old == new:
            continue
        notices.append(
            RestatementNotice(
                period=period,
                currency=currency,
                old=old,
                new=new,
                at=entries[-1][0],
                keys=tuple(restatement_key(period, currency, at) for at, _ in entries),
            )
        )
    return notices
