"""Cognito ID-token checks, as API Gateway's Cognito user-pool authorizer makes them.

The key set comes from moto (``{endpoint}/{pool}/.well-known/jwks.json``), but moto's tokens
name the real AWS host in ``iss``: the issuer is checked by user pool id, not by endpoint.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt

ALGORITHM = "RS256"
# A flood of tokens naming unknown keys must not turn into a flood of key-set fetches.
MIN_REFETCH_SECONDS = 5.0


class InvalidToken(Exception):
    """The caller gets 401; ``str(error)`` says why (shown to the local developer)."""


class KeySetUnavailable(Exception):
    """The key set could not be fetched: the gateway's fault, not the caller's."""


def _fetch_json(url: str) -> dict[str, Any]:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"key set URL must be http(s): {url}")
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - scheme checked above
        return json.load(response)


def bearer_token(header: str | None) -> str | None:
    """The token from an Authorization header: raw, or ``Bearer <token>``."""
    if not header:
        return None
    value = header.strip()
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


class CognitoTokenVerifier:
    """Verifies a user pool's ID tokens for one app client (RS256, exp, aud, iss, token_use)."""

    def __init__(
        self,
        *,
        jwks_url: str,
        user_pool_id: str,
        client_id: str,
        fetch: Callable[[str], dict[str, Any]] = _fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jwks_url = jwks_url
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            document = self._fetch(self.jwks_url)
            keys = {
                key["kid"]: jwt.PyJWK.from_dict(key)
                for key in document.get("keys", [])
                if key.get("kid") and key.get("kty") == "RSA"
            }
        except Exception as error:
            raise KeySetUnavailable(f"could not read the key set at {self.jwks_url}") from error
        self._keys = keys
        self._fetched_at = self._clock()

    def _key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if kid not in self._keys:
                recently = (
                    self._fetched_at is not None
                    and self._clock() - self._fetched_at < MIN_REFETCH_SECONDS
                )
                if not recently:
                    self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("the token was not signed by a key of this user pool")
        return key

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; ``InvalidToken`` if it must be refused.

        ``KeySetUnavailable`` when the key set cannot be fetched.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken("the token is not a readable JWT") from error
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"the token must be signed with {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key(kid),
                algorithms=[ALGORITHM],
                audience=self.client_id,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("the token has expired") from error
        except jwt.InvalidAudienceError as error:
            raise InvalidToken("the token was issued to another app client") from error
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token is invalid: {error}") from error
        if claims["token_use"] != "id":  # noqa: S105 - a claim value, not a password
            raise InvalidToken(f"an ID token is required, not token_use {claims['token_use']!r}")
        issuer = urlsplit(str(claims["iss"]))
        if issuer.scheme != "https" or issuer.path != f"/{self.user_pool_id}":
            raise InvalidToken("the token was issued by another user pool")
        return claims


# How API Gateway's REST proxy integration renders array claims such as cognito:groups.
LIST_CLAIMS_COMMA = "comma"  # "admins,users" (the default)
LIST_CLAIMS_BRACKETS = "brackets"  # "[admins users]" (HTTP API JWT authorizer style)
_TIME_CLAIMS = ("exp", "iat")


def render_claims(claims: Mapping[str, Any], list_style: str = LIST_CLAIMS_COMMA) -> dict[str, str]:
    """Claims as a REST API Cognito authorizer hands them to Lambda: every value a string.

    Captured events show ``exp``/``iat`` as dates ("Tue Apr 04 18:39:39 UTC 2023"),
    ``auth_time`` as epoch seconds, booleans as "true"/"false", and a one-group
    ``cognito:groups`` as the bare name ("admins"). Several groups are joined with commas by
    default; ``list_style="brackets"`` gives "[admins users]" so a handler can be tested
    against both shapes seen in the wild.
    """
    rendered: dict[str, str] = {}
    for name, value in claims.items():
        if name in _TIME_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, tz=UTC)
            rendered[name] = moment.strftime("%a %b %d %H:%M:%S UTC %Y")
        elif isinstance(value, bool):
            rendered[name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            items = [str(item) for item in value]
            if list_style == LIST_CLAIMS_BRACKETS:
                rendered[name] = "[" + " ".join(items) + "]"
            else:
                rendered[name] = ",".join(items)
        elif isinstance(value, dict):
            rendered[name] = json.dumps(value, separators=(",", ":"))
        else:
            rendered[name] = str(value)
    return rendered
