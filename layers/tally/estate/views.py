"""The estate's read views (issue 15): Lambda functions, the network, IAM users, each with its
Tally cost and owner, answered from the inventory's cache (``tally.store.estate``), never
from a describe call.

Reads per request, whatever the estate's or the organisation's size: the family's cache
partition (one Query), the owners partition (one Query; ``tally.estate.ownership``), for IAM
the admins' links (one Query; ``tally.estate.links``), Lambda's
cached metrics (one Query) and one bounded Query of cost records: the organisation's own
records (``ORG``: each line as billed) for a caller who reads the organisation's estate, else
the caller's own records (their share). The window is the last ``COST_WINDOW_DAYS`` complete
days: the last 30 days, the 30 before them (the trend) and this month to date.

Who sees what: ``estate:read`` at the organisation sees every function; anyone else with
``estate:read`` on themselves sees the functions they own (a share counts). The network and
IAM views are the organisation's (``estate:read`` / ``estate:iam:read`` at the organisation:
the middleware decides them): security groups and routes say how to reach every resource, so
a member gets 403 rather than a partial map (docs/decision_log.md, 2026-12-02).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tally.access import allows, require
from tally.authz import Target
from tally.calendar import month_bounds
from tally.errors import Forbidden, Invalid, NotFound
from tally.estate import findings as rules
from tally.estate.inventory import GLOBAL, scope_of
from tally.estate.links import links_scope, read_links, remove_link, set_link
from tally.estate.models import (
    EstateRecord,
    FunctionMetrics,
    IamGroup,
    IamUser,
    LambdaFunction,
    NatGateway,
    PublicAddress,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
    VpcEndpoint,
    from_document,
)
from tally.estate.ownership import (
    NOBODY,
    Owners,
    function_key,
    owners_scope,
    read_iam_links,
    read_owners,
)
from tally.models import ORG, CostRecord, Metric
from tally.view import View

READ = "estate:read"
IAM_READ = "estate:iam:read"
PERIOD_DAYS = 30
COST_WINDOW_DAYS = 2 * PERIOD_DAYS
MILLION = Decimal(1_000_000)
NAT_IDLE_BYTES = Decimal(0)  # a NAT gateway that processed nothing in 30 days is idle
HOURS_PER_MONTH = Decimal("730")
EIP_HOURLY = Decimal("0.005")  # public IPv4, every address, since February 2024 (USD)


# ---- costs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostFigures:
    """A resource's cost from Tally's own cost lines, in one currency and one metric."""

    currency: str
    metric: Metric
    last_30_days: Decimal
    previous_30_days: Decimal
    month_to_date: Decimal
    daily: tuple[tuple[date, Decimal], ...]  # the last 30 days, every day (zero included)
    usage: dict[str, Decimal] = field(default_factory=dict)  # unit -> quantity, last 30 days

    @property
    def trend_pct(self) -> Decimal | None:
        """Change of the last 30 days on the 30 before, in percent; None without a base."""
        if self.previous_30_days == 0:
            return None
        change = (self.last_30_days - self.previous_30_days) * 100 / self.previous_30_days
        return change.quantize(Decimal("0.1"))


def cost_figures(
    records: Iterable[CostRecord], *, today: date, metric: Metric, currency: str
) -> CostFigures:
    """Figures of one resource's records over the window ending yesterday. Lines in another
    currency than ``currency`` (the one with most lines, chosen by the caller) are left out,
    never converted."""
    start = today - timedelta(days=PERIOD_DAYS)
    month = month_bounds(today)[0]  # this billing period's first day (tally.calendar)
    by_day: dict[date, Decimal] = defaultdict(Decimal)
    usage: dict[str, Decimal] = defaultdict(Decimal)
    previous = Decimal(0)
    for r in records:
        if r.currency != currency or r.day >= today:
            continue
        if r.day >= start:
            by_day[r.day] += r.amount(metric)
            if r.usage_unit:
                usage[r.usage_unit] += r.usage_quantity
        elif r.day >= start - timedelta(days=PERIOD_DAYS):
            previous += r.amount(metric)
    days = tuple(
        (start + timedelta(days=n), by_day.get(start + timedelta(days=n), Decimal(0)))
        for n in range(PERIOD_DAYS)
    )
    month_to_date = sum((a for d, a in by_day.items() if d >= month), Decimal(0))
    return CostFigures(
        currency=currency,
        metric=metric,
        last_30_days=sum(by_day.values(), Decimal(0)),
        previous_30_days=previous,
        month_to_date=month_to_date,
        daily=days,
        usage=dict(usage),
    )


class CostIndex:
    """The window's cost records grouped by resource match key."""

    def __init__(
        self, records: Iterable[CostRecord], *, today: date, metric: Metric, currency: str
    ) -> None:
        from tally.resources import line_match_key

        self.today, self.metric, self.currency = today, metric, currency
        self.by_key: dict[str, list[CostRecord]] = defaultdict(list)
        self.unkeyed: list[CostRecord] = []
        for r in records:
            if r.resource_id:
                self.by_key[line_match_key(r.service, r.resource_id)].append(r)
            else:
                self.unkeyed.append(r)

    def _currency(self, records: Sequence[CostRecord]) -> str:
        counts: dict[str, int] = defaultdict(int)
        for r in records:
            counts[r.currency] += 1
        if not counts:
            return self.currency
        return max(counts.items(), key=lambda kv: (kv[1], kv[0] == self.currency, kv[0]))[0]

    def figures(self, records: Sequence[CostRecord]) -> CostFigures:
        return cost_figures(
            records, today=self.today, metric=self.metric, currency=self._currency(records)
        )

    def of(self, key: str) -> CostFigures:
        return self.figures(self.by_key.get(key, []))


