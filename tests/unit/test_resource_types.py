"""The resource-type registry drives matching, the identifier checks and the catalog: every
entry is honoured, and none of them has code of its own per type. The IAM grants:
tests/infra/test_resource_grants.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tally.identifiers import resource_id_problem
from tally.resource_types import BY_KEY, RESOURCE_TYPES, IdFormat, Permission, ResourceType
from tally.resources import AwsResourceCatalog, line_match_key, match_key, service_type
from tests.harness import an_image

OWNER = [{"Key": "Owner", "Value": "carol"}]


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")


def test_keys_are_unique_and_service_names_belong_to_one_type() -> None:
    assert len(BY_KEY) == len(RESOURCE_TYPES)
    names = [name for t in RESOURCE_TYPES for name in t.service_names]
    assert len(names) == len(set(names)) and all(name == name.lower() for name in names)


@pytest.mark.parametrize("rtype", RESOURCE_TYPES, ids=lambda t: t.key)
def test_an_assignment_meets_the_cost_lines_of_each_service_name(rtype: ResourceType) -> None:
    arn = f"arn:aws:{rtype.key}:us-east-1:123456789012:thing/res-1"
    assignment = match_key(rtype.key, "res-1")
    for name in rtype.service_names:
        # Cost Explorer and FOCUS spell services in their own case.
        assert service_type(name.upper()) == rtype.key
        assert line_match_key(name.title(), arn) == assignment == f"{rtype.key}:res-1"
        assert line_match_key(name, "res-1") == assignment
    if rtype.id_prefix:
        # A bare id of the type meets its lines whatever type the assignment names.
        assert match_key("other", f"{rtype.id_prefix}42") == f"{rtype.key}:{rtype.id_prefix}42"


def _ec2() -> str:
    ec2 = client("ec2")
    image = an_image(ec2)
    tags = [{"ResourceType": "instance", "Tags": OWNER}]
    found = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, TagSpecifications=tags)
    return str(found["Instances"][0]["InstanceId"])


def _s3() -> str:
    client("s3").create_bucket(Bucket="carols-bucket")
    client("s3").put_bucket_tagging(Bucket="carols-bucket", Tagging={"TagSet": OWNER})
    return "arn:aws:s3:::carols-bucket"


def _rds() -> str:
    client("rds").create_db_instance(
        DBInstanceIdentifier="carols-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin1",
        MasterUserPassword="password-123",
        AllocatedStorage=20,
        Tags=OWNER,
    )
    return "carols-db"


def _lambda() -> str:
    role = client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]
    return str(
        client("lambda").create_function(
            FunctionName="carols-fn",
            Runtime="python3.12",
            Role=role["Arn"],
            Handler="h.h",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            Tags={"Owner": "carol"},
        )["FunctionArn"]
    )


# One real resource per registered type; a new type without one fails the test below.
MAKE: dict[str, Callable[[], str]] = {"ec2": _ec2, "s3": _s3, "rds": _rds, "lambda": _lambda}
MISSING = {"ec2": "i-0000000000000000", "s3": "no-such-bucket", "rds": "no-such-db"}
MISSING["lambda"] = "arn:aws:lambda:us-east-1:123456789012:function:no-such-fn"


def test_the_catalog_checks_every_registered_type_against_aws(moto_module: None) -> None:
    assert set(MAKE) == set(BY_KEY) == set(MISSING)
    catalog = AwsResourceCatalog(client)
    for key, make in MAKE.items():
        resource_id = make()
        assert catalog.exists(key, resource_id), key
        assert catalog.owner_tag(key, resource_id, "Owner") == "carol", key
        assert not catalog.exists(key, MISSING[key]), key
        assert catalog.owner_tag(key, MISSING[key], "Owner") is None, key


class FakeQueues:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def get_queue(self, name: str, resource_id: str) -> dict[str, str]:
        from botocore.exceptions import ClientError

        self.asked.append((name, resource_id))
        if name != "q-1":
            raise ClientError({"Error": {"Code": "NotFound", "Message": name}}, "GetQueue")
        return {"Owner": " dave "}


def test_a_new_entry_is_all_the_catalog_and_matching_need(monkeypatch: pytest.MonkeyPatch) -> None:
    queues = FakeQueues()
    entry = ResourceType(
        key="queues",
        display_name="Queue",
        service_names=("amazon queues",),
        ids=IdFormat(re.compile(r"q-\d+"), "a queue id", re.compile(r"queue/q-\d+"), "q", True),
        client="queues",
        exists=lambda c, name, rid: bool(c.get_queue(name, rid)),
        owner_tags=lambda c, name, rid: c.get_queue(name, rid),
        permissions=(Permission(("queues:GetQueue",), "arn:{partition}:queues:::*"),),
        id_prefix="q-",
    )
    monkeypatch.setitem(BY_KEY, "queues", entry)
    made: list[str] = []

    def factory(service: str) -> FakeQueues:
        made.append(service)
        return queues

    catalog = AwsResourceCatalog(factory)
    arn = "arn:aws:queues:us-east-1:123456789012:queue/q-1"
    assert catalog.exists("queues", arn) and not catalog.exists("queues", "q-2")
    assert catalog.owner_tag("queues", arn, "Owner") == "dave"
    assert catalog.owner_tag("queues", "q-2", "Owner") is None
    assert made == ["queues"]  # one client, made once, named by the entry
    assert queues.asked[0] == ("q-1", arn)  # the ARN's name, and the id as given
    assert match_key("queues", arn) == "queues:q-1"
    assert match_key("anything", "q-7") == "queues:q-7"
    assert resource_id_problem("queues", arn) is None
    assert resource_id_problem("queues", "q-7") is None
    assert resource_id_problem("queues", "x") == "not a queue id"
    assert resource_id_problem("queues", "arn:aws:queues:::queue/q-1") == (
        "an queues ARN has a region and an account"
    )
    assert resource_id_problem("queues", "arn:aws:sqs:us-east-1:123456789012:q-1") == (
        "a queues resource needs an ARN of the queues service"
    )
