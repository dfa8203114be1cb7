"""POST /api/estate/actions through the API handler: problem+json for every refusal (422 on
the field, 404, 409 with its own type when the family is off) and the preview's shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_authorization_matrix import ESTATE_ACCOUNT, alice_function
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api, World

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


def test_an_alarm_on_an_owned_instance_by_its_bare_arn(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resource page sends ``arn:aws:ec2:::instance/<id>``: the API finds the instance in
    the deployment's region and its owner by assignment (alice's instance 0), previews the
    alarm, makes it in CloudWatch on the estate-alarms topic, and answers 403 to bob."""
    import boto3

    region = api.settings.region
    topic = boto3.client("sns", region_name=region).create_topic(Name="tally-estate-alarms")
    monkeypatch.setenv("TALLY_ESTATE_ACTIONS", "alarms")
    monkeypatch.setenv("TALLY_ESTATE_ALARM_TOPIC_ARN", topic["TopicArn"])
    instance = world.demo.instance_ids[0]
    payload = {
        "action": "cloudwatch:PutMetricAlarm",
        "target": f"arn:aws:ec2:::instance/{instance}",
        "parameters": {"metric": "CPUUtilization", "threshold": "75.5"},
    }
    seen = api.call("POST", URL, ALICE, body=payload)
    assert seen.status == 200, seen.body
    (change,) = seen.body["changes"]
    assert change["after"]["dimensions"] == [{"Name": "InstanceId", "Value": instance}]
    assert change["after"]["namespace"] == "AWS/EC2" and change["after"]["threshold"] == "75.5"
    assert seen.body["owners"] == ["u-alice"] and seen.body["region"] == region
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    assert [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]] == []

    assert api.call("POST", URL, BOB, body=payload).status == 403
    bad = api.call(
        "POST", URL, ALICE, body={**payload, "parameters": {"metric": "Errors", "threshold": 1}}
    )
    assert bad.status == 422 and bad.problem["errors"][0]["field"] == "parameters.metric"
    ghost = {**payload, "target": "arn:aws:ec2:::instance/i-0fffffffffffffff0"}
    assert api.call("POST", URL, ALICE, body=ghost).status == 404

    done = api.call("POST", URL, ALICE, body={**payload, "preview": False})
    assert done.status == 200, done.body
    (alarm,) = cloudwatch.describe_alarms()["MetricAlarms"]
    assert alarm["AlarmName"] == done.body["after"]["name"] == change["after"]["name"]
    assert alarm["AlarmActions"] == [topic["TopicArn"]]
    assert alarm["Dimensions"] == [{"Name": "InstanceId", "Value": instance}]
