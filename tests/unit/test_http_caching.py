"""The ETag's derivation and the handler's conditional answer, with plain values."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from api import caching
from tally.calendar import previous_month
from tally.models import Amounts, AuditEntry, Budget, Metric, MonthlyRollup, RollupSection
from tally.reports import month_summary, summary_version
from tally.store import memory_stores
from tally.view import View
from tests.conftest import ADMIN, NOW


def event(method: str = "GET", sub: str = "u-alice", inm: str | None = None, **query: str) -> Any:
    return {
        "httpMethod": method,
        "path": "/api/me",
        "headers": {"If-None-Match": inm} if inm else {},
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "requestContext": {"authorizer": {"claims": {"sub": sub}}},
    }


def reply(status: int = 200, body: str = '{"a":1}', **headers: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "body": body,
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": ["application/json"]}
        | {k.replace("_", "-"): [v] for k, v in headers.items()},
    }


def test_a_body_etag_changes_with_the_caller_the_query_and_the_body() -> None:
    def etag(e: Any, r: dict[str, Any]) -> str:
        return caching.conditional(e, r)["multiValueHeaders"]["ETag"][0]

    base = etag(event(), reply())
    assert base == etag(event(), reply())
    assert base != etag(event(sub="u-bob"), reply())
    assert base != etag(event(limit="5"), reply())
    assert base != etag(event(), reply(body='{"a":2}'))


def test_a_matching_if_none_match_is_304_without_content() -> None:
    tag = caching.conditional(event(), reply())["multiValueHeaders"]["ETag"][0]
    out = caching.conditional(event(inm=tag), reply())
    assert out["statusCode"] == 304 and out["body"] == ""
    assert "Content-Type" not in out["multiValueHeaders"]
    assert out["multiValueHeaders"]["ETag"] == [tag]
    assert caching.conditional(event(inm='"other"'), reply())["statusCode"] == 200


@pytest.mark.parametrize(
    "e, r",
    [
        (event("POST"), reply()),
        (event(sub=""), reply()),  # a public route: no caller to bind it to
        (event(), reply(404)),
        (event(), reply(201)),
        (event(), reply(200, Cache_Control="no-store")),
        (event(), {**reply(), "multiValueHeaders": {"Content-Type": ["application/problem+json"]}}),
        (event(), reply(200, ETag='"7"')),  # a route's own (an If-Match version) is kept
    ],
)
def test_no_body_etag_where_it_does_not_belong(e: Any, r: dict[str, Any]) -> None:
    before = r["multiValueHeaders"].get("ETag")
    out = caching.conditional({**e, "headers": {"If-None-Match": "*"}}, r)
    assert out["statusCode"] == r["statusCode"]
    assert out["multiValueHeaders"].get("ETag") == before


def test_vary_names_authorization_beside_what_it_had() -> None:
    out = caching.conditional(event(), reply(Vary="Origin"))
    assert out["multiValueHeaders"]["Vary"] == ["Origin, Authorization"]
    single = {"statusCode": 403, "body": "", "headers": {"vary": "Authorization"}}
    assert caching.conditional(event(), single)["headers"] == {"vary": "Authorization"}


@pytest.mark.parametrize(
    "header, expected",
    [("*", True), ('"a"', True), ('W/"a"', True), ('"b", "a"', True), ('"b"', False), ("", False)],
)
def test_if_none_match_uses_weak_comparison(header: str, expected: bool) -> None:
    assert caching.matches(header, '"a"') is expected


def rollup(month: str, total: str) -> MonthlyRollup:
    a = Amounts(Decimal(total), Decimal(total))
    section = RollupSection(a, {"AmazonEC2": a}, {"Usage": a}, {f"{month}-01": a}, {}, [], {})
    return MonthlyRollup("u-alice", month, {"USD": section}, False, 1, NOW)


@pytest.mark.parametrize("today", [date(2026, 11, 1), date(2026, 11, 30), date(2028, 2, 29)])
def test_the_summary_version_changes_with_each_input(today: date) -> None:
    stores = memory_stores()
    view = View(ADMIN, stores, today)
    month = today.strftime("%Y-%m")
    last = previous_month(month)
    stores.rollups.put(rollup(month, "3"))
    seen = [summary_version(view, "u-alice")]
    # It is what the full read computes: a 200's ETag is what the next 304 is decided on.
    assert month_summary(view, "u-alice").version == seen[0]

    def changed() -> str | None:
        now = summary_version(view, "u-alice")
        assert now not in seen and now == month_summary(view, "u-alice").version
        seen.append(now)
        return now

    stores.rollups.put(rollup(month, "3.5"))  # an ingest
    changed()
    stores.rollups.put(rollup(last, "9"))  # last month's result, or a restatement of it
    changed()
    b = Budget("b-1", "u-alice", Decimal(100), 80, "USD", NOW, NOW, 0)
    stores.budgets.create(b, AuditEntry("u-alice", NOW, "u-admin", "x", "b-1", {}))
    changed()
    b = replace(b, version=1, monthly_limit=Decimal(200))
    stores.budgets.update(b, AuditEntry("u-alice", NOW, "u-admin", "x", "b-1", {}))
    changed()
    view = replace(view, today=date.fromordinal(today.toordinal() + 1))  # the next day
    changed()
    view = replace(view, metric=Metric.BILLED)
    changed()
    view = replace(view, currency="EUR")
    changed()
    assert summary_version(replace(view, stores=stores), "u-bob") != seen[-1]


def test_app_version_is_the_deployed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.constructs.lambda_factory import VERSION_VARIABLE

    assert VERSION_VARIABLE == caching.VERSION_VARIABLE
    monkeypatch.delenv(VERSION_VARIABLE, raising=False)
    assert caching.app_version() == "dev"
    monkeypatch.setenv(VERSION_VARIABLE, "0123456789ab")
    assert caching.app_version() == "0123456789ab"
