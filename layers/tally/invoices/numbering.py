"""Invoice numbers: ``INV-<YYYYMM>-<8 hex>``, the same for a subject and month every time it
is issued, with ``-R2``, ``-R3`` ... once its content (lines and totals) changed since the last
issue (a restatement). Issuing unchanged content again gives the same number.

An invoice template may set a numbering scheme instead: its prefix and a per-year sequence,
``<prefix><YYYY>-<nnnnn>`` (the year of the first issue), the sequence claimed number by
number with conditional writes. A subject's month keeps the number its first revision got
(a later revision adds ``-R2`` ... to it), whatever scheme is in force later; so invoices
issued before a template existed keep their INV- numbers.

Each revision records the template version it was rendered with: re-issuing unchanged content
renders with that version, not the template as edited since, so the document is the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime
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


@dataclass(frozen=True)
class TemplateChoice:
    """The invoice template in force for a subject: which version, and its number prefix
    (None: the default numbering)."""

    template_id: str
    version: int
    number_prefix: str | None = None


def sequence_number(prefix: str, year: int, sequence: int) -> str:
    """``ACME-2026-00042``."""
    return f"{prefix}{year:04d}-{sequence:05d}"


def next_sequence(
    store: InvoiceNumberStore, prefix: str, year: int, *, subject: str, month: str
) -> int:
    """The next number of ``prefix``'s ``year`` sequence, claimed for ``subject``'s month."""
    for _ in range(_ATTEMPTS):
        candidate = store.latest_sequence(prefix, year) + 1
        if store.claim_sequence(prefix, year, candidate, subject=subject, month=month):
            return candidate
    raise RuntimeError(f"could not take a number of {prefix}{year}")


def issue(
    store: InvoiceNumberStore,
    invoice: Invoice,
    *,
    now: datetime,
    template: TemplateChoice | None = None,
) -> Invoice:
    """``invoice`` with its number, revision and template version: the last issued revision
    (and its template version) when its content is unchanged, else the next one, claimed with
    a conditional write and rendered with ``template``."""
    subject, month, content = invoice.subject.key, invoice.month, invoice.content_hash
    for _ in range(_ATTEMPTS):
        latest = store.latest(subject, month)
        if latest is not None and latest.content_hash == content:
            issued = latest
            break
        revision = latest.revision + 1 if latest else 1
        if latest is not None:
            base = latest.base_number  # the first revision's scheme, for good
        elif template is not None and template.number_prefix:
            year = _year(invoice.issued_on)
            sequence = next_sequence(
                store, template.number_prefix, year, subject=subject, month=month
            )
            base = sequence_number(template.number_prefix, year, sequence)
        else:
            base = None
        issued = IssuedRevision(
            subject,
            month,
            revision,
            content,
            now,
            base_number=base,
            template_id=template.template_id if template else None,
            template_version=template.version if template else None,
        )
        if store.claim(issued):
            break
    else:
        raise RuntimeError(f"could not number the invoice of {subject} for {month}")
    return replace(
        invoice,
        number=_number(issued),
        revision=issued.revision,
        template_id=issued.template_id,
        template_version=issued.template_version,
    )


def _year(day: date) -> int:
    return day.year


def _number(issued: IssuedRevision) -> str:
    if issued.base_number is None:
        return invoice_number(issued.subject, issued.month, issued.revision)
    suffix = "" if issued.revision <= 1 else f"-R{issued.revision}"
    return f"{issued.base_number}{suffix}"
