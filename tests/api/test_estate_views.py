"""GET /api/estate/*: the estate's read views answer from the inventory's cache with costs
and owners; a member sees only their own functions; the network and IAM users are the
organisation's; each view costs a constant number of DynamoDB requests and no AWS call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pynamodb.connection.base import Connection

from tally.allocation import OwnerTagRule
from tally.clock import utc_now, utc_today
from tally.estate.inventory import (
    function_record,
    group_record,
    metrics_record,
    network_records,
    scope_of,
    user_record,
)
from tally.estate.models import (
    AccessKey,
    FunctionMetrics,
    IamGroup,
    IamUser,
    LambdaFunction,
    NatGateway,
    Network,
    PublicAddress,
    SecurityGroup,
    SecurityRule,
    Vpc,
)
from tally.estate.ownership import owners_records, owners_scope
from tally.ingest import ingest_days
from tally.models import CostLine
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api

ACCOUNT = "123456789012"
REGION = "us-east-1"


def arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def fn(
    name: str, tags: dict[str, str] | None = None, runtime: str = "python3.12"
) -> LambdaFunction:
    return LambdaFunction(name, arn(name), REGION, runtime, "arm64", 128, 3, "x", None, tags or {})


def seed_estate(api: Api, functions: int = 3) -> None:
    now = utc_now()
    today = utc_today()
    store = api.stores.estate
    names = ["busy", "erroring", "idle"] + [f"extra-{n}" for n in range(functions - 3)]
    made = [fn("busy", {"Owner": "alice"}), fn("erroring", runtime="python3.9"), fn("idle")]
    made += [fn(n) for n in names[3:]]
    store.replace(scope_of(ACCOUNT, REGION, "lambda"), [function_record(f, now) for f in made])
    start, end = now - timedelta(days=7), now
    store.replace(
        scope_of(ACCOUNT, REGION, "metrics"),
        [
            metrics_record(FunctionMetrics("busy", start, end, 35000, 3), now),
            metrics_record(FunctionMetrics("erroring", start, end, 1400, 280), now),
            metrics_record(FunctionMetrics("idle", start, end, 0, 0), now),
        ],
    )
    world = SecurityRule("tcp", 22, 22, ("0.0.0.0/0",), ())
    net = Network(
        vpcs=(Vpc("vpc-1", "10.0.0.0/16", False, "available"),),
        nat_gateways=(NatGateway("nat-1", "vpc-1", "subnet-1", "available", ("1.2.3.4",)),),
        addresses=(PublicAddress("5.6.7.8", "eipalloc-1", None, None),),
        security_groups=(SecurityGroup("sg-1", "bastion", "vpc-1", "ssh", (world,), ()),),
    )
    store.replace(scope_of(ACCOUNT, REGION, "network"), network_records(net, now))
    old = now - timedelta(days=200)
    users = [
        IamUser(
            "no-mfa", "arn:u1", "/", old, now, True, (), (), ("devs",), (), (), {"Owner": "alice"}
        ),
        IamUser(
            "old-key",
            "arn:u2",
            "/",
            old,
            None,
            False,
            (),
            (AccessKey("AKIA1", "Active", old, now),),
            (),
            (),
            (),
        ),
    ]
    groups = [IamGroup("devs", "/", ("ReadOnlyAccess",)), IamGroup("ops", "/ops/", (), ("x",))]
    store.replace(
        scope_of(ACCOUNT, "global", "iam"),
        [user_record(u, now) for u in users] + [group_record(g, now) for g in groups],
    )
    store.replace(
        owners_scope(ACCOUNT),
        owners_records(
            functions=[(f.arn, f.tags) for f in made],
            iam_users=[(u.name, u.tags) for u in users],
            today=today,
            now=now,
            assignments=[],
            tag_owners={"alice": "u-alice"},
            owner_tag_key="Owner",
        ),
    )
    days = [today - timedelta(days=d) for d in range(1, 61)]
    lines = (
        [
            CostLine(
                day,
                "AWSLambda",
                arn("busy"),
                Decimal("1.50"),
                Decimal("1.50"),
                "USD",
                Decimal(5000),
                "Requests",
                tags={"Owner": "alice"},
            )
            for day in days
        ]
        + [
            CostLine(day, "AWSLambda", arn("erroring"), Decimal("0.30"), Decimal("0.30"), "USD")
            for day in days
        ]
        + [
            CostLine(
                day,
                "AmazonEC2",
                f"arn:aws:ec2:{REGION}:{ACCOUNT}:natgateway/nat-1",
                Decimal("1.08"),
                Decimal("1.08"),
                "USD",
                Decimal(24),
                "Hrs",
            )
            for day in days
        ]
    )
    ingest_days(lines, days, stores=api.stores, rule=OwnerTagRule(), source="t", now=now)


@pytest.fixture
def estate(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("TALLY_ESTATE_ACCOUNT", ACCOUNT)
    monkeypatch.setenv("TALLY_ESTATE_REGIONS", REGION)
    seed_estate(api)
    return api


def test_admin_sees_every_function_with_cost_owner_and_findings(estate: Api) -> None:
    reply = estate.call("GET", "/api/estate/lambda", ADMIN)
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["scope"] == "organisation" and body["readAt"]
    by_name = {f["name"]: f for f in body["items"]}
    assert set(by_name) == {"busy", "erroring", "idle"}
    busy = by_name["busy"]
    assert busy["ownership"] == {
        "unowned": False,
        "owners": [{"userId": "u-alice", "sharePct": "100"}],
        "actions": [],
    }
    assert busy["cost"]["last30Days"] == {"amount": "45.00", "currency": "USD"}
    assert busy["cost"]["previous30Days"]["amount"] == "45.00"
    assert len(busy["cost"]["daily"]) == 30
    # 1.50 a day over 5,000 a day: 300.00 per million
    assert busy["costPerMillionInvocations"] == {"amount": "300.00", "currency": "USD"}
    assert by_name["idle"]["ownership"]["unowned"] is True
    assert by_name["idle"]["ownership"]["actions"] == ["claim", "assign"]
    codes = {f["name"]: {x["code"] for x in f["findings"]} for f in body["items"]}
    assert "lambda.erroring" in codes["erroring"]
    assert "lambda.runtime-deprecated" in codes["erroring"]
    assert codes["idle"] == {"lambda.idle"}


def test_a_member_sees_only_their_own_functions(estate: Api) -> None:
    mine = estate.call("GET", "/api/estate/lambda", ALICE).body
    assert mine["scope"] == "own"
    assert [f["name"] for f in mine["items"]] == ["busy"]
    # her share of the cost, from her own records
    assert mine["items"][0]["cost"]["last30Days"]["amount"] == "45.00"
    assert estate.call("GET", "/api/estate/lambda", BOB).body["items"] == []
    assert estate.call("GET", "/api/estate/lambda/busy", BOB).status == 404
    assert estate.call("GET", "/api/estate/lambda/busy", ALICE).status == 200
    assert estate.call("GET", "/api/estate/lambda/nope", ADMIN).status == 404


def test_network_is_the_organisations_with_cost_findings_and_savings(estate: Api) -> None:
    assert estate.call("GET", "/api/estate/network", ALICE).status == 403
    reply = estate.call("GET", f"/api/estate/network?region={REGION}", ADMIN)
    assert reply.status == 200, reply.body
    body = reply.body
    assert [f["code"] for f in body["findings"]] == ["network.open-to-world"]
    assert body["cost"]["natGatewayHours"]["last30Days"]["amount"] == "32.40"
    assert body["cost"]["natGatewayHours"]["usage"] == {"Hrs": "720"}
    codes = {s["code"] for s in body["savings"]}
    assert codes == {
        "network.idle-nat-gateway",
        "network.unattached-eip",
        "network.s3-gateway-endpoint",
    }
    assert body["natGateways"][0]["gatewayId"] == "nat-1"


def test_iam_users_with_findings_and_link(estate: Api) -> None:
    assert estate.call("GET", "/api/estate/iam/users", ALICE).status == 403
    body = estate.call("GET", "/api/estate/iam/users", ADMIN).body
    by_name = {u["name"]: u for u in body["items"]}
    assert {f["code"] for f in by_name["no-mfa"]["findings"]} == {"iam.console-without-mfa"}
    assert by_name["no-mfa"]["tallyUserId"] == "u-alice"
    assert by_name["no-mfa"]["linkedBy"] == "tag"
    assert by_name["old-key"]["tallyUserId"] is None and by_name["old-key"]["linkedBy"] is None
    assert body["groups"] == [
        {"name": "devs", "path": "/", "policies": ["ReadOnlyAccess"], "inlinePolicies": []},
        {"name": "ops", "path": "/ops/", "policies": [], "inlinePolicies": ["x"]},
    ]
    assert {f["code"] for f in by_name["old-key"]["findings"]} == {"iam.access-key-not-rotated"}
    assert by_name["old-key"]["accessKeys"][0]["ageDays"] == 200
    one = estate.call("GET", "/api/estate/iam/users/old-key", ADMIN)
    assert one.status == 200 and one.body["name"] == "old-key"
    assert estate.call("GET", "/api/estate/iam/users/nobody", ADMIN).status == 404


def _audited(api: Api, subject: str) -> list[tuple[str, str, str]]:
    entries = api.stores.audit.list_for_user(subject, 50).items
    return [
        (e.action, e.details["before"], e.details["after"])
        for e in entries
        if e.action.startswith("estate.iam-link")
    ]


def test_an_admins_link_wins_over_the_tag_survives_a_run_and_unlinks(estate: Api) -> None:
    link = "/api/estate/iam/users/no-mfa/link"
    # Given no-mfa, linked to alice by its Owner tag; when the admin maps it to bob
    reply = estate.call("PUT", link, ADMIN, body={"userId": "u-bob"})
    assert reply.status == 200, reply.body
    assert (reply.body["tallyUserId"], reply.body["linkedBy"]) == ("u-bob", "admin")
    # then both views say so, and the change is audited with its before and after
    one = estate.call("GET", "/api/estate/iam/users/no-mfa", ADMIN).body
    assert (one["tallyUserId"], one["linkedBy"]) == ("u-bob", "admin")
    listed = estate.call("GET", "/api/estate/iam/users", ADMIN).body["items"]
    assert {u["name"]: u["linkedBy"] for u in listed} == {"no-mfa": "admin", "old-key": None}
    ((action, before, after),) = _audited(estate, "u-bob")
    assert action == "estate.iam-link.set" and before == "null"
    assert '"userId": "u-bob"' in after and '"setBy": "u-admin"' in after
    # The same mapping again changes nothing (no second audit entry)
    assert estate.call("PUT", link, ADMIN, body={"userId": "u-bob"}).status == 200
    assert len(_audited(estate, "u-bob")) == 1
    # The next inventory run rewrites the owners (the tag still names alice): the mapping stays
    seed_estate(estate)
    one = estate.call("GET", "/api/estate/iam/users/no-mfa", ADMIN).body
    assert (one["tallyUserId"], one["linkedBy"]) == ("u-bob", "admin")
    # Unlinking shows the tag's link again; unlinking twice is fine and audits once
    assert estate.call("DELETE", link, ADMIN).status == 204
    assert estate.call("DELETE", link, ADMIN).status == 204
    one = estate.call("GET", "/api/estate/iam/users/no-mfa", ADMIN).body
    assert (one["tallyUserId"], one["linkedBy"]) == ("u-alice", "tag")
    assert sorted(a for a, _, _ in _audited(estate, "u-bob")) == [
        "estate.iam-link.removed",
        "estate.iam-link.set",
    ]


def test_a_link_refuses_unknown_users_bad_bodies_and_non_admins(estate: Api) -> None:
    link = "/api/estate/iam/users/old-key/link"
    assert estate.call("PUT", link, ALICE, body={"userId": "u-alice"}).status == 403
    assert estate.call("DELETE", link, ALICE).status == 403
    unknown_iam = estate.call(
        "PUT", "/api/estate/iam/users/nobody/link", ADMIN, body={"userId": "u-bob"}
    )
    assert unknown_iam.status == 404
    assert estate.call("PUT", link, ADMIN, body={"userId": "u-nobody"}).status == 404
    for bad in ({}, {"userId": ""}, {"userId": "u-bob", "extra": 1}, {"userId": "a/b"}):
        reply = estate.call("PUT", link, ADMIN, body=bad)
        assert reply.status == 422, (bad, reply.body)
        assert reply.body["errors"], reply.body
    assert (
        estate.call("PUT", link, ADMIN, body={"userId": "a/b"}).body["errors"][0]["field"]
        == "userId"
    )
    assert estate.call("DELETE", "/api/estate/iam/users/nobody/link", ADMIN).status == 404
    # Nothing of that changed anything
    one = estate.call("GET", "/api/estate/iam/users/old-key", ADMIN).body
    assert one["tallyUserId"] is None and one["linkedBy"] is None
    assert _audited(estate, "u-bob") == [] and _audited(estate, "u-alice") == []


def test_bad_input_is_a_problem_not_a_500(estate: Api) -> None:
    reply = estate.call("GET", "/api/estate/lambda?region=eu-west-1", ADMIN)
    assert reply.status == 422
    assert reply.body["errors"][0]["field"] == "region"
    assert estate.call("GET", "/api/estate/lambda?region=nowhere", ADMIN).status == 422


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    seen: Counter[str] = Counter()
    real = Connection.dispatch

    def counting(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:  # type: ignore[type-arg]
        seen[operation_name] += 1
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    yield seen


VIEWS = (
    "/api/estate/lambda",
    "/api/estate/lambda/busy",
    "/api/estate/network",
    "/api/estate/iam/users",
    "/api/estate/iam/users/no-mfa",
)


def measure(api: Api, calls: Counter[str]) -> dict[str, Counter[str]]:
    out = {}
    for url in VIEWS:
        api.call("GET", url, ADMIN)  # the access facts are cached by the warm container
    for url in VIEWS:
        calls.clear()
        assert api.call("GET", url, ADMIN).status == 200
        out[url] = Counter(calls)
    return out


def test_each_view_costs_constant_dynamodb_requests_and_no_aws_call(
    api: Api, calls: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import context

    monkeypatch.setenv("TALLY_ESTATE_ACCOUNT", ACCOUNT)
    monkeypatch.setenv("TALLY_ESTATE_REGIONS", REGION)

    def no_aws(service: str) -> None:
        raise AssertionError(f"an AWS call to {service} on a view")

    monkeypatch.setattr(context, "aws_client", no_aws)
    seed_estate(api, functions=3)
    small = measure(api, calls)
    seed_estate(api, functions=40)
    large = measure(api, calls)
    assert small == large
    assert all("Scan" not in c for c in large.values())
    # The fourth plus one: the organisation's billing periods (month to date is the period's).
    assert sum(large["/api/estate/lambda"].values()) <= 4 + 1


def test_a_functions_detail_reads_only_its_own_cost_lines(
    estate: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One Query of the cost lines' "by-resource" index, which reads the function's lines and
    nothing else (no FilterExpression dropping the organisation's other lines after reading
    them), for an admin (the organisation's lines) and an owner (their own); and the
    function's own estate records by key, not the region's every function."""
    seen: list[tuple[str | None, int, int]] = []
    estate_reads: list[str] = []
    real = Connection.dispatch

    def meter(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:  # type: ignore[type-arg]
        answer = real(self, operation_name, operation_kwargs)
        table = str(operation_kwargs.get("TableName", ""))
        if operation_name == "Query" and table.endswith("costs"):
            got = (answer["ScannedCount"], answer["Count"])
            seen.append((operation_kwargs.get("IndexName"), *got))
        if table.endswith("estate"):
            estate_reads.append(operation_name)
        return answer

    seed_estate(estate, functions=40)
    monkeypatch.setattr(Connection, "dispatch", meter)
    for caller in (ADMIN, ALICE):
        seen.clear()
        estate_reads.clear()
        reply = estate.call("GET", "/api/estate/lambda/busy", caller)
        assert reply.status == 200, reply.body
        # The 30 days before today at 1.50 a day, the owner's whole share (tagged hers).
        assert reply.body["cost"]["last30Days"] == {"amount": "45.00", "currency": "USD"}
        assert seen == [("by-resource", 60, 60)]
        # The function, its owners and its metrics: whatever the region holds.
        assert estate_reads == ["GetItem"] * 3


def _deploy(name: str) -> None:
    """The function in (moto's) Lambda, so an assignment of it passes the resource check."""
    import boto3

    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName=f"r-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )


def test_an_assignment_shows_in_the_views_at_once(estate: Api) -> None:
    """No inventory run between: the assignment's write recomputes the function's owners."""
    _deploy("idle")
    _deploy("busy")
    url = "/api/billing/assign-resource"
    made = estate.call(
        "POST",
        url,
        ADMIN,
        body={"userId": "u-bob", "resourceType": "lambda", "resourceId": arn("idle")},
    )
    assert made.status == 201, made.body
    idle = estate.call("GET", "/api/estate/lambda/idle", ADMIN).body
    assert idle["ownership"]["owners"] == [{"userId": "u-bob", "sharePct": "100"}]
    assert [f["name"] for f in estate.call("GET", "/api/estate/lambda", BOB).body["items"]] == [
        "idle"
    ]
    # busy is alice's by its owner tag: an assignment takes over, its end gives it back
    taken = estate.call(
        "POST",
        url,
        ADMIN,
        body={"userId": "u-bob", "resourceType": "lambda", "resourceId": arn("busy")},
    )
    assert taken.status == 201, taken.body
    owners = estate.call("GET", "/api/estate/lambda/busy", ADMIN).body["ownership"]["owners"]
    assert owners == [{"userId": "u-bob", "sharePct": "100"}]
    gone = estate.call("DELETE", f"/api/billing/unassign/{taken.body['assignmentId']}", ADMIN)
    assert gone.status == 204
    owners = estate.call("GET", "/api/estate/lambda/busy", ADMIN).body["ownership"]["owners"]
    assert owners == [{"userId": "u-alice", "sharePct": "100"}]
    assert estate.call("GET", "/api/estate/lambda/busy", BOB).status == 404


# ---- the metrics panel ----------------------------------------------------------------------


class Counting:
    """A boto3 client that counts its calls (the panel's AWS calls per request)."""

    def __init__(self, client: object, seen: Counter[str]) -> None:
        self._client, self._seen = client, seen

    def __getattr__(self, name: str) -> object:
        method = getattr(self._client, name)
        if name.startswith(("get_", "describe_", "filter_")):
            self._seen[name] += 1
        return method


@pytest.fixture
def aws_calls(estate: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    import boto3

    from api import context
    from api.routes import estate as routes

    seen: Counter[str] = Counter()
    real = context.aws_client
    monkeypatch.setattr(
        context, "aws_client", lambda service, region=None: Counting(real(service, region), seen)
    )
    routes.metrics_cache.cache_clear()
    today = utc_today()
    noon = utc_now().replace(hour=12, minute=0, second=0, microsecond=0)
    cw = boto3.client("cloudwatch", region_name=REGION)
    data = [
        {
            "MetricName": name,
            "Dimensions": [{"Name": "FunctionName", "Value": "busy"}],
            "Timestamp": noon - timedelta(days=d),
            "Value": value,
            "Unit": "Count",
        }
        for d in range(1, 4)
        for name, value in (("Invocations", 5000.0), ("Errors", 3.0))
    ]
    cw.put_metric_data(Namespace="AWS/Lambda", MetricData=data)
    cw.put_metric_alarm(
        AlarmName="busy-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "busy"}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cw.put_metric_alarm(
        AlarmName="someone-elses",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "idle"}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    assert today
    yield seen
    routes.metrics_cache.cache_clear()


def panel_url(name: str, start: str, end: str) -> str:
    return f"/api/estate/metrics?resourceArn={arn(name)}&start={start}&end={end}"


def test_the_metrics_panel_one_call_cached_with_cost_and_alarms(
    estate: Api, aws_calls: Counter[str]
) -> None:
    today = utc_today()
    start = f"{(today - timedelta(days=7)).isoformat()}T00:00:00Z"
    end = f"{today.isoformat()}T00:00:00Z"
    reply = estate.call("GET", panel_url("busy", start, end), ADMIN)
    assert reply.status == 200, reply.body
    body = reply.body
    assert dict(aws_calls) == {"get_metric_data": 1, "describe_alarms": 1}
    assert body["resource"] == {
        "arn": arn("busy"),
        "type": "lambda",
        "name": "busy",
        "region": REGION,
    }
    assert body["periodSeconds"] == 60 * 15 and body["scope"] == "organisation"
    ids = [s["id"] for s in body["series"]]
    assert ids == [
        "invocations",
        "errors",
        "throttles",
        "durationP50",
        "durationP95",
        "durationP99",
        "concurrentExecutions",
    ]
    invocations = body["series"][0]["points"]
    assert [p["value"] for p in invocations] == [5000.0] * 3
    assert [a["name"] for a in body["alarms"]] == ["busy-errors"]
    # the cost on the same axis: each day of the range up to yesterday, 1.50 a day
    assert len(body["dailyCost"]) == 7
    assert {d["cost"]["amount"] for d in body["dailyCost"]} == {"1.50"}
    # within the minute: from the warm container's cache, no AWS call
    aws_calls.clear()
    again = estate.call("GET", panel_url("busy", start, end), ADMIN)
    assert again.status == 200 and again.body["readAt"] == body["readAt"]
    assert dict(aws_calls) == {}
    # alice owns busy (its owner tag): her share of the cost; bob does not: 404
    mine = estate.call("GET", panel_url("busy", start, end), ALICE)
    assert mine.status == 200 and mine.body["scope"] == "own"
    assert estate.call("GET", panel_url("busy", start, end), BOB).status == 404
    assert estate.call("GET", panel_url("idle", start, end), ALICE).status == 404
    # "The last 7 days" without knowing the date: the same range, from the cache.
    by_days = estate.call("GET", f"/api/estate/metrics?resourceArn={arn('busy')}&days=7", ADMIN)
    assert by_days.status == 200, by_days.body
    assert (by_days.body["start"], by_days.body["end"]) == (body["start"], body["end"])
    assert by_days.body["readAt"] == body["readAt"] and dict(aws_calls) == {}


@pytest.mark.parametrize("failing", ["get_metric_data", "describe_alarms"])
def test_a_cloudwatch_failure_is_a_503_to_retry_and_nothing_is_cached(
    estate: Api, aws_calls: Counter[str], monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """AWS throttling (or an outage) on a live read is not the caller's fault and not a bug:
    503 problem+json with Retry-After, and the next request asks CloudWatch again."""
    from botocore.exceptions import ClientError

    from api import context

    real = context.aws_client

    class Throttled:
        def __init__(self, client: Any) -> None:
            self._client = client

        def __getattr__(self, name: str) -> Any:
            if name == failing:

                def refuse(**_: Any) -> Any:
                    error = {"Code": "Throttling", "Message": "Rate exceeded"}
                    raise ClientError({"Error": error}, name)

                return refuse
            return getattr(self._client, name)

    monkeypatch.setattr(
        context, "aws_client", lambda service, region=None: Throttled(real(service, region))
    )
    today = utc_today()
    start = f"{(today - timedelta(days=7)).isoformat()}T00:00:00Z"
    end = f"{today.isoformat()}T00:00:00Z"
    reply = estate.call("GET", panel_url("busy", start, end), ADMIN)
    assert reply.status == 503, reply.body
    assert reply.problem["type"].endswith("/service-unavailable")
    assert "Throttling" in reply.problem["detail"]
    assert reply.headers["Retry-After"] == "30"
    ranged = estate.call("GET", f"/api/estate/lambda/busy?start={start}&end={end}", ADMIN)
    assert ranged.status == 503, ranged.body
    monkeypatch.setattr(context, "aws_client", real)
    assert estate.call("GET", panel_url("busy", start, end), ADMIN).status == 200


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-11-19T00:00:00Z", "2026-11-18T00:00:00Z", "end"),  # end before start
        ("2026-11-19T00:00:00Z", "2026-11-19T00:00:00Z", "end"),  # empty
        ("2026-06-01T00:00:00Z", "2026-11-19T00:00:00Z", "end"),  # over 93 days
        ("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", "start"),  # past the retention
        ("2026-11-19T00:00:00Z", "2026-12-30T00:00:00Z", "end"),  # the future
        ("yesterday", "2026-11-19T00:00:00Z", "start"),  # not a time
        ("", "2026-11-19T00:00:00Z", "start"),  # missing
        ("2026-11-19T00:00:00Z", "", "end"),  # missing
    ],
)
def test_the_metrics_panel_refuses_a_bad_range(
    estate: Api, aws_calls: Counter[str], start: str, end: str, field: str
) -> None:
    reply = estate.call("GET", panel_url("busy", start, end), ADMIN)
    assert reply.status == 422, reply.body
    assert field in {e["field"] for e in reply.body["errors"]}
    assert dict(aws_calls) == {}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("days=0", "days"),
        ("days=94", "days"),
        ("days=seven", "days"),
        ("days=7&start=2026-11-12T00:00:00Z", "days"),
        ("days=7&end=2026-11-19T00:00:00Z", "days"),
        ("", "start"),
    ],
)
def test_the_metrics_panel_refuses_bad_days(
    estate: Api, aws_calls: Counter[str], query: str, field: str
) -> None:
    reply = estate.call("GET", f"/api/estate/metrics?resourceArn={arn('busy')}&{query}", ADMIN)
    assert reply.status == 422, reply.body
    assert field in {e["field"] for e in reply.body["errors"]}
    assert dict(aws_calls) == {}


