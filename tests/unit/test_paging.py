from __future__ import annotations

import pytest

from tally.errors import Invalid
from tally.paging import decode_token, encode_token

SECRET = b"s3cret"


def test_round_trip_in_scope() -> None:
    key = {"pk": "USER#a", "sk": "2026-11-01#x"}
    token = encode_token(key, secret=SECRET, scope="resources:alice")
    assert decode_token(token, secret=SECRET, scope="resources:alice") == key
    assert encode_token(None, secret=SECRET, scope="x") is None
    assert decode_token(None, secret=SECRET, scope="x") is None


@pytest.mark.parametrize("scope", ["resources:bob", "all-users:alice"])
def test_token_is_bound_to_caller_and_listing(scope: str) -> None:
    token = encode_token({"k": 1}, secret=SECRET, scope="resources:alice")
    with pytest.raises(Invalid) as err:
        decode_token(token, secret=SECRET, scope=scope)
    assert err.value.errors[0].field == "nextToken"


@pytest.mark.parametrize("token", ["!!!", "abc", "A" * 40, "eyJrIjoxfQ"])
def test_forged_tokens_are_refused(token: str) -> None:
    with pytest.raises(Invalid):
        decode_token(token, secret=SECRET, scope="s")
