"""Lambda defaults (runtime, arm64, JSON logs, tracing, memory, timeout, log retention, layer)
and the environment each function reads."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match

from infra import outputs
from tally.tables import ALL_TABLES
from tests.infra.conftest import INGEST_WORKER, PINNED_IN_SHELL, VARIANT_CONTEXT, Synthesized

FUNCTIONS = {
    outputs.API_FUNCTION_NAME: "api.handler.lambda_handler",
    outputs.INGEST_FUNCTION_NAME: "ingest.handler.lambda_handler",
    INGEST_WORKER: "ingest.worker.lambda_handler",
    outputs.ALERTS_FUNCTION_NAME: "alerts.handler.lambda_handler",
    outputs.REPORTS_FUNCTION_NAME: "reports.handler.lambda_handler",
    outputs.ACCESS_MIGRATION_FUNCTION_NAME: "access.handler.lambda_handler",
    outputs.INVENTORY_FUNCTION_NAME: "inventory.handler.lambda_handler",
    outputs.MANAGEMENT_FUNCTION_NAME: "management.handler.lambda_handler",
    outputs.RATES_FUNCTION_NAME: "rates.handler.lambda_handler",
}
# The functions that look users up in the Cognito pool (the alerts read the users table).
POOL_READERS = (
    outputs.API_FUNCTION_NAME,
    outputs.INGEST_FUNCTION_NAME,
    outputs.ACCESS_MIGRATION_FUNCTION_NAME,
)


def _function(synth: Synthesized, output_id: str) -> dict:
    return synth.properties(synth.function_id(output_id))


def test_every_function_is_known(synth: Synthesized) -> None:
    assert sorted(synth.resources("AWS::Lambda::Function")) == sorted(
        synth.function_id(output_id) for output_id in FUNCTIONS
    )


@pytest.mark.parametrize(("output_id", "handler"), FUNCTIONS.items())
def test_function_defaults(synth: Synthesized, output_id: str, handler: str) -> None:
    function = _function(synth, output_id)
    assert function["Handler"] == handler
    assert function["Runtime"] == "python3.14"
    assert function["Architectures"] == ["arm64"]
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert function["MemorySize"] >= 128
    assert 1 <= function["Timeout"] <= 900
    assert {"Ref": _layer_ids(synth)["shared"]} in function["Layers"]
    log_group = synth.properties(function["LoggingConfig"]["LogGroup"]["Ref"])
    assert log_group["RetentionInDays"] == 90


def test_api_times_out_before_api_gateway(synth: Synthesized) -> None:
    assert _function(synth, outputs.API_FUNCTION_NAME)["Timeout"] < 29


def test_each_function_has_its_own_role(synth: Synthesized) -> None:
    roles = [_function(synth, output_id)["Role"]["Fn::GetAtt"][0] for output_id in FUNCTIONS]
    assert len(set(roles)) == len(roles)
    for role in roles:
        assert synth.properties(role).get("ManagedPolicyArns") is None  # no AWS managed policy


def _layer_ids(synth: Synthesized) -> dict[str, str]:
    """Logical IDs of the shared layer, the ingest function's own (pyarrow) layer and the
    observability layer (X-Ray SDK, Sentry) of the other functions."""
    runtime = synth.stack.node.find_child("Runtime")
    layers = {
        "shared": runtime.layer,
        "ingest": synth.stack.node.find_child("Ingest").parquet_layer,
        "observability": runtime.observability_layer,
    }
    return {name: _logical_id(layer) for name, layer in layers.items()}


def _logical_id(layer: lambda_.LayerVersion) -> str:
    return Stack.of(layer).resolve(layer.node.default_child.logical_id)


@pytest.mark.parametrize("variant_name", ["synth", "variant"])
def test_only_the_ingest_function_has_the_parquet_layer(
    request: pytest.FixtureRequest, variant_name: str
) -> None:
    synth: Synthesized = request.getfixturevalue(variant_name)
    layers = _layer_ids(synth)
    assert sorted(synth.resources("AWS::Lambda::LayerVersion")) == sorted(layers.values())
    # As sets: CDK sorts a function's layers by construct path (recognizeLayerVersion flag), so
    # their order says nothing; the ingest layer holds only pyarrow, so neither shadows the other.
    ingest_layers = _function(synth, outputs.INGEST_FUNCTION_NAME)["Layers"]
    assert sorted(ref["Ref"] for ref in ingest_layers) == sorted(
        [layers["shared"], layers["ingest"]]
    )
    api_layers = _function(synth, outputs.API_FUNCTION_NAME)["Layers"]
    assert sorted(ref["Ref"] for ref in api_layers) == sorted(
        [layers["shared"], layers["observability"]]
    )


@pytest.mark.parametrize("output_id", FUNCTIONS)
def test_every_function_but_the_ingest_has_the_xray_sdk_and_sentry(
    synth: Synthesized, output_id: str
) -> None:
    # The ingest function (shared + pyarrow layers) is within a few MB of Lambda's 250 MB.
    function = _function(synth, output_id)
    has_layer = {"Ref": _layer_ids(synth)["observability"]} in function["Layers"]
    assert has_layer is (output_id != outputs.INGEST_FUNCTION_NAME)
    variables = function["Environment"]["Variables"]
    if not has_layer:  # Powertools' Tracer must not look for the SDK
        assert variables["POWERTOOLS_TRACE_DISABLED"] == "true"


@pytest.mark.parametrize(("variant_name", "disabled"), [("synth", "true"), ("variant", "false")])
def test_the_api_runs_the_xray_sdk_only_when_asked(
    request: pytest.FixtureRequest, variant_name: str, disabled: str
) -> None:
    synth: Synthesized = request.getfixturevalue(variant_name)
    variables = _function(synth, outputs.API_FUNCTION_NAME)["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACE_DISABLED"] == disabled
    for output_id in (outputs.ALERTS_FUNCTION_NAME, outputs.REPORTS_FUNCTION_NAME):
        assert (
            "POWERTOOLS_TRACE_DISABLED"
            not in _function(synth, output_id)["Environment"]["Variables"]
        )


def test_without_a_dsn_secret_no_function_knows_of_sentry(synth: Synthesized) -> None:
    for output_id in FUNCTIONS:
        assert (
            "TALLY_SENTRY_DSN_SECRET" not in _function(synth, output_id)["Environment"]["Variables"]
        )
    assert "secretsmanager:GetSecretValue" not in json.dumps(
        [
            p["Properties"]["PolicyDocument"]
            for logical_id, p in synth.resources("AWS::IAM::Policy").items()
            if "SentryDsn" in json.dumps(p)
        ]
    )


@pytest.mark.parametrize("output_id", FUNCTIONS)
def test_with_a_dsn_secret_the_functions_with_sentry_name_and_may_read_it(
    variant: Synthesized, output_id: str
) -> None:
    function = _function(variant, output_id)
    variables = function["Environment"]["Variables"]
    role = function["Role"]["Fn::GetAtt"][0]
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in variant.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    reads_secret = any(
        "secretsmanager:GetSecretValue" in json.dumps(s["Action"])
        and ":secret:tally/sentry-dsn-??????" in json.dumps(s["Resource"])
        for statements in policies
        for s in statements
    )
    if output_id == outputs.INGEST_FUNCTION_NAME:
        assert "TALLY_SENTRY_DSN_SECRET" not in variables and not reads_secret
    else:
        assert variables["TALLY_SENTRY_DSN_SECRET"] == "tally/sentry-dsn"
        assert reads_secret


def test_layers_are_built_for_the_function_runtime(synth: Synthesized) -> None:
    layers = synth.resources("AWS::Lambda::LayerVersion")
    assert len(layers) == 3
    for layer in layers.values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.14"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("output_id", FUNCTIONS)
def test_shared_environment(synth: Synthesized, output_id: str) -> None:
    variables = _function(synth, output_id)["Environment"]["Variables"]
    for spec in ALL_TABLES:
        assert spec.env_var in variables
    assert variables["TALLY_OWNER_TAG_KEY"] == "Owner"
    assert variables["TALLY_BUDGET_METRIC"] == "effective"
    assert variables["TALLY_DEFAULT_CURRENCY"] == "USD"
    if output_id in POOL_READERS:
        pool = {"Ref": synth.output_target(outputs.USER_POOL_ID)}
        assert variables["TALLY_USER_POOL_ID"] == pool
    else:
        assert "TALLY_USER_POOL_ID" not in variables


def test_page_token_key_is_generated(synth: Synthesized) -> None:
    # {"current": <64 characters>}: the shape tally.paging.PageKeys.from_secret reads.
    synth.template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {
            "GenerateSecretString": Match.object_like(
                {"PasswordLength": 64, "SecretStringTemplate": "{}", "GenerateStringKey": "current"}
            )
        },
    )


def test_api_environment(synth: Synthesized) -> None:
    variables = _function(synth, outputs.API_FUNCTION_NAME)["Environment"]["Variables"]
    distribution = synth.output_target(outputs.DASHBOARD_DISTRIBUTION_ID)
    assert variables["TALLY_DASHBOARD_ORIGIN"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]
    }
    # A revoked role stops working within this time (at most five minutes, issue 13).
    assert 0 < int(variables["TALLY_ACCESS_CACHE_SECONDS"]) <= 300


def test_ingest_environment(synth: Synthesized, variant: Synthesized) -> None:
    variables = _function(synth, outputs.INGEST_FUNCTION_NAME)["Environment"]["Variables"]
    assert variables["TALLY_COST_SOURCE"] == "cost-explorer"
    assert variables["TALLY_RESTATEMENT_DAYS"] == "3"
    assert variables["TALLY_EXPORT_BUCKET"] == {"Ref": synth.output_target(outputs.EXPORT_BUCKET)}
    assert variables["TALLY_EVENT_BUS_NAME"] == {"Ref": synth.output_target(outputs.EVENT_BUS_NAME)}
    changed = _function(variant, outputs.INGEST_FUNCTION_NAME)["Environment"]["Variables"]
    assert changed["TALLY_COST_SOURCE"] == VARIANT_CONTEXT["costSource"]
    assert changed["TALLY_RESTATEMENT_DAYS"] == VARIANT_CONTEXT["restatementDays"]


def test_log_retention_comes_from_context(variant: Synthesized) -> None:
    retentions = {
        group["Properties"]["RetentionInDays"]
        for group in variant.resources("AWS::Logs::LogGroup").values()
    }
    assert retentions == {int(VARIANT_CONTEXT["logRetentionDays"])}


def test_a_pinned_business_date_never_reaches_a_deployed_function(synth: Synthesized) -> None:
    """Deployed functions run on the real date: TALLY_TODAY is for the local stack only."""
    for logical_id in synth.resources("AWS::Lambda::Function"):
        variables = synth.properties(logical_id).get("Environment", {}).get("Variables", {})
        assert "TALLY_TODAY" not in variables
        assert PINNED_IN_SHELL not in str(variables)
