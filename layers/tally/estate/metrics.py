"""The metrics panel of one owned resource (issue 15): its default CloudWatch metrics by type,
its daily Tally cost on the same time axis, and the CloudWatch alarms on it.

Calls per panel: ONE ``GetMetricData`` (a panel has at most 7 queries, GetMetricData takes
500, and the period keeps every series under ``MAX_POINTS``, far below a response's 100,800
datapoints, so no second page) and one ``DescribeAlarms`` per region (the region's metric
alarms, at most ``ALARM_PAGES`` pages, filtered here by the resource's dimension). Both are
kept for ``CACHE_SECONDS`` in the warm container (``TtlCache``): a dashboard that redraws a
panel, or several users looking at the same function, ask CloudWatch once a minute
(docs/decision_log.md, 2026-12-02). DynamoDB requests: the owner check (one GetItem for a
function's owners record, or the resource's assignments for other types, for a caller
without the organisation's scope) and one bounded Query of cost records over the range.

The period follows CloudWatch's retention: 1-minute datapoints are kept 15 days, 5-minute 63
days, 1-hour 455 days; within that, the smallest standard period that keeps a series under
``MAX_POINTS``. S3's storage metrics are daily. A range is at most ``MAX_RANGE_DAYS`` long (the
cost read stays bounded) and starts at most 455 days back (nothing older exists).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tally.errors import Invalid, NotFound, Unavailable
from tally.models import ORG, CostRecord
from tally.resources import ARN_RE, match_key
from tally.view import View

CACHE_SECONDS = 60
CACHE_ENTRIES = 256  # panels and alarm lists kept per warm container
MAX_POINTS = 1440  # per series: a day of minutes, a dashboard chart's width at most
MAX_RANGE_DAYS = 93  # a quarter
MAX_AGE_DAYS = 455  # CloudWatch keeps hourly datapoints 455 days
# (age of the range's start, the smallest period CloudWatch still holds at that age)
RETENTION = ((timedelta(days=15), 60), (timedelta(days=63), 300), (timedelta(days=455), 3600))
PERIODS = (60, 300, 900, 3600, 21600, 86400)
DAY = 86400
ALARM_PAGES = 3  # DescribeAlarms pages of 100 read per region (a bounded read)
# A function's recent errors (its log group): ONE FilterLogEvents over the range's last day,
# the first ERROR_SCAN matches, the latest RECENT_ERRORS of those shown.
RECENT_ERRORS = 20
ERROR_SCAN = 100
ERROR_WINDOW = timedelta(days=1)
# Lambda's own lines for a failed invocation and the runtimes' usual error words.
ERROR_PATTERN = '?ERROR ?Error ?Exception ?Traceback ?"Task timed out" ?"Runtime exited"'
MESSAGE_CHARS = 2000  # a log line is cut there (a stack trace's first lines)
METRIC_QUERY_LIMIT = 500  # queries one GetMetricData takes


@dataclass(frozen=True)
class MetricSpec:
    id: str  # GetMetricData query id: lower-case first letter, letters and digits
    namespace: str
    name: str
    stat: str
    unit: str  # what the values are in (CloudWatch's unit name)


@dataclass(frozen=True)
class PanelResource:
    """A resource a panel is for, from its ARN."""

    kind: str  # ec2, rds, lambda, s3
    arn: str
    account: str | None  # S3 ARNs carry none
    region: str | None  # nor a region
    name: str  # instance id, DB identifier, function name, bucket
    key: str  # the match key its cost lines and assignments meet under

    @property
    def dimensions(self) -> list[dict[str, str]]:
        name = {
            "ec2": "InstanceId",
            "rds": "DBInstanceIdentifier",
            "lambda": "FunctionName",
            "s3": "BucketName",
        }[self.kind]
        return [{"Name": name, "Value": self.name}]


PANELS: dict[str, tuple[MetricSpec, ...]] = {
    "ec2": (
        MetricSpec("cpu", "AWS/EC2", "CPUUtilization", "Average", "Percent"),
        MetricSpec("networkIn", "AWS/EC2", "NetworkIn", "Sum", "Bytes"),
        MetricSpec("networkOut", "AWS/EC2", "NetworkOut", "Sum", "Bytes"),
        MetricSpec("statusCheckFailed", "AWS/EC2", "StatusCheckFailed", "Maximum", "Count"),
    ),
    "rds": (
        MetricSpec("cpu", "AWS/RDS", "CPUUtilization", "Average", "Percent"),
        MetricSpec("connections", "AWS/RDS", "DatabaseConnections", "Average", "Count"),
        MetricSpec("freeStorage", "AWS/RDS", "FreeStorageSpace", "Minimum", "Bytes"),
        MetricSpec("readIops", "AWS/RDS", "ReadIOPS", "Average", "Count/Second"),
        MetricSpec("writeIops", "AWS/RDS", "WriteIOPS", "Average", "Count/Second"),
    ),
    "lambda": (
        MetricSpec("invocations", "AWS/Lambda", "Invocations", "Sum", "Count"),
        MetricSpec("errors", "AWS/Lambda", "Errors", "Sum", "Count"),
        MetricSpec("throttles", "AWS/Lambda", "Throttles", "Sum", "Count"),
        MetricSpec("durationP50", "AWS/Lambda", "Duration", "p50", "Milliseconds"),
        MetricSpec("durationP95", "AWS/Lambda", "Duration", "p95", "Milliseconds"),
        MetricSpec("durationP99", "AWS/Lambda", "Duration", "p99", "Milliseconds"),
        MetricSpec(
            "concurrentExecutions", "AWS/Lambda", "ConcurrentExecutions", "Maximum", "Count"
        ),
    ),
    # The daily storage metrics: one datapoint a day, per storage type.
    "s3": (
        MetricSpec("bucketSizeBytes", "AWS/S3", "BucketSizeBytes", "Average", "Bytes"),
        MetricSpec("numberOfObjects", "AWS/S3", "NumberOfObjects", "Average", "Count"),
    ),
}
_S3_STORAGE_TYPE = {"bucketSizeBytes": "StandardStorage", "numberOfObjects": "AllStorageTypes"}


def alarm_metrics(kind: str) -> tuple[str, ...]:
    """The CloudWatch metric names a Tally alarm on a resource of ``kind`` may watch: its
    panel's metrics (one name once: Lambda's duration is drawn three times)."""
    return tuple(dict.fromkeys(s.name for s in PANELS.get(kind, ())))


def metric_spec(kind: str, metric: str) -> MetricSpec:
    """The panel's first spec of ``metric`` for ``kind`` (``alarm_metrics`` names them)."""
    return next(s for s in PANELS[kind] if s.name == metric)


