"""Stripe's API answered from recorded responses, through the library's own transport seam
(``stripe.HTTPClient``): no network, and every request Tally sent is kept for the tests.

The bodies (``infra/local/stripe_recorded/``, shared with the local stack's Stripe stand-in,
which answers from the same ``StripeAnswers``) are Stripe API objects as the API reference
shows them (customer, invoice, invoice item, event). A draft invoice's id, currency and
metadata follow the request, as Stripe's would, so a two-currency invoice gets two distinct
invoices; the rest of each body is as recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import stripe

from infra.local.stripe_standin import RECORDED, StripeAnswers, recorded

TEST_KEY = "sk_test_51RtTallyRecorded"
__all__ = ["RECORDED", "TEST_KEY", "RecordedStripe", "Sent", "recorded", "signed"]


@dataclass
class Sent:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


class RecordedStripe(stripe.HTTPClient):
    name = "recorded"

    def __init__(self, fail_with: tuple[int, dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.fail_with = fail_with  # answer every request with this (status, error body)

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        path = url.removeprefix("https://api.stripe.com")
        params = {k: v[-1] for k, v in parse_qs(post_data or "").items()}
        self.sent.append(Sent(method.upper(), path, params, dict(headers or {})))
        if self.fail_with:
            status, body = self.fail_with
            return json.dumps(body), status, {"request-id": "req_recorded"}
        body = self._answer(method.upper(), path, params)
        return json.dumps(body), 200, {"request-id": "req_recorded"}

    def _answer(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        body = StripeAnswers().answer(method, path, params)
        if body is None:
            raise AssertionError(f"no recorded response for {method} {path}")
        return body

    def close(self) -> None:
        pass


def signed(payload: bytes, secret: str, timestamp: int) -> str:
    """A ``Stripe-Signature`` header as Stripe makes it (docs.stripe.com/webhooks)."""
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    # Test-mode deliveries also carry a v0 scheme signature, which verifiers ignore.
    v0 = "6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
    return f"t={timestamp},v1={digest.hexdigest()},v0={v0}"
