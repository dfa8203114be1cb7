"""Reading a resource's owner tag (for claims) from EC2, S3, RDS and Lambda, against moto."""

from __future__ import annotations

import boto3
import pytest

from tally.errors import Invalid
from tally.resources import AwsResourceCatalog, arn_account, require_org_account
from tests.harness import an_image

TAG = [{"Key": "Owner", "Value": "carol@example.com"}]


def client(service: str):  # type: ignore[no-untyped-def]
    return boto3.client(service, region_name="us-east-1")


def test_owner_tag_of_each_known_type(moto_module: None) -> None:
    ec2 = client("ec2")
    image = an_image(ec2)
    tagged, bare = (
        ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            **({"TagSpecifications": [{"ResourceType": "instance", "Tags": tags}]} if tags else {}),
        )["Instances"][0]["InstanceId"]
        for tags in (TAG, [])
    )
    s3 = client("s3")
    s3.create_bucket(Bucket="carols-bucket")
    s3.put_bucket_tagging(Bucket="carols-bucket", Tagging={"TagSet": TAG})
    s3.create_bucket(Bucket="untagged-bucket")
    client("rds").create_db_instance(
        DBInstanceIdentifier="carols-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin1",
        MasterUserPassword="password-123",
        AllocatedStorage=20,
        Tags=TAG,
    )
    role = client("iam").create_role(RoleName="tags-fn", AssumeRolePolicyDocument="{}")["Role"]
    fn = client("lambda").create_function(
        FunctionName="carols-fn",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="h.h",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Tags={"Owner": "carol@example.com"},
    )
    catalog = AwsResourceCatalog(client)
    for rtype, rid in (
        ("ec2", tagged),
        ("s3", "carols-bucket"),
        ("s3", "arn:aws:s3:::carols-bucket"),
        ("rds", "carols-db"),
        ("lambda", fn["FunctionArn"]),
    ):
        assert catalog.owner_tag(rtype, rid, "Owner") == "carol@example.com", (rtype, rid)
    assert catalog.owner_tag("ec2", tagged, "Team") is None
    for rtype, rid in (
        ("ec2", bare),
        ("s3", "untagged-bucket"),  # S3 answers NoSuchTagSet
        ("s3", "no-such-bucket"),
        ("rds", "no-such-db"),
        ("ec2", "i-0000000000000000"),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:q"),  # tags of other types are not read
    ):
        assert catalog.owner_tag(rtype, rid, "Owner") is None, (rtype, rid)


@pytest.mark.parametrize(
    ("value", "account"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:f", "123456789012"),
        ("arn:aws:s3:::bucket", None),
        ("i-0abc", None),
        ("arn:aws-cn:rds:cn-north-1:210987654321:db:x", "210987654321"),
    ],
)
def test_arn_account(value: str, account: str | None) -> None:
    assert arn_account(value) == account


def test_org_accounts_refuse_other_accounts_only() -> None:
    ours = frozenset({"123456789012"})
    require_org_account("arn:aws:sqs:us-east-1:123456789012:q", ours)
    require_org_account("arn:aws:s3:::bucket", ours)
    require_org_account("i-0abc", ours)
    with pytest.raises(Invalid) as refused:
        require_org_account("arn:aws:sqs:us-east-1:999999999999:q", ours)
    assert refused.value.errors[0].field == "resourceId"