def _records(view: View, *, org: bool, key: str | None = None) -> list[CostRecord]:
    owner = ORG if org else view.caller.user_id
    start = view.today - timedelta(days=COST_WINDOW_DAYS)
    if key is not None:
        return view.stores.costs.for_resource(owner, start, view.today, key)
    return view.stores.costs.for_owner(owner, start, view.today)


def _index(view: View, *, org: bool, key: str | None = None) -> CostIndex:
    """The window's lines by resource; with ``key``, only that resource's (one resource's
    page: one Query of its own lines, not the window's every line)."""
    return CostIndex(
        _records(view, org=org, key=key),
        today=view.today,
        metric=view.metric,
        currency=view.currency,
    )


# ---- who may see what ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """The caller's reach on the estate: the organisation's, or their own resources only."""

    org: bool
    user_id: str

    def sees(self, owners: Owners) -> bool:
        return self.org or owners.share_of(self.user_id) > 0


def reach(view: View) -> Reach:
    """Org-wide with estate:read at the organisation; else estate:read on oneself (Forbidden
    without either)."""
    caller = view.caller
    if allows(caller, READ, Target.org()):
        return Reach(True, caller.user_id)
    require(caller, READ, Target.owner(caller.user_id))
    return Reach(False, caller.user_id)


# ---- cache reads -------------------------------------------------------------------------


@dataclass(frozen=True)
class EstateLocation:
    """Where the cache of this deployment's estate is: its account and regions."""

    account: str
    regions: tuple[str, ...]

    def region(self, asked: str | None) -> str:
        if asked is None:
            return self.regions[0]
        if asked not in self.regions:
            raise Invalid.field(
                "region", f"region must be one of {', '.join(self.regions)} (the inventory's)"
            )
        return asked


def _read_at(records: Sequence[EstateRecord]) -> datetime | None:
    """The oldest read among the records: what the view is "as of"."""
    return min((r.read_at for r in records), default=None)


# ---- Lambda ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionView:
    function: LambdaFunction
    owners: Owners
    cost: CostFigures
    metrics: FunctionMetrics | None
    findings: list[rules.Finding]
    read_at: datetime

    @property
    def cost_per_million(self) -> Decimal | None:
        """The last 30 days' cost per million invocations; None without invocations known
        over the same days (the cached metrics cover the last 7: scaled to 30 is a guess
        this does not make)."""
        m = self.metrics
        if m is None or m.invocations == 0:
            return None
        days = Decimal((m.end - m.start).total_seconds()) / 86400
        daily_calls = Decimal(m.invocations) / days
        daily_cost = self.cost.last_30_days / PERIOD_DAYS
        return (daily_cost / daily_calls * MILLION).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class FunctionList:
    region: str
    read_at: datetime | None
    metrics_read_at: datetime | None
    org: bool
    items: list[FunctionView]


