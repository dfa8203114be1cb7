"""Cognito: the policy the issue asks for, the groups and client the code expects, the first
admin, and the same settings as the local stack (so the two cannot drift)."""

from __future__ import annotations

from aws_cdk.assertions import Match

from infra import nag, outputs
from infra.local import aws as local_aws
from infra.names import (
    ADMIN_ALERTS_TOPIC,
    EMAIL_FEEDBACK_TOPIC,
    ESTATE_ALARMS_TOPIC,
    OPERATIONS_TOPIC,
)
from tally.tables import ADMIN_GROUP, USER_GROUP
from tests.infra.conftest import VARIANT_CONTEXT, Synthesized, synthesize


def _pool(synth: Synthesized) -> dict:
    return synth.properties(synth.output_target(outputs.USER_POOL_ID))


def test_user_pool_settings(synth: Synthesized) -> None:
    pool = _pool(synth)
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["MfaConfiguration"] == "OPTIONAL" == local_aws.MFA_CONFIGURATION
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }
    assert pool["DeletionProtection"] == "ACTIVE"
    assert pool["UserPoolTier"] == "LITE"
    assert pool["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}


def test_password_policy_is_the_local_stacks(synth: Synthesized) -> None:
    policy = _pool(synth)["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    for key, value in local_aws.PASSWORD_POLICY.items():
        assert policy[key] == value, key


def test_mfa_can_be_required(variant: Synthesized) -> None:
    assert _pool(variant)["MfaConfiguration"] == "ON"


def test_cognito_can_send_through_ses(variant: Synthesized) -> None:
    email = _pool(variant)["EmailConfiguration"]
    assert email["EmailSendingAccount"] == "DEVELOPER"
    assert email["From"] == f"Tally <{VARIANT_CONTEXT['senderEmail']}>"


def test_groups_are_the_ones_the_code_checks(synth: Synthesized) -> None:
    groups = {
        g["Properties"]["GroupName"]: g["Properties"]["Precedence"]
        for g in synth.resources("AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == {ADMIN_GROUP: 0, USER_GROUP: 10}


def test_dashboard_client_signs_in_like_the_local_stack(synth: Synthesized) -> None:
    client = synth.properties(synth.output_target(outputs.USER_POOL_CLIENT_ID))
    assert client["GenerateSecret"] is False
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    # The local stack (moto) signs in with USER_PASSWORD_AUTH; AWS must offer it too.
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert "ALLOW_REFRESH_TOKEN_AUTH" in client["ExplicitAuthFlows"]


def test_first_admin_comes_from_context(synth: Synthesized, variant: Synthesized) -> None:
    cases = ((synth, "admin@example.com"), (variant, VARIANT_CONTEXT["adminEmail"]))
    for synthesized, email in cases:
        synthesized.template.has_resource(
            "AWS::Cognito::UserPoolUser",
            {
                "Properties": Match.object_like(
                    {"Username": email, "DesiredDeliveryMediums": ["EMAIL"]}
                ),
                "DeletionPolicy": "Retain",
            },
        )
        synthesized.template.has_resource_properties(
            "AWS::Cognito::UserPoolUserToGroupAttachment",
            {"Username": email, "GroupName": ADMIN_GROUP},
        )


def test_sender_identity_comes_from_context(variant: Synthesized) -> None:
    variant.template.has_resource_properties(
        "AWS::SES::EmailIdentity", {"EmailIdentity": VARIANT_CONTEXT["senderEmail"]}
    )


def test_topic_names_end_like_the_local_stacks(synth: Synthesized) -> None:
    names = {t["Properties"]["TopicName"] for t in synth.resources("AWS::SNS::Topic").values()}
    stack = synth.stack.stack_name
    # infra.names is what the local stack appends to its prefix, too (moto's SES sends no
    # feedback, so the local stack has no feedback topic).
    assert names == {
        f"{stack}-{ADMIN_ALERTS_TOPIC}",
        f"{stack}-{OPERATIONS_TOPIC}",
        f"{stack}-{EMAIL_FEEDBACK_TOPIC}",
        f"{stack}-{ESTATE_ALARMS_TOPIC}",
    }


def _api_function(synth: Synthesized) -> dict:
    return synth.properties(synth.output_target(outputs.API_FUNCTION_NAME))


def _api_pool_actions(synth: Synthesized) -> set[str]:
    role = _api_function(synth)["Role"]["Fn::GetAtt"][0]
    pool = synth.output_target(outputs.USER_POOL_ID)
    actions: set[str] = set()
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Resource") == {"Fn::GetAtt": [pool, "Arn"]}:
                listed = statement["Action"]
                actions |= set(listed if isinstance(listed, list) else [listed])
    return actions


def test_admins_need_totp_by_default(synth: Synthesized) -> None:
    # TOTP is offered to all (optional: Cognito has no per-group MFA); the API requires it of
    # admins, asking the pool with AdminGetUser on that pool only.
    assert _pool(synth)["MfaConfiguration"] == "OPTIONAL"
    env = _api_function(synth)["Environment"]["Variables"]
    assert env["TALLY_REQUIRE_ADMIN_MFA"] == "true"
    assert "cognito-idp:AdminGetUser" in _api_pool_actions(synth)


def test_admin_mfa_can_be_switched_off() -> None:
    off = synthesize({"requireAdminMfa": "false"})
    assert _api_function(off)["Environment"]["Variables"]["TALLY_REQUIRE_ADMIN_MFA"] == "false"
    assert "cognito-idp:AdminGetUser" not in _api_pool_actions(off)
    # The acknowledgement of optional MFA says what this deployment really does.
    reasons = [
        a.reason for a in nag.recorded_acknowledgements(off.app) if a.rule_id == "AwsSolutions-COG2"
    ]
    assert reasons and all("off in this deployment" in r for r in reasons)
