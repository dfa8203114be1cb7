"""The outside security review's findings on the API layer (issue 9): the groups claim, the
token's app client, authorization before page tokens, hostile bodies and dates, and the
headers every answer carries. Each test failed on the code the review probed."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from api.openapi import document
from tests.api.events import claims_of, rest_event
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api, LambdaContext, Reply, World

PROBLEM = "application/problem+json"


def call_with_claims(method: str, url: str, claims: dict[str, Any], **kw: Any) -> Reply:
    from api.handler import lambda_handler

    event = rest_event(method, url, caller=ALICE, **kw)
    event["requestContext"]["authorizer"] = {"claims": claims}
    out = lambda_handler(event, LambdaContext())
    headers = {k: v[-1] for k, v in (out.get("multiValueHeaders") or {}).items()}
    headers |= out.get("headers") or {}
    return Reply(out["statusCode"], headers, json.loads(out["body"]) if out["body"] else None)


# --- finding 2: the groups claim -------------------------------------------------------


def token_for(claims: dict[str, Any]) -> str:
    """A token as the client sent it; API Gateway verified its signature before the handler
    runs, so the handler reads only its payload."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part(claims)}.c2lnbmF0dXJl"


def with_token(groups: list[str], **overrides: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The authorizer's claims (the list flattened as API Gateway's REST API renders it) and
    the Authorization header carrying the token they came from."""
    token_claims = {**claims_of(ALICE), "jti": "j-1", "cognito:groups": groups}
    rendered = {**token_claims, "cognito:groups": ",".join(groups), **overrides}
    return rendered, {"Authorization": token_for(token_claims)}


def test_the_group_finance_comma_admins_is_not_the_admins_group(api: Api) -> None:
    """The review's reproduction: a pool group named "finance,admins", rendered by API
    Gateway as "finance,admins"; the token itself holds one name."""
    claims, headers = with_token(["finance,admins"])
    reply = call_with_claims("GET", "/api/billing/all-users", claims, headers=headers)
    assert reply.status == 403, reply.body
    assert reply.headers["Content-Type"] == PROBLEM


def test_an_admin_with_several_groups_is_read_from_the_token(api: Api) -> None:
    claims, headers = with_token(["admins", "users"])
    assert call_with_claims("GET", "/api/billing/all-users", claims, headers=headers).status == 200


@pytest.mark.parametrize(
    "overrides", [{"sub": "u-bob"}, {"jti": "j-2"}, {"aud": "test-client", "sub": "u-x"}]
)
def test_a_token_that_is_not_the_verified_one_is_not_read(
    api: Api, overrides: dict[str, str]
) -> None:
    """The header's token must be the one whose claims the authorizer passed: otherwise the
    rendered claim is read, and a delimiter in it withholds admin."""
    claims, headers = with_token(["finance,admins"])
    claims = {**claims, **overrides, "cognito:groups": "[finance,admins users]"}
    reply = call_with_claims("GET", "/api/billing/all-users", claims, headers=headers)
    assert reply.status == 403


@pytest.mark.parametrize(
    "groups",
    [
        "[finance,admins users]",  # the HTTP API rendering of the name "finance,admins"
        ["finance,admins"],  # a JSON list names it exactly
        ["finance admins", "users"],
        "users, admins",  # not a rendering API Gateway makes
        "admins,",
    ],
)
def test_a_rendered_group_name_with_a_delimiter_never_makes_an_admin(
    api: Api, groups: object
) -> None:
    claims: dict[str, Any] = {**claims_of(ALICE), "cognito:groups": groups}
    reply = call_with_claims("GET", "/api/billing/all-users", claims)
    assert reply.status == 403, reply.body
    assert reply.headers["Content-Type"] == PROBLEM


@pytest.mark.parametrize("groups", ["admins", "admins,users", "[admins users]", ["admins"]])
def test_the_admins_group_in_every_rendering_is_an_admin(api: Api, groups: object) -> None:
    claims: dict[str, Any] = {**claims_of(ADMIN), "cognito:groups": groups}
    assert call_with_claims("GET", "/api/billing/all-users", claims).status == 200


# --- finding 8: the token's app client -------------------------------------------------


@pytest.mark.parametrize("aud", ["another-client", "", None, "test-client,another"])
def test_a_token_of_another_app_client_is_unauthenticated(api: Api, aud: str | None) -> None:
    claims: dict[str, Any] = {**claims_of(ALICE), "aud": aud}
    if aud is None:
        del claims["aud"]
    reply = call_with_claims("GET", "/api/me", claims)
    assert reply.status == 401
    assert reply.headers["Content-Type"] == PROBLEM


def test_every_configured_client_is_accepted(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALLY_APP_CLIENT_IDS", "cli-client, test-client")
    assert call_with_claims("GET", "/api/me", claims_of(ALICE)).status == 200
    claims = {**claims_of(ALICE), "aud": "cli-client"}
    assert call_with_claims("GET", "/api/me", claims).status == 200


def test_without_configured_clients_nothing_is_served(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALLY_APP_CLIENT_IDS")
    assert api.call("GET", "/api/me", ALICE).status == 500


# --- finding 4: authorization before the page token ------------------------------------


def _paged_routes() -> list[str]:
    """Every GET route that takes a nextToken and refuses some caller by who they are: a
    user's (``{userId}``) or the admins' (tag ``admin``), from the API's OpenAPI document."""
    found = []
    for path, ops in document()["paths"].items():
        get = ops.get("get", {})
        paged = any(p["name"] == "nextToken" for p in get.get("parameters", []))
        if paged and ("{userId}" in path or "admin" in get.get("tags", [])):
            found.append(path)
    return sorted(found)


