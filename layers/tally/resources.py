"""AWS resources: identifying them across sources, and checking they exist in the account.

Cost Explorer names an EC2 instance ``i-0abc``, an S3 bucket by name, RDS and Lambda by ARN;
FOCUS exports use ARNs throughout. An assignment may give either form. ``match_key`` reduces
all of them to ``<type>:<name>`` so an assignment meets its cost lines whatever the source.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

ARN_RE = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$")
KNOWN_TYPES = ("ec2", "s3", "rds", "lambda")

# Cost Explorer's SERVICE values and FOCUS ServiceName values -> resource type.
SERVICE_TYPES = {
    "amazonec2": "ec2",
    "amazon elastic compute cloud - compute": "ec2",
    "ec2 - other": "ec2",
    "amazons3": "s3",
    "amazon simple storage service": "s3",
    "amazonrds": "rds",
    "amazon relational database service": "rds",
    "awslambda": "lambda",
    "aws lambda": "lambda",
    "amazondynamodb": "dynamodb",
    "amazon dynamodb": "dynamodb",
}


def parse_arn(value: str) -> tuple[str, str] | None:
    """(service, resource name) of an ARN, or None: ``db:prod`` and ``instance/i-1`` give
    their last part."""
    m = ARN_RE.match(value.strip())
    if not m:
        return None
    resource = m.group(4)
    name = re.split(r"[/:]", resource)[-1] if resource else ""
    return m.group(1), name


def service_type(service: str) -> str:
    return SERVICE_TYPES.get(service.strip().lower(), service.strip().lower())


def match_key(resource_type: str, resource_id: str) -> str:
    """The key under which an assignment and a cost line for the same resource meet."""
    parsed = parse_arn(resource_id)
    if parsed:
        service, name = parsed
        rtype = resource_type if resource_type in KNOWN_TYPES else service
        return f"{rtype}:{name}"
    rid = resource_id.strip()
    if rid.startswith("i-"):
        return f"ec2:{rid}"
    return f"{resource_type}:{rid}"


def line_match_key(service: str, resource_id: str) -> str:
    return match_key(service_type(service), resource_id)


class ResourceCatalog(Protocol):
    def exists(self, resource_type: str, resource_id: str) -> bool:
        """Whether the resource exists in the account (unknown types: a well-formed ARN)."""


ClientFactory = Callable[[str], Any]


class AwsResourceCatalog:
    """Checks resources with read-only describe calls; clients are made lazily, once."""

    def __init__(self, client_factory: ClientFactory) -> None:
        self._factory = client_factory
        self._clients: dict[str, Any] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._factory(service)
        return self._clients[service]

    def exists(self, resource_type: str, resource_id: str) -> bool:
        from botocore.exceptions import ClientError, ParamValidationError

        parsed = parse_arn(resource_id)
        name = parsed[1] if parsed else resource_id.strip()
        try:
            if resource_type == "ec2":
                found = self._client("ec2").describe_instances(InstanceIds=[name])
                return any(r["Instances"] for r in found.get("Reservations", []))
            if resource_type == "s3":
                self._client("s3").head_bucket(Bucket=name)
                return True
            if resource_type == "rds":
                self._client("rds").describe_db_instances(DBInstanceIdentifier=name)
                return True
            if resource_type == "lambda":
                self._client("lambda").get_function(FunctionName=resource_id.strip())
                return True
        except (ClientError, ParamValidationError):
            # Not found, malformed, or in another account: none of them is ours to assign.
            return False
        return parsed is not None
