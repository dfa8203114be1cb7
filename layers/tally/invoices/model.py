"""What an invoice says, as plain values: the renderer (``pdf``) and the email decide only how
it looks.

One invoice per subject (a user, or a cost center) and month, numbered once for both. It holds
one section per currency billed: currencies are never added together, so each section has its
own lines, subtotals, charges and total, and the budget (kept in one currency) is set against
the section in that currency alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from tally.models import Metric
from tally.tax.model import TaxBreakdown

ORG_NAME_VARIABLE = "TALLY_ORG_NAME"
ORG_LOGO_VARIABLE = "TALLY_ORG_LOGO"

SubjectKind = Literal["user", "cost-center"]

# The charge categories shown under the services' usage, in this order (FOCUS ChargeCategory;
# any other a source sends follows, by name).
USAGE = "Usage"
CHARGE_ORDER = ("Credit", "Refund", "Tax", "Purchase", "Adjustment")


@dataclass(frozen=True)
class InvoiceOrg:
    """Who issues the invoice: the organisation's name and, optionally, its logo (a PNG or
    JPEG file)."""

    name: str = "Tally"
    logo: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> InvoiceOrg:
        """``TALLY_ORG_NAME`` (default "Tally") and ``TALLY_ORG_LOGO`` (a path; optional)."""
        name = env.get(ORG_NAME_VARIABLE, "").strip() or "Tally"
        logo = env.get(ORG_LOGO_VARIABLE, "").strip()
        return cls(name=name, logo=Path(logo) if logo else None)


@dataclass(frozen=True)
class InvoiceSubject:
    """Whom the invoice is for: a user (their name and email) or a cost center."""

    kind: SubjectKind
    subject_id: str  # the user id, or the cost center's name
    name: str
    email: str | None = None

    @property
    def key(self) -> str:
        """Stable across renames: what the invoice number is made from."""
        return f"{self.kind}:{self.subject_id}"


@dataclass(frozen=True)
class InvoiceLine:
    """The month's cost of one service x resource x usage unit x charge category: every cost
    record of it summed (quantities too). ``user`` names the assignment's user on a cost
    center's invoice."""

    service: str
    resource_id: str | None
    charge_category: str
    usage_quantity: Decimal
    usage_unit: str | None
    amount: Decimal
    user: str | None = None
    # What people call the resource (tally.names.display_name): printed first, the id under
    # it. Not in ``content_hash``: renaming a resource does not make a new revision.
    resource_name: str | None = None


@dataclass(frozen=True)
class ServiceGroup:
    """A service's usage lines and their subtotal."""

    service: str
    lines: tuple[InvoiceLine, ...]
    subtotal: Decimal


@dataclass(frozen=True)
class CurrencySection:
    """Everything billed in one currency. ``total`` = ``usage_total`` + the charges.
    ``budget`` and ``variance`` (budget - total: negative when over) only in the budget's
    currency."""

    currency: str
    services: tuple[ServiceGroup, ...]
    charges: tuple[InvoiceLine, ...]  # credits, refunds, taxes, purchases, adjustments
    usage_total: Decimal
    total: Decimal
    budget: Decimal | None = None
    variance: Decimal | None = None
    # Tally's tax on the section (tally.tax), when a rule applies: per rate, net, tax, gross.
    tax: TaxBreakdown | None = None

    @property
    def lines(self) -> tuple[InvoiceLine, ...]:
        return tuple(line for group in self.services for line in group.lines) + self.charges


@dataclass(frozen=True)
class IssuedRevision:
    """Revision ``revision`` (1, 2, ...) of a subject's invoice for ``month``: the content
    hash it was issued with, and when."""

    subject: str  # InvoiceSubject.key: "user:<id>" or "cost-center:<name>"
    month: str
    revision: int
    content_hash: str
    issued_at: datetime
    # The number without its revision suffix when a template's scheme gave it (None: the
    # default INV-YYYYMM-<hash>), and the template version the revision was rendered with
    # (None: the plain layout): a re-issue of the same content renders the same document.
    base_number: str | None = None
    template_id: str | None = None
    template_version: int | None = None


@dataclass(frozen=True)
class Invoice:
    """A subject's invoice for ``month``. ``number`` is set by ``issue`` (None before);
    ``provisional`` while the month's figures can still change."""

    org: InvoiceOrg
    subject: InvoiceSubject
    month: str  # YYYY-MM
    period_start: date
    period_end: date  # inclusive: the month's last day
    issued_on: date
    generated_at: datetime
    metric: Metric
    provisional: bool
    sections: tuple[CurrencySection, ...]  # the budget's currency (or the default) first
    number: str | None = None
    revision: int = 0  # 1 for the first issue, 2 for "-R2", ...
    # The invoice template version it is rendered with (set by ``issue``; None: the layout).
    template_id: str | None = None
    template_version: int | None = None

    @property
    def lines(self) -> tuple[InvoiceLine, ...]:
        return tuple(line for section in self.sections for line in section.lines)

    def total(self, currency: str) -> Decimal:
        """The total billed in ``currency`` (zero when nothing was)."""
        return next((s.total for s in self.sections if s.currency == currency), Decimal(0))

    @property
    def content_hash(self) -> str:
        """What a revision is about: the lines and totals (not the issue date, the org or the
        provisional mark), so re-issuing unchanged figures keeps the number."""
        content = [
            {
                "currency": s.currency,
                "total": _exact(s.total),
                "lines": [
                    [
                        line.service,
                        line.resource_id,
                        line.charge_category,
                        line.usage_unit,
                        line.user,
                        _exact(line.usage_quantity),
                        _exact(line.amount),
                    ]
                    for line in s.lines
                ],
            }
            | _tax_content(s.tax)
            for s in self.sections
        ]
        body = json.dumps([self.subject.key, self.month, self.metric.value, content])
        return hashlib.sha256(body.encode()).hexdigest()


def _tax_content(tax: TaxBreakdown | None) -> dict[str, object]:
    # Absent without tax, so an invoice's hash (and number) is what it was before tax rules.
    if tax is None:
        return {}
    rows = [[r.name, r.jurisdiction, _exact(r.rate), r.treatment.value, _exact(r.base),
             _exact(r.tax)] for r in tax.rows]  # fmt: skip
    return {"tax": rows, "gross": _exact(tax.gross)}


def _exact(value: Decimal) -> str:
    # The same amount reads the same whether it was summed here or read back from DynamoDB
    # (which drops trailing zeros).
    return format(value.normalize(), "f")
