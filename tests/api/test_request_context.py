"""The caller is worked out once per request, by the deny-by-default middleware, and kept in
Powertools' routing context (``app.context``), which Powertools clears after each request: no
route asks Cognito again, and no caller outlives the request that brought them."""

from __future__ import annotations

from collections import Counter

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router

from tally.errors import Unauthenticated
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api


class CountingPool:
    """An in-memory user pool that says yes to every admin and counts the questions."""

    def __init__(self) -> None:
        self.asked: Counter[str] = Counter()

    def is_admin(self, username: str) -> bool:
        self.asked["is_admin"] += 1
        return True

    def has_totp(self, username: str) -> bool:
        self.asked["has_totp"] += 1
        return True


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> CountingPool:
    from api import context

    fake = CountingPool()
    monkeypatch.setattr(context, "admin_membership", lambda: fake)
    monkeypatch.setattr(context, "admin_mfa_directory", lambda: fake)
    return fake


@pytest.mark.parametrize(
    "url",
    [
        # the route table's ORG rule + the route + the use case's view
        "/api/billing/all-users",
        # a userId in the path (checked by the middleware) + a paged listing
        f"/api/billing/user/{ALICE.user_id}/cost-lines",
        f"/api/billing/user/{ALICE.user_id}/resources",
        "/api/billing/organisation/cost-lines",
        f"/api/billing/budgets/{ALICE.user_id}",
    ],
)
def test_the_pool_is_asked_once_per_request(api: Api, pool: CountingPool, url: str) -> None:
    for n in (1, 2):
        reply = api.call("GET", url, ADMIN)
        assert reply.status in (200, 404), reply.body
        assert pool.asked == {"is_admin": n, "has_totp": n}


def test_a_refusal_by_the_pool_holds_for_the_whole_request(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import context

    class Revoked:
        def is_admin(self, username: str) -> bool:
            return False

    monkeypatch.setattr(context, "admin_membership", lambda: Revoked())
    assert api.call("GET", "/api/billing/all-users", ADMIN).status == 403
    assert api.call("GET", f"/api/billing/user/{ALICE.user_id}/resources", ADMIN).status == 403


def test_one_warm_handler_serves_different_callers_in_turn(api: Api) -> None:
    from api.handler import app

    mine = f"/api/billing/user/{ALICE.user_id}/resources"
    assert api.call("GET", mine, ALICE).status == 200
    assert "caller" not in app.context
    assert api.call("GET", mine, BOB).status == 403
    assert api.call("GET", "/api/billing/all-users", ADMIN).status == 200
    assert api.call("GET", "/api/billing/all-users", ALICE).status == 403
    # A request that fails before the middleware stores anyone inherits no one.
    assert api.call("GET", mine, None).status == 401
    assert api.call("GET", "/api/billing/claims", ALICE).status == 200
    assert "caller" not in app.context


def test_an_error_in_a_route_leaves_no_caller_behind(api: Api) -> None:
    from api.handler import app

    assert api.call("GET", "/api/billing/budgets/u-nobody", ADMIN).status == 404
    assert app.context == {}
    assert api.call("GET", "/api/billing/all-users", ALICE).status == 403


def test_routers_share_the_resolvers_context() -> None:
    from api.handler import app
    from api.routes import admin, assignments, budgets, claims, me, organisation, reports

    for module in (admin, assignments, budgets, claims, me, organisation, reports):
        assert module.router.context is app.context, module.__name__


def test_no_caller_outside_the_middleware_is_a_refusal() -> None:
    from api import context

    with pytest.raises(Unauthenticated):
        context.current_caller(Router())