def _function_views(
    view: View, location: EstateLocation, region: str, who: Reach
) -> tuple[list[FunctionView], list[EstateRecord], list[EstateRecord]]:
    """Every function the caller may see."""
    store = view.stores.estate
    records = store.list(scope_of(location.account, region, "lambda"))
    metric_records = store.list(scope_of(location.account, region, "metrics"))
    owners = read_owners(store.list(owners_scope(location.account)))
    costs = _index(view, org=who.org)
    metrics = {
        m.function: m for m in (from_document(FunctionMetrics, r.document) for r in metric_records)
    }
    out = []
    for r in records:
        f = from_document(LambdaFunction, r.document)
        key = function_key(f.arn)
        own = owners.get(key, NOBODY)
        if who.sees(own):
            out.append(_function_view(view, r, f, own, costs.of(key), metrics.get(f.name)))
    return out, records, metric_records


def _function_view(
    view: View,
    record: EstateRecord,
    f: LambdaFunction,
    own: Owners,
    cost: CostFigures,
    m: FunctionMetrics | None,
) -> FunctionView:
    found = rules.runtime_findings(f, view.today) + (rules.metric_findings(m) if m else [])
    return FunctionView(f, own, cost, m, found, record.read_at)


def list_functions(view: View, location: EstateLocation, region: str | None) -> FunctionList:
    """The region's functions the caller may see, in name order."""
    who = reach(view)
    where = location.region(region)
    items, records, metric_records = _function_views(view, location, where, who)
    return FunctionList(where, _read_at(records), _read_at(metric_records), who.org, items)


def get_function(
    view: View, location: EstateLocation, name: str, region: str | None
) -> FunctionView:
    """One function; NotFound when it is not cached or not the caller's to see (as missing).
    Its own records only (GetItem each, whatever the region holds) and its own cost lines
    (one Query of the "by-resource" index), not the region's every function and line."""
    who = reach(view)
    where = location.region(region)
    store = view.stores.estate
    record = store.get(scope_of(location.account, where, "lambda"), f"function#{name}")
    if record is None:
        raise NotFound(f"no function {name} in {where}")
    f = from_document(LambdaFunction, record.document)
    key = function_key(f.arn)
    owned = store.get(owners_scope(location.account), f"owner#{key}")
    own = read_owners([owned]).get(key, NOBODY) if owned else NOBODY
    if not who.sees(own):
        raise NotFound(f"no function {name} in {where}")
    measured = store.get(scope_of(location.account, where, "metrics"), f"metrics#{name}")
    m = from_document(FunctionMetrics, measured.document) if measured else None
    cost = _index(view, org=who.org, key=key).of(key)
    return _function_view(view, record, f, own, cost, m)


# ---- network -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkCost:
    """The network's cost lines, by kind, over the last 30 days."""

    nat_hours: CostFigures
    nat_data: CostFigures
    public_ipv4: CostFigures
    endpoints: CostFigures
    data_transfer: CostFigures


@dataclass(frozen=True)
class Saving:
    code: str  # network.idle-nat-gateway | network.unattached-eip | network.s3-gateway-endpoint
    resource: str
    message: str
    monthly: Decimal | None  # estimated monthly saving, in the figures' currency
    currency: str


@dataclass(frozen=True)
class NetworkView:
    region: str
    read_at: datetime | None
    vpcs: list[Vpc]
    subnets: list[Subnet]
    route_tables: list[RouteTable]
    internet_gateways: list[Any]
    nat_gateways: list[NatGateway]
    endpoints: list[VpcEndpoint]
    peerings: list[Any]
    addresses: list[PublicAddress]
    security_groups: list[SecurityGroup]
    findings: list[rules.Finding]
    cost: NetworkCost
    savings: list[Saving]