def metric_dimensions(resource: PanelResource, spec: MetricSpec) -> list[dict[str, str]]:
    """The dimensions CloudWatch files the resource's ``spec`` under: the resource's own, and
    for S3's storage metrics the storage type the panel draws."""
    dims = list(resource.dimensions)
    if resource.kind == "s3":
        dims.append({"Name": "StorageType", "Value": _S3_STORAGE_TYPE[spec.id]})
    return dims


def parse_resource(arn: str) -> PanelResource:
    """The panel's resource from its ARN (422 on ``resourceArn`` for anything else than an
    EC2 instance, an RDS DB instance, a Lambda function or an S3 bucket)."""
    value = arn.strip()
    m = ARN_RE.match(value)
    service, region, account, rest = m.groups() if m else ("", "", None, "")
    kind = name = ""
    if service == "ec2" and rest.startswith("instance/"):
        kind, name = "ec2", rest.removeprefix("instance/")
    elif service == "rds" and rest.startswith("db:"):
        kind, name = "rds", rest.removeprefix("db:")
    elif service == "lambda" and rest.startswith("function:"):
        kind, name = "lambda", rest.removeprefix("function:").split(":")[0]  # no qualifier
    elif service == "s3" and "/" not in rest and ":" not in rest:
        kind, name = "s3", rest
    if not kind or not name:
        raise Invalid.field(
            "resourceArn",
            "resourceArn must be the ARN of an EC2 instance, an RDS DB instance, a Lambda "
            "function or an S3 bucket",
        )
    return PanelResource(
        kind=kind,
        arn=value,
        account=account or None,
        region=region or None,
        name=name,
        key=f"lambda:{name}" if kind == "lambda" else match_key(kind, value),
    )


