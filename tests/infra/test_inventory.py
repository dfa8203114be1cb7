"""The inventory function: its own role holds exactly the read actions its readers call,
scoped where AWS allows; the estate table grant; the hourly schedule; its alarms."""

from __future__ import annotations

from typing import Any

import pytest

from infra import outputs
from infra.constructs import inventory as construct
from infra.nag import flatten_reference
from tests.infra.conftest import Synthesized, synthesize
from tests.infra.test_iam import _as_list, _role_of, _statements

LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
TABLE = {
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
}


# The assignments (Scan) and the directory, read by the ownership step.
OWNERS_READ = {"dynamodb:BatchGetItem", "dynamodb:Scan"}


def _grants(synth: Synthesized) -> dict[str, set[str]]:
    """Action -> the resources it is granted on (flattened references)."""
    out: dict[str, set[str]] = {}
    for statement in _statements(synth, _role_of(synth, outputs.INVENTORY_FUNCTION_NAME)):
        for action in _as_list(statement["Action"]):
            out.setdefault(action, set()).update(
                flatten_reference(r) for r in _as_list(statement["Resource"])
            )
    return out


def test_the_role_holds_exactly_the_read_actions(synth: Synthesized) -> None:
    grants = _grants(synth)
    assert set(grants) == (
        LOGS
        | XRAY
        | TABLE
        | OWNERS_READ
        | {"sqs:SendMessage"}  # the function's dead-letter queue
        | {
            "cloudwatch:GetMetricData",
            "ec2:DescribeAddresses",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeNatGateways",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeRouteTables",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeVpcPeeringConnections",
            "ec2:DescribeVpcs",
            "iam:GetAccountAuthorizationDetails",
            "iam:ListUsers",
            "lambda:ListFunctions",
            "lambda:GetFunctionConcurrency",
            "lambda:GetFunctionConfiguration",
            "lambda:ListTags",
            "iam:GetAccessKeyLastUsed",
            "iam:GetLoginProfile",
            "iam:GetUser",
            "iam:ListAccessKeys",
            "iam:ListAttachedUserPolicies",
            "iam:ListGroupsForUser",
            "iam:ListMFADevices",
            "iam:ListUserPolicies",
            "iam:ListUserTags",
        }
    )
    # Nothing that changes AWS beyond its own table, queue and logs.
    for action in grants:
        verb = action.split(":")[1]
        if not action.startswith(("dynamodb:", "logs:", "xray:", "sqs:")):
            assert verb.startswith(("Describe", "List", "Get")), action


def test_resources_are_scoped_where_aws_allows(synth: Synthesized) -> None:
    grants = _grants(synth)
    for action in construct.UNSCOPED_ACTIONS:
        assert grants[action] == {"*"}, action
    for action in construct.FUNCTION_ACTIONS:
        assert grants[action] == {
            "arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:*"
        }, action
    for action in construct.USER_ACTIONS:
        assert grants[action] == {"arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*"}, action
    estate = synth.output_target(outputs.table_name(next(iter(_estate_spec()))))
    for action in (
        TABLE
        - OWNERS_READ
        - {"dynamodb:GetItem", "dynamodb:Query"}
        - {
            "dynamodb:ConditionCheckItem",
            "dynamodb:DescribeTable",
        }
    ):
        assert grants[action] == {f"<{estate}.Arn>"}, action
    from tally import tables

    # The ownership step (tally.estate.ownership) reads the assignments (a Scan: every
    # assignment, off the request path) and the user directory; it writes neither.
    assignments = synth.output_target(outputs.table_name(tables.ASSIGNMENTS))
    users = synth.output_target(outputs.table_name(tables.USERS))
    assert grants["dynamodb:Scan"] == {f"<{assignments}.Arn>"}
    for action in ("dynamodb:GetItem", "dynamodb:Query"):
        assert {f"<{assignments}.Arn>", f"<{users}.Arn>", f"<{estate}.Arn>"} <= grants[action]
    for action in ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
        assert grants[action] == {f"<{estate}.Arn>"}, action


def _estate_spec() -> list[Any]:
    from tally.tables import ESTATE

    return [ESTATE]


@pytest.fixture(scope="module")
def two_regions() -> Synthesized:
    return synthesize({"estateRegions": "eu-west-1, us-east-1"})


def test_one_region_arn_per_configured_region(two_regions: Synthesized) -> None:
    variant = two_regions
    grants = _grants(variant)
    assert grants["lambda:ListTags"] == {
        "arn:<AWS::Partition>:lambda:eu-west-1:<AWS::AccountId>:function:*",
        "arn:<AWS::Partition>:lambda:us-east-1:<AWS::AccountId>:function:*",
    }
    function = variant.properties(variant.output_target(outputs.INVENTORY_FUNCTION_NAME))
    assert function["Environment"]["Variables"]["TALLY_ESTATE_REGIONS"] == "eu-west-1,us-east-1"


def test_the_function_knows_its_account_and_runs_hourly(synth: Synthesized) -> None:
    function_id = synth.output_target(outputs.INVENTORY_FUNCTION_NAME)
    function = synth.properties(function_id)
    variables = function["Environment"]["Variables"]
    assert variables["TALLY_ESTATE_ACCOUNT"] == {"Ref": "AWS::AccountId"}
    assert "TALLY_ESTATE_REGIONS" not in variables  # default: the deployment's region
    assert variables["TALLY_TABLE_ESTATE"] == {"Ref": synth.output_target("TableEstateName")}
    (schedule,) = [
        s["Properties"]
        for s in synth.resources("AWS::Scheduler::Schedule").values()
        if s["Properties"]["ScheduleExpression"] == construct.SCHEDULE
    ]
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert '"source":"tally.schedule"' in schedule["Target"]["Input"].replace(" ", "")
    assert "DeadLetterConfig" in schedule["Target"]


def test_errors_and_dead_letters_have_alarms(synth: Synthesized) -> None:
    names = {
        flatten_reference(a["Properties"]["AlarmName"])
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }
    assert any(n.endswith("-inventory-errors") for n in names)
    assert any(n.endswith("-inventory-dead-letters") for n in names)
