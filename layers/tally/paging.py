"""Opaque page tokens: a store's page key, signed and bound to the caller and the listing.

A token only works for the caller and listing it was issued for; a forged or altered token
is refused before it reaches DynamoDB (where a foreign ExclusiveStartKey would be a 500).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from tally.errors import Invalid

_SIG_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_token(key: dict[str, Any] | None, *, secret: bytes, scope: str) -> str | None:
    if key is None:
        return None
    payload = json.dumps(key, separators=(",", ":"), sort_keys=True, default=str).encode()
    sig = hmac.new(secret, scope.encode() + b"\0" + payload, hashlib.sha256).digest()
    return _b64(sig[:_SIG_BYTES] + payload)


def decode_token(token: str | None, *, secret: bytes, scope: str) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        raw = _unb64(token)
    except (ValueError, TypeError):
        raise Invalid.field("nextToken", "the page token is not valid") from None
    sig, payload = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
    expected = hmac.new(secret, scope.encode() + b"\0" + payload, hashlib.sha256).digest()
    if not hmac.compare_digest(sig, expected[:_SIG_BYTES]):
        raise Invalid.field("nextToken", "the page token is not valid for this request")
    value = json.loads(payload)
    if not isinstance(value, dict):
        raise Invalid.field("nextToken", "the page token is not valid")
    return value