def test_the_metrics_panel_refuses_other_resources(estate: Api, aws_calls: Counter[str]) -> None:
    window = "&start=2026-11-19T00:00:00Z&end=2026-11-20T00:00:00Z"
    for bad in ("arn:aws:sqs:us-east-1:123456789012:queue", "arn:aws:ec2:us-east-1:1:vpc/v"):
        reply = estate.call("GET", f"/api/estate/metrics?resourceArn={bad}{window}", ADMIN)
        assert reply.status == 422, reply.body
        assert reply.body["errors"][0]["field"] == "resourceArn"
    outside = "arn:aws:lambda:us-east-1:999999999999:function:busy"
    assert (
        estate.call("GET", f"/api/estate/metrics?resourceArn={outside}{window}", ADMIN).status
        == 404
    )


def test_the_function_detail_over_a_range_with_recent_errors(
    estate: Api, aws_calls: Counter[str]
) -> None:
    import boto3

    logs = boto3.client("logs", region_name=REGION)
    group = "/aws/lambda/busy"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/11/19/[$LATEST]abc")
    yesterday = utc_now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="2026/11/19/[$LATEST]abc",
        logEvents=[
            {
                "timestamp": int((yesterday + timedelta(minutes=n)).timestamp() * 1000),
                "message": f"[ERROR] KeyError: 'order' #{n}",
            }
            for n in range(25)
        ],
    )
    today = utc_today()
    start = f"{(today - timedelta(days=2)).isoformat()}T00:00:00Z"
    end = f"{today.isoformat()}T00:00:00Z"
    url = f"/api/estate/lambda/busy?start={start}&end={end}"
    reply = estate.call("GET", url, ADMIN)
    assert reply.status == 200, reply.body
    ranged = reply.body["range"]
    assert dict(aws_calls) == {
        "get_metric_data": 1,
        "describe_alarms": 1,
        "filter_log_events": 1,
    }
    assert {s["id"] for s in ranged["series"]} >= {"durationP50", "durationP95", "durationP99"}
    assert ranged["periodSeconds"] == 300
    errors = ranged["recentErrors"]
    # newest first, at most 20 of the 25
    assert len(errors) == 20 and ranged["errorsTruncated"] is True
    assert errors[0]["message"] == "[ERROR] KeyError: 'order' #24"
    assert [a["name"] for a in ranged["alarms"]] == ["busy-errors"]
    aws_calls.clear()
    assert estate.call("GET", url, ADMIN).body["range"] == ranged  # the minute's cache
    assert dict(aws_calls) == {}
    # without a range: no AWS call, no range
    plain = estate.call("GET", "/api/estate/lambda/busy", ADMIN).body
    assert plain["range"] is None and dict(aws_calls) == {}
    # one end without the other, a bad range: 422, no call
    half = estate.call("GET", f"/api/estate/lambda/busy?start={start}", ADMIN)
    assert half.status == 422 and half.body["errors"][0]["field"] == "end"
    backwards = estate.call("GET", f"/api/estate/lambda/busy?start={end}&end={start}", ADMIN)
    assert backwards.status == 422 and dict(aws_calls) == {}
    # a function without a log group (never invoked) has no errors
    idle = estate.call("GET", f"/api/estate/lambda/idle?start={start}&end={end}", ADMIN).body
    assert idle["range"]["recentErrors"] == [] and idle["range"]["errorsTruncated"] is False


def test_key_ages_follow_the_business_clock(estate: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """ageDays and the findings take "now" from tally.clock: a pinned date (the local
    stack's TODAY) moves them, the wall clock does not."""
    before = estate.call("GET", "/api/estate/iam/users/old-key", ADMIN).body
    assert before["accessKeys"][0]["ageDays"] == 200
    later = utc_today() + timedelta(days=42)
    monkeypatch.setenv("TALLY_TODAY", later.isoformat())
    after = estate.call("GET", "/api/estate/iam/users/old-key", ADMIN).body
    assert after["accessKeys"][0]["ageDays"] == 242
