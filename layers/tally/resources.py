"""AWS resources: identifying them across sources, and checking they exist in the account.

Cost Explorer names an EC2 instance ``i-0abc``, an S3 bucket by name, RDS and Lambda by ARN;
FOCUS exports use ARNs throughout. An assignment may give either form. ``match_key`` reduces
all of them to ``<type>:<name>`` so an assignment meets its cost lines whatever the source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any, Protocol

from tally.resource_types import BY_KEY, RESOURCE_TYPES

ARN_RE = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$")

# Cost Explorer's SERVICE values and FOCUS ServiceName values -> resource type: the registry's
# types, and services whose resources are assigned by ARN only (no existence check).
SERVICE_TYPES = {
    **{name: t.key for t in RESOURCE_TYPES for name in t.service_names},
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
        rtype = resource_type if resource_type in BY_KEY else service
        return f"{rtype}:{name}"
    rid = resource_id.strip()
    for known in BY_KEY.values():
        if known.id_prefix and rid.startswith(known.id_prefix):
            return f"{known.key}:{rid}"
    return f"{resource_type}:{rid}"


def line_match_key(service: str, resource_id: str) -> str:
    return match_key(service_type(service), resource_id)


def arn_account(value: str) -> str | None:
    """The account id an ARN names, or None (not an ARN, or one without an account: S3)."""
    m = ARN_RE.match(value.strip())
    return m.group(3) if m and m.group(3) else None


def require_org_account(resource_id: str, org_accounts: Collection[str]) -> None:
    """Refuse an ARN naming an AWS account outside the organisation (422 on resourceId).
    S3 ARNs carry no account: those buckets are checked by the catalog alone."""
    from tally.errors import Invalid

    account = arn_account(resource_id)
    if account is not None and account not in org_accounts:
        raise Invalid.field(
            "resourceId", f"account {account} is not one of this organisation's AWS accounts"
        )


def require_existing(catalog: ResourceCatalog, resource_type: str, resource_id: str) -> None:
    """Refuse a resource the account does not hold (422 on resourceId): an assignment or a
    claim of something that does not exist would only ever collect other people's costs."""
    from tally.errors import Invalid
    from tally.resource_types import BY_KEY

    if not catalog.exists(resource_type, resource_id):
        raise Invalid.field(
            "resourceId",
            f"no {resource_type} resource '{resource_id}' in this AWS account"
            if resource_type in BY_KEY
            else "resources of this type are accepted by ARN (arn:aws:...)",
        )


class ResourceCatalog(Protocol):
    def exists(self, resource_type: str, resource_id: str) -> bool:
        """Whether the resource exists in the account (unknown types: a well-formed ARN)."""

    def owner_tag(self, resource_type: str, resource_id: str, key: str) -> str | None:
        """The value of the resource's ``key`` tag (a registered type), or None: untagged,
        missing, or a type whose tags are not read."""


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
        known = BY_KEY.get(resource_type)
        if known is None:
            return parsed is not None
        name = parsed[1] if parsed else resource_id.strip()
        try:
            return known.exists(self._client(known.client), name, resource_id.strip())
        except (ClientError, ParamValidationError):
            # Not found, malformed, or in another account: none of them is ours to assign.
            return False

    def owner_tag(self, resource_type: str, resource_id: str, key: str) -> str | None:
        from botocore.exceptions import ClientError, ParamValidationError

        known = BY_KEY.get(resource_type)
        if known is None:
            return None
        parsed = parse_arn(resource_id)
        name = parsed[1] if parsed else resource_id.strip()
        try:
            tags = known.owner_tags(self._client(known.client), name, resource_id.strip())
        except (ClientError, ParamValidationError):
            # No tag set (S3 answers NoSuchTagSet), not found, or not ours: no owner by tag.
            return None
        value = tags.get(key, "").strip()
        return value or None
