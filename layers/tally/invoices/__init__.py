"""PDF invoices: a user's or a cost center's month, itemised from the cost records.

- ``build_invoice``: the figures (``model.Invoice``), from the stores;
- ``issue``: its number, stable for a subject and month, with a revision suffix when a
  restatement changed the content (``numbering``);
- ``render_pdf``: the PDF (fpdf2, imported on the first render; layout in
  ``templates/invoice``);
- ``invoice_email``: the email that carries it (``templates/email/invoice.*``).

Made by the reports function, never on a request path.
"""

from tally.invoices.build import build_invoice
from tally.invoices.email import invoice_email
from tally.invoices.model import (
    CurrencySection,
    Invoice,
    InvoiceLine,
    InvoiceOrg,
    InvoiceSubject,
    ServiceGroup,
)
from tally.invoices.numbering import base_number, invoice_number, issue
from tally.invoices.pdf import render_pdf

__all__ = [
    "CurrencySection",
    "Invoice",
    "InvoiceLine",
    "InvoiceOrg",
    "InvoiceSubject",
    "ServiceGroup",
    "base_number",
    "build_invoice",
    "invoice_email",
    "invoice_number",
    "issue",
    "render_pdf",
]
