"""The API's metrics: one EMF record per request, under the route's template (never the raw
path, which carries ids), with its latency, and a server error counted when there is one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api import telemetry
from tests.conftest import ALICE, BOB
from tests.harness import Api


def request_metrics(out: str) -> list[dict[str, Any]]:
    """Every request's metrics record in what Powertools printed (EMF, one JSON per line)."""
    records = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    # Powertools writes each value as a list of the values added (one per request here).
    return [
        {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in r.items()}
        for r in records
        if telemetry.LATENCY in r
    ]


def only_record(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    (record,) = request_metrics(capsys.readouterr().out)
    return record


def test_a_request_is_counted_and_timed_under_its_route_template(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    reply = api.call("GET", f"/api/billing/user/{ALICE.user_id}/summary", ALICE)
    assert reply.status == 200

    record = only_record(capsys)
    assert record["route"] == "GET /api/billing/user/{userId}/summary"
    assert isinstance(record["Latency"], float) and record["Latency"] > 0
    assert "ServerErrors" not in record  # only a failure pays for that metric
    (declared,) = record["_aws"]["CloudWatchMetrics"]
    assert declared["Namespace"] == "Tally"
    assert [sorted(d) for d in declared["Dimensions"]] == [["route", "service"]]
    units = {m["Name"]: m["Unit"] for m in declared["Metrics"]}
    assert units == {"Latency": "Milliseconds"}
    # The caller's id is in the path, never in a dimension.
    assert ALICE.user_id not in json.dumps(record)


def test_a_refused_request_counts_under_the_same_route_and_is_no_server_error(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert api.call("GET", f"/api/billing/user/{BOB.user_id}/summary", ALICE).status == 403

    record = only_record(capsys)
    assert record["route"] == "GET /api/billing/user/{userId}/summary"
    assert "ServerErrors" not in record


def test_a_path_no_route_matches_counts_as_unmatched(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert api.call("GET", "/api/billing/no-such-thing/123", ALICE).status == 404
    assert only_record(capsys)["route"] == telemetry.UNMATCHED


def test_a_failure_on_our_side_counts_as_a_server_error(
    api: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import context

    def broken() -> None:
        raise RuntimeError("the table is gone")

    broken.cache_clear = lambda: None  # type: ignore[attr-defined] # the fixture clears it
    monkeypatch.setattr(context, "stores", broken)
    capsys.readouterr()
    assert api.call("GET", f"/api/billing/budgets/{ALICE.user_id}", ALICE).status == 500

    record = only_record(capsys)
    assert record["route"] == "GET /api/billing/budgets/{userId}"
    assert record["ServerErrors"] == 1.0
    (declared,) = record["_aws"]["CloudWatchMetrics"]
    assert {m["Name"] for m in declared["Metrics"]} == {"Latency", "ServerErrors"}


def test_each_request_has_its_own_route_dimension(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    api.call("GET", "/api/me", ALICE)
    api.call("GET", f"/api/billing/budgets/{ALICE.user_id}", ALICE)

    routes = [r["route"] for r in request_metrics(capsys.readouterr().out)]
    assert routes == ["GET /api/me", "GET /api/billing/budgets/{userId}"]
