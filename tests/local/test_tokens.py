"""Token checks and claim rendering without a server."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.tokens import (
    LIST_CLAIMS_BRACKETS,
    CognitoTokenVerifier,
    InvalidToken,
    KeySetUnavailable,
    bearer_token,
    render_claims,
)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("", None),
        ("abc.def.ghi", "abc.def.ghi"),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer   abc.def.ghi ", "abc.def.ghi"),
        ("Bearer ", "Bearer"),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_claims_render_as_api_gateway_strings() -> None:
    claims: dict[str, Any] = {
        "sub": "abc",
        "cognito:groups": ["admins", "users"],
        "email_verified": True,
        "auth_time": 1680629979,
        "exp": 1680633579,
        "iat": 1680629979,
        "address": {"city": "Seattle"},
    }

    rendered = render_claims(claims)

    assert rendered == {
        "sub": "abc",
        "cognito:groups": "admins,users",
        "email_verified": "true",
        "auth_time": "1680629979",
        "exp": "Tue Apr 04 18:39:39 UTC 2023",
        "iat": "Tue Apr 04 17:39:39 UTC 2023",
        "address": '{"city":"Seattle"}',
    }
    assert render_claims({"cognito:groups": ["admins"]})["cognito:groups"] == "admins"
    assert render_claims(claims, LIST_CLAIMS_BRACKETS)["cognito:groups"] == "[admins users]"


class FakeKeySet:
    def __init__(self) -> None:
        self.fetches = 0
        self.now = 1000.0

    def fetch(self, url: str) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": []}

    def clock(self) -> float:
        return self.now


def _token_with_kid(kid: str) -> str:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"sub": "x"}, key, algorithm="RS256", headers={"kid": kid})


def test_unknown_key_refetches_the_key_set_but_not_on_every_request() -> None:
    keys = FakeKeySet()
    verifier = CognitoTokenVerifier(
        jwks_url="http://keys", user_pool_id="p", client_id="c", fetch=keys.fetch, clock=keys.clock
    )
    token = _token_with_kid("new-kid")

    for _ in range(3):
        with pytest.raises(InvalidToken):
            verifier.verify(token)
    assert keys.fetches == 1

    keys.now += 60
    with pytest.raises(InvalidToken):
        verifier.verify(token)
    assert keys.fetches == 2


def test_unreachable_key_set_is_not_the_callers_fault() -> None:
    def down(url: str) -> dict[str, Any]:
        raise OSError("connection refused")

    verifier = CognitoTokenVerifier(
        jwks_url="http://keys", user_pool_id="p", client_id="c", fetch=down
    )

    with pytest.raises(KeySetUnavailable):
        verifier.verify(_token_with_kid("k"))
