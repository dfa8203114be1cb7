"""Test harness: the API handler called with real proxy events against moto, and the AWS
resources and data the API tests act on. Loaded for every test by the root conftest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tally import assignments, budgets
from tally.clock import utc_today
from tally.identity import Caller
from tally.settings import Settings
from tally.store import Stores
from tally.view import View
from tests.api.events import rest_event
from tests.conftest import ADMIN, ALICE, BOB, profile


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def problem(self) -> dict[str, Any]:
        assert self.headers.get("Content-Type") == "application/problem+json", self.headers
        return self.body


class LambdaContext:
    function_name = "tally-api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tally-api"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class Api:
    stores: Stores
    settings: Settings

    def call(self, method: str, url: str, caller: Caller | None = None, **kw: Any) -> Reply:
        from api.handler import lambda_handler

        out = lambda_handler(rest_event(method, url, caller=caller, **kw), LambdaContext())
        assert isinstance(out["body"], str | None), "API Gateway needs a string body"
        headers = {
            **(out.get("headers") or {}),
            **{k: v[-1] for k, v in (out.get("multiValueHeaders") or {}).items()},
        }
        text = out.get("body")
        # JSON and problem+json are read; a page (the unsubscribe link's HTML) stays text.
        is_json = "json" in headers.get("Content-Type", "application/json")
        body = (json.loads(text) if is_json else text) if text else None
        return Reply(out["statusCode"], headers, body)


@dataclass
class Demo:
    instance_ids: list[str]
    buckets: list[str]
    db: str
    function_arn: str


_images: dict[str, str] = {}


def an_image(ec2: Any) -> str:
    """moto's first image, to run instances from. Looked up once per process: moto answers
    ``DescribeImages`` with all of its ~1,300 images (1-3 s a call here), and its images are
    the same in every ``mock_aws`` (the list bundled with moto), so the id stays valid."""
    if "first" not in _images:
        _images["first"] = ec2.describe_images()["Images"][0]["ImageId"]
    return _images["first"]


def make_resources() -> Demo:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = an_image(ec2)
    ids = [
        i["InstanceId"]
        for i in ec2.run_instances(ImageId=image, MinCount=4, MaxCount=4)["Instances"]
    ]
    s3 = boto3.client("s3", region_name="us-east-1")
    for b in ("alice-data", "bob-data"):
        s3.create_bucket(Bucket=b)
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_instance(
        DBInstanceIdentifier="orders-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin1",
        MasterUserPassword="password-123",
        AllocatedStorage=20,
    )
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    fn = boto3.client("lambda", region_name="us-east-1").create_function(
        FunctionName="resize",
        Runtime="python3.12",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    return Demo(ids, ["alice-data", "bob-data"], "orders-db", fn["FunctionArn"])


@pytest.fixture
def api(aws: Settings, dynamo_stores: Stores) -> Iterator[Api]:
    from api import context

    for fn in (
        context.stores,
        context.access_source,
        context.resource_catalog,
        context.user_source,
        context._boto_session,
    ):
        fn.cache_clear()
    for c in (ALICE, BOB, ADMIN):
        dynamo_stores.users.put(profile(c))
    yield Api(dynamo_stores, aws)
    for fn in (
        context.stores,
        context.access_source,
        context.resource_catalog,
        context.user_source,
        context._boto_session,
    ):
        fn.cache_clear()


@pytest.fixture(scope="module")
def demo(moto_module: None) -> Demo:
    """AWS resources to assign: created once per module (they are only ever read)."""
    return make_resources()


@dataclass
class World:
    """Alice owns an assignment (instance 0) and a budget; bob and the admin own nothing."""

    demo: Demo
    assignment_id: str
    budget_id: str


class AlwaysThere:
    def exists(self, resource_type: str, resource_id: str) -> bool:
        return True


@pytest.fixture
def world(api: Api, demo: Demo) -> World:
    alice = View(ALICE, api.stores, utc_today())  # the pinned business date
    a = assignments.assign_resource(
        alice,
        assignments.AssignRequest("u-alice", "ec2", demo.instance_ids[0]),
        catalog=AlwaysThere(),
    )
    b = budgets.create_budget(alice, budgets.BudgetRequest("u-alice", Decimal(100)))
    return World(demo, a.assignment_id, b.budget_id)
