"""API models of the tax rules and settings (``/api/tax-rules``) and of a tax breakdown (on
chargeback units): kept apart from ``api.schemas`` so the billing settings, templates and
tax grow without meeting."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from api.schemas import (
    Day,
    Out,
    TaxBreakdownOut,
    TaxRateRowOut,
    TaxSettingsOut,
    TaxTreatment,
    _MoneyRejectsBool,
)

__all__ = ["TaxBreakdownOut", "TaxRateRowOut", "TaxSettingsOut"]

RuleId = Annotated[str, StringConstraints(pattern=r"^tr-[0-9a-f]{12}$")]
Rate = Annotated[
    Decimal, Field(ge=0, le=100, decimal_places=4, allow_inf_nan=False, examples=["19"])
]
UnitKey = Annotated[
    str,
    StringConstraints(min_length=3, max_length=120),
    Field(
        description='whom the rule taxes: "org", "team:<teamId>" (a team or department, and '
        'the teams under it) or "costCenter:<name>"',
        examples=["org", "team:payments", "costCenter:CC-100"],
    ),
]
Treatment = TaxTreatment


class TaxRuleIn(_MoneyRejectsBool):
    name: str = Field(min_length=1, max_length=40, examples=["VAT"])
    jurisdiction: str = Field(
        min_length=1,
        max_length=16,
        description="a country or region code (upper case letters, digits, hyphens)",
        examples=["DE"],
    )
    rate: Rate = Field(description="percent, 0 to 100 (0 for zero-rated and exempt rules)")
    unit: UnitKey = "org"
    effective_from: Day = Field(description="the first day the rule taxes")
    effective_to: Day | None = Field(
        default=None,
        description="the first day it no longer taxes (exclusive); null: until ended",
    )
    treatment: Treatment = Field(
        default="standard",
        description="standard (taxed at the rate); zero-rated (taxed at 0%, shown); exempt "
        "(outside the tax, shown apart): both need a reason",
    )
    reason: str | None = Field(default=None, max_length=200)


class TaxRuleEndIn(_MoneyRejectsBool):
    effective_to: Day = Field(description="the first day the rule no longer taxes: today or later")


class TaxRuleOut(Out):
    rule_id: str
    name: str
    jurisdiction: str
    rate: str = Field(description='percent as a decimal string, e.g. "19"')
    unit: str
    effective_from: date
    effective_to: date | None
    treatment: Treatment
    reason: str | None
    created_at: datetime | None
    created_by: str | None
    in_force: bool = Field(description="in force today")


class TaxRuleListOut(Out):
    items: list[TaxRuleOut]


class TaxSettingsIn(_MoneyRejectsBool):
    mode: Literal["add", "replace"] = Field(
        description="add: AWS's own tax lines (ChargeCategory Tax) stay and Tally's tax is "
        "added on the other lines; replace: AWS's tax lines leave the invoice where a rule "
        "applies and Tally's tax stands instead"
    )
    rounding: Literal["line", "total"] = Field(
        description="tax rounded to the currency's minor unit, half up: per invoice line, or "
        "once per rate on its total"
    )
