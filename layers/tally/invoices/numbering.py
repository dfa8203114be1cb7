"""Invoice numbers: ``INV-<YYYYMM>-<8 hex>``, the same for a subject and month every time it
is issued, with ``-R2``, ``-R3`` ... once its content (lines and totals) changed since the last
issue (a restatement). Issuing unchanged content again gives the same number."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from tally.invoices.model import Invoice, IssuedRevision

if TYPE_CHECKING:  # the store module loads pynamodb: the API imports this package without it
    from tally.store.invoice_numbers import InvoiceNumberStore

# Two issues racing for one revision: one wins, the other reads it and decides again. More
# attempts than this means something else is wrong (a store that never records a claim).
_ATTEMPTS = 10


def base_number(subject_key: str, month: str) -> str:
    """``INV-202611-1a2b3c4d``: the month, and the start of the subject's SHA-256 (stable,
    and it does not spell a user's id or a cost center's name on the document)."""
    digest = hashlib.sha256(subject_key.encode()).hexdigest()[:8]
    return f"INV-{month.replace('-', '')}-{digest}"


def invoice_number(subject_key: str, month: str, revision: int) -> str:
    base = base_number(subject_key, month)
    return base if revision <= 1 else f"{base}-R{revision}"


def issue(store: InvoiceNumberStore, invoice: Invoice, *, now: datetime) -> Invoice:
    """``invoice`` with its number and revision: the last issued revision when its content is
    unchanged, else the next one, claimed with a conditional write."""
    subject, month, content = invoice.subject.key, invoice.month, invoice.content_hash
    for _ in range(_ATTEMPTS):
        latest = store.latest(subject, month)
        if latest is not None and latest.content_hash == content:
            revision = latest.revision
            break
        revision = latest.revision + 1 if latest else 1
        if store.claim(IssuedRevision(subject, month, revision, content, now)):
            break
    else:
        raise RuntimeError(f"could not number the invoice of {subject} for {month}")
    return replace(invoice, number=invoice_number(subject, month, revision), revision=revision)
