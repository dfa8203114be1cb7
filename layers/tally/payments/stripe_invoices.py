"""The Stripe adapter of the payments port: an internal invoice issued as Stripe invoices.

One Stripe customer per Tally subject (a user or a cost center; its id kept in
``tally.store.payments``), one Stripe invoice per currency the internal invoice bills (a Stripe
invoice has one currency), one invoice item per line, then the invoice is finalized
(``collection_method=send_invoice``: Stripe emails it and hosts the payment page). Every create
call carries an idempotency key made from Tally's ids, so a retried request (a timeout, two
clicks) never makes a second customer, invoice or item at Stripe.

Amounts are sent in the currency's minor unit (cents; whole units for Stripe's zero-decimal
currencies). Tally's lines can hold fractions of a cent: each line is rounded half-even and a
"Rounding" item makes the Stripe total equal the section's total rounded to the minor unit.

The ``stripe`` package is imported here only, and this module only on the first issue: the
API's cold start does not load it (``functions/api/lazy.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from tally.invoices.model import CurrencySection, Invoice
from tally.payments.port import IssuedInvoice, PaymentStatus

if TYPE_CHECKING:
    from stripe import HTTPClient, StripeClient

PROVIDER = "stripe"
DAYS_UNTIL_DUE = 30
# Stripe's zero-decimal currencies (docs.stripe.com/currencies#zero-decimal): amounts are in
# whole units there, in cents (hundredths) elsewhere.
ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
# What Tally records for a finalized Stripe invoice's status.
_STATUS = {"paid": PaymentStatus.PAID, "void": PaymentStatus.VOID}


def stripe_client(
    api_key: str, *, http_client: HTTPClient | None = None, api_base: str | None = None
) -> StripeClient:
    """A Stripe client for ``api_key``; ``http_client`` is the transport (tests hand it one
    that answers recorded responses); ``api_base`` replaces https://api.stripe.com (the local
    stack's recorded stand-in)."""
    import stripe

    return stripe.StripeClient(
        api_key,
        http_client=http_client,
        max_network_retries=2,
        base_addresses={"api": api_base} if api_base else None,
    )


def minor_units(amount: Decimal, currency: str, rounding: str = ROUND_HALF_EVEN) -> int:
    """``amount`` in the currency's smallest unit, as Stripe takes it."""
    exponent = Decimal(1) if currency.upper() in ZERO_DECIMAL else Decimal("0.01")
    return int(amount.quantize(exponent, rounding=rounding) / exponent)


def items(section: CurrencySection) -> Iterator[tuple[str, int]]:
    """(description, amount in minor units) per line of ``section``, and a rounding item when
    the rounded lines do not add up to the rounded total."""
    currency = section.currency
    sent = 0
    for line in section.lines:
        amount = minor_units(line.amount, currency)
        sent += amount
        what = " ".join(
            part
            for part in (
                line.service,
                line.charge_category if line.charge_category != "Usage" else "",
                line.resource_id or "",
                f"({line.user})" if line.user else "",
            )
            if part
        )
        yield what[:500], amount  # Stripe's description limit
    rest = minor_units(section.total, currency, ROUND_HALF_UP) - sent
    if rest:
        yield "Rounding", rest


class StripeInvoices:
    """``InvoicePayments`` through a ``StripeClient``."""

    name = PROVIDER

    def __init__(self, client: StripeClient, *, days_until_due: int = DAYS_UNTIL_DUE) -> None:
        self._client = client
        self._days_until_due = days_until_due

    def _customer(self, invoice: Invoice) -> str:
        subject = invoice.subject
        params: dict[str, Any] = {
            "name": subject.name,
            "metadata": {"tallySubject": subject.key},
        }
        if subject.email:
            params["email"] = subject.email
        made = self._client.v1.customers.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": f"tally-customer-{subject.key}"},
        )
        return str(made.id)

    def issue(
        self, invoice: Invoice, *, invoice_id: str, customer: str | None
    ) -> tuple[str, tuple[IssuedInvoice, ...]]:
        """Issue ``invoice`` (numbered: ``tally.invoices.issue``) as one finalized Stripe
        invoice per currency. Stripe unreachable, rate-limiting or failing on its side is
        ``Unavailable`` (503: ask again; the idempotency keys make the retry safe); a request
        Stripe refuses (a bad key, a deleted customer) is raised as Stripe's error."""
        import stripe

        from tally.errors import Unavailable

        try:
            customer_id = customer or self._customer(invoice)
            issued = [
                self._issue_section(invoice, section, invoice_id, customer_id)
                for section in invoice.sections
            ]
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise Unavailable(f"Stripe cannot be reached at the moment: {error}") from error
        except stripe.APIError as error:
            raise Unavailable(f"Stripe failed to answer: {error.user_message}") from error
        return customer_id, tuple(issued)

    def _issue_section(
        self, invoice: Invoice, section: CurrencySection, invoice_id: str, customer_id: str
    ) -> IssuedInvoice:
        currency = section.currency.lower()
        key = f"tally-{invoice_id}-{currency}"
        draft = self._client.v1.invoices.create(
            params={
                "customer": customer_id,
                "currency": currency,
                "collection_method": "send_invoice",
                "days_until_due": self._days_until_due,
                "auto_advance": False,
                # Only this invoice's items: never another pending item of the customer.
                "pending_invoice_items_behavior": "exclude",
                "description": f"Cloud costs {invoice.month} ({invoice.number})",
                "metadata": {
                    "tallyInvoiceId": invoice_id,
                    "tallyInvoiceNumber": str(invoice.number),
                    "tallyCurrency": section.currency,
                },
            },
            options={"idempotency_key": f"{key}-invoice"},
        )
        assert draft.id is not None
        for n, (description, amount) in enumerate(items(section)):
            self._client.v1.invoice_items.create(
                params={
                    "customer": customer_id,
                    "invoice": draft.id,
                    "currency": currency,
                    "amount": amount,
                    "description": description,
                },
                options={"idempotency_key": f"{key}-item-{n}"},
            )
        final = self._client.v1.invoices.finalize_invoice(
            draft.id, options={"idempotency_key": f"{key}-finalize"}
        )
        return IssuedInvoice(
            currency=section.currency,
            reference=str(final.id),
            status=_STATUS.get(str(final.status), PaymentStatus.ISSUED),
            url=final.hosted_invoice_url,
        )
