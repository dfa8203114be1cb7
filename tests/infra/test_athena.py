"""Athena over the FOCUS export (costSource=athena): the Glue table the query reads, the
workgroup that holds its limits, the results bucket, the ingest function's settings and
exactly the rights the query needs; none of it when another source is chosen."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra import outputs
from infra.config import MIN_BYTES_SCANNED_CUTOFF, ConfigError
from infra.constructs import athena as construct
from infra.nag import flatten_reference, recorded_acknowledgements
from tally.sources.sql import EXPORT_COLUMNS, PARTITION_COLUMN
from tests.infra.conftest import Synthesized, synthesize
from tests.infra.test_config import _config
from tests.infra.test_iam import _as_list, _role_of, _statements

CUTOFF = 2 * 1024**3


@pytest.fixture(scope="module")
def athena() -> Synthesized:
    """The app with the Athena source, context as CLI strings (synthesised with cdk-nag: an
    unacknowledged finding fails here)."""
    return synthesize(
        {
            "costSource": "athena",
            "athenaExportPrefix": "/billing/tally-focus/data",
            "athenaBytesScannedCutoff": str(CUTOFF),
        }
    )


def _one(synth: Synthesized, resource_type: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = synth.resources(resource_type).items()
    return logical_id, resource["Properties"]


def _exports(synth: Synthesized) -> str:
    return synth.output_target(outputs.EXPORT_BUCKET)


def _results(synth: Synthesized) -> str:
    (bucket,) = [
        logical_id
        for logical_id in synth.resources("AWS::S3::Bucket")
        if logical_id.startswith("AthenaResults")
    ]
    return bucket


def _ingest_variables(synth: Synthesized) -> dict[str, Any]:
    function = synth.properties(synth.output_target(outputs.INGEST_FUNCTION_NAME))
    return dict(function["Environment"]["Variables"])


def test_nothing_of_athena_without_the_athena_source(synth: Synthesized) -> None:
    for resource_type in ("AWS::Athena::WorkGroup", "AWS::Glue::Database", "AWS::Glue::Table"):
        assert synth.resources(resource_type) == {}
    assert not [name for name in _ingest_variables(synth) if name.startswith("TALLY_ATHENA_")]


def test_the_table_reads_the_exports_billing_periods_by_projection(athena: Synthesized) -> None:
    _, database = _one(athena, "AWS::Glue::Database")
    assert database["DatabaseInput"]["Name"] == construct.DATABASE
    _, table = _one(athena, "AWS::Glue::Table")
    table_input = table["TableInput"]
    assert table["DatabaseName"] == construct.DATABASE
    assert table_input["Name"] == construct.TABLE
    assert table_input["PartitionKeys"] == [{"Name": PARTITION_COLUMN, "Type": "string"}]
    storage = table_input["StorageDescriptor"]
    # The columns the query reads, typed as Data Exports writes them: one list for both.
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == list(EXPORT_COLUMNS)
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert storage["InputFormat"].endswith("MapredParquetInputFormat")
    exports = _exports(athena)
    location = f"s3://<{exports}>/billing/tally-focus/data/"
    assert flatten_reference(storage["Location"]) == location
    parameters = table_input["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters[f"projection.{PARTITION_COLUMN}.type"] == "date"
    assert parameters[f"projection.{PARTITION_COLUMN}.format"] == "yyyy-MM"
    assert parameters[f"projection.{PARTITION_COLUMN}.range"] == "2020-01,NOW"
    assert parameters[f"projection.{PARTITION_COLUMN}.interval.unit"] == "MONTHS"
    assert flatten_reference(parameters["storage.location.template"]) == (
        f"{location}BILLING_PERIOD=<{PARTITION_COLUMN}>/"
    )


def test_the_workgroup_enforces_results_encryption_and_the_scan_limit(
    athena: Synthesized,
) -> None:
    _, workgroup = _one(athena, "AWS::Athena::WorkGroup")
    configuration = workgroup["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == CUTOFF
    assert configuration["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
    results = configuration["ResultConfiguration"]
    assert results["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert flatten_reference(results["OutputLocation"]) == (
        f"s3://<{_results(athena)}>/{construct.QUERY_RESULTS_PREFIX}"
    )


def test_the_results_bucket_is_private_encrypted_logged_and_short_lived(
    athena: Synthesized,
) -> None:
    results = _results(athena)
    props = athena.properties(results)
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "s3/athena-results/"
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == construct.RESULT_RETENTION.to_days()
    athena.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": results},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_the_ingest_function_is_told_where_to_query(athena: Synthesized) -> None:
    variables = _ingest_variables(athena)
    assert variables["TALLY_COST_SOURCE"] == "athena"
    assert variables["TALLY_ATHENA_DATABASE"] == construct.DATABASE
    assert variables["TALLY_ATHENA_TABLE"] == construct.TABLE
    _, workgroup = _one(athena, "AWS::Athena::WorkGroup")
    assert variables["TALLY_ATHENA_WORKGROUP"] == workgroup["Name"] == "Tally-costs"
    assert flatten_reference(variables["TALLY_ATHENA_OUTPUT"]) == (
        f"s3://<{_results(athena)}>/{construct.UNLOAD_PREFIX}"
    )


def test_the_query_rights_are_scoped_to_the_workgroup_table_and_prefixes(
    athena: Synthesized,
) -> None:
    role = _role_of(athena, outputs.INGEST_FUNCTION_NAME)
    (policy,) = [
        p["Properties"]
        for logical_id, p in athena.resources("AWS::IAM::Policy").items()
        if logical_id.startswith("AthenaQueryPolicy")
    ]
    assert policy["Roles"] == [{"Ref": role}]
    grants = {
        (action, flatten_reference(resource))
        for statement in policy["PolicyDocument"]["Statement"]
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }
    exports, results = _exports(athena), _results(athena)
    glue = "arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>"
    workgroup = "arn:<AWS::Partition>:athena:<AWS::Region>:<AWS::AccountId>:workgroup/Tally-costs"
    assert grants == {
        ("athena:StartQueryExecution", workgroup),
        ("athena:GetQueryExecution", workgroup),
        ("athena:StopQueryExecution", workgroup),
        *(
            (action, arn)
            for action in ("glue:GetDatabase", "glue:GetTable", "glue:GetPartitions")
            for arn in (
                f"{glue}:catalog",
                f"{glue}:database/{construct.DATABASE}",
                f"{glue}:table/{construct.DATABASE}/{construct.TABLE}",
            )
        ),
        ("s3:ListBucket", f"<{exports}.Arn>"),
        ("s3:GetBucketLocation", f"<{exports}.Arn>"),
        ("s3:GetObject", f"<{exports}.Arn>/billing/tally-focus/data/*"),
        ("s3:ListBucket", f"<{results}.Arn>"),
        ("s3:GetBucketLocation", f"<{results}.Arn>"),
        *(
            (action, f"<{results}.Arn>/*")
            for action in (
                "s3:GetObject",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            )
        ),
    }
    (listing,) = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if "s3:ListBucket" in _as_list(s["Action"])
        and flatten_reference(s["Resource"]) == f"<{exports}.Arn>"
    ]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["billing/tally-focus/data/*"]}}
    # Only the ingest function may query: no other role gets an athena: action.
    for other in athena.resources("AWS::IAM::Role"):
        if other != role:
            assert not [s for s in _statements(athena, other) if "athena:" in str(s["Action"])], (
                other
            )


def test_the_wildcards_are_acknowledged_with_reasons(athena: Synthesized) -> None:
    acknowledged = {
        a.rule_id: a.reason for a in recorded_acknowledgements(athena.app) if "/Athena/" in a.path
    }
    assert set(acknowledged) == {
        f"AwsSolutions-IAM5[Resource::<{_exports(athena)}.Arn>/billing/tally-focus/data/*]",
        f"AwsSolutions-IAM5[Resource::<{_results(athena)}.Arn>/*]",
    }
    assert all(len(reason) > 80 for reason in acknowledged.values())


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("costSource", "duckdb", "is not one of cost-explorer, focus, athena"),
        ("athenaBytesScannedCutoff", "1000", f"at least {MIN_BYTES_SCANNED_CUTOFF}"),
        ("athenaExportPrefix", "/", "not a folder of the exports bucket"),
        ("athenaExportPrefix", "focus/*", "not a folder of the exports bucket"),
    ],
)
def test_athena_settings_mistakes_fail_the_synth(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=key) as error:
        _config(**{key: value})
    assert message in str(error.value)


def test_athena_settings_defaults() -> None:
    config = _config()
    assert config.athena_export_prefix == "focus/data/"
    assert config.athena_bytes_scanned_cutoff == 10 * 1024**3