def validate_range(start: datetime, end: datetime, now: datetime) -> None:
    """422 on ``start`` or ``end``: end after start, at most ``MAX_RANGE_DAYS`` long, not in
    the future, starting at most ``MAX_AGE_DAYS`` back."""
    if start.tzinfo is None:
        raise Invalid.field("start", "start needs a time zone (e.g. 2026-11-01T00:00:00Z)")
    if end.tzinfo is None:
        raise Invalid.field("end", "end needs a time zone (e.g. 2026-11-02T00:00:00Z)")
    if end <= start:
        raise Invalid.field("end", "end must be after start")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise Invalid.field("end", f"a range is at most {MAX_RANGE_DAYS} days")
    if end > now + timedelta(minutes=5):
        raise Invalid.field("end", "end must not be in the future")
    if now - start > timedelta(days=MAX_AGE_DAYS):
        raise Invalid.field(
            "start", f"start must be within the last {MAX_AGE_DAYS} days (CloudWatch's retention)"
        )


def choose_period(kind: str, start: datetime, end: datetime, now: datetime) -> int:
    """Seconds per datapoint: what CloudWatch still holds at the start's age, and enough to
    keep a series under ``MAX_POINTS``; a day for S3's daily storage metrics."""
    if kind == "s3":
        return DAY
    age = now - start
    floor = next((p for limit, p in RETENTION if age <= limit), RETENTION[-1][1])
    span = (end - start).total_seconds()
    return next(p for p in PERIODS if p >= floor and span / p <= MAX_POINTS)


def align(start: datetime, end: datetime, period: int) -> tuple[datetime, datetime]:
    """The range widened to whole periods (CloudWatch aligns datapoints so; it also makes
    nearby requests share a cache entry)."""
    epoch = datetime(1970, 1, 1, tzinfo=start.tzinfo)
    s = int((start - epoch).total_seconds()) // period * period
    e = -(-int((end - epoch).total_seconds()) // period) * period
    return epoch + timedelta(seconds=s), epoch + timedelta(seconds=e)


def metric_queries(resource: PanelResource, period: int) -> list[dict[str, Any]]:
    """The panel's GetMetricData queries (one call takes ``METRIC_QUERY_LIMIT``)."""
    out = []
    for spec in PANELS[resource.kind]:
        dims = metric_dimensions(resource, spec)
        out.append(
            {
                "Id": spec.id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": spec.namespace,
                        "MetricName": spec.name,
                        "Dimensions": dims,
                    },
                    "Period": period,
                    "Stat": spec.stat,
                },
                "ReturnData": True,
            }
        )
    assert len(out) <= METRIC_QUERY_LIMIT
    return out


@dataclass(frozen=True)
class Series:
    id: str
    metric: str
    stat: str
    unit: str
    points: tuple[tuple[datetime, float], ...]  # oldest first


@dataclass(frozen=True)
class Alarm:
    name: str
    state: str
    metric: str
    namespace: str
    stat: str | None
    comparison: str
    threshold: float | None
    updated: datetime | None


@dataclass(frozen=True)
class Readings:
    """What CloudWatch answered for a panel, and when (the cache's "as of")."""

    series: tuple[Series, ...]
    alarms: tuple[Alarm, ...]
    read_at: datetime
    aws_calls: int  # made for this panel (0: from the cache)


def read_series(
    cloudwatch: Any, resource: PanelResource, start: datetime, end: datetime, period: int
) -> tuple[Series, ...]:
    """ONE GetMetricData call for the panel's metrics."""
    specs = {s.id: s for s in PANELS[resource.kind]}
    reply = cloudwatch.get_metric_data(
        MetricDataQueries=metric_queries(resource, period),
        StartTime=start,
        EndTime=end,
        ScanBy="TimestampAscending",
    )
    got = {r["Id"]: r for r in reply.get("MetricDataResults", [])}
    out = []
    for sid, spec in specs.items():
        r = got.get(sid, {})
        points = sorted(
            (t, float(v))
            for t, v in zip(r.get("Timestamps", []), r.get("Values", []), strict=False)
            if v is not None
        )
        out.append(Series(sid, spec.name, spec.stat, spec.unit, tuple(points)))
    return tuple(out)