def network_kind(r: CostRecord) -> str | None:
    """Which network cost a line is, from its service, resource and unit (None: not network).

    NAT gateways bill hours and GB processed on their own ARN (``natgateway/nat-...``);
    public IPv4 addresses and VPC endpoints are billed under Amazon VPC; data transfer is
    AWS Data Transfer (or a usage unit of GB on a line of it)."""
    rid = (r.resource_id or "").lower()
    service = r.service.lower()
    unit = (r.usage_unit or "").lower()
    if "natgateway" in rid or rid.startswith("nat-"):
        return "nat-data" if unit.startswith("gb") or "byte" in unit else "nat-hours"
    if "vpc-endpoint" in rid or "vpce-" in rid:
        return "endpoints"
    if "ipv4" in rid or "eipalloc-" in rid or "elastic-ip" in rid or "ip-address" in rid:
        return "public-ipv4"
    if "datatransfer" in service.replace(" ", ""):
        return "data-transfer"
    if service in ("amazonvpc", "amazon virtual private cloud"):
        return "public-ipv4" if "ip" in unit or "ipv4" in rid else "endpoints"
    return None


def _kinds(index: CostIndex) -> dict[str, list[CostRecord]]:
    out: dict[str, list[CostRecord]] = defaultdict(list)
    for records in (*index.by_key.values(), index.unkeyed):
        for r in records:
            kind = network_kind(r)
            if kind:
                out[kind].append(r)
    return out


def _list(records: Sequence[EstateRecord], kind: str, cls: type[Any]) -> list[Any]:
    return [from_document(cls, r.document) for r in records if r.key.startswith(f"{kind}#")]


def network_savings(
    *,
    nats: Sequence[NatGateway],
    addresses: Sequence[PublicAddress],
    endpoints: Sequence[VpcEndpoint],
    cost: NetworkCost,
    nat_bytes: dict[str, Decimal],
    region: str,
) -> list[Saving]:
    """The usual network savings: an idle NAT gateway (nothing processed in 30 days), an
    unattached Elastic IP, and a VPC with NAT traffic but no S3 gateway endpoint."""
    currency = cost.nat_hours.currency
    out = []
    per_nat = cost.nat_hours.last_30_days / len(nats) if nats else Decimal(0)
    for nat in nats:
        if nat.state == "available" and nat_bytes.get(nat.gateway_id, Decimal(0)) <= 0:
            out.append(
                Saving(
                    "network.idle-nat-gateway",
                    nat.gateway_id,
                    "processed no data in the last 30 days: delete it (or share one per VPC)",
                    per_nat.quantize(Decimal("0.01")) if per_nat else None,
                    currency,
                )
            )
    for a in addresses:
        if a.elastic and not a.attached:
            out.append(
                Saving(
                    "network.unattached-eip",
                    a.allocation_id or a.public_ip,
                    f"{a.public_ip} is attached to nothing and billed by the hour: release it",
                    (EIP_HOURLY * HOURS_PER_MONTH).quantize(Decimal("0.01")),
                    "USD",
                )
            )
    with_s3 = {
        e.vpc_id
        for e in endpoints
        if e.endpoint_type == "Gateway" and e.service_name.endswith(".s3")
    }
    for vpc in sorted({n.vpc_id for n in nats} - with_s3):
        out.append(
            Saving(
                "network.s3-gateway-endpoint",
                vpc,
                f"add a gateway endpoint for com.amazonaws.{region}.s3: S3 traffic then skips "
                "the NAT gateway's per-GB processing charge (gateway endpoints are free)",
                None,
                currency,
            )
        )
    return out


