"""Every route's every parameter at its type's extremes, read from the API's own OpenAPI
document (a new route or parameter is fuzzed without a line here): the API never answers
5xx, and every 4xx is problem+json.

One parameter is made hostile at a time, the others keep a plausible value, so each value
reaches the code behind the validation of its neighbours. Both an admin (who passes every
access check) and a user call each route.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from api.openapi import document
from tests.api.conftest import FakeChannels
from tests.conftest import ADMIN, ALICE
from tests.harness import Api, World

DAYS = ["0001-01-01", "9999-12-31", "1970-01-01", "2028-02-29", "2027-02-29", "0000-00-00"]
STRINGS = [
    "",
    " ",
    "-1",
    "x" * 5_000,
    "\x00",
    "\x07\x1b[31m",
    "\u200b\u202e",
    "é🙂日本",
    "../../etc/passwd",
    '=HYPERLINK("http://x")',
    "null",
    "%00",
]
INTS = ["0", "-1", str(2**63), "9" * 400, "1e400", "NaN", "1.5", "abc", ""]
JSON_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    10**400,
    1e308,
    -1e308,
    "",
    "x" * 5_000,
    "\x00",
    "\u200b",
    "0001-01-01",
    "9999-12-31",
    "0000-01",
    "9999-12",
    [],
    {},
    [[[[[]]]]],
]


def _schema_type(schema: dict[str, Any]) -> str:
    for option in schema.get("anyOf", [schema]):
        if option.get("type") not in (None, "null"):
            return str(option["type"]) + (":" + option["format"] if "format" in option else "")
    return "string"


def _hostile(schema: dict[str, Any]) -> list[str]:
    kind = _schema_type(schema)
    if kind == "integer":
        return INTS
    if kind.endswith(":date"):
        return DAYS + STRINGS[:6]
    return STRINGS + DAYS[:2] + ["0000-01", "9999-12"]


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    doc = document()
    return sorted(
        (method.upper(), path, op)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if path != "/api/openapi.json"
    )


def _body_schema(op: dict[str, Any]) -> dict[str, Any] | None:
    ref = (
        op.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
        .get("$ref")
    )
    return document()["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else None


def _plausible(name: str, world: World) -> str:
    return {
        "userId": "u-alice",
        "budgetId": world.budget_id,
        "assignmentId": world.assignment_id,
        "resourceType": "ec2",
        "resourceId": world.demo.instance_ids[3],
        "monthlyLimit": "10.00",
    }.get(name, "x")


def _check(api: Api, method: str, url: str, **kw: Any) -> None:
    for caller in (ADMIN, ALICE):
        reply = api.call(method, url, caller, **kw)
        where = f"{caller.username} {method} {url[:160]} {str(kw)[:160]}"
        assert reply.status < 500, f"{where}: {reply.status} {reply.body}"
        if reply.status >= 400:
            assert reply.headers.get("Content-Type") == "application/problem+json", where
            assert reply.body["status"] == reply.status, where


OPERATIONS = _operations()


@pytest.mark.parametrize(
    ("method", "path", "op"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_no_parameter_value_makes_a_5xx(
    api: Api,
    world: World,
    fake_channels: FakeChannels,
    method: str,
    path: str,
    op: dict[str, Any],
) -> None:
    params = op.get("parameters", [])
    base_path = {p["name"]: _plausible(p["name"], world) for p in params if p["in"] == "path"}
    body_schema = _body_schema(op)
    base_body = (
        {name: _plausible(name, world) for name in body_schema.get("required", [])}
        if body_schema
        else None
    )
    body_kw: dict[str, Any] = {"body": base_body} if base_body is not None else {}

    def url(path_values: dict[str, str], query: str = "") -> str:
        out = path
        for name, value in path_values.items():
            out = out.replace("{" + name + "}", quote(value, safe=""))
        return out + (f"?{query}" if query else "")

    for param in params:
        for value in _hostile(param["schema"]):
            if param["in"] == "path":
                target = url({**base_path, param["name"]: value})
            else:
                target = url(base_path, f"{param['name']}={quote(value, safe='')}")
            _check(api, method, target, **body_kw)
    if body_schema is None:
        return
    for name in body_schema.get("properties", {}):
        for value in JSON_VALUES:
            _check(api, method, url(base_path), body={**(base_body or {}), name: value})
    for raw in ["[" * 5_000 + "]" * 5_000, '{"a":' * 5_000 + "1" + "}" * 5_000, "x" * 200_000]:
        _check(api, method, url(base_path), raw_body=raw)
    _check(api, method, url(base_path), raw_body=json.dumps(base_body) + "\x00")
