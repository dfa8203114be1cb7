"""The user directory follows the Cognito pool (moto's user pool, the real client calls)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tally.identity import Role
from tally.models import UserProfile
from tally.store import memory_stores
from tally.users import CognitoUserSource, require_known_user, sync_directory


@pytest.fixture
def pool():  # type: ignore[no-untyped-def]
    with mock_aws():
        client = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = client.create_user_pool(PoolName="p")["UserPool"]["Id"]
        client.create_group(UserPoolId=pool_id, GroupName="admins")
        client.create_group(UserPoolId=pool_id, GroupName="admins-readonly")
        yield client, pool_id


def add(client, pool_id: str, name: str, *groups: str) -> str:  # type: ignore[no-untyped-def]
    user = client.admin_create_user(
        UserPoolId=pool_id,
        Username=name,
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
    )["User"]
    for g in groups:
        client.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName=g)
    return next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")


def test_sync_adds_updates_and_forgets(pool) -> None:  # type: ignore[no-untyped-def]
    client, pool_id = pool
    ann = add(client, pool_id, "ann", "admins")
    ben = add(client, pool_id, "ben", "admins-readonly")
    stores = memory_stores()
    stores.users.put(UserProfile("u-gone", "gone", None, Role.USER))
    source = CognitoUserSource(client, pool_id)
    assert sync_directory(source, stores.users) == 3
    assert stores.users.get(ann) == UserProfile(ann, "ann", "ann@example.com", Role.ADMIN)
    assert stores.users.get(ben).role is Role.USER  # type: ignore[union-attr]  # exact group match
    assert stores.users.get("u-gone") is None
    assert sync_directory(source, stores.users) == 0


def test_unknown_id_is_looked_up_in_the_pool_once(pool) -> None:  # type: ignore[no-untyped-def]
    client, pool_id = pool
    cid = add(client, pool_id, "cid")
    stores = memory_stores()
    source = CognitoUserSource(client, pool_id)
    assert require_known_user(cid, stores.users, source).username == "cid"
    assert stores.users.get(cid) is not None
    assert source.find('x" or sub = "y') is None
