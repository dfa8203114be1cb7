"""Opaque page tokens: a store's page key, signed and bound to the caller and the listing.

A token only works for the caller and listing it was issued for; a forged or altered token
is refused before it reaches DynamoDB (where a foreign ExclusiveStartKey would be a 500).
Tokens are signed with the current key and accepted under any key of the set, so a key can be
rotated without breaking the listings clients are paging through (docs/deploy.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tally.errors import Invalid

_SIG_BYTES = 16


@dataclass(frozen=True)
class PageKeys:
    """The HMAC keys of page tokens: ``current`` signs; it and ``accepted`` verify."""

    current: bytes
    accepted: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if not self.current or not all(self.accepted):
            raise ValueError("a page-token key must not be empty")

    @classmethod
    def of(cls, current: str | bytes, *accepted: str | bytes) -> PageKeys:
        def raw(key: str | bytes) -> bytes:
            return key.encode() if isinstance(key, str) else key

        return cls(raw(current), tuple(raw(k) for k in accepted))

    @classmethod
    def from_secret(cls, value: Mapping[str, Any]) -> PageKeys:
        """The keys from the secret's JSON: ``{"current": ..., "previous": ..., "next": ...}``.

        ``previous`` keeps the tokens of the last key valid after a rotation; ``next`` is a
        key announced before it becomes ``current``, so every warm function accepts it by the
        time any function signs with it. Both are optional.
        """
        current = value.get("current")
        if not isinstance(current, str) or not current:
            raise ValueError("the page-token secret has no 'current' key")
        others = [value.get(name) for name in ("previous", "next")]
        if any(k is not None and (not isinstance(k, str) or not k) for k in others):
            raise ValueError("the page-token secret's 'previous' and 'next' must be strings")
        return cls.of(current, *(k for k in others if k))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, scope: str, payload: bytes) -> bytes:
    return hmac.new(secret, scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:_SIG_BYTES]


def encode_token(key: dict[str, Any] | None, *, secret: PageKeys, scope: str) -> str | None:
    if key is None:
        return None
    payload = json.dumps(key, separators=(",", ":"), sort_keys=True, default=str).encode()
    return _b64(_sign(secret.current, scope, payload) + payload)


def decode_token(token: str | None, *, secret: PageKeys, scope: str) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        raw = _unb64(token)
    except (ValueError, TypeError):
        raise Invalid.field("nextToken", "the page token is not valid") from None
    sig, payload = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
    # Every key is tried (no early exit), so the time taken does not tell which key matched.
    matches = [
        hmac.compare_digest(sig, _sign(k, scope, payload))
        for k in (secret.current, *secret.accepted)
    ]
    if not any(matches):
        raise Invalid.field("nextToken", "the page token is not valid for this request")
    value = json.loads(payload)
    if not isinstance(value, dict):
        raise Invalid.field("nextToken", "the page token is not valid")
    return value