def network(view: View, location: EstateLocation, region: str | None) -> NetworkView:
    """The region's network with its cost and findings (the organisation's: the route's rule)."""
    where = location.region(region)
    records = view.stores.estate.list(scope_of(location.account, where, "network"))
    index = _index(view, org=True)
    kinds = _kinds(index)
    cost = NetworkCost(
        nat_hours=index.figures(kinds["nat-hours"]),
        nat_data=index.figures(kinds["nat-data"]),
        public_ipv4=index.figures(kinds["public-ipv4"]),
        endpoints=index.figures(kinds["endpoints"]),
        data_transfer=index.figures(kinds["data-transfer"]),
    )
    nats = _list(records, "nat-gateway", NatGateway)
    groups = _list(records, "security-group", SecurityGroup)
    addresses = _list(records, "address", PublicAddress)
    endpoints = _list(records, "endpoint", VpcEndpoint)
    nat_bytes: dict[str, Decimal] = defaultdict(Decimal)
    start = view.today - timedelta(days=PERIOD_DAYS)
    for r in kinds["nat-data"]:
        if r.day >= start:
            nat_id = (r.resource_id or "").rsplit("/", 1)[-1]
            nat_bytes[nat_id] += r.usage_quantity
    from tally.estate.models import InternetGateway, PeeringConnection

    return NetworkView(
        region=where,
        read_at=_read_at(records),
        vpcs=_list(records, "vpc", Vpc),
        subnets=_list(records, "subnet", Subnet),
        route_tables=_list(records, "route-table", RouteTable),
        internet_gateways=_list(records, "internet-gateway", InternetGateway),
        nat_gateways=nats,
        endpoints=endpoints,
        peerings=_list(records, "peering", PeeringConnection),
        addresses=addresses,
        security_groups=groups,
        findings=[f for g in groups for f in rules.security_group_findings(g)],
        cost=cost,
        savings=network_savings(
            nats=nats,
            addresses=addresses,
            endpoints=endpoints,
            cost=cost,
            nat_bytes=nat_bytes,
            region=where,
        ),
    )


# ---- IAM ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IamUserView:
    user: IamUser
    tally_user: str | None  # the Tally user it is: the admin's mapping, else its owner tag's
    findings: list[rules.Finding]
    read_at: datetime
    linked_by: str | None = None  # "admin" (tally.estate.links) | "tag" | None (nobody)


@dataclass(frozen=True)
class IamUserList:
    read_at: datetime | None
    items: list[IamUserView]
    groups: list[IamGroup] = field(default_factory=list)  # every group of the account


def _iam_views(view: View, location: EstateLocation, now: datetime) -> IamUserList:
    records = view.stores.estate.list(scope_of(location.account, GLOBAL, "iam"))
    tagged = read_iam_links(view.stores.estate.list(owners_scope(location.account)))
    mapped = read_links(view.stores.estate.list(links_scope(location.account)))
    items, groups = [], []
    for r in records:
        if r.key.startswith("group#"):
            groups.append(from_document(IamGroup, r.document))
            continue
        u = from_document(IamUser, r.document)
        user, by = (mapped[u.name], "admin") if u.name in mapped else (tagged.get(u.name), "tag")
        items.append(
            IamUserView(
                u, user, rules.user_findings(u, now), r.read_at, by if user is not None else None
            )
        )
    return IamUserList(_read_at(records), items, groups)


def list_iam_users(view: View, location: EstateLocation, now: datetime) -> IamUserList:
    """Every IAM user with the CIS findings as of ``now`` (the caller holds estate:iam:read at
    the organisation: the route's rule)."""
    return _iam_views(view, location, now)


def get_iam_user(view: View, location: EstateLocation, name: str, now: datetime) -> IamUserView:
    found = next((u for u in _iam_views(view, location, now).items if u.user.name == name), None)
    if found is None:
        raise NotFound(f"no IAM user {name}")
    return found


def link_iam_user(
    view: View, location: EstateLocation, name: str, user_id: str, now: datetime
) -> IamUserView:
    """Map the IAM user to the Tally user (``tally.estate.links.set_link``): the user as the
    view now shows it."""
    set_link(view, location.account, name, user_id, now)
    return get_iam_user(view, location, name, now)


def unlink_iam_user(view: View, location: EstateLocation, name: str, now: datetime) -> None:
    remove_link(view, location.account, name, now)


def forbid_unless_org(view: View, action: str) -> None:
    """For code paths that run outside the middleware's decision (tests, the bench)."""
    if not allows(view.caller, action, Target.org()):
        raise Forbidden("not allowed")
