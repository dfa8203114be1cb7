"""The tables in the template are exactly ``tally.tables.ALL_TABLES``, with the data
protection each one's spec asks for."""

from __future__ import annotations

import pytest

from infra import outputs
from tally.tables import ALL_TABLES, TableSpec, create_table_request
from tests.infra.conftest import Synthesized


def _table(synth: Synthesized, spec: TableSpec) -> dict:
    return synth.json["Resources"][synth.output_target(outputs.table_name(spec))]


def test_one_table_per_spec_and_no_other(synth: Synthesized) -> None:
    tables = synth.resources("AWS::DynamoDB::GlobalTable")
    assert not synth.resources("AWS::DynamoDB::Table")
    assert sorted(tables) == sorted(
        synth.output_target(outputs.table_name(spec)) for spec in ALL_TABLES
    )


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.key)
def test_keys_and_indexes_match_the_spec(synth: Synthesized, spec: TableSpec) -> None:
    # create_table_request is what the local stack creates: the two must agree.
    expected = create_table_request(spec, "ignored")
    properties = _table(synth, spec)["Properties"]
    assert properties["KeySchema"] == expected["KeySchema"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert (
        sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"])
        == (expected["AttributeDefinitions"])
    )
    assert properties.get("GlobalSecondaryIndexes", []) == expected.get(
        "GlobalSecondaryIndexes", []
    )


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.key)
def test_protection_follows_the_spec(synth: Synthesized, spec: TableSpec) -> None:
    table = _table(synth, spec)
    replica = table["Properties"]["Replicas"][0]
    keeps = spec.holds_billing_data
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": keeps}
    assert replica.get("DeletionProtectionEnabled", False) is keeps
    assert table["DeletionPolicy"] == ("Retain" if keeps else "Delete")
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    ttl = table["Properties"].get("TimeToLiveSpecification")
    if spec.ttl_attribute:
        assert ttl == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert ttl is None


def test_functions_get_every_table_name(synth: Synthesized) -> None:
    for function in synth.resources("AWS::Lambda::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        for spec in ALL_TABLES:
            assert variables[spec.env_var] == {"Ref": synth.output_target(outputs.table_name(spec))}