def test_the_paged_routes_are_found() -> None:
    assert {
        "/api/billing/all-users",
        "/api/billing/user/{userId}/cost-lines",
        "/api/billing/user/{userId}/resources",
        "/api/billing/organisation/cost-lines",
        "/api/billing/unallocated/cost-lines",
    } <= set(_paged_routes())


@pytest.mark.parametrize("path", _paged_routes())
@pytest.mark.parametrize("token", ["forged", "A" * 60])
def test_a_forbidden_listing_is_403_whatever_its_page_token(
    api: Api, world: World, path: str, token: str
) -> None:
    url = path.replace("{userId}", "u-alice") + f"?nextToken={token}"
    # bob on alice's id; on the admins' listings, alice herself (not an admin)
    caller = BOB if "{userId}" in path else ALICE
    reply = api.call("GET", url, caller)
    assert reply.status == 403, reply.body
    assert reply.problem["status"] == 403
    # the owner (or an admin) still meets the token check
    owner = ALICE if "{userId}" in path else ADMIN
    assert api.call("GET", url, owner).status == 422


# --- finding 3: hostile bodies and dates ------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1_000, 30_000])
def test_a_deeply_nested_body_is_a_bad_request(api: Api, depth: int) -> None:
    reply = api.call("POST", "/api/billing/budgets", ADMIN, raw_body="[" * depth + "]" * depth)
    assert reply.status == 400, reply.body
    assert reply.problem["errors"] == [{"field": "body", "message": "nested too deep"}]


def test_brackets_inside_strings_are_not_nesting(api: Api) -> None:
    body = {"userId": "u-bob", "monthlyLimit": "5", "currency": "[" * 100 + "{" * 100}
    reply = api.call("POST", "/api/billing/budgets", ADMIN, body=body)
    assert reply.status == 422  # reaches validation: the currency is refused, not the body
    assert [e["field"] for e in reply.problem["errors"]] == ["currency"]


def test_an_oversized_body_is_too_large(api: Api) -> None:
    from api.handler import MAX_BODY_BYTES

    padded = json.dumps({"userId": "u-bob", "monthlyLimit": "5", "pad": "x" * MAX_BODY_BYTES})
    reply = api.call("POST", "/api/billing/budgets", ADMIN, raw_body=padded)
    assert reply.status == 413
    assert reply.problem["type"].endswith("/payload-too-large")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("startDate=9999-12-31", "startDate"),
        ("endDate=0001-01-01", "endDate"),
        ("startDate=0001-01-01", "startDate"),
        ("endDate=9999-12-31", "endDate"),
        ("startDate=9999-12-31&endDate=9999-12-31", "startDate"),
        ("startDate=1999-12-31&endDate=2000-01-05", "startDate"),
    ],
)
@pytest.mark.parametrize("route", ["costs", "cost-lines"])
def test_a_day_at_the_calendars_edge_is_refused(
    api: Api, route: str, query: str, field: str
) -> None:
    reply = api.call("GET", f"/api/billing/user/u-alice/{route}?{query}", ALICE)
    assert reply.status == 422, reply.body
    assert field in [e["field"] for e in reply.problem["errors"]]


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1999-12"])
def test_a_month_at_the_calendars_edge_is_refused(api: Api, month: str) -> None:
    reply = api.call("GET", f"/api/billing/all-users?month={month}", ADMIN)
    assert reply.status == 422, reply.body


# --- finding 8: headers on every answer -------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "caller", "status"),
    [
        ("GET", "/api/me", ALICE, 200),
        ("GET", "/api/billing/user/u-alice/summary", ALICE, 200),
        ("GET", "/api/billing/user/u-alice/summary", BOB, 403),
        ("GET", "/api/me", None, 401),
        ("GET", "/api/billing/nowhere", ALICE, 404),
        ("DELETE", "/api/me", ALICE, 405),
    ],
)
def test_answers_are_not_cached_or_sniffed(
    api: Api, method: str, url: str, caller: Any, status: int
) -> None:
    reply = api.call(method, url, caller)
    assert reply.status == status
    # Since issue 14 a successful read has an ETag: its reader's browser may keep it and must
    # revalidate it (api/caching.py); nothing else is kept, and no shared cache keeps either.
    kept = status == 200
    assert reply.headers["Cache-Control"] == ("private, no-cache" if kept else "no-store")
    assert ("ETag" in reply.headers) is kept
    assert "Authorization" in reply.headers["Vary"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_an_answer_with_an_etag_may_be_revalidated_by_its_reader_only(
    api: Api, world: World
) -> None:
    reply = api.call("GET", "/api/billing/budgets/u-alice", ALICE)
    assert reply.status == 200 and reply.headers["ETag"]
    assert reply.headers["Cache-Control"] == "private, no-cache"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
