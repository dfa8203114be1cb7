"""POST /api/estate/actions through the API handler: problem+json for every refusal (422 on
the field, 404, 409 with its own type when the family is off) and the preview's shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_authorization_matrix import ESTATE_ACCOUNT, alice_function
from tests.conftest import ADMIN, ALICE
from tests.harness import Api

URL = "/api/estate/actions"


@pytest.fixture(autouse=True)
def actions_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALLY_ESTATE_ACTIONS", "lambda")
    monkeypatch.setenv("TALLY_ESTATE_ACCOUNT", ESTATE_ACCOUNT)
    monkeypatch.setenv("TALLY_ESTATE_IN_PROCESS", "true")


def call(api: Api, payload: dict[str, Any], caller: Any = ALICE) -> Any:
    alice_function(URL)
    return api.call("POST", URL, caller, body=payload)


def test_a_preview_answers_what_would_change(api: Api) -> None:
    reply = call(
        api,
        {
            "action": "lambda:UpdateFunctionConfiguration",
            "target": "alice-fn",
            "parameters": {"memory": 512},
        },
    )
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["preview"] is True  # the default
    assert body["owners"] == ["u-alice"]
    assert body["changes"] == [{"field": "memory", "before": 256, "after": 512}]
    assert body["sizing"]["reasons"]  # no metrics cached: it says so
    assert body["sizing"]["monthlyCostNow"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": "lambda:Nope", "target": "alice-fn"}, "action"),
        ({"action": "not an action", "target": "alice-fn"}, "action"),
        (
            {"action": "lambda:PutFunctionConcurrency", "target": "alice-fn", "parameters": {}},
            "parameters.reservedConcurrency",
        ),
        (
            {"action": "lambda:PutFunctionConcurrency", "target": "alice-fn", "preview": "yes"},
            "preview",
        ),
        ({"action": "lambda:PutFunctionConcurrency", "target": ""}, "target"),
    ],
)
def test_bad_input_is_422_on_its_field(api: Api, payload: dict[str, Any], field: str) -> None:
    reply = call(api, payload)
    assert reply.status == 422, reply.body
    assert reply.problem["errors"][0]["field"] == field


def test_a_target_not_cached_is_404(api: Api) -> None:
    reply = call(
        api,
        {
            "action": "lambda:PutFunctionConcurrency",
            "target": "ghost",
            "parameters": {"reservedConcurrency": 1},
        },
        ADMIN,
    )
    assert reply.status == 404
    assert reply.problem["type"].endswith("/not-found")


def test_a_family_turned_off_is_409_with_its_own_type(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALLY_ESTATE_ACTIONS")
    reply = call(
        api,
        {
            "action": "lambda:PutFunctionConcurrency",
            "target": "alice-fn",
            "parameters": {"reservedConcurrency": 0},
        },
    )
    assert reply.status == 409
    assert reply.problem["type"] == "https://tally.dev/problems/action-disabled"
    assert "TALLY_ESTATE_ACTIONS" in reply.problem["detail"]
