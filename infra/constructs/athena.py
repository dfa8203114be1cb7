"""Athena over the organisation's FOCUS Data Export: the cost source of large organisations.

A Glue database and table over the export's Parquet (``BILLING_PERIOD=YYYY-MM`` folders, read
through partition projection so no crawler or ``MSCK REPAIR`` is ever needed), an Athena
workgroup whose enforced configuration holds the results location, their encryption and the
bytes one query may scan, a results bucket of its own, and ``grant_query``: what the ingest
function needs to run the query (``tally.sources.athena``), and nothing more.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import nag
from tally.sources.sql import DATABASE, EXPORT_COLUMNS, PARTITION_COLUMN, TABLE

UNLOAD_PREFIX = "unload/"
QUERY_RESULTS_PREFIX = "query-results/"
RESULT_RETENTION = Duration.days(7)
# The first billing period partition projection offers; later ones appear by themselves.
FIRST_BILLING_PERIOD = "2020-01"


class AthenaExport(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        export_bucket: s3.IBucket,
        export_prefix: str,
        access_logs: s3.IBucket,
        bytes_scanned_cutoff: int,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.export_bucket = export_bucket
        self.export_prefix = export_prefix

        self.results = s3.Bucket(
            self,
            "Results",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="s3/athena-results/",
            # Each run reads its own result once, right after the query: a week is for
            # looking at a failed run, not for keeping.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-results",
                    expiration=RESULT_RETENTION,
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            # Nothing here that the export cannot give again.
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=False,
        )
        self.output = f"s3://{self.results.bucket_name}/{UNLOAD_PREFIX}"

        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=DATABASE, description="Tally: the organisation's FOCUS Data Export"
            ),
        )
        location = f"s3://{export_bucket.bucket_name}/{export_prefix}"
        self.table = glue.CfnTable(
            self,
            "Table",
            catalog_id=stack.account,
            database_name=DATABASE,
            table_input=glue.CfnTable.TableInputProperty(
                name=TABLE,
                description="FOCUS 1.x CostAndUsage rows (AWS Data Exports, Parquet)",
                table_type="EXTERNAL_TABLE",
                partition_keys=[glue.CfnTable.ColumnProperty(name=PARTITION_COLUMN, type="string")],
                parameters={
                    "classification": "parquet",
                    "EXTERNAL": "TRUE",
                    # Partition projection: Athena computes the billing periods' folders
                    # instead of listing partitions from the catalog.
                    "projection.enabled": "true",
                    f"projection.{PARTITION_COLUMN}.type": "date",
                    f"projection.{PARTITION_COLUMN}.format": "yyyy-MM",
                    f"projection.{PARTITION_COLUMN}.range": f"{FIRST_BILLING_PERIOD},NOW",
                    f"projection.{PARTITION_COLUMN}.interval": "1",
                    f"projection.{PARTITION_COLUMN}.interval.unit": "MONTHS",
                    "storage.location.template": (
                        f"{location}BILLING_PERIOD=${{{PARTITION_COLUMN}}}/"
                    ),
                },
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    columns=[
                        glue.CfnTable.ColumnProperty(name=name, type=kind)
                        for name, kind in EXPORT_COLUMNS
                    ],
                    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library=(
                            "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                        )
                    ),
                ),
            ),
        )
        self.table.node.add_dependency(self.database)

        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=f"{stack.stack_name}-costs",
            description="Tally: the daily cost aggregate over the FOCUS export",
            state="ENABLED",
            # Deleting the stack removes the workgroup even with queries in its history.
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                # Clients cannot override where results go, their encryption or the limit.
                enforce_work_group_configuration=True,
                bytes_scanned_cutoff_per_query=bytes_scanned_cutoff,
                publish_cloud_watch_metrics_enabled=True,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results.bucket_name}/{QUERY_RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )

    @property
    def environment(self) -> dict[str, str]:
        """The ingest function's settings for this source (functions/ingest/settings.py)."""
        return {
            "TALLY_ATHENA_DATABASE": DATABASE,
            "TALLY_ATHENA_TABLE": TABLE,
            "TALLY_ATHENA_WORKGROUP": str(self.workgroup.name),
            "TALLY_ATHENA_OUTPUT": self.output,
        }

    def grant_query(self, role: iam.IRole) -> iam.Policy:
        """Run the cost query and read its result: the workgroup, the export's table, the
        export's data folder (Athena reads it with the caller's permissions), and the
        results bucket (the workgroup's results and the UNLOAD files)."""
        stack = Stack.of(self)
        partition, region, account = stack.partition, stack.region, stack.account
        glue_arn = f"arn:{partition}:glue:{region}:{account}"
        export_objects = self.export_bucket.arn_for_objects(f"{self.export_prefix}*")
        result_objects = self.results.arn_for_objects("*")
        policy = iam.Policy(
            self,
            "QueryPolicy",
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "athena:StartQueryExecution",
                        "athena:GetQueryExecution",
                        "athena:StopQueryExecution",
                    ],
                    resources=[
                        f"arn:{partition}:athena:{region}:{account}:workgroup/{self.workgroup.name}"
                    ],
                ),
                iam.PolicyStatement(
                    actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
                    resources=[
                        f"{glue_arn}:catalog",
                        f"{glue_arn}:database/{DATABASE}",
                        f"{glue_arn}:table/{DATABASE}/{TABLE}",
                    ],
                ),
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:GetBucketLocation"],
                    resources=[self.export_bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{self.export_prefix}*"]}},
                ),
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[export_objects]),
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:GetBucketLocation"],
                    resources=[self.results.bucket_arn],
                ),
                iam.PolicyStatement(
                    actions=[
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts",
                    ],
                    resources=[result_objects],
                ),
            ],
        )
        policy.attach_to_role(role)
        nag.acknowledge_wildcard_resources(
            policy,
            [export_objects],
            "Data Exports writes each billing period's Parquet under new keys in the export's "
            "data folder; Athena reads them with the caller's rights, read-only, in that "
            "folder alone.",
        )
        nag.acknowledge_wildcard_resources(
            policy,
            [result_objects],
            "Every query writes its UNLOAD files under a fresh folder of this results bucket "
            "(UNLOAD needs an empty location), which the source then reads; the bucket holds "
            "nothing else.",
        )
        return policy
