"""The access migration runs on deploy: a CloudFormation trigger invokes its function after the
tables and the user pool exist, synchronously (a failure fails the deployment), and again when
the function's code or configuration changes. Its role reads the pool and touches only the
access and audit tables (tests/infra/test_iam.py holds the exact actions)."""

from __future__ import annotations

from typing import Any

from infra import outputs
from infra.constructs.access import FUNCTION_TIMEOUT
from tally.tables import ALL_TABLES
from tests.infra.conftest import CDK_TRIGGER_PROVIDER_PREFIX, Synthesized


def _trigger(synth: Synthesized) -> dict[str, Any]:
    (trigger,) = synth.resources("Custom::Trigger").values()
    return trigger


def _function(synth: Synthesized) -> str:
    return synth.output_target(outputs.ACCESS_MIGRATION_FUNCTION_NAME)


def test_the_trigger_runs_the_migration_function_synchronously(synth: Synthesized) -> None:
    properties = _trigger(synth)["Properties"]
    version = synth.json["Resources"][properties["HandlerArn"]["Ref"]]
    assert version["Type"] == "AWS::Lambda::Version"
    assert version["Properties"]["FunctionName"] == {"Ref": _function(synth)}
    assert properties["InvocationType"] == "RequestResponse"
    assert properties["ExecuteOnHandlerChange"] is True
    assert int(properties["Timeout"]) == FUNCTION_TIMEOUT.to_milliseconds()


def test_the_trigger_runs_after_every_table_and_the_user_pool(synth: Synthesized) -> None:
    after = set(_trigger(synth)["DependsOn"])
    tables = {synth.output_target(outputs.table_name(spec)) for spec in ALL_TABLES}
    assert tables <= after
    assert synth.output_target(outputs.USER_POOL_ID) in after


def test_the_trigger_provider_only_invokes_the_migration_function(synth: Synthesized) -> None:
    # CDK builds the provider from plain CloudFormation resources, which cdk-nag does not
    # inspect: hold its role to the one thing it needs here.
    roles = {
        logical_id: resource
        for logical_id, resource in synth.resources(
            "AWS::IAM::Role", include_cdk_deployment=True
        ).items()
        if logical_id.startswith(CDK_TRIGGER_PROVIDER_PREFIX)
    }
    (role,) = roles.values()
    statements = [
        statement
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    function = _function(synth)
    assert statements == [
        {
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [{"Fn::Join": ["", [{"Fn::GetAtt": [function, "Arn"]}, ":*"]]}],
        }
    ]


def test_team_sync_is_off_unless_a_group_prefix_is_set(
    synth: Synthesized, variant: Synthesized
) -> None:
    def variables(s: Synthesized) -> dict[str, Any]:
        env = s.properties(_function(s))["Environment"]["Variables"]
        return dict(env)

    assert "TALLY_TEAM_GROUP_PREFIX" not in variables(synth)
    assert variables(variant)["TALLY_TEAM_GROUP_PREFIX"] == "team-"
    assert variables(synth)["TALLY_USER_POOL_ID"] == {
        "Ref": synth.output_target(outputs.USER_POOL_ID)
    }


def test_the_trigger_providers_logs_are_kept_for_the_stacks_retention(
    synth: Synthesized,
) -> None:
    # Created before the trigger runs, or Lambda would create the group without a retention.
    groups = synth.resources("AWS::Logs::LogGroup")
    (logical_id,) = [
        lid
        for lid, group in groups.items()
        if CDK_TRIGGER_PROVIDER_PREFIX in str(group["Properties"].get("LogGroupName"))
    ]
    assert groups[logical_id]["Properties"]["RetentionInDays"] == 90
    assert logical_id in _trigger(synth)["DependsOn"]
