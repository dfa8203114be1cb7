"""Invoice payments: each internal invoice's payment at a provider, the provider's customer of
each subject, and the provider events already processed.

In the reports table, without TTL (a payment's status outlives the invoice job's 30 days):
- payment: pk ``PAYMENT#<invoice id>``, sk ``CUR#<currency>``: provider, reference, status,
  updated_at, url;
- customer: pk ``CUSTOMER#<provider>#<subject>``, sk ``CUSTOMER``: the provider's customer id;
- event: pk ``EVENT#<provider>#<event id>``, sk ``EVENT``: written with the status change it
  made, in one transaction conditional on the event being new, so an event changes Tally's
  records at most once however often the provider delivers it.
"""

from __future__ import annotations

import threading
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, TransactWriteError

from tally import tables
from tally.payments.port import InvoicePayment, PaymentStatus, moves_forward
from tally.settings import Settings
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem, cancel_codes

_FAILED_CONDITION = "ConditionalCheckFailed"
PAYMENT_SORT_PREFIX = "CUR#"


class EventOutcome(StrEnum):
    APPLIED = "applied"  # the status changed
    DUPLICATE = "duplicate"  # this event was processed before: nothing changed
    UNCHANGED = "unchanged"  # recorded, but the status was already there or beyond
    UNKNOWN = "unknown"  # no payment of Tally's has that invoice and currency


class PaymentStore(Protocol):
    def payments(self, invoice_id: str) -> list[InvoicePayment]:
        """The invoice's payments, one per currency (a strongly consistent read)."""

    def record(self, payment: InvoicePayment) -> bool:
        """Store a new payment; False when that invoice and currency already has one."""

    def customer(self, provider: str, subject: str) -> str | None:
        """The provider's customer id of a subject (``user:<id>``, ``cost-center:<name>``)."""

    def set_customer(self, provider: str, subject: str, customer_id: str) -> str:
        """Remember the subject's customer id; the one kept (the first writer wins)."""

    def apply_event(
        self,
        provider: str,
        event_id: str,
        *,
        invoice_id: str,
        currency: str,
        status: PaymentStatus,
        at: datetime,
    ) -> EventOutcome:
        """Apply one provider event to a payment, at most once per event id."""


class PaymentItem(KeyedItem):
    spec = tables.REPORTS

    provider = UnicodeAttribute()
    reference = UnicodeAttribute()
    status = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    url = UnicodeAttribute(null=True)


class CustomerItem(KeyedItem):
    spec = tables.REPORTS

    customer_id = UnicodeAttribute()


class EventItem(KeyedItem):
    spec = tables.REPORTS

    invoice_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute()
    processed_at = UTCDateTimeAttribute()


def _payment_key(invoice_id: str) -> str:
    return f"PAYMENT#{invoice_id}"


def _customer_key(provider: str, subject: str) -> str:
    return f"CUSTOMER#{provider}#{subject}"


def _event_key(provider: str, event_id: str) -> str:
    return f"EVENT#{provider}#{event_id}"


def _payment(invoice_id: str, item: PaymentItem) -> InvoicePayment:
    return InvoicePayment(
        invoice_id=invoice_id,
        currency=item.sk.removeprefix(PAYMENT_SORT_PREFIX),
        provider=item.provider,
        reference=item.reference,
        status=PaymentStatus(item.status),
        updated_at=item.updated_at,
        url=item.url,
    )


