from __future__ import annotations

import pytest

from tally.errors import Invalid
from tally.paging import PageKeys, decode_token, encode_token

SECRET = PageKeys.of("s3cret")


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


class TestRotation:
    """Issue 9, finding 6: two keys are valid while a key is rotated."""

    old = PageKeys.of("key-1")
    rotated = PageKeys.of("key-2", "key-1")  # current key-2, previous key-1

    def test_a_token_of_the_previous_key_still_pages(self) -> None:
        token = encode_token({"k": 1}, secret=self.old, scope="s")
        assert decode_token(token, secret=self.rotated, scope="s") == {"k": 1}

    def test_new_tokens_are_signed_with_the_current_key(self) -> None:
        token = encode_token({"k": 1}, secret=self.rotated, scope="s")
        assert decode_token(token, secret=PageKeys.of("key-2"), scope="s") == {"k": 1}
        with pytest.raises(Invalid):
            decode_token(token, secret=self.old, scope="s")

    def test_a_retired_key_pages_no_more(self) -> None:
        token = encode_token({"k": 1}, secret=self.old, scope="s")
        with pytest.raises(Invalid):
            decode_token(token, secret=PageKeys.of("key-3", "key-2"), scope="s")


class TestSecretValue:
    def test_current_previous_and_next(self) -> None:
        keys = PageKeys.from_secret({"current": "b", "previous": "a", "next": "c"})
        assert keys == PageKeys(b"b", (b"a", b"c"))
        assert PageKeys.from_secret({"current": "b"}) == PageKeys(b"b")

    @pytest.mark.parametrize(
        "value",
        [{}, {"current": ""}, {"current": 7}, {"current": "b", "previous": ""}, {"previous": "a"}],
    )
    def test_a_malformed_secret_is_refused(self, value: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            PageKeys.from_secret(value)