def read_alarms(cloudwatch: Any) -> list[dict[str, Any]]:
    """The region's metric alarms, at most ``ALARM_PAGES`` DescribeAlarms pages."""
    out: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(ALARM_PAGES):
        kwargs: dict[str, Any] = {"AlarmTypes": ["MetricAlarm"], "MaxRecords": 100}
        if token:
            kwargs["NextToken"] = token
        reply = cloudwatch.describe_alarms(**kwargs)
        out += reply.get("MetricAlarms", [])
        token = reply.get("NextToken")
        if not token:
            break
    return out


def alarms_on(raw: Iterable[dict[str, Any]], resource: PanelResource) -> tuple[Alarm, ...]:
    """The alarms whose metric has the resource's dimension (name and value)."""
    want = resource.dimensions[0]
    out = []
    for a in raw:
        dims = a.get("Dimensions") or []
        if not any(d.get("Name") == want["Name"] and d.get("Value") == want["Value"] for d in dims):
            continue
        out.append(
            Alarm(
                name=a["AlarmName"],
                state=a.get("StateValue", "INSUFFICIENT_DATA"),
                metric=a.get("MetricName", ""),
                namespace=a.get("Namespace", ""),
                stat=a.get("Statistic") or a.get("ExtendedStatistic"),
                comparison=a.get("ComparisonOperator", ""),
                threshold=a.get("Threshold"),
                updated=a.get("StateUpdatedTimestamp"),
            )
        )
    return tuple(sorted(out, key=lambda a: a.name))


