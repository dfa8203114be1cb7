"""The payments port: what Tally asks of a payment provider, whichever it is.

An internal invoice (``tally.invoices``) is *issued* to a provider, which answers with its own
reference for it (Stripe's invoice id) and a status; later the provider tells Tally, through
signed events, that the invoice was paid or voided. Tally keeps one ``InvoicePayment`` per
invoice (``tally.store.payments``): the provider, the reference and the status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from tally.invoices.model import Invoice


class PaymentStatus(StrEnum):
    ISSUED = "issued"  # sent to the provider, awaiting payment
    PAID = "paid"
    VOID = "void"  # cancelled at the provider: nothing is owed


# A status only moves forward: an event for an earlier state (delivered late, out of order)
# changes nothing. Paid and void are both final.
_ORDER = {PaymentStatus.ISSUED: 0, PaymentStatus.PAID: 1, PaymentStatus.VOID: 1}


def moves_forward(current: PaymentStatus, new: PaymentStatus) -> bool:
    """Whether ``new`` may replace ``current`` (issued -> paid or void; never back)."""
    return _ORDER[new] > _ORDER[current]


@dataclass(frozen=True)
class IssuedInvoice:
    """What the provider answered for one currency of an invoice (a provider's invoice has
    one currency: an internal invoice billed in two is two of theirs)."""

    currency: str
    reference: str  # the provider's id of the invoice (Stripe: "in_...")
    status: PaymentStatus
    url: str | None = None  # where the customer pays (Stripe's hosted invoice page)


@dataclass(frozen=True)
class InvoicePayment:
    """An internal invoice's payment: ``invoice_id`` is the invoice job's id (the id the API
    names it by), ``reference`` the provider's."""

    invoice_id: str
    currency: str
    provider: str
    reference: str
    status: PaymentStatus
    updated_at: datetime
    url: str | None = None


@dataclass(frozen=True)
class PaymentEvent:
    """A provider's event about one of Tally's invoices, once its signature is verified.
    ``status`` is None for an event type Tally does not act on."""

    event_id: str
    event_type: str
    invoice_id: str | None  # Tally's invoice id, from the metadata Tally set when issuing
    currency: str | None
    reference: str | None
    status: PaymentStatus | None


class InvoicePayments(Protocol):
    """A payment provider (the Stripe adapter; a recorded-responses client in its tests)."""

    name: str

    def issue(
        self, invoice: Invoice, *, invoice_id: str, customer: str | None
    ) -> tuple[str, tuple[IssuedInvoice, ...]]:
        """Issue ``invoice`` (Tally's invoice ``invoice_id``) to the provider, one of its
        invoices per currency, finalized: the provider's customer id of the invoice's subject
        (``customer`` when already known, else made) and what it answered per currency."""
        ...


class PaymentsNotConfigured(RuntimeError):
    """No payment provider is configured (``TALLY_PAYMENTS`` unset)."""
