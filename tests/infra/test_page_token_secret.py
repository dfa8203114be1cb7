"""Issue 9, finding 6: the page-token keys stay in Secrets Manager. Only the API function,
which signs tokens, may read them, and no function's configuration holds them."""

from __future__ import annotations

import json
from typing import Any

from infra import outputs
from infra.nag import flatten_reference
from tests.infra.conftest import Synthesized


def _secret(synth: Synthesized) -> str:
    return synth.output_target(outputs.PAGE_TOKEN_SECRET_ARN)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_function_configuration_holds_a_key(synth: Synthesized) -> None:
    functions = synth.resources("AWS::Lambda::Function", include_cdk_deployment=True)
    assert functions
    for logical_id, function in functions.items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        # A dynamic reference would put the value itself into the Lambda configuration.
        assert "resolve:secretsmanager" not in json.dumps(variables), logical_id
        assert "TALLY_PAGE_TOKEN_SECRET" not in variables, logical_id


def test_only_the_api_is_told_where_the_keys_are(synth: Synthesized) -> None:
    named = {
        logical_id
        for logical_id, function in synth.resources("AWS::Lambda::Function").items()
        if "TALLY_PAGE_TOKEN_SECRET_ID"
        in function["Properties"].get("Environment", {}).get("Variables", {})
    }
    api = synth.output_target(outputs.API_FUNCTION_NAME)
    assert named == {api}
    variables = synth.properties(api)["Environment"]["Variables"]
    assert variables["TALLY_PAGE_TOKEN_SECRET_ID"] == {"Ref": _secret(synth)}


def test_only_the_api_role_reads_the_secret(synth: Synthesized) -> None:
    secret = _secret(synth)
    # IAM merges the API's two GetSecretValue grants into one statement.
    unsubscribe = f"<{synth.output_target(outputs.UNSUBSCRIBE_SECRET_ARN)}>"
    readers: set[str] = set()
    for policy in synth.resources("AWS::IAM::Policy", include_cdk_deployment=True).values():
        document = policy["Properties"]["PolicyDocument"]
        for statement in document["Statement"]:
            actions = _as_list(statement["Action"])
            resources = [flatten_reference(r) for r in _as_list(statement["Resource"])]
            if f"<{secret}>" in resources:
                assert actions == ["secretsmanager:GetSecretValue"]
                assert set(resources) <= {f"<{secret}>", unsubscribe}
                readers.update(r["Ref"] for r in policy["Properties"]["Roles"])
    api_role = synth.properties(synth.output_target(outputs.API_FUNCTION_NAME))["Role"]
    assert readers == {api_role["Fn::GetAtt"][0]}
    # And no resource policy opens it to anyone else.
    assert not synth.resources("AWS::SecretsManager::ResourcePolicy")


def test_the_secrets_are_the_page_token_and_unsubscribe_keys(synth: Synthesized) -> None:
    assert sorted(synth.resources("AWS::SecretsManager::Secret", include_cdk_deployment=True)) == (
        sorted([_secret(synth), synth.output_target(outputs.UNSUBSCRIBE_SECRET_ARN)])
    )
