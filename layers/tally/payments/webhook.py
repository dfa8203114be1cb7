"""A payment provider's webhook: the signature checked, the event read, applied once.

Stripe signs each delivery (docs.stripe.com/webhooks#verify-manually): the
``Stripe-Signature`` header is ``t=<unix time>,v1=<hex>[,v1=<hex>...]``, each ``v1`` the
HMAC-SHA256, keyed by the endpoint's signing secret, of ``<t>.<raw body>``. A delivery is
accepted when one ``v1`` matches (compared in constant time) and ``t`` is within the tolerance
of now; now comes from Tally's clock (``tally.clock``), so tests pin it. This is the scheme
``stripe.Webhook.construct_event`` checks, done here without importing ``stripe`` (it reads
the wall clock, and the webhook's cold start stays small).

Events acted on: ``invoice.paid`` (paid) and ``invoice.voided`` (void), for invoices Tally
issued (their ``metadata.tallyInvoiceId``). Any other type is acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from tally.errors import BadRequest
from tally.payments.port import PaymentEvent, PaymentStatus

TOLERANCE_SECONDS = 300  # Stripe's libraries' default
SIGNATURE_HEADER = "Stripe-Signature"
EVENT_STATUS = {"invoice.paid": PaymentStatus.PAID, "invoice.voided": PaymentStatus.VOID}


class BadSignature(BadRequest):
    """The delivery is not signed with the endpoint's secret (or too old): 400."""


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``v1`` signature of ``payload`` at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    payload: bytes,
    header: str | None,
    secrets: list[str],
    *,
    now: datetime,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise ``BadSignature`` unless ``header`` signs ``payload`` with one of ``secrets``
    (a rotation keeps the old secret valid for a while) within ``tolerance`` seconds."""
    if not header:
        raise BadSignature(f"the {SIGNATURE_HEADER} header is missing")
    timestamp: int | None = None
    given: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise BadSignature(f"the {SIGNATURE_HEADER} header is malformed") from None
        elif key == "v1":
            given.append(value)
    if timestamp is None or not given:
        raise BadSignature(f"the {SIGNATURE_HEADER} header is malformed")
    if abs(now.timestamp() - timestamp) > tolerance:
        raise BadSignature("the signature's timestamp is outside the tolerance")
    expected = [sign(payload, secret, timestamp) for secret in secrets if secret]
    if not any(hmac.compare_digest(e, g) for e in expected for g in given):
        raise BadSignature("the signature does not match")


def parse_event(payload: bytes) -> PaymentEvent:
    """The event of a verified delivery (``BadRequest`` when it is not a Stripe event)."""
    try:
        event: Any = json.loads(payload)
        event_id, event_type = str(event["id"]), str(event["type"])
        obj = event.get("data", {}).get("object", {}) or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadRequest("the body is not a Stripe event") from None
    is_invoice = isinstance(obj, dict) and obj.get("object") == "invoice"
    metadata = obj.get("metadata") if is_invoice else None
    if not isinstance(metadata, dict):
        metadata = {}

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) and value else None

    return PaymentEvent(
        event_id=event_id,
        event_type=event_type,
        invoice_id=text(metadata.get("tallyInvoiceId")),
        currency=text(metadata.get("tallyCurrency")),
        reference=text(obj.get("id")) if is_invoice else None,
        status=EVENT_STATUS.get(event_type) if is_invoice else None,
    )