class DynamoPaymentStore(DynamoStore):
    def payments(self, invoice_id: str) -> list[InvoicePayment]:
        found = PaymentItem.query(
            _payment_key(invoice_id),
            PaymentItem.sk.startswith(PAYMENT_SORT_PREFIX),
            consistent_read=True,
        )
        return [_payment(invoice_id, item) for item in found]

    def record(self, payment: InvoicePayment) -> bool:
        item = PaymentItem(
            pk=_payment_key(payment.invoice_id),
            sk=f"{PAYMENT_SORT_PREFIX}{payment.currency}",
            provider=payment.provider,
            reference=payment.reference,
            status=payment.status.value,
            updated_at=payment.updated_at,
            url=payment.url,
        )
        try:
            item.save(condition=PaymentItem.pk.does_not_exist())
        except PutError as error:
            if _FAILED_CONDITION in (error.cause_response_code or ""):
                return False
            raise
        return True

    def customer(self, provider: str, subject: str) -> str | None:
        try:
            item = CustomerItem.get(
                _customer_key(provider, subject), "CUSTOMER", consistent_read=True
            )
        except CustomerItem.DoesNotExist:
            return None
        return item.customer_id

    def set_customer(self, provider: str, subject: str, customer_id: str) -> str:
        item = CustomerItem(
            pk=_customer_key(provider, subject), sk="CUSTOMER", customer_id=customer_id
        )
        try:
            item.save(condition=CustomerItem.pk.does_not_exist())
        except PutError as error:
            if _FAILED_CONDITION not in (error.cause_response_code or ""):
                raise
            return self.customer(provider, subject) or customer_id
        return customer_id

    def apply_event(
        self,
        provider: str,
        event_id: str,
        *,
        invoice_id: str,
        currency: str,
        status: PaymentStatus,
        at: datetime,
    ) -> EventOutcome:
        current = next((p for p in self.payments(invoice_id) if p.currency == currency), None)
        if current is None:
            return EventOutcome.UNKNOWN
        event = EventItem(
            pk=_event_key(provider, event_id),
            sk="EVENT",
            invoice_id=invoice_id,
            currency=currency,
            status=status.value,
            processed_at=at,
        )
        changes = moves_forward(current.status, status)
        try:
            with self._tx() as tx:
                tx.save(event, condition=EventItem.pk.does_not_exist())
                if changes:
                    # Conditional on the status read: a concurrent event for the same payment
                    # makes this one fail and the provider deliver it again.
                    tx.update(
                        PaymentItem(
                            pk=_payment_key(invoice_id), sk=f"{PAYMENT_SORT_PREFIX}{currency}"
                        ),
                        actions=[
                            PaymentItem.status.set(status.value),
                            PaymentItem.updated_at.set(at),
                        ],
                        condition=PaymentItem.status == current.status.value,
                    )
        except TransactWriteError as error:
            codes = cancel_codes(error)
            if codes and codes[0] == "ConditionalCheckFailed":
                return EventOutcome.DUPLICATE
            raise
        return EventOutcome.APPLIED if changes else EventOutcome.UNCHANGED


class MemoryPaymentStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], InvoicePayment] = {}
        self.customers: dict[tuple[str, str], str] = {}
        self.events: dict[tuple[str, str], PaymentStatus] = {}
        self._lock = threading.Lock()  # a transaction is atomic; so is this

    def payments(self, invoice_id: str) -> list[InvoicePayment]:
        return sorted(
            (p for (i, _), p in self.items.items() if i == invoice_id), key=lambda p: p.currency
        )

    def record(self, payment: InvoicePayment) -> bool:
        with self._lock:
            key = (payment.invoice_id, payment.currency)
            if key in self.items:
                return False
            self.items[key] = payment
            return True

    def customer(self, provider: str, subject: str) -> str | None:
        return self.customers.get((provider, subject))

    def set_customer(self, provider: str, subject: str, customer_id: str) -> str:
        with self._lock:
            return self.customers.setdefault((provider, subject), customer_id)

    def apply_event(
        self,
        provider: str,
        event_id: str,
        *,
        invoice_id: str,
        currency: str,
        status: PaymentStatus,
        at: datetime,
    ) -> EventOutcome:
        with self._lock:
            current = self.items.get((invoice_id, currency))
            if current is None:
                return EventOutcome.UNKNOWN
            if (provider, event_id) in self.events:
                return EventOutcome.DUPLICATE
            self.events[(provider, event_id)] = status
            if not moves_forward(current.status, status):
                return EventOutcome.UNCHANGED
            self.items[(invoice_id, currency)] = InvoicePayment(
                invoice_id, currency, current.provider, current.reference, status, at, current.url
            )
            return EventOutcome.APPLIED


def dynamodb_store(settings: Settings) -> PaymentStore:
    return DynamoPaymentStore(settings)


def memory_store(audit: MemoryAuditLog) -> PaymentStore:
    return MemoryPaymentStore()
