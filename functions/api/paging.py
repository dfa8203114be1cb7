"""The page tokens of the API's listings, in one place.

A token works only for the caller it was issued to and the listing it came from, with the
same filters (its scope; ``tally.paging`` signs and checks it), so it cannot be replayed by
another user or against another listing. A route names its listing and filters once:

    pages = page_cursor(router, "resources", userId)
    page = use_case(..., start_key=pages.read_token(nextToken))
    ... next_token=pages.next_token(page.next_key)

The scope strings are part of every token issued: changing their shape invalidates the
listings clients are paging through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from api import context
from tally.errors import Invalid
from tally.paging import PageKeys, decode_token, encode_token


def page_scope(user_id: str, kind: str, *filters: object) -> str:
    """``kind:user:filter:...``: the listing, who pages it and every filter that shapes it
    (None as "None", a date as YYYY-MM-DD)."""
    return ":".join([kind, user_id, *(str(f) for f in filters)])


@dataclass(frozen=True)
class PageCursor:
    """The page tokens of one listing for one caller."""

    scope: str
    keys: PageKeys

    def read_token(self, token: str | None) -> dict[str, Any] | None:
        """The store's start key the token carries; None without a token (the first page)."""
        return decode_token(token, secret=self.keys, scope=self.scope)

    def next_token(self, key: dict[str, Any] | None) -> str | None:
        """The token of the page after this one; None on the last page."""
        return encode_token(key, secret=self.keys, scope=self.scope)

    def read_offset(self, token: str | None) -> int:
        """Where a listing paged by position resumes: 0 without a token."""
        offset = (self.read_token(token) or {}).get("offset", 0)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise Invalid.field("nextToken", "the page token is not valid")
        return offset

    def next_offset_token(self, offset: int | None) -> str | None:
        return self.next_token({"offset": offset} if offset is not None else None)


def page_cursor(app: BaseRouter, kind: str, *filters: object) -> PageCursor:
    """The page tokens of listing ``kind`` with these filters, bound to this request's caller."""
    return PageCursor(
        page_scope(context.current_caller(app).user_id, kind, *filters),
        context.settings().page_token_secret,
    )
