"""The email that carries an invoice: a short note in the alerts' templates
(``templates/email/invoice.html`` and ``.txt``, extending their base) with the PDF attached."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tally.invoices.model import Invoice
from tally.invoices.pdf import period_label
from tally.notify.ports import Attachment, OutgoingEmail
from tally.reports.currency import Money


@dataclass(frozen=True)
class InvoiceNote:
    """What the templates show (``m``)."""

    subject: str
    headline: str
    period_label: str
    to_name: str
    number: str
    filename: str
    totals: tuple[Money, ...]
    budget: Money | None
    provisional: bool
    dashboard_url: str | None


def invoice_filename(invoice: Invoice) -> str:
    return f"{invoice.number or 'invoice'}.pdf"


def invoice_email(
    invoice: Invoice,
    pdf: bytes,
    *,
    to: str,
    dashboard_url: str | None = None,
    to_name: str | None = None,
    templates: Path | None = None,
) -> OutgoingEmail:
    """The email to ``to`` with ``pdf`` attached; subject "Your November 2026 invoice
    INV-...". ``invoice`` must be issued (numbered). With ``dashboard_url`` (the alerts'
    ``TALLY_DASHBOARD_URL``) the note links to the dashboard."""
    from tally.email.render import render_template

    if invoice.number is None:
        raise ValueError("issue the invoice (give it its number) before sending it")
    period = period_label(invoice.month)
    budget = next(
        (Money(s.budget, s.currency) for s in invoice.sections if s.budget is not None), None
    )
    note = InvoiceNote(
        subject=f"Your {period} invoice {invoice.number}",
        headline=f"Your invoice for {period}",
        period_label=period,
        to_name=to_name or invoice.subject.name,
        number=invoice.number,
        filename=invoice_filename(invoice),
        totals=tuple(Money(s.total, s.currency) for s in invoice.sections),
        budget=budget,
        provisional=invoice.provisional,
        dashboard_url=dashboard_url,
    )
    rendered = render_template(
        "invoice", note, {"badge": "Invoice", "tone": "accent"}, directory=templates
    )
    tags = {
        "kind": "invoice",
        "period": invoice.month,
        "subject": invoice.subject.kind,
        **({"userId": invoice.subject.subject_id} if invoice.subject.kind == "user" else {}),
    }
    return OutgoingEmail(
        to=to,
        rendered=rendered,
        tags=tags,
        attachments=(Attachment(note.filename, "application/pdf", pdf),),
    )