class TtlCache:
    """A warm container's answers, each kept ``seconds`` by the clock it is given (bounded:
    the oldest entry goes past ``entries``)."""

    def __init__(self, seconds: int = CACHE_SECONDS, entries: int = CACHE_ENTRIES) -> None:
        self.seconds, self.entries = seconds, entries
        self._held: OrderedDict[Any, tuple[datetime, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, now: datetime) -> Any | None:
        with self._lock:
            held = self._held.get(key)
            if held is None or (now - held[0]).total_seconds() >= self.seconds:
                return None
            return held[1]

    def put(self, key: Any, value: Any, now: datetime) -> None:
        with self._lock:
            self._held[key] = (now, value)
            self._held.move_to_end(key)
            while len(self._held) > self.entries:
                self._held.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


@contextmanager
def _live(service: str) -> Iterator[None]:
    """An AWS error on a live read (throttling, an outage, a missing grant) becomes
    ``Unavailable`` (503, Retry-After): the caller did nothing wrong, and the API's log keeps
    the AWS error code. Nothing was cached, so the next request asks AWS again."""
    try:
        yield
    except Exception as error:
        response = getattr(error, "response", None)
        code = (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None
        if code is None and not _is_botocore(error):
            raise
        raise Unavailable(
            f"{service} could not be read just now ({code or type(error).__name__}); "
            "try again shortly"
        ) from error


def _is_botocore(error: Exception) -> bool:
    # botocore's own failures (endpoint unreachable, read timeout) carry no AWS error code.
    return type(error).__module__.startswith("botocore")


def readings(
    client: Callable[[str, str], Any],
    cache: TtlCache,
    resource: PanelResource,
    start: datetime,
    end: datetime,
    period: int,
    *,
    region: str,
    now: datetime,
) -> Readings:
    """The panel's series and alarms, from the cache when read less than a minute ago."""
    key = ("panel", resource.arn, region, start, end, period)
    held = cache.get(key, now)
    if held is not None:
        return Readings(held.series, held.alarms, held.read_at, 0)
    cloudwatch = client("cloudwatch", region)
    with _live("CloudWatch"):
        series = read_series(cloudwatch, resource, start, end, period)
    calls = 1
    raw = cache.get(("alarms", region), now)
    if raw is None:
        with _live("CloudWatch"):
            raw = read_alarms(cloudwatch)
        calls += 1
        cache.put(("alarms", region), raw, now)
    made = Readings(series, alarms_on(raw, resource), now, calls)
    cache.put(key, made, now)
    return made


# ---- cost on the same axis and who may see the panel -------------------------------------


def daily_cost(
    records: Iterable[CostRecord], key: str, *, first: date, last: date, view: View
) -> tuple[str, tuple[tuple[date, Decimal], ...]]:
    """The resource's cost each day from ``first`` to ``last`` (every day, zero included), in
    the currency with most of its lines (others left out, never converted)."""
    from tally.resources import line_match_key

    mine = [r for r in records if r.resource_id and line_match_key(r.service, r.resource_id) == key]
    counts: dict[str, int] = defaultdict(int)
    for r in mine:
        counts[r.currency] += 1
    currency = (
        max(counts.items(), key=lambda kv: (kv[1], kv[0] == view.currency, kv[0]))[0]
        if counts
        else view.currency
    )
    by_day: dict[date, Decimal] = defaultdict(Decimal)
    for r in mine:
        if r.currency == currency:
            by_day[r.day] += r.amount(view.metric)
    days = (last - first).days + 1
    return currency, tuple(
        (first + timedelta(days=n), by_day.get(first + timedelta(days=n), Decimal(0)))
        for n in range(max(days, 0))
    )


def daily_usage(
    records: Iterable[CostRecord], key: str, *, first: date, last: date
) -> tuple[tuple[date, str, Decimal], ...]:
    """The resource's usage each day from ``first`` to ``last``: (day, unit, quantity) of its
    Usage lines with a unit, days in order then units; days without usage are left out (a
    quantity is not a cost: no zero is invented for a unit the day did not use)."""
    from tally.resources import line_match_key

    by_day: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for r in records:
        if (
            r.resource_id
            and r.usage_unit
            and r.charge_category == "Usage"
            and first <= r.day <= last
            and line_match_key(r.service, r.resource_id) == key
        ):
            by_day[(r.day, r.usage_unit)] += r.usage_quantity
    return tuple((day, unit, q) for (day, unit), q in sorted(by_day.items()))


def owns(view: View, resource: PanelResource, owners_of_function: Callable[[], Any]) -> bool:
    """Whether the caller owns (a share of) the resource today: a function by the estate's
    owners record (assignments and owner tags), anything else by its assignments in force."""
    me = view.caller.user_id
    if resource.kind == "lambda":
        return bool(owners_of_function().share_of(me) > 0)
    today = view.today
    return any(
        a.user_id == me and a.effective_from <= today and not a.ended
        for a in view.stores.assignments.for_resource(resource.kind, resource.arn)
    )


@dataclass(frozen=True)
class Panel:
    resource: PanelResource
    region: str
    start: datetime
    end: datetime
    period: int
    series: tuple[Series, ...]
    alarms: tuple[Alarm, ...]
    currency: str
    daily_cost: tuple[tuple[date, Decimal], ...]
    org: bool
    read_at: datetime
    aws_calls: int
    # (day, unit, quantity) beside the cost (issue 16): what the cost bought, from the same records.
    daily_usage: tuple[tuple[date, str, Decimal], ...] = ()


def metrics_panel(
    view: View,
    resource_arn: str,
    start: datetime,
    end: datetime,
    *,
    client: Callable[[str, str], Any],
    cache: TtlCache,
    now: datetime,
    default_region: str,
    org_accounts: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
) -> Panel:
    """The panel of ``resource_arn`` over [start, end): 422 on bad input, 404 when the caller
    neither owns it nor reads the organisation's estate (as for a resource that is not
    there). ``client(service, region)`` makes a boto3 client; ``kinds`` limits the types."""
    from tally.estate.ownership import NOBODY, owners_scope, read_owners
    from tally.estate.views import reach

    who = reach(view)  # Forbidden without estate:read at all
    resource = parse_resource(resource_arn)
    if kinds is not None and resource.kind not in kinds:
        raise Invalid.field("resourceArn", f"resourceArn must be a {' or '.join(kinds)} ARN")
    validate_range(start, end, now)
    if org_accounts is not None and resource.account and resource.account not in org_accounts:
        raise NotFound("no such resource")

    def function_owners() -> Any:
        if resource.account is None:
            return NOBODY
        record = view.stores.estate.get(owners_scope(resource.account), f"owner#{resource.key}")
        return read_owners([record]).get(resource.key, NOBODY) if record else NOBODY

    if not who.org and not owns(view, resource, function_owners):
        raise NotFound("no such resource")
    period = choose_period(resource.kind, start, end, now)
    start, end = align(start, end, period)
    region = resource.region or default_region
    got = readings(client, cache, resource, start, end, period, region=region, now=now)
    first = start.date()
    last = min((end - timedelta(microseconds=1)).date(), view.today - timedelta(days=1))
    owner = ORG if who.org else view.caller.user_id
    # Only the resource's own lines (one Query of the cost lines' "by-resource" index).
    records = view.stores.costs.for_resource(owner, first, last + timedelta(days=1), resource.key)
    currency, daily = daily_cost(records, resource.key, first=first, last=last, view=view)
    return Panel(
        resource=resource,
        region=region,
        start=start,
        end=end,
        period=period,
        series=got.series,
        alarms=got.alarms,
        currency=currency,
        daily_cost=daily,
        org=who.org,
        read_at=got.read_at,
        aws_calls=got.aws_calls,
        daily_usage=daily_usage(records, resource.key, first=first, last=last),
    )


# ---- a function's recent errors (CloudWatch Logs) ----------------------------------------


@dataclass(frozen=True)
class LogError:
    at: datetime
    stream: str
    message: str


@dataclass(frozen=True)
class RecentErrors:
    errors: tuple[LogError, ...]  # newest first
    truncated: bool  # more matched than were read or shown
    since: datetime  # the window searched: [since, end)
    aws_calls: int


def read_errors(
    logs: Any, function: str, start: datetime, end: datetime
) -> tuple[tuple[LogError, ...], bool, datetime]:
    """ONE FilterLogEvents on ``/aws/lambda/<function>`` over the range's last day: the
    latest ``RECENT_ERRORS`` of its first ``ERROR_SCAN`` matches. A log group that does not
    exist (a function never invoked) has no errors."""
    since = max(start, end - ERROR_WINDOW)
    try:
        reply = logs.filter_log_events(
            logGroupName=f"/aws/lambda/{function}",
            startTime=int(since.timestamp() * 1000),
            endTime=int(end.timestamp() * 1000) - 1,
            filterPattern=ERROR_PATTERN,
            limit=ERROR_SCAN,
        )
    except Exception as error:
        code = (getattr(error, "response", None) or {}).get("Error", {}).get("Code")
        if code == "ResourceNotFoundException":
            return (), False, since
        raise
    events = sorted(
        (
            LogError(
                at=datetime.fromtimestamp(e["timestamp"] / 1000, tz=since.tzinfo),
                stream=e.get("logStreamName", ""),
                message=e.get("message", "").rstrip()[:MESSAGE_CHARS],
            )
            for e in reply.get("events", [])
        ),
        key=lambda e: e.at,
        reverse=True,
    )
    truncated = bool(reply.get("nextToken")) or len(events) > RECENT_ERRORS
    return tuple(events[:RECENT_ERRORS]), truncated, since


def recent_errors(
    client: Callable[[str, str], Any],
    cache: TtlCache,
    function: str,
    region: str,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
) -> RecentErrors:
    """``read_errors``, kept a minute in the same cache as the panels."""
    key = ("errors", function, region, start, end)
    held = cache.get(key, now)
    if held is not None:
        return RecentErrors(held.errors, held.truncated, held.since, 0)
    with _live("CloudWatch Logs"):
        errors, truncated, since = read_errors(client("logs", region), function, start, end)
    made = RecentErrors(errors, truncated, since, 1)
    cache.put(key, made, now)
    return made


@dataclass(frozen=True)
class FunctionRange:
    """A function's detail over a chosen range: the Lambda panel and its recent errors."""

    panel: Panel
    errors: RecentErrors


def function_range(
    view: View,
    arn: str,
    name: str,
    start: datetime | None,
    end: datetime | None,
    *,
    client: Callable[[str, str], Any],
    cache: TtlCache,
    now: datetime,
    default_region: str,
) -> FunctionRange | None:
    """The function's metrics over [start, end) and its recent errors; None without a range
    (the detail then costs no AWS call). The caller has already been shown the function."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        missing = "start" if start is None else "end"
        raise Invalid.field(missing, "start and end go together (or neither)")
    panel = metrics_panel(
        view,
        arn,
        start,
        end,
        client=client,
        cache=cache,
        now=now,
        default_region=default_region,
        kinds=("lambda",),
    )
    errors = recent_errors(
        client, cache, name, panel.region, panel.start, min(panel.end, now), now=now
    )
    return FunctionRange(panel, errors)
