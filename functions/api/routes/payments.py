"""Payments: the chargeback journal (a balanced ledger export of the month's chargeback, for
accounting systems), issuing an invoice to the payment provider, and the provider's webhook.

The journal is read like the chargeback (costs:read at the organisation). Stripe is off unless
configured (``TALLY_PAYMENTS=stripe``): without it, issuing answers a 409 problem saying so and
the webhook is 404. The webhook is public (no Cognito token: Stripe calls it); its
``Stripe-Signature`` is its authorisation, checked before anything is read or written.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from api import context, payment_channels
from api.convert import invoice_payment_out
from api.payment_schemas import (
    InvoicePaymentOut,
    JournalAccountsOut,
    JournalEntryOut,
    JournalFormat,
    JournalLineOut,
    JournalOut,
    JournalTotalOut,
    WebhookOut,
)
from api.problems import responses
from api.schemas import ChargebackGroupBy, IsoMonth, JobId, Money
from tally.calendar import month_of
from tally.clock import system_now, utc_now
from tally.money import format_amount

if TYPE_CHECKING:
    from tally.payments.journal import Journal
    from tally.payments.port import InvoicePayment

router = Router()

CSV = "text/csv; charset=utf-8"


def journal_out(journal: Journal) -> JournalOut:
    return JournalOut(
        month=journal.month,
        group_by=journal.group_by.value,  # type: ignore[arg-type]
        metric=journal.metric.value,  # type: ignore[arg-type]
        final=journal.final,
        currencies=list(journal.currencies),
        accounts=JournalAccountsOut(expense=journal.accounts.expense, cloud=journal.accounts.cloud),
        entries=[
            JournalEntryOut(
                entry_id=e.entry_id,
                posting_date=e.posting_date.isoformat(),
                period=e.period,
                unit_id=e.unit_id,
                unit_name=e.unit_name,
                unit_kind=e.unit_kind,
                currency=e.currency,
                description=e.description,
                lines=[
                    JournalLineOut(
                        account=line.account,
                        side=line.side,  # type: ignore[arg-type]
                        amount=Money(amount=format_amount(line.amount), currency=e.currency),
                        cost_center=line.cost_center,
                    )
                    for line in e.lines
                ],
            )
            for e in journal.entries
        ],
        totals=[
            JournalTotalOut(
                currency=currency,
                debit=format_amount(journal.totals(currency)[0]),
                credit=format_amount(journal.totals(currency)[1]),
            )
            for currency in journal.currencies
        ],
    )


@router.get(
    "/billing/organisation/chargeback/journal",
    summary="The month's chargeback as a balanced ledger journal (CSV or JSON)",
    description="For `month` (YYYY-MM, default the current one) and `groupBy` (as the "
    "chargeback): one entry per unit and currency, debiting the expense account (with the "
    "unit's cost center) and crediting the central cloud-costs account by the unit's "
    "chargeback total; the no-team line and the separately kept unallocated cost are entries "
    "too. Debits equal credits in every currency; currencies are never added together. "
    "`format=csv` answers the same entries as a CSV file (two rows per entry). The account "
    "codes are settings (docs/deploy.md). Needs costs:read at the organisation.",
    responses={
        **responses(200, JournalOut, 403),
        200: {
            "description": "the journal (JSON, or CSV with format=csv)",
            "content": {"application/json": {"model": JournalOut}, "text/csv": {}},
        },
    },
    tags=["admin"],
)
def get_journal(
    month: Annotated[IsoMonth | None, Query()] = None,
    groupBy: Annotated[ChargebackGroupBy, Query()] = "team",
    format: Annotated[JournalFormat, Query()] = "json",
) -> Response[str]:
    from tally.payments.journal import chargeback_journal, journal_csv

    chosen = month or month_of(context.today())
    journal = chargeback_journal(context.view(router), month=chosen, group_by=groupBy)
    if format == "csv":
        name = f"tally-journal-{journal.month}-{journal.group_by.value}.csv"
        return Response(
            status_code=200,
            content_type=CSV,
            body=journal_csv(journal, now=utc_now().astimezone(UTC)),
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(
        status_code=200,
        content_type="application/json",
        body=journal_out(journal).model_dump_json(by_alias=True),
    )


def _payments_body(payments: list[InvoicePayment]) -> str:
    return (
        "["
        + ",".join(invoice_payment_out(p).model_dump_json(by_alias=True) for p in payments)
        + "]"
    )


@router.post(
    "/invoices/<invoiceId>/payment",
    summary="Issue an invoice to the payment provider (Stripe)",
    description="Issues a ready invoice of a final month as Stripe invoices, one per currency "
    "it bills (a customer per user or cost center, an item per line, finalized and sent by "
    "Stripe): 201 with the payments (`issued`, or `paid` for a zero total). Issued before: 200 "
    "with the same payments, nothing new at Stripe. 409 when payments are not configured "
    "(`TALLY_PAYMENTS`), the invoice is not ready, its month is not final, or its figures "
    "changed since it was made; 503 with Retry-After when Stripe cannot be reached or fails. "
    "Needs payments:issue at the organisation (finance and admins).",
    responses={
        **responses(201, list[InvoicePaymentOut], 403, 409, 503),
        200: {
            "description": "issued before: the same payments",
            "content": {"application/json": {"model": list[InvoicePaymentOut]}},
        },
    },
    tags=["payments"],
)
def issue_payment(invoiceId: Annotated[JobId, Path()]) -> Response[str]:
    from tally.payments.invoicing import issue_invoice

    payments, made = issue_invoice(
        context.view(router), invoiceId, payment_channels.provider(), now=utc_now()
    )
    return Response(
        status_code=201 if made else 200,
        content_type="application/json",
        body=_payments_body(payments),
    )


@router.post(
    "/payments/stripe/webhook",
    summary="Stripe's webhook: invoice paid or voided",
    description="Public (no sign-in: Stripe calls it); the `Stripe-Signature` header must sign "
    "the raw body with the endpoint's secret within 5 minutes, else 400 and nothing changes. "
    "`invoice.paid` and `invoice.voided` of invoices Tally issued set their payment's status "
    "(issued -> paid / void, never back); each event id takes effect once: a redelivery "
    "answers 200 with `duplicate: true` and changes nothing. Other event types: 200, ignored. "
    "404 when payments are not configured.",
    responses={status: r for status, r in responses(200, WebhookOut, 400).items() if status != 401},
    tags=["payments"],
    security=[{}],
)
def stripe_webhook() -> WebhookOut:
    from tally.errors import NotFound
    from tally.payments.invoicing import apply_event
    from tally.payments.stripe_invoices import PROVIDER
    from tally.payments.webhook import SIGNATURE_HEADER, parse_event, verify
    from tally.store.payments import EventOutcome

    secrets = payment_channels.webhook_secrets()
    if secrets is None:
        raise NotFound("payments are not configured")
    event = router.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    payload = (event.decoded_body or "").encode()
    # Security time: Stripe signs on the real clock, whatever business date is pinned.
    verify(payload, headers.get(SIGNATURE_HEADER.lower()), secrets, now=system_now())
    outcome = apply_event(context.stores(), PROVIDER, parse_event(payload), now=utc_now())
    return WebhookOut(duplicate=outcome is EventOutcome.DUPLICATE)
