"""The resource types Tally knows by name: one entry each, read by matching
(``tally.resources.match_key``), the existence and owner-tag checks (``AwsResourceCatalog``),
the API's IAM grants (``infra/constructs/api.py``) and the dashboard's names (``/api/me``).
Adding a type is one entry here.

Other services' resources can still be assigned by ARN; they are matched by the ARN's
service and checked by the ARN's form alone.

Light on purpose: matching runs on every request that reads assignments, so nothing here
imports boto3; the checks receive the client the catalog made.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# (the boto3 client named by ``ResourceType.client``, the resource's name (an ARN's last
# part), the resource id as given). Both raise botocore's ClientError or ParamValidationError
# for a resource that is not there or not ours, which the catalog reads as "no".
Check = Callable[[Any, str, str], bool]
ReadTags = Callable[[Any, str, str], dict[str, str]]


@dataclass(frozen=True)
class Permission:
    """IAM actions the API needs on one resource pattern. Pure data: CDK fills in
    ``{partition}``, ``{region}`` and ``{account}``."""

    actions: tuple[str, ...]
    resource: str  # an ARN pattern, or "*" where the service allows no resource scope


@dataclass(frozen=True)
class IdFormat:
    """How a client may name one (``tally.identifiers`` refuses anything else, as a 422)."""

    plain: re.Pattern[str]  # its own id, without an ARN
    plain_hint: str  # "not <hint>": what ``plain`` accepts, in words
    arn_resource: re.Pattern[str]  # the resource part of its ARN
    arn_shape: str  # "ends in <shape>": what ``arn_resource`` accepts, in words
    regional: bool  # its ARN names a region and an account (an S3 bucket's names neither)


@dataclass(frozen=True)
class ResourceType:
    key: str  # the ``resourceType`` of an assignment, its ARNs' service, its match key's prefix
    display_name: str  # what people call one (the dashboard's label)
    # Cost Explorer SERVICE values and FOCUS ServiceName values, lower-cased.
    service_names: tuple[str, ...]
    ids: IdFormat
    client: str  # the boto3 client its checks take
    exists: Check
    owner_tags: ReadTags  # the resource's tags, where the owner tag is looked up
    # Read-only: what ``exists`` and ``owner_tags`` call.
    permissions: tuple[Permission, ...]
    # A bare id that names its type wherever it appears (Cost Explorer's EC2 instance ids).
    id_prefix: str | None = None


EC2_INSTANCE_ID = re.compile(r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})")
S3_BUCKET = re.compile(r"(?!xn--)(?![^/]*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
RDS_IDENTIFIER = re.compile(r"[a-zA-Z](?![^:]*--)[a-zA-Z0-9-]{0,62}(?<!-)")
LAMBDA_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def _ec2_instances(client: Any, name: str) -> list[dict[str, Any]]:
    found = client.describe_instances(InstanceIds=[name])
    return [i for r in found.get("Reservations", []) for i in r.get("Instances", [])]


def _ec2_exists(client: Any, name: str, resource_id: str) -> bool:
    return bool(_ec2_instances(client, name))


def _ec2_tags(client: Any, name: str, resource_id: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for i in _ec2_instances(client, name) for t in i.get("Tags", [])}


def _s3_exists(client: Any, name: str, resource_id: str) -> bool:
    client.head_bucket(Bucket=name)
    return True


def _s3_tags(client: Any, name: str, resource_id: str) -> dict[str, str]:
    # A bucket without tags answers NoSuchTagSet (a ClientError): no owner by tag.
    found = client.get_bucket_tagging(Bucket=name)
    return {t["Key"]: t["Value"] for t in found.get("TagSet", [])}


def _rds_exists(client: Any, name: str, resource_id: str) -> bool:
    client.describe_db_instances(DBInstanceIdentifier=name)
    return True


def _rds_tags(client: Any, name: str, resource_id: str) -> dict[str, str]:
    found = client.describe_db_instances(DBInstanceIdentifier=name)
    return {
        t["Key"]: t["Value"] for db in found.get("DBInstances", []) for t in db.get("TagList", [])
    }


# GetFunction takes the name or the whole ARN; the ARN keeps the account and region it names.
def _lambda_exists(client: Any, name: str, resource_id: str) -> bool:
    client.get_function(FunctionName=resource_id)
    return True


def _lambda_tags(client: Any, name: str, resource_id: str) -> dict[str, str]:
    found = client.get_function(FunctionName=resource_id)
    return dict(found.get("Tags") or {})


RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType(
        key="ec2",
        display_name="EC2 instance",
        service_names=("amazonec2", "amazon elastic compute cloud - compute", "ec2 - other"),
        ids=IdFormat(
            plain=EC2_INSTANCE_ID,
            plain_hint="an EC2 instance id (i-...) or its ARN",
            arn_resource=re.compile(r"instance/" + EC2_INSTANCE_ID.pattern),
            arn_shape="instance/i-<8 or 17 hex digits>",
            regional=True,
        ),
        client="ec2",
        exists=_ec2_exists,
        owner_tags=_ec2_tags,
        # DescribeInstances supports no resource-level permissions.
        permissions=(Permission(("ec2:DescribeInstances",), "*"),),
        id_prefix="i-",
    ),
    ResourceType(
        key="s3",
        display_name="S3 bucket",
        service_names=("amazons3", "amazon simple storage service"),
        ids=IdFormat(
            plain=S3_BUCKET,
            plain_hint="an S3 bucket name or its ARN",
            # Costs are attributed to buckets, not objects: a bucket ARN only.
            arn_resource=S3_BUCKET,
            arn_shape="<bucket name> (no region, account or key)",
            regional=False,
        ),
        client="s3",
        exists=_s3_exists,
        owner_tags=_s3_tags,
        # HeadBucket needs s3:ListBucket; bucket ARNs only, never objects.
        permissions=(
            Permission(
                ("s3:GetBucketLocation", "s3:GetBucketTagging", "s3:ListBucket"),
                "arn:{partition}:s3:::*",
            ),
        ),
    ),
    ResourceType(
        key="rds",
        display_name="RDS database",
        service_names=("amazonrds", "amazon relational database service"),
        ids=IdFormat(
            plain=RDS_IDENTIFIER,
            plain_hint="an RDS instance identifier or its ARN",
            arn_resource=re.compile(r"db:" + RDS_IDENTIFIER.pattern),
            arn_shape="db:<instance identifier>",
            regional=True,
        ),
        client="rds",
        exists=_rds_exists,
        owner_tags=_rds_tags,
        permissions=(
            Permission(
                ("rds:DescribeDBInstances",),
                "arn:{partition}:rds:{region}:{account}:db:*",
            ),
        ),
    ),
    ResourceType(
        key="lambda",
        display_name="Lambda function",
        service_names=("awslambda", "aws lambda"),
        ids=IdFormat(
            plain=LAMBDA_NAME,
            plain_hint="a Lambda function name or its ARN",
            arn_resource=re.compile(
                r"function:" + LAMBDA_NAME.pattern + r"(?::(?:\$LATEST|[a-zA-Z0-9_-]{1,128}))?"
            ),
            arn_shape="function:<name>[:<version or alias>]",
            regional=True,
        ),
        client="lambda",
        exists=_lambda_exists,
        owner_tags=_lambda_tags,
        # A claim asks who owns the function by its owner tag: GetFunction returns the tags
        # only with ListTags too.
        permissions=(
            Permission(
                ("lambda:GetFunction", "lambda:ListTags"),
                "arn:{partition}:lambda:{region}:{account}:function:*",
            ),
        ),
    ),
)

BY_KEY: dict[str, ResourceType] = {t.key: t for t in RESOURCE_TYPES}
