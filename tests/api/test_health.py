"""GET /api/health: public, without data, and needing nothing but the function itself: no
token, no table settings, no DynamoDB."""

from __future__ import annotations

import json

import pytest

from tests.api.events import rest_event
from tests.conftest import ALICE
from tests.harness import LambdaContext


def _call(method: str, **kw: object) -> dict:
    from api.handler import lambda_handler

    return dict(lambda_handler(rest_event(method, "/api/health", **kw), LambdaContext()))  # type: ignore[arg-type]


def test_health_answers_anyone_without_reading_anything() -> None:
    # No table or app-client settings in the environment (the autouse fixture cleared them):
    # a route that read a table, or the caller, would fail with 500 here.
    reply = _call("GET")
    assert reply["statusCode"] == 200, reply["body"]
    assert json.loads(reply["body"]) == {"status": "ok", "version": "dev"}


def test_health_names_the_deployed_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALLY_VERSION", "3f2a9c0d1e4b")
    assert json.loads(_call("GET")["body"])["version"] == "3f2a9c0d1e4b"


def test_a_signed_in_caller_gets_the_same_answer() -> None:
    reply = _call("GET", caller=ALICE)
    assert json.loads(reply["body"]) == {"status": "ok", "version": "dev"}


def test_health_has_no_other_method() -> None:
    reply = _call("POST", body={})
    assert reply["statusCode"] == 405
    assert json.loads(reply["body"])["status"] == 405
