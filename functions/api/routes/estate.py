"""The estate's read views (issue 15): Lambda functions, the network, IAM users and a
resource's metrics, each with its Tally cost and owner, answered from the inventory's cache
(``tally.estate.views``). The actions (``POST /api/estate/actions``) live in
``estate_actions.py``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from api import context
from api.convert import money
from api.lazy import estate
from api.problems import responses
from api.schemas import (
    EstateCostOut,
    EstateDayCostOut,
    EstateDayUsageOut,
    EstateFindingOut,
    EstateOwnerOut,
    EstateOwnershipOut,
    IamAccessKeyOut,
    IamGroupOut,
    IamLinkIn,
    IamUserListOut,
    IamUserOut,
    LambdaFunctionOut,
    LambdaListOut,
    LambdaMetricsOut,
    LambdaRangeOut,
    LogErrorOut,
    MetricAlarmOut,
    MetricPointOut,
    MetricSeriesOut,
    MetricsPanelOut,
    NetworkCostOut,
    NetworkOut,
    NetworkSavingOut,
    PanelResourceOut,
)
from tally.clock import utc_now

router = Router()

Region = Annotated[
    str | None, Query(min_length=9, max_length=30, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
]
FunctionName = Annotated[str, Path(min_length=1, max_length=140, pattern=r"^[A-Za-z0-9_-]+$")]
ResourceArn = Annotated[str, Query(min_length=12, max_length=2048, pattern=r"^arn:")]
OptionalInstant = Annotated[datetime | None, Query(description="ISO 8601 with a time zone")]
RangeDays = Annotated[
    int | None, Query(ge=1, le=93, description="whole days before today (instead of start, end)")
]
IamUserName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[\w+=,.@-]+$")]


def location() -> Any:
    """The estate this deployment's inventory caches: ``TALLY_ESTATE_ACCOUNT`` and
    ``TALLY_ESTATE_REGIONS`` (as the inventory's settings), else the organisation's one account
    and the API's own region."""
    from tally.estate.views import EstateLocation

    account = os.environ.get("TALLY_ESTATE_ACCOUNT") or min(
        context.org_accounts(router) or {"000000000000"}
    )
    regions = tuple(
        r.strip() for r in os.environ.get("TALLY_ESTATE_REGIONS", "").split(",") if r.strip()
    )
    return EstateLocation(account, regions or (context.settings().region,))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _findings(items: Iterable[Any]) -> list[EstateFindingOut]:
    return [
        EstateFindingOut(code=f.code, severity=f.severity, resource=f.resource, message=f.message)
        for f in items
    ]


def cost_out(c: Any) -> EstateCostOut:
    trend = c.trend_pct
    return EstateCostOut(
        metric=str(c.metric.value if hasattr(c.metric, "value") else c.metric),
        last30_days=money(c.last_30_days, c.currency),
        previous30_days=money(c.previous_30_days, c.currency),
        month_to_date=money(c.month_to_date, c.currency),
        trend_pct=format(trend, "f") if trend is not None else None,
        daily=[EstateDayCostOut(day=d.isoformat(), cost=money(a, c.currency)) for d, a in c.daily],
        usage={unit: format(q.normalize(), "f") for unit, q in sorted(c.usage.items())},
    )


def _ownership(owners: Any, caller_may_assign: bool) -> EstateOwnershipOut:
    actions: list[Any] = []
    if owners.unowned:
        actions = ["claim", "assign"] if caller_may_assign else ["claim"]
    return EstateOwnershipOut(
        unowned=owners.unowned,
        owners=[
            EstateOwnerOut(user_id=o, share_pct=format(s.normalize(), "f"))
            for o, s in sorted(owners.shares.items())
        ],
        actions=actions,
    )


def _may_assign() -> bool:
    from tally.access import allows
    from tally.authz import Target

    return allows(context.current_caller(router), "assignments:write", Target.org())


def function_out(f: Any, may_assign: bool) -> LambdaFunctionOut:
    fn, m, per_million = f.function, f.metrics, f.cost_per_million
    return LambdaFunctionOut(
        name=fn.name,
        arn=fn.arn,
        region=fn.region,
        runtime=fn.runtime,
        architecture=fn.architecture,
        memory_mb=fn.memory,
        timeout_seconds=fn.timeout,
        last_modified=fn.last_modified,
        reserved_concurrency=fn.reserved_concurrency,
        tags=fn.tags,
        ownership=_ownership(f.owners, may_assign),
        cost=cost_out(f.cost),
        cost_per_million_invocations=money(per_million, f.cost.currency)
        if per_million is not None
        else None,
        metrics=LambdaMetricsOut(
            start=m.start.isoformat(),
            end=m.end.isoformat(),
            invocations=m.invocations,
            errors=m.errors,
        )
        if m
        else None,
        findings=_findings(f.findings),
        read_at=f.read_at.isoformat(),
    )


@router.get(
    "/estate/lambda",
    summary="Lambda functions with their cost, owner and findings",
    description="From the inventory's cache (`readAt`: when it read them), never a call to "
    "Lambda. With estate:read at the organisation: every function of the region; with "
    "estate:read on oneself: the functions one owns (a share counts). Each with its Tally "
    "cost (its own cost lines: the last 30 complete days, the 30 before, this month to date), "
    "its owners or `unowned` with what the caller may do, the runtime's end of support and "
    "the erroring/idle findings from the cached 7-day metrics. `region`: one of the "
    "inventory's regions (default its first; 422 otherwise).",
    responses=responses(200, LambdaListOut, 403, 422),
    tags=["estate"],
)
def list_functions(region: Region = None) -> LambdaListOut:
    listed = estate.list_functions(context.view(router), location(), region)
    may_assign = _may_assign()
    return LambdaListOut(
        region=listed.region,
        read_at=_iso(listed.read_at),
        metrics_read_at=_iso(listed.metrics_read_at),
        scope="organisation" if listed.org else "own",
        items=[function_out(f, may_assign) for f in listed.items],
    )


@router.get(
    "/estate/lambda/<name>",
    summary="One Lambda function with its cost, owner, metrics and findings",
    description="As an item of the list. A function that is not cached, or not the "
    "caller's to see, is 404 (the same answer). With `start` and `end` (both or neither; the "
    "rules of GET /api/estate/metrics, 422), `range` holds the function's metrics over that "
    "range (one GetMetricData: invocations, errors, throttles, duration p50/p95/p99, "
    "concurrent executions), its daily cost, the alarms on it and its recent errors (one "
    "FilterLogEvents on /aws/lambda/<name> over the range's last day: the newest 20 of the "
    "first 100 error lines), kept a minute. Without them the detail calls no AWS service.",
    responses=responses(200, LambdaFunctionOut, 403, 404, 422, 503),
    tags=["estate"],
)
def get_function(
    name: FunctionName,
    region: Region = None,
    start: OptionalInstant = None,
    end: OptionalInstant = None,
) -> LambdaFunctionOut:
    from tally.estate.metrics import function_range

    view = context.view(router)
    found = estate.get_function(view, location(), name, region)
    out = function_out(found, _may_assign())
    ranged = function_range(
        view,
        found.function.arn,
        found.function.name,
        start,
        end,
        client=aws,
        cache=metrics_cache(),
        now=utc_now(),
        default_region=found.function.region,
    )
    if ranged is not None:
        e = ranged.errors
        out.range = panel_out(
            ranged.panel,
            LambdaRangeOut,
            recent_errors=[
                LogErrorOut(at=x.at.isoformat(), log_stream=x.stream, message=x.message)
                for x in e.errors
            ],
            errors_since=e.since.isoformat(),
            errors_truncated=e.truncated,
        )
    return out


def _plain(value: Any) -> dict[str, Any]:
    from tally.estate.models import to_document

    doc: dict[str, Any] = to_document(value)
    return {_camel(k): v for k, v in doc.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


@router.get(
    "/estate/network",
    summary="The region's network: VPCs, subnets, gateways, security groups, cost, savings",
    description="From the inventory's cache. Needs estate:read at the organisation (403 "
    "otherwise: the network is shared and its security groups map every resource). Subnets "
    "are public when their route table routes to an internet gateway. Findings: inbound "
    "rules open to 0.0.0.0/0 or ::/0 on SSH, RDP or a database port (1433, 1521, 3306, "
    "5432, 5439, 6379, 9200, 27017). Cost: the organisation's NAT gateway, "
    "public IPv4, endpoint and data-transfer cost lines; savings: idle NAT gateways, "
    "unattached Elastic IPs, a VPC whose S3 traffic goes through NAT.",
    responses=responses(200, NetworkOut, 403, 422),
    tags=["estate"],
)
def get_network(region: Region = None) -> NetworkOut:
    n = estate.network(context.view(router), location(), region)
    return NetworkOut(
        region=n.region,
        read_at=_iso(n.read_at),
        vpcs=[_plain(v) for v in n.vpcs],
        subnets=[_plain(v) for v in n.subnets],
        route_tables=[_plain(v) for v in n.route_tables],
        internet_gateways=[_plain(v) for v in n.internet_gateways],
        nat_gateways=[_plain(v) for v in n.nat_gateways],
        endpoints=[_plain(v) for v in n.endpoints],
        peerings=[_plain(v) for v in n.peerings],
        addresses=[
            {**_plain(a), "elastic": a.elastic, "attached": a.attached} for a in n.addresses
        ],
        security_groups=[_plain(v) for v in n.security_groups],
        findings=_findings(n.findings),
        cost=NetworkCostOut(
            nat_gateway_hours=cost_out(n.cost.nat_hours),
            nat_gateway_data_processed=cost_out(n.cost.nat_data),
            public_ipv4=cost_out(n.cost.public_ipv4),
            endpoints=cost_out(n.cost.endpoints),
            data_transfer=cost_out(n.cost.data_transfer),
        ),
        savings=[
            NetworkSavingOut(
                code=s.code,
                resource=s.resource,
                message=s.message,
                monthly_saving=money(s.monthly, s.currency) if s.monthly is not None else None,
            )
            for s in n.savings
        ],
    )


def iam_user_out(u: Any, now: datetime) -> IamUserOut:
    """``now``: the request's one business "now" (``tally.clock``, so a pinned date of the
    local stack applies), the same the findings were judged at."""
    user = u.user
    return IamUserOut(
        name=user.name,
        arn=user.arn,
        path=user.path,
        created=user.created.isoformat(),
        console_access=user.console_access,
        mfa_enabled=bool(user.mfa_devices),
        password_last_used=_iso(user.password_last_used),
        access_keys=[
            IamAccessKeyOut(
                key_id=k.key_id,
                status=k.status,
                created=k.created.isoformat(),
                age_days=(now - k.created).days,
                last_used=_iso(k.last_used),
            )
            for k in user.access_keys
        ],
        groups=list(user.groups),
        attached_policies=list(user.attached_policies),
        inline_policies=list(user.inline_policies),
        tags=user.tags,
        tally_user_id=u.tally_user,
        linked_by=u.linked_by,
        findings=_findings(u.findings),
        read_at=u.read_at.isoformat(),
    )


@router.get(
    "/estate/iam/users",
    summary="IAM users with console access, MFA, keys, groups and CIS findings",
    description="From the inventory's cache. Needs estate:iam:read at the organisation. "
    "Findings (CIS AWS Foundations 1.10, 1.12, 1.14): console access without MFA, a password "
    "or an active key unused for 45 days or more, an active key older than 90 days. "
    "`tallyUserId`: the Tally user the IAM user is, by an admin's mapping (PUT "
    "/api/estate/iam/users/{name}/link), which wins, else by its owner tag (`linkedBy` says "
    "which). `groups`: every IAM group of the account, read with the users. Never a secret.",
    responses=responses(200, IamUserListOut, 403),
    tags=["estate"],
)
def list_iam_users() -> IamUserListOut:
    now = utc_now()
    listed = estate.list_iam_users(context.view(router), location(), now)
    return IamUserListOut(
        read_at=_iso(listed.read_at),
        items=[iam_user_out(u, now) for u in listed.items],
        groups=[
            IamGroupOut(
                name=g.name,
                path=g.path,
                policies=list(g.attached_policies),
                inline_policies=list(g.inline_policies),
            )
            for g in listed.groups
        ],
    )


@router.get(
    "/estate/iam/users/<name>",
    summary="One IAM user",
    description="As an item of the list; 404 when the inventory has not read it.",
    responses=responses(200, IamUserOut, 403, 404),
    tags=["estate"],
)
def get_iam_user(name: IamUserName) -> IamUserOut:
    now = utc_now()
    return iam_user_out(estate.get_iam_user(context.view(router), location(), name, now), now)


@router.put(
    "/estate/iam/users/<name>/link",
    summary="Map an IAM user to a Tally user (estate:iam:link)",
    description="An admin's mapping: it wins over the owner tag and no inventory run "
    "changes it (`linkedBy: admin`). The same mapping again changes nothing. 404 for an IAM "
    "user the inventory has not read or a user the directory does not know. Audited with "
    "its before and after.",
    responses=responses(200, IamUserOut, 403, 404, 422),
    tags=["estate"],
)
def link_iam_user(name: IamUserName, body: Annotated[IamLinkIn, Body()]) -> IamUserOut:
    now = utc_now()
    linked = estate.link_iam_user(context.view(router), location(), name, body.user_id, now)
    return iam_user_out(linked, now)


@router.delete(
    "/estate/iam/users/<name>/link",
    status_code=204,
    summary="Remove an IAM user's mapping (estate:iam:link)",
    description="The owner tag's link, if any, shows again. Idempotent: 204 when there was no "
    "mapping. 404 when the IAM user is neither read by the inventory nor mapped. Audited.",
    responses=responses(204, None, 403, 404),
    tags=["estate"],
)
def unlink_iam_user(name: IamUserName) -> Response[None]:
    estate.unlink_iam_user(context.view(router), location(), name, utc_now())
    return Response(status_code=204)


@lru_cache(maxsize=1)
def metrics_cache() -> Any:
    """The warm container's one-minute cache of CloudWatch answers (``tally.estate.metrics``)."""
    from tally.estate.metrics import TtlCache

    return TtlCache()


def aws(service: str, region: str) -> Any:
    return context.aws_client(service, region=region)


def panel_out(p: Any, out: type[MetricsPanelOut] = MetricsPanelOut, **extra: Any) -> Any:
    return out(
        **extra,
        resource=PanelResourceOut(
            arn=p.resource.arn, type=p.resource.kind, name=p.resource.name, region=p.region
        ),
        start=p.start.isoformat(),
        end=p.end.isoformat(),
        period_seconds=p.period,
        scope="organisation" if p.org else "own",
        series=[
            MetricSeriesOut(
                id=s.id,
                metric=s.metric,
                stat=s.stat,
                unit=s.unit,
                points=[MetricPointOut(at=t.isoformat(), value=v) for t, v in s.points],
            )
            for s in p.series
        ],
        daily_cost=[
            EstateDayCostOut(day=d.isoformat(), cost=money(a, p.currency)) for d, a in p.daily_cost
        ],
        alarms=[
            MetricAlarmOut(
                name=a.name,
                state=a.state,
                metric=a.metric,
                namespace=a.namespace,
                stat=a.stat,
                comparison=a.comparison,
                threshold=a.threshold,
                state_updated=_iso(a.updated),
            )
            for a in p.alarms
        ],
        read_at=p.read_at.isoformat(),
        daily_usage=[
            EstateDayUsageOut(day=d.isoformat(), quantity=format(q.normalize(), "f"), unit=u)
            for d, u, q in p.daily_usage
        ],
    )


def panel(
    resource_arn: str, start: datetime, end: datetime, kinds: tuple[str, ...] | None = None
) -> Any:
    from tally.estate.metrics import metrics_panel

    return metrics_panel(
        context.view(router),
        resource_arn,
        start,
        end,
        client=aws,
        cache=metrics_cache(),
        now=utc_now(),
        default_region=location().regions[0],
        org_accounts=sorted(context.org_accounts(router)) or None,
        kinds=kinds,
    )


@router.get(
    "/estate/metrics",
    summary="An owned resource's metrics panel: CloudWatch metrics, daily cost, alarms",
    description="The default metrics of an EC2 instance (CPU, network in/out, status checks), "
    "an RDS DB instance (CPU, connections, free storage, read/write IOPS), a Lambda function "
    "(invocations, errors, throttles, duration p50/p95/p99, concurrent executions) or an S3 "
    "bucket (size and object count, CloudWatch's daily storage metrics), from ONE "
    "GetMetricData call, with the resource's Tally cost each day on the same axis and the "
    "CloudWatch alarms on it (DescribeAlarms). Answers are kept a minute (`readAt`). The "
    "period follows CloudWatch's retention: 1 minute for a start up to 15 days back, 5 "
    "minutes up to 63, 1 hour up to 455, and coarser to keep a series under 1,440 points. "
    "`start`/`end`: ISO 8601 with a time zone, end after start, at most 93 days apart, start "
    "at most 455 days back, end not in the future (422). Or `days` instead of both: the "
    "`days` whole days before today (UTC, the API's business date), for a client that does "
    "not know the date yet. The resource's owner, or "
    "estate:read at the organisation; anyone else gets 404, as for a resource not there.",
    responses=responses(200, MetricsPanelOut, 403, 404, 422, 503),
    tags=["estate"],
)
def get_metrics(
    resourceArn: ResourceArn,
    start: OptionalInstant = None,
    end: OptionalInstant = None,
    days: RangeDays = None,
) -> MetricsPanelOut:
    start, end = _range(start, end, days)
    return panel_out(panel(resourceArn, start, end))


def _range(
    start: datetime | None, end: datetime | None, days: int | None
) -> tuple[datetime, datetime]:
    """``start`` and ``end``, or the ``days`` whole days before the business date's start."""
    from datetime import UTC, time, timedelta

    from tally.errors import Invalid

    if days is not None:
        if start is not None or end is not None:
            raise Invalid.field("days", "days is instead of start and end, not beside them")
        midnight = datetime.combine(context.today(), time(0), tzinfo=UTC)
        return midnight - timedelta(days=days), midnight
    if start is None or end is None:
        missing = "start" if start is None else "end"
        raise Invalid.field(missing, f"{missing} is required (or days instead of both)")
    return start, end
