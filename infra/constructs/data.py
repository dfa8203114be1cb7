"""The DynamoDB tables, built from ``tally.tables`` so CDK, the local stack and the code agree.

Grants are explicit statements on the table and on each named index (taken from the same
specs), not CDK's ``grant_read_data``: that one grants ``<table>/index/*``, a wildcard the
specs make unnecessary.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from tally.tables import ALL_TABLES, TableSpec

_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
}
# No Scan: a request path never scans (design.md); the one full read, the ingest's walk over
# the assignments, asks for it by name (``scan=True``).
READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
)
WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# An append-only log: new items and nothing else. IAM cannot require the put's condition that
# the item does not exist; the code sets it on every audit put (tally.store.audit).
APPEND_ACTIONS = ("dynamodb:PutItem",)
SCAN_ACTIONS = ("dynamodb:Scan",)


class Access(Enum):
    READ = "read"
    WRITE = "write"
    READ_WRITE = "read-write"
    APPEND = "append"  # PutItem only: the audit log


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    """One on-demand table per ``TableSpec``; ``tables[spec.key]`` is the table."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.specs: dict[str, TableSpec] = {spec.key: spec for spec in ALL_TABLES}
        self.tables: dict[str, dynamodb.TableV2] = {
            spec.key: self._table(spec) for spec in ALL_TABLES
        }

    def _table(self, spec: TableSpec) -> dynamodb.TableV2:
        keeps = spec.holds_billing_data
        table = dynamodb.TableV2(
            self,
            spec.key.title(),
            partition_key=_string_key(spec.hash_key),
            sort_key=_string_key(spec.range_key) if spec.range_key else None,
            billing=dynamodb.Billing.on_demand(),
            # The AWS managed key rather than DynamoDB's own: key use shows in CloudTrail, and it
            # costs nothing per month.
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            # Ephemeral tables (TTL'd, rebuilt by the code) skip it: a restore would bring back
            # stale items. tests/infra/test_data.py holds every table to its spec, because
            # cdk-nag's AwsSolutions-DDB3 looks only at the older AWS::DynamoDB::Table.
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=keeps
            ),
            deletion_protection=keeps,
            removal_policy=RemovalPolicy.RETAIN if keeps else RemovalPolicy.DESTROY,
            time_to_live_attribute=spec.ttl_attribute,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=_string_key(index.hash_key),
                    sort_key=_string_key(index.range_key) if index.range_key else None,
                    projection_type=_PROJECTIONS[index.projection],
                )
                for index in spec.indexes
            ],
        )
        return table

    def table_arns(self, key: str, *, with_indexes: bool) -> list[str]:
        table = self.tables[key]
        arns = [table.table_arn]
        if with_indexes:
            arns += [f"{table.table_arn}/index/{index.name}" for index in self.specs[key].indexes]
        return arns

    def grant(
        self, grantee: iam.IGrantable, access: Access, keys: Iterable[str], *, scan: bool = False
    ) -> None:
        """Grant item-level access to the named tables (and, for reads, their indexes).

        ``scan`` adds Scan on the tables themselves, for a job that reads a whole table; no
        request path may need it. Transactions need no action of their own: DynamoDB
        authorises each put, update, delete and condition check inside TransactWriteItems as
        that action, so an append-only table stays append-only inside a transaction too.
        """
        keys = list(keys)
        unknown = set(keys) - set(self.tables)
        if unknown:
            raise KeyError(f"no such table: {', '.join(sorted(unknown))}")
        actions: set[str] = set()
        if access in (Access.READ, Access.READ_WRITE):
            actions.update(READ_ACTIONS)
        if access in (Access.WRITE, Access.READ_WRITE):
            actions.update(WRITE_ACTIONS)
        if access is Access.APPEND:
            actions.update(APPEND_ACTIONS)
        reads = access in (Access.READ, Access.READ_WRITE)
        resources = [arn for key in keys for arn in self.table_arns(key, with_indexes=reads)]
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=sorted(actions), resources=resources)
        )
        if scan:
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(SCAN_ACTIONS),
                    resources=[self.tables[key].table_arn for key in keys],
                )
            )

    @property
    def environment(self) -> dict[str, str]:
        """``TALLY_TABLE_<KEY>`` for every table: what ``tally.settings`` reads."""
        return {spec.env_var: self.tables[spec.key].table_name for spec in ALL_TABLES}
