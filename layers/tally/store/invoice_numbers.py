"""Issued invoice revisions: which content each revision of a subject's month invoice had.

One item per revision (pk INVOICE#<subject>#<YYYY-MM>, sk REV#<nnnn>) in the reports table,
kept for good (no TTL: an invoice number, once given, is never given to other content). A new
revision is a conditional put of the next sort key, so two issues racing for revision 2 cannot
both take it: the loser reads the winner and decides again.
"""

from __future__ import annotations

import threading
from typing import Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from tally import tables
from tally.invoices.model import IssuedRevision
from tally.settings import Settings
from tally.store import keys
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem

_FAILED_CONDITION = "ConditionalCheckFailedException"


class InvoiceNumberStore(Protocol):
    def latest(self, subject: str, month: str) -> IssuedRevision | None:
        """The last revision issued (a strongly consistent read), None before the first."""

    def claim(self, issued: IssuedRevision) -> bool:
        """Record ``issued``; False when that revision was already taken (by anyone)."""

    def latest_sequence(self, prefix: str, year: int) -> int:
        """The last number given in ``prefix``'s ``year`` sequence (0 before the first)."""

    def claim_sequence(
        self, prefix: str, year: int, number: int, *, subject: str, month: str
    ) -> bool:
        """Give ``number`` to ``subject``'s ``month``; False when it was already given."""


class InvoiceRevisionItem(KeyedItem):
    """pk INVOICE#<subject>#<YYYY-MM>, sk REV#<revision, 4 digits>."""

    spec = tables.REPORTS

    revision = NumberAttribute()
    content_hash = UnicodeAttribute()
    issued_at = UTCDateTimeAttribute()
    # Absent on revisions issued before invoice templates (the default numbering, no template).
    base_number = UnicodeAttribute(null=True)
    template_id = UnicodeAttribute(null=True)
    template_version = NumberAttribute(null=True)


class SequenceItem(KeyedItem):
    """pk INVOICESEQ#<prefix>#<YYYY>, sk SEQ#<nnnnnn>: a number given, and to whom (kept for
    good, like the revisions: a number is never given twice)."""

    spec = tables.REPORTS

    subject = UnicodeAttribute()
    month = UnicodeAttribute()


def _issued(subject: str, month: str, item: InvoiceRevisionItem) -> IssuedRevision:
    return IssuedRevision(
        subject,
        month,
        int(item.revision),
        item.content_hash,
        item.issued_at,
        base_number=item.base_number,
        template_id=item.template_id,
        template_version=None if item.template_version is None else int(item.template_version),
    )


class DynamoInvoiceNumberStore(DynamoStore):
    def latest(self, subject: str, month: str) -> IssuedRevision | None:
        found = InvoiceRevisionItem.query(
            keys.invoice(subject, month),
            InvoiceRevisionItem.sk.startswith(keys.REVISION_PREFIX),
            scan_index_forward=False,
            limit=1,
            consistent_read=True,
        )
        item = next(iter(found), None)
        return _issued(subject, month, item) if item else None

    def claim(self, issued: IssuedRevision) -> bool:
        item = InvoiceRevisionItem(
            pk=keys.invoice(issued.subject, issued.month),
            sk=keys.revision(issued.revision),
            revision=issued.revision,
            content_hash=issued.content_hash,
            issued_at=issued.issued_at,
            base_number=issued.base_number,
            template_id=issued.template_id,
            template_version=issued.template_version,
        )
        try:
            item.save(condition=InvoiceRevisionItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                return False
            raise
        return True

    def latest_sequence(self, prefix: str, year: int) -> int:
        found = SequenceItem.query(
            keys.invoice_sequence(prefix, year),
            SequenceItem.sk.startswith(keys.SEQUENCE_PREFIX),
            scan_index_forward=False,
            limit=1,
            consistent_read=True,
        )
        item = next(iter(found), None)
        return int(item.sk.removeprefix(keys.SEQUENCE_PREFIX)) if item else 0

    def claim_sequence(
        self, prefix: str, year: int, number: int, *, subject: str, month: str
    ) -> bool:
        item = SequenceItem(
            pk=keys.invoice_sequence(prefix, year),
            sk=keys.sequence(number),
            subject=subject,
            month=month,
        )
        try:
            item.save(condition=SequenceItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                return False
            raise
        return True


class MemoryInvoiceNumberStore:
    def __init__(self) -> None:
        self.revisions: dict[tuple[str, str], dict[int, IssuedRevision]] = {}
        self.sequences: dict[tuple[str, int], dict[int, tuple[str, str]]] = {}
        self._lock = threading.Lock()  # a conditional put is atomic; so is this one

    def latest(self, subject: str, month: str) -> IssuedRevision | None:
        found = self.revisions.get((subject, month), {})
        return found[max(found)] if found else None

    def claim(self, issued: IssuedRevision) -> bool:
        with self._lock:
            found = self.revisions.setdefault((issued.subject, issued.month), {})
            if issued.revision in found:
                return False
            found[issued.revision] = issued
            return True

    def latest_sequence(self, prefix: str, year: int) -> int:
        return max(self.sequences.get((prefix, year), {}), default=0)

    def claim_sequence(
        self, prefix: str, year: int, number: int, *, subject: str, month: str
    ) -> bool:
        with self._lock:
            found = self.sequences.setdefault((prefix, year), {})
            if number in found:
                return False
            found[number] = (subject, month)
            return True


def dynamodb_store(settings: Settings) -> InvoiceNumberStore:
    return DynamoInvoiceNumberStore(settings)


def memory_store(audit: MemoryAuditLog) -> InvoiceNumberStore:
    return MemoryInvoiceNumberStore()
