"""Signed, expiring unsubscribe tokens for the digest's one-click link (RFC 8058).

The token is a page-token-style HMAC (``tally.paging``) over the user id and an expiry, under
the scope "unsubscribe-digest", so no other token signed with the same keys (a page token)
passes as one. Keys rotate like the page-token keys: ``current`` signs, every key verifies,
and a token signed before a rotation keeps working while its key is ``previous``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from tally.errors import Invalid
from tally.paging import PageKeys, decode_token, encode_token

PURPOSE = "unsubscribe-digest"
DEFAULT_TTL = timedelta(days=30)


class HmacUnsubscribeSigner:
    """``keys`` is the key set, or a function returning it (a Secrets Manager read with a
    cache, so a rotation reaches warm functions)."""

    def __init__(
        self, keys: PageKeys | Callable[[], PageKeys], *, ttl: timedelta = DEFAULT_TTL
    ) -> None:
        self._keys = keys
        self.ttl = ttl

    def _key_set(self) -> PageKeys:
        return self._keys if isinstance(self._keys, PageKeys) else self._keys()

    def sign(self, user_id: str, *, now: datetime) -> str:
        if not user_id:
            raise ValueError("an unsubscribe token needs a user id")
        expires = int((_aware(now) + self.ttl).timestamp())
        token = encode_token(
            {"u": user_id, "p": PURPOSE, "e": expires}, secret=self._key_set(), scope=PURPOSE
        )
        assert token is not None
        return token

    def verify(self, token: str, *, now: datetime) -> str:
        try:
            value = decode_token(token, secret=self._key_set(), scope=PURPOSE)
        except Invalid:
            raise Invalid.field("token", "the unsubscribe link is not valid") from None
        except ValueError:  # a payload that is not JSON (cannot carry a valid signature)
            raise Invalid.field("token", "the unsubscribe link is not valid") from None
        if value is None:
            raise Invalid.field("token", "the unsubscribe link has no token")
        user_id, purpose, expires = value.get("u"), value.get("p"), value.get("e")
        if purpose != PURPOSE or not isinstance(user_id, str) or not user_id:
            raise Invalid.field("token", "the unsubscribe link is not valid")
        if not isinstance(expires, int) or isinstance(expires, bool):
            raise Invalid.field("token", "the unsubscribe link is not valid")
        if _aware(now).timestamp() >= expires:
            raise Invalid.field(
                "token", "the unsubscribe link has expired: change digests in the settings"
            )
        return user_id


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("unsubscribe tokens need an aware datetime (tally.clock.utc_now())")
    return moment
