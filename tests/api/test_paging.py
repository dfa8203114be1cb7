"""The API's page tokens (``api.paging``): one scope per listing, bound to the caller, in the
exact shape tokens already carry; offsets checked before they reach a use case."""

from __future__ import annotations

from datetime import date

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router

from tally.errors import Invalid
from tally.paging import PageKeys, encode_token
from tests.conftest import ALICE, BOB

KEYS = PageKeys.of("s3cret")


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (
            ("u-1", "cost-lines", "u-2", date(2028, 2, 29), None, None, "ec2", "-cost"),
            "cost-lines:u-1:u-2:2028-02-29:None:None:ec2:-cost",
        ),
        (("u-1", "all-users", "2026-11"), "all-users:u-1:2026-11"),
        (("u-1", "resources", "u-2"), "resources:u-1:u-2"),
        # the claims listing's view is part of its kind: "claims:<view>:<caller>"
        (("u-1", "claims:to-approve"), "claims:to-approve:u-1"),
    ],
)
def test_scopes_keep_the_shape_issued_tokens_carry(scope: tuple[str, ...], expected: str) -> None:
    from api.paging import page_scope

    assert page_scope(*scope) == expected


def test_a_key_round_trips_and_the_last_page_has_no_token() -> None:
    from api.paging import PageCursor

    pages = PageCursor("resources:u-1:u-1", KEYS)
    key = {"pk": "USER#u-1", "sk": "ASSIGN#a"}
    assert pages.read_token(pages.next_token(key)) == key
    assert pages.next_token(None) is None
    assert pages.read_token(None) is None
    assert pages.read_token("") is None


def test_a_token_of_the_hand_built_scope_is_still_read() -> None:
    from api.paging import PageCursor, page_scope

    old = encode_token(
        {"offset": 50}, secret=KEYS, scope="cost-lines:u-1:u-1:None:None:None:None:-cost"
    )
    pages = PageCursor(
        page_scope("u-1", "cost-lines", "u-1", None, None, None, None, "-cost"), KEYS
    )
    assert pages.read_offset(old) == 50


def test_a_token_of_another_listing_or_caller_is_refused() -> None:
    from api.paging import PageCursor

    token = PageCursor("resources:u-1:u-1", KEYS).next_token({"k": 1})
    for scope in ("resources:u-2:u-1", "resources:u-1:u-2", "all-users:u-1:u-1"):
        with pytest.raises(Invalid) as refused:
            PageCursor(scope, KEYS).read_token(token)
        assert refused.value.errors[0].field == "nextToken"


def test_offsets() -> None:
    from api.paging import PageCursor

    pages = PageCursor("cost-lines:u-1", KEYS)
    assert pages.read_offset(None) == 0
    assert pages.read_offset(pages.next_offset_token(0)) == 0
    assert pages.read_offset(pages.next_offset_token(150)) == 150
    assert pages.next_offset_token(None) is None
    assert pages.read_offset(pages.next_token({})) == 0


@pytest.mark.parametrize("offset", [-1, "5", 1.5, True, None, [1]])
def test_a_signed_but_impossible_offset_is_refused(offset: object) -> None:
    from api.paging import PageCursor

    pages = PageCursor("cost-lines:u-1", KEYS)
    with pytest.raises(Invalid) as refused:
        pages.read_offset(pages.next_token({"offset": offset}))
    assert refused.value.errors[0].field == "nextToken"


def test_the_cursor_binds_the_requests_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    from api import context
    from api.paging import page_cursor

    monkeypatch.setattr(context, "settings", lambda: type("S", (), {"page_token_secret": KEYS}))
    router = Router()
    router.append_context(caller=ALICE)
    alices = page_cursor(router, "resources", BOB.user_id)
    assert alices.scope == f"resources:{ALICE.user_id}:{BOB.user_id}"
    token = alices.next_token({"k": 1})
    router.append_context(caller=BOB)
    with pytest.raises(Invalid):
        page_cursor(router, "resources", BOB.user_id).read_token(token)
