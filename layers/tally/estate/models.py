"""What the inventory reads from AWS, as frozen domain models (one per thing a view shows).

Documents: ``to_document`` turns a model into the JSON-safe dict the estate store keeps;
``from_document`` reads it back (datetimes as ISO 8601 strings, tuples as lists). Both are
generic over these dataclasses, so a field added here is stored without a second mapping.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

# "owners": who owns each cached resource (tally.estate.ownership), not read from AWS.
Family = Literal["lambda", "network", "iam", "metrics", "owners"]
FAMILIES: tuple[Family, ...] = ("lambda", "network", "iam", "metrics")

T = TypeVar("T")


@dataclass(frozen=True)
class LambdaFunction:
    name: str
    arn: str
    region: str
    runtime: str | None  # None for a container image function
    architecture: str
    memory: int
    timeout: int
    last_modified: str  # as Lambda gives it (ISO 8601 with a +0000 offset)
    reserved_concurrency: int | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Vpc:
    vpc_id: str
    cidr: str
    is_default: bool
    state: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    destination: str  # an IPv4 or IPv6 CIDR, or a prefix list id
    target: str  # igw-..., nat-..., vpce-..., pcx-..., local


@dataclass(frozen=True)
class RouteTable:
    route_table_id: str
    vpc_id: str
    main: bool
    subnet_ids: tuple[str, ...]
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    vpc_id: str
    cidr: str
    availability_zone: str
    # A route to an internet gateway in its route table (its own, else the VPC's main one).
    public: bool
    route_table_id: str | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InternetGateway:
    gateway_id: str
    vpc_ids: tuple[str, ...]


@dataclass(frozen=True)
class NatGateway:
    gateway_id: str
    vpc_id: str
    subnet_id: str
    state: str
    public_ips: tuple[str, ...]


@dataclass(frozen=True)
class VpcEndpoint:
    endpoint_id: str
    vpc_id: str
    service_name: str
    endpoint_type: str  # Gateway | Interface | GatewayLoadBalancer
    state: str


@dataclass(frozen=True)
class PeeringConnection:
    peering_id: str
    requester_vpc_id: str
    accepter_vpc_id: str
    status: str


@dataclass(frozen=True)
class PublicAddress:
    """A public IPv4 address: an Elastic IP (``allocation_id`` set, attached or not) or an
    address AWS assigned to a network interface (charged alike since February 2024)."""

    public_ip: str
    allocation_id: str | None
    association_id: str | None
    network_interface_id: str | None

    @property
    def elastic(self) -> bool:
        return self.allocation_id is not None

    @property
    def attached(self) -> bool:
        return self.network_interface_id is not None or self.association_id is not None


@dataclass(frozen=True)
class SecurityRule:
    protocol: str  # tcp | udp | icmp | -1 (all)
    from_port: int | None  # None: every port (protocol -1)
    to_port: int | None
    cidrs: tuple[str, ...]  # IPv4 and IPv6 ranges
    source_groups: tuple[str, ...]


@dataclass(frozen=True)
class SecurityGroup:
    group_id: str
    name: str
    vpc_id: str | None
    description: str
    inbound: tuple[SecurityRule, ...]
    outbound: tuple[SecurityRule, ...]


@dataclass(frozen=True)
class Network:
    """One region's network, read together (a subnet's public/private needs the route tables)."""

    vpcs: tuple[Vpc, ...] = ()
    subnets: tuple[Subnet, ...] = ()
    route_tables: tuple[RouteTable, ...] = ()
    internet_gateways: tuple[InternetGateway, ...] = ()
    nat_gateways: tuple[NatGateway, ...] = ()
    endpoints: tuple[VpcEndpoint, ...] = ()
    peerings: tuple[PeeringConnection, ...] = ()
    addresses: tuple[PublicAddress, ...] = ()
    security_groups: tuple[SecurityGroup, ...] = ()


@dataclass(frozen=True)
class AccessKey:
    key_id: str
    status: str  # Active | Inactive
    created: datetime
    last_used: datetime | None


@dataclass(frozen=True)
class IamUser:
    name: str
    arn: str
    path: str
    created: datetime
    password_last_used: datetime | None
    console_access: bool  # the user has a login profile
    mfa_devices: tuple[str, ...]  # serial numbers
    access_keys: tuple[AccessKey, ...]
    groups: tuple[str, ...]
    attached_policies: tuple[str, ...]  # policy ARNs
    inline_policies: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionMetrics:
    """A function's CloudWatch totals over [start, end)."""

    function: str
    start: datetime
    end: datetime
    invocations: int
    errors: int
    # Average and longest invocation over the window (None: no invocation, or cached before
    # durations were read): the right-sizing suggestion's input (tally.estate.actions).
    duration_avg_ms: float | None = None
    duration_max_ms: float | None = None


@dataclass(frozen=True)
class EstateScope:
    """One cached set: an account's family of resources in one region (IAM: region "global")."""

    account: str
    region: str
    family: Family


@dataclass(frozen=True)
class EstateRecord:
    """One cached resource: ``key`` is ``<kind>#<name or id>``, unique within its scope."""

    key: str
    document: dict[str, Any]
    read_at: datetime


# ---- documents ---------------------------------------------------------------------------


def to_document(value: Any) -> Any:
    """The JSON-safe form of a model (or of a value inside one)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_document(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [to_document(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_document(v) for k, v in value.items()}
    return value


def from_document(cls: type[T], document: dict[str, Any]) -> T:
    """The model ``cls`` back from its ``to_document`` form."""
    hints = get_type_hints(cls)
    values = {
        f.name: _decode(hints[f.name], document[f.name])
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name in document
    }
    return cls(**values)


def _decode(hint: Any, raw: Any) -> Any:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None:
            return None
        inner = [a for a in get_args(hint) if a is not type(None)]
        return _decode(inner[0], raw)
    if origin is tuple:
        return tuple(_decode(get_args(hint)[0], v) for v in raw)
    if hint is datetime:
        return datetime.fromisoformat(raw)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_document(hint, raw)
    return raw
