"""The member account's read role (infra/estate_read_role.py): exactly the inventory's read
actions, scoped to that account, trusting only the Tally inventory's role; cdk-nag clean."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from app import build_estate_read_role_app
from infra import estate_read_role
from infra.nag import flatten_reference
from tests.infra.conftest import Synthesized, app_context
from tests.infra.test_iam import _as_list

TRUSTED = "arn:aws:iam::123456789012:role/Tally-InventoryFunctionServiceRole1A2B3C-XyZ"


def _member(**context: Any) -> dict[str, Any]:
    app = App(context=app_context(estateReadRoleFor=TRUSTED, **context))
    stack = build_estate_read_role_app(app)
    # synth runs cdk-nag: any unacknowledged finding raises here.
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


@pytest.fixture(scope="module")
def member() -> dict[str, Any]:
    return _member()


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def _grants(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]):
            out.setdefault(action, set()).update(
                flatten_reference(r) for r in _as_list(statement["Resource"])
            )
    return out


def _member_grants(template: dict[str, Any]) -> dict[str, set[str]]:
    (policy,) = _of_type(template, "AWS::IAM::Policy")
    return _grants(policy["PolicyDocument"]["Statement"])


def test_it_holds_exactly_the_inventorys_read_actions(
    member: dict[str, Any], synth: Synthesized
) -> None:
    # The Tally stack's own inventory read policy, as synthesised: one list, two roles.
    reads = synth.stack.node.find_child("Inventory").reads
    own = synth.properties(synth.logical_id(reads))["PolicyDocument"]["Statement"]
    assert set(_member_grants(member)) == set(_grants(own))
    assert all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in _grants(own))


def test_reads_are_scoped_to_the_member_account(member: dict[str, Any]) -> None:
    grants = _member_grants(member)
    assert grants["lambda:ListTags"] == {
        "arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:*"
    }
    assert grants["iam:GetUser"] == {"arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*"}
    regions = _member_grants(_member(estateRegions="eu-west-1,us-east-1"))
    assert regions["lambda:GetFunctionConfiguration"] == {
        "arn:<AWS::Partition>:lambda:eu-west-1:<AWS::AccountId>:function:*",
        "arn:<AWS::Partition>:lambda:us-east-1:<AWS::AccountId>:function:*",
    }


def test_it_trusts_only_the_tally_inventorys_role(member: dict[str, Any]) -> None:
    (role,) = _of_type(member, "AWS::IAM::Role")
    assert role["RoleName"] == estate_read_role.ESTATE_READ_ROLE_NAME
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": TRUSTED}}
    ]
    assert "ManagedPolicyArns" not in role
    assert member["Outputs"][estate_read_role.ROLE_ARN_OUTPUT]["Value"] == {
        "Fn::GetAtt": [
            next(k for k, r in member["Resources"].items() if r["Type"] == "AWS::IAM::Role"),
            "Arn",
        ]
    }


def test_the_app_is_only_the_role_when_asked(member: dict[str, Any]) -> None:
    # Nothing of Tally's own stack in the member account: one role, its policy, CDK metadata.
    kinds = {r["Type"] for r in member["Resources"].values()}
    assert kinds <= {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::CDK::Metadata"}
