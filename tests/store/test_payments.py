"""The payment store's contract, against DynamoDB (moto) and the in-memory fake alike: a
payment per invoice and currency recorded once; a customer per subject kept (first wins); an
event applied at most once, only forward, and not at all for a payment Tally does not hold."""

from __future__ import annotations

from datetime import UTC, datetime

from tally.payments.port import InvoicePayment, PaymentStatus
from tally.store import Stores
from tally.store.payments import EventOutcome

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def payment(currency: str = "USD", status: PaymentStatus = PaymentStatus.ISSUED) -> InvoicePayment:
    return InvoicePayment(
        "job-1", currency, "stripe", f"in_{currency}", status, AT, "https://invoice.stripe.com/i/x"
    )


def test_payments_are_recorded_once_per_currency(stores: Stores) -> None:
    assert stores.payments.payments("job-1") == []
    assert stores.payments.record(payment("USD"))
    assert stores.payments.record(payment("EUR"))
    assert not stores.payments.record(payment("USD", PaymentStatus.PAID))
    assert stores.payments.payments("job-1") == [payment("EUR"), payment("USD")]


def test_the_first_customer_is_kept(stores: Stores) -> None:
    assert stores.payments.customer("stripe", "user:u-alice") is None
    assert stores.payments.set_customer("stripe", "user:u-alice", "cus_1") == "cus_1"
    assert stores.payments.set_customer("stripe", "user:u-alice", "cus_2") == "cus_1"
    assert stores.payments.customer("stripe", "user:u-alice") == "cus_1"


def test_an_event_is_applied_once_and_only_forward(stores: Stores) -> None:
    stores.payments.record(payment("USD"))

    def apply(event_id: str, status: PaymentStatus, currency: str = "USD") -> EventOutcome:
        return stores.payments.apply_event(
            "stripe", event_id, invoice_id="job-1", currency=currency, status=status, at=LATER
        )

    assert apply("evt_1", PaymentStatus.PAID) is EventOutcome.APPLIED
    assert stores.payments.payments("job-1") == [
        InvoicePayment(
            "job-1",
            "USD",
            "stripe",
            "in_USD",
            PaymentStatus.PAID,
            LATER,
            "https://invoice.stripe.com/i/x",
        )
    ]
    assert apply("evt_1", PaymentStatus.PAID) is EventOutcome.DUPLICATE
    assert apply("evt_2", PaymentStatus.VOID) is EventOutcome.UNCHANGED
    assert apply("evt_2", PaymentStatus.VOID) is EventOutcome.DUPLICATE
    assert apply("evt_3", PaymentStatus.ISSUED) is EventOutcome.UNCHANGED
    assert stores.payments.payments("job-1")[0].status is PaymentStatus.PAID
    assert apply("evt_4", PaymentStatus.PAID, currency="EUR") is EventOutcome.UNKNOWN
