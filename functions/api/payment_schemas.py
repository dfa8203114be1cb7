"""API models of payments (the chargeback journal, an invoice's payment, the provider's
webhook): kept apart from ``api.schemas`` so payments grow without meeting the rest."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas import ChargebackGroupBy, InvoicePaymentOut, Money, Out, PaymentState

JournalFormat = Literal["json", "csv"]

__all__ = ["InvoicePaymentOut", "PaymentState"]


class JournalLineOut(Out):
    account: str = Field(description="the ledger account code (settings)")
    side: Literal["debit", "credit"]
    amount: Money = Field(description="always positive; the side says which way")
    cost_center: str | None = Field(
        description="the unit's cost center on the expense line; null on the central account"
    )


class JournalEntryOut(Out):
    entry_id: str = Field(
        description="stable for a period, grouping, unit and currency: "
        "CB-<period>-<groupBy>-<unit>-<currency>"
    )
    posting_date: str = Field(description="the period's last day, ISO 8601")
    period: str = Field(description="YYYY-MM")
    unit_id: str = Field(
        description='a chargeback unit id, "(no team)", "(none)" or "(unallocated)"'
    )
    unit_name: str
    unit_kind: str = Field(
        description="team | department | costCenter | none | noTeam | unallocated"
    )
    currency: str
    description: str
    lines: list[JournalLineOut] = Field(
        description="two lines of the same amount: the unit's expense and the central account"
    )


class JournalTotalOut(Out):
    currency: str
    debit: str = Field(description="decimal string: the sum of the debit lines")
    credit: str = Field(description="decimal string: the sum of the credit lines (= debit)")


class JournalAccountsOut(Out):
    expense: str = Field(description="debited per unit (TALLY_JOURNAL_EXPENSE_ACCOUNT)")
    cloud: str = Field(description="central cloud costs, credited (TALLY_JOURNAL_CLOUD_ACCOUNT)")


class JournalOut(Out):
    month: str
    group_by: ChargebackGroupBy
    metric: Literal["billed", "effective"]
    final: bool = Field(description="false while AWS may still revise the month")
    currencies: list[str]
    accounts: JournalAccountsOut
    entries: list[JournalEntryOut]
    totals: list[JournalTotalOut] = Field(description="per currency: debits equal credits")


class WebhookOut(Out):
    received: bool = True
    duplicate: bool = Field(description="true when this event id was already processed")
