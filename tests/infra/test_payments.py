"""Payments in CDK (issue 17): off by default (no secret, no webhook route, no variable); on
(context payments=stripe), an empty secret the API alone may read (GetSecretValue only), the
webhook as the one new method without the Cognito authorizer, throttled on its own; cdk-nag
passes with the rotation finding acknowledged (the synth itself runs cdk-nag)."""

from __future__ import annotations

from typing import Any

import pytest

from infra import outputs
from infra.config import ConfigError, TallyConfig
from infra.nag import flatten_reference
from tests.infra.conftest import Synthesized, app_context

WEBHOOK = "webhook"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _api_variables(synth: Synthesized) -> dict[str, Any]:
    api = synth.output_target(outputs.API_FUNCTION_NAME)
    return dict(synth.properties(api)["Environment"]["Variables"])


def _resources_named(synth: Synthesized, part: str) -> list[str]:
    return [
        logical_id
        for logical_id, r in synth.resources("AWS::ApiGateway::Resource").items()
        if r["Properties"]["PathPart"] == part
    ]


def test_off_by_default(synth: Synthesized) -> None:
    assert outputs.STRIPE_SECRET_ARN not in synth.json["Outputs"]
    variables = _api_variables(synth)
    assert "TALLY_PAYMENTS" not in variables and "TALLY_STRIPE_SECRET_ID" not in variables
    assert _resources_named(synth, WEBHOOK) == []
    assert "Stripe" not in str(synth.resources("AWS::SecretsManager::Secret"))


def test_on_the_secret_is_empty_and_only_the_api_reads_it(variant: Synthesized) -> None:
    secret = variant.output_target(outputs.STRIPE_SECRET_ARN)
    properties = variant.properties(secret)
    # No value in the template, none generated: the operator sets it.
    assert "GenerateSecretString" not in properties and "SecretString" not in properties
    variables = _api_variables(variant)
    assert variables["TALLY_PAYMENTS"] == "stripe"
    assert variables["TALLY_STRIPE_SECRET_ID"] == {"Ref": secret}
    readers: set[str] = set()
    for policy in variant.resources("AWS::IAM::Policy", include_cdk_deployment=True).values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = [flatten_reference(r) for r in _as_list(statement["Resource"])]
            if f"<{secret}>" in resources:
                assert _as_list(statement["Action"]) == ["secretsmanager:GetSecretValue"]
                readers.update(r["Ref"] for r in policy["Properties"]["Roles"])
    api_role = variant.properties(variant.output_target(outputs.API_FUNCTION_NAME))["Role"]
    assert readers == {api_role["Fn::GetAtt"][0]}
    for logical_id, function in variant.resources("AWS::Lambda::Function").items():
        assert "resolve:secretsmanager" not in str(function["Properties"]), logical_id


def test_on_the_webhook_is_public_and_throttled_on_its_own(variant: Synthesized) -> None:
    (webhook,) = _resources_named(variant, WEBHOOK)
    methods = [
        m["Properties"]
        for m in variant.resources("AWS::ApiGateway::Method").values()
        if m["Properties"].get("ResourceId") == {"Ref": webhook}
        and m["Properties"]["HttpMethod"] != "OPTIONS"  # the API's CORS preflight (a mock)
    ]
    assert [(m["HttpMethod"], m["AuthorizationType"]) for m in methods] == [("POST", "NONE")]
    (stage,) = variant.resources("AWS::ApiGateway::Stage").values()
    settings = stage["Properties"]["MethodSettings"]
    assert len(settings) == 2
    assert settings[0]["ResourcePath"] == "/*"  # the API's own, unchanged
    assert settings[1] == {
        "ResourcePath": "/~1api~1payments~1stripe~1webhook",
        "HttpMethod": "POST",
        "ThrottlingRateLimit": 3,
        "ThrottlingBurstLimit": 6,
        "LoggingLevel": "ERROR",
        "DataTraceEnabled": False,
        "MetricsEnabled": False,
    }
    # Every other method still needs a Cognito token but health and unsubscribe.
    public = [
        m["Properties"]
        for m in variant.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] != "OPTIONS"
        and m["Properties"]["AuthorizationType"] == "NONE"
    ]
    assert len(public) == 4  # GET+POST unsubscribe, GET health, POST webhook


@pytest.mark.parametrize("value", ["paypal", "Stripe"])
def test_an_unknown_provider_fails_the_synth(value: str) -> None:
    from aws_cdk import App

    app = App(context=app_context(payments=value))
    with pytest.raises(ConfigError, match="payments"):
        TallyConfig.from_context(app.node)


def test_the_journal_accounts_come_from_context(synth: Synthesized, variant: Synthesized) -> None:
    assert _api_variables(synth)["TALLY_JOURNAL_EXPENSE_ACCOUNT"] == "6100"
    assert _api_variables(synth)["TALLY_JOURNAL_CLOUD_ACCOUNT"] == "6190"
    assert _api_variables(variant)["TALLY_JOURNAL_EXPENSE_ACCOUNT"] == "6420"


@pytest.mark.parametrize(
    ("context", "key"),
    [
        ({"journalExpenseAccount": "=1+1"}, "journalExpenseAccount"),
        ({"journalCloudAccount": "6100"}, "journalCloudAccount"),
    ],
)
def test_bad_journal_accounts_fail_the_synth(context: dict[str, str], key: str) -> None:
    from aws_cdk import App

    app = App(context=app_context(**context))
    with pytest.raises(ConfigError, match=key):
        TallyConfig.from_context(app.node)
