"""Buckets: the cost exports (FOCUS files from AWS Data Exports), the ingest fan-out's working
files, and the access logs of every bucket and of the dashboard's CloudFront distribution."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct
from reports.settings import REPORTS_PREFIX

ACCESS_LOG_RETENTION = Duration.days(365)
REPORT_RETENTION_DAYS = 7
# The ingest fan-out's partitions and partial results (infra/constructs/ingest.py): kept as long
# as the run's items in the ingestruns table (their TTL), long enough to look into a failed run.
INGEST_WORK_RETENTION_DAYS = 14
# AWS Data Exports and the legacy Cost and Usage Report deliver through these principals.
EXPORT_DELIVERY_PRINCIPALS = ("bcm-data-exports.amazonaws.com", "billingreports.amazonaws.com")


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, export_retention_days: int) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only kind S3 log delivery writes to
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # CloudFront's standard logs are delivered with an ACL grant to this bucket's owner.
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=ACCESS_LOG_RETENTION)],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # No access logging of its own: AwsSolutions-S1 accepts a bucket that is the log
        # destination of the others, and logging it into itself would loop.

        self.exports = s3.Bucket(
            self,
            "Exports",
            # SSE-S3: the documented setup for a Data Exports destination; SSE-KMS would also need
            # the export service in a key policy, for files that are not secret beyond the account.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="s3/exports/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-exports",
                    expiration=Duration.days(export_retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
                # Exports and invoices the reports function wrote: fetched through links that
                # live minutes, asked for again at will; a week covers a late download.
                s3.LifecycleRule(
                    id="expire-reports",
                    prefix=REPORTS_PREFIX,
                    expiration=Duration.days(REPORT_RETENTION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Lets an administrator point an AWS Data Export (FOCUS 1.x) at this bucket; scoped to
        # exports of this account, as the Data Exports documentation prescribes.
        for sid, actions, resource in (
            ("DataExportsWrite", ["s3:PutObject"], self.exports.arn_for_objects("*")),
            ("DataExportsCheckPolicy", ["s3:GetBucketPolicy"], self.exports.bucket_arn),
        ):
            self.exports.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    actions=actions,
                    resources=[resource],
                    principals=[iam.ServicePrincipal(p) for p in EXPORT_DELIVERY_PRINCIPALS],
                    conditions={
                        "StringLike": {
                            "aws:SourceArn": [
                                f"arn:{stack.partition}:cur:us-east-1:{stack.account}:definition/*",
                                f"arn:{stack.partition}:bcm-data-exports:us-east-1:"
                                f"{stack.account}:export/*",
                            ],
                            "aws:SourceAccount": stack.account,
                        }
                    },
                )
            )

        # The ingest fan-out's working files: runs/<run id>/parts|results|resources/... Each
        # run writes new keys and nothing is read after the run, so no versioning: the
        # lifecycle rule is the only delete. Retained on stack deletion like the other buckets
        # (a non-empty bucket would fail the deletion); it empties itself within 14 days.
        self.ingest_work = s3.Bucket(
            self,
            "IngestWork",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="s3/ingest-work/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-runs",
                    expiration=Duration.days(INGEST_WORK_RETENTION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
