"""Issuing an internal invoice to the payment provider, and applying the provider's events.

Who: ``payments:issue`` at the organisation (finance and admins). What: an
invoice job that is ready (its PDF made) and whose month is final (a provisional invoice can
still change, and a customer should not be asked to pay figures that may move). The invoice
is rebuilt from the stores and numbered as the reports function numbered it; if its content
changed since (a late restatement made a new revision), issuing is refused until the invoice
is asked for again, so the PDF and the provider's invoice always say the same thing.

Issuing twice answers the payments already made (nothing new at the provider).
"""

from __future__ import annotations

import os
from datetime import datetime

from tally import access
from tally.authz import Target
from tally.errors import Conflict, Disabled, NotFound
from tally.payments.port import InvoicePayment, InvoicePayments, PaymentEvent
from tally.store import Stores
from tally.store.payments import EventOutcome
from tally.view import View

ISSUE = "payments:issue"
NOT_CONFIGURED = "payments are not configured: set TALLY_PAYMENTS=stripe (docs/deploy.md)"


def issue_invoice(
    view: View, invoice_id: str, provider: InvoicePayments | None, *, now: datetime
) -> tuple[list[InvoicePayment], bool]:
    """The invoice's payments at the provider, and whether this call made them."""
    from tally.invoices import InvoiceOrg, build_invoice, issue

    access.require(view.caller, ISSUE, Target.org())
    stores = view.stores
    job = stores.report_jobs.get(invoice_id)
    if job is None or job.kind != "invoice":
        raise NotFound(f"no invoice {invoice_id}")
    if provider is None:
        raise Disabled(NOT_CONFIGURED)
    existing = stores.payments.payments(invoice_id)
    if existing:
        return existing, False
    if str(job.status) != "ready":
        raise Conflict("the invoice is not made yet: issue it once its PDF is ready")
    invoice = build_invoice(
        stores,
        user_id=job.params.get("userId") or None,
        cost_center=job.params.get("costCenter") or None,
        month=job.params["month"],
        metric=view.metric,
        today=view.today,
        now=now,
        org=InvoiceOrg.from_env(os.environ),
    )
    if invoice.provisional:
        raise Conflict(f"{invoice.month} is not final yet: issue its invoice once it is")
    invoice = issue(stores.invoice_numbers, invoice, now=now)
    if invoice.number != job.details.get("invoiceNumber"):
        raise Conflict(
            f"the invoice's figures changed since it was made (now {invoice.number}): "
            "ask for the invoice again, then issue the new one"
        )
    if not invoice.sections:
        raise Conflict("the invoice bills nothing")
    subject = invoice.subject.key
    known = stores.payments.customer(provider.name, subject)
    customer, issued = provider.issue(invoice, invoice_id=invoice_id, customer=known)
    if known is None:
        stores.payments.set_customer(provider.name, subject, customer)
    for one in issued:
        stores.payments.record(
            InvoicePayment(
                invoice_id, one.currency, provider.name, one.reference, one.status, now, one.url
            )
        )
    return stores.payments.payments(invoice_id), True


def invoice_payments(stores: Stores, invoice_id: str) -> list[InvoicePayment]:
    """What the invoice JSON shows of its payments (none until issued)."""
    return stores.payments.payments(invoice_id)


def apply_event(
    stores: Stores, provider: str, event: PaymentEvent, *, now: datetime
) -> EventOutcome | None:
    """Apply a verified event once; None when Tally does not act on it (another type, or an
    invoice Tally did not issue)."""
    if event.status is None or not event.invoice_id or not event.currency:
        return None
    return stores.payments.apply_event(
        provider,
        event.event_id,
        invoice_id=event.invoice_id,
        currency=event.currency,
        status=event.status,
        at=now,
    )
