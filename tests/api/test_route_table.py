"""Every route names its action and target in one table (``api.permissions.ROUTES``), and the
table names only real routes and known actions."""

from __future__ import annotations

import re

import pytest

from api.permissions import ROUTES, On, Rule, rule_for
from tally.identity import Caller
from tests.authz_oracle import known_actions
from tests.conftest import ALICE
from tests.harness import Api


def app_routes() -> set[tuple[str, str]]:
    from api.handler import app

    return {(r.method, r.openapi_path) for r in (*app._static_routes, *app._dynamic_routes)}


def test_every_route_has_a_rule() -> None:
    missing = sorted(app_routes() - set(ROUTES))
    assert not missing, f"routes without a rule in api/permissions.py: {missing}"


def test_every_rule_names_a_route_that_exists() -> None:
    stale = sorted(set(ROUTES) - app_routes())
    assert not stale, f"rules of routes the API does not have: {stale}"


def test_the_openapi_document_lists_the_same_routes() -> None:
    from api.openapi import document

    documented = {
        (method.upper(), path)
        for path, ops in document()["paths"].items()
        for method in ops
        if method.upper() in {"GET", "POST", "PUT", "DELETE", "PATCH"}
    }
    assert documented == app_routes()


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_every_rule_names_known_actions(route: tuple[str, str]) -> None:
    rule = ROUTES[route]
    if rule.on is On.PUBLIC:
        assert (rule.action, rule.also, rule.or_self, rule.instead) == ("", (), None, ())
        return
    named = {rule.action, *rule.also, *rule.instead, *([rule.or_self] if rule.or_self else [])}
    assert named <= known_actions(), named - known_actions()
    # A path's subject can only be decided on a path that names it.
    param = {On.USER_IN_PATH: "{userId}", On.TEAM_IN_PATH: "{teamId}"}.get(rule.on)
    if param:
        assert param in route[1]
    if rule.org_wide:
        assert rule.on is On.ENTITY


def test_public_routes_are_only_the_unsubscribe_link_health_and_the_payments_webhook() -> None:
    public = {route for route, rule in ROUTES.items() if rule.on is On.PUBLIC}
    assert public == {
        ("GET", "/api/unsubscribe"),
        ("POST", "/api/unsubscribe"),
        ("GET", "/api/health"),
        # Stripe's deliveries, authorised by their signature (tally.payments.webhook).
        ("POST", "/api/payments/stripe/webhook"),
    }


def test_a_route_is_looked_up_by_its_method_and_openapi_path() -> None:
    assert rule_for("get", "/api/billing/user/{userId}/costs") == Rule(
        "costs:read", On.USER_IN_PATH
    )
    assert rule_for("GET", "/api/billing/user/u-alice/costs") is None


def test_a_route_missing_from_the_table_is_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deny by default: a route nobody gave a rule answers 403 to everyone signed in (and 401
    to anyone else), before it runs."""
    from api import permissions

    route = ("GET", "/api/billing/user/{userId}/summary")
    monkeypatch.delitem(permissions.ROUTES, route)
    admin = Caller("u-root", "root", None, frozenset({"admins"}))
    for caller in (ALICE, admin):
        reply = api.call("GET", "/api/billing/user/u-alice/summary", caller)
        assert reply.status == 403, reply.body
        assert reply.problem["detail"] == "you do not have access to this"
    assert api.call("GET", "/api/billing/user/u-alice/summary", None).status == 401


def test_table_paths_are_openapi_templates() -> None:
    for _, path in ROUTES:
        assert path.startswith("/api/"), path
        assert not re.search(r"<[^>]+>", path), f"{path}: use {{name}}, as OpenAPI does"
