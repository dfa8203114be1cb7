"""The management function: its own role holds exactly the catalog's actions and their
read-back, scoped by ARN where AWS allows (IAM users under the configured path), never a role
or a credential, under a permissions boundary; the API may invoke it and nothing else new."""

from __future__ import annotations

from typing import Any

import pytest

from infra import outputs
from infra.constructs import management as construct
from infra.nag import flatten_reference
from tests.infra.conftest import Synthesized, synthesize
from tests.infra.test_iam import _as_list, _role_of, _statements

LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _grants(synth: Synthesized, output_id: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for statement in _statements(synth, _role_of(synth, output_id)):
        for action in _as_list(statement["Action"]):
            out.setdefault(action, set()).update(
                flatten_reference(r) for r in _as_list(statement["Resource"])
            )
    return out


def test_the_role_holds_only_the_listed_actions(synth: Synthesized) -> None:
    grants = _grants(synth, outputs.MANAGEMENT_FUNCTION_NAME)
    aws = {a for a in grants if not a.startswith(("dynamodb:", "logs:", "xray:"))}
    assert aws == {
        *construct.FUNCTION_ACTIONS,
        *construct.USER_ACTIONS,
        *construct.GROUP_ACTIONS,
        *construct.ALARM_ACTIONS,
    }
    # Users only: nothing on roles or policies, and no credential is ever made.
    assert not [a for a in grants if "Role" in a or (a.endswith("Policy") and "User" not in a)]
    assert not set(construct.DENIED_IAM) & set(grants)
    assert "iam:CreateAccessKey" not in grants and "iam:PassRole" not in grants
    # The estate table only.
    estate = synth.output_target("TableEstateName")
    for action in (a for a in grants if a.startswith("dynamodb:")):
        assert grants[action] == {f"<{estate}.Arn>"}, action


def test_resources_are_scoped_by_arn(synth: Synthesized) -> None:
    grants = _grants(synth, outputs.MANAGEMENT_FUNCTION_NAME)
    for action in construct.FUNCTION_ACTIONS:
        assert grants[action] == {
            "arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:*"
        }
    for action in construct.USER_ACTIONS:
        assert grants[action] == {"arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*"}
    for action in construct.GROUP_ACTIONS:
        assert grants[action] == {"arn:<AWS::Partition>:iam::<AWS::AccountId>:group/*"}
    for action in construct.ALARM_ACTIONS:
        assert grants[action] == {
            "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:tally-*"
        }
    # Every alarm Tally names, on a function or on an EC2, RDS or S3 resource, is under it.
    from tally.estate.actions import alarm_name

    params = {"metric": "CPUUtilization", "statistic": "Average"}
    for resource in ("orders-sync", "i-0123456789abcdef0", "orders-db", "bucket.example"):
        name = alarm_name(
            resource, {**params, "comparison": "GreaterThanThreshold", "threshold": "80"}
        )
        assert name.startswith(construct.ALARM_PREFIX) and ":" not in name


def _boundary(synth: Synthesized) -> list[dict[str, Any]]:
    role = synth.json["Resources"][_role_of(synth, outputs.MANAGEMENT_FUNCTION_NAME)]
    boundary_id = role["Properties"]["PermissionsBoundary"]["Ref"]
    statements: list[dict[str, Any]] = synth.json["Resources"][boundary_id]["Properties"][
        "PolicyDocument"
    ]["Statement"]
    return statements


def test_a_permissions_boundary_denies_roles_credentials_and_tallys_own_functions(
    synth: Synthesized,
) -> None:
    denies = [s for s in _boundary(synth) if s["Effect"] == "Deny"]
    iam_outside = next(s for s in denies if s["Action"] == "iam:*")
    assert {flatten_reference(r) for r in iam_outside["NotResource"]} == {
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*",
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:group/*",
    }
    credentials = next(s for s in denies if "iam:CreateAccessKey" in _as_list(s["Action"]))
    assert set(_as_list(credentials["Action"])) == set(construct.DENIED_IAM)
    own = next(s for s in denies if s["Action"] == "lambda:*")
    stack = synth.stack.stack_name
    assert {flatten_reference(r) for r in _as_list(own["Resource"])} == {
        f"arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:{stack}-*"
    }
    # Everything the role is allowed, the boundary allows too (else it would fail at run time).
    allowed = {a for s in _boundary(synth) if s["Effect"] == "Allow" for a in _as_list(s["Action"])}
    grants = _grants(synth, outputs.MANAGEMENT_FUNCTION_NAME)
    assert {a for a in grants if not a.startswith("dynamodb:")} <= allowed


def test_the_api_may_invoke_it_and_knows_the_settings(synth: Synthesized) -> None:
    grants = _grants(synth, outputs.API_FUNCTION_NAME)
    management = synth.output_target(outputs.MANAGEMENT_FUNCTION_NAME)
    inventory = synth.output_target(outputs.INVENTORY_FUNCTION_NAME)
    assert grants["lambda:InvokeFunction"] == {f"<{management}.Arn>", f"<{inventory}.Arn>"}
    api = synth.properties(synth.output_target(outputs.API_FUNCTION_NAME))
    variables = api["Environment"]["Variables"]
    assert variables["TALLY_MANAGEMENT_FUNCTION"] == {"Ref": management}
    assert variables["TALLY_ESTATE_IAM_PATH"] == "/"
    # Every family is off unless the deployment turns it on.
    assert "TALLY_ESTATE_ACTIONS" not in variables
    function = synth.properties(management)
    assert function["Environment"]["Variables"]["TALLY_ESTATE_IAM_PATH"] == "/"
    assert "TALLY_ESTATE_IN_PROCESS" not in variables


@pytest.fixture(scope="module")
def managed_path() -> Synthesized:
    return synthesize({"estateIamPath": "/tally-managed/", "estateActions": "lambda,iam"})


def test_the_iam_path_scopes_the_users(managed_path: Synthesized) -> None:
    grants = _grants(managed_path, outputs.MANAGEMENT_FUNCTION_NAME)
    for action in construct.USER_ACTIONS:
        assert grants[action] == {"arn:<AWS::Partition>:iam::<AWS::AccountId>:user/tally-managed/*"}
    api = managed_path.properties(managed_path.output_target(outputs.API_FUNCTION_NAME))
    variables = api["Environment"]["Variables"]
    assert variables["TALLY_ESTATE_ACTIONS"] == "lambda,iam"
    assert variables["TALLY_ESTATE_IAM_PATH"] == "/tally-managed/"


def test_the_alarms_topic_reaches_the_alerts_function(synth: Synthesized) -> None:
    alerts = synth.output_target(outputs.ALERTS_FUNCTION_NAME)
    subscribed = [
        s["Properties"]
        for s in synth.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "lambda"
        and s["Properties"]["Endpoint"] == {"Fn::GetAtt": [alerts, "Arn"]}
    ]
    topics = {flatten_reference(s["TopicArn"]) for s in subscribed}
    assert any("EstateAlarms" in t for t in topics), topics
