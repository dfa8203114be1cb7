"""Revoking admin rights takes effect within minutes, not at token expiry (issue 9, item 8):
the API confirms a token's admins group with the pool (moto's cognito-idp). The cache time
is tested in tests/unit/test_membership.py; here a new container meets a revoked admin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tally.tables import ADMIN_GROUP
from tests.conftest import ADMIN, ALICE
from tests.harness import Api


@pytest.fixture
def pool(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from api import context

    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = cognito.create_user_pool(PoolName="revocation")["UserPool"]["Id"]
    cognito.create_group(UserPoolId=pool_id, GroupName=ADMIN_GROUP)
    cognito.admin_create_user(UserPoolId=pool_id, Username=ADMIN.username)
    cognito.admin_add_user_to_group(
        UserPoolId=pool_id, Username=ADMIN.username, GroupName=ADMIN_GROUP
    )
    monkeypatch.setenv("TALLY_USER_POOL_ID", pool_id)
    context._admin_membership.cache_clear()
    yield {"client": cognito, "pool_id": pool_id}
    context._admin_membership.cache_clear()


def test_an_admin_removed_from_the_group_loses_admin_rights(api: Api, pool: dict[str, Any]) -> None:
    from api import context

    assert api.call("GET", "/api/billing/all-users", ADMIN).status == 200
    pool["client"].admin_remove_user_from_group(
        UserPoolId=pool["pool_id"], Username=ADMIN.username, GroupName=ADMIN_GROUP
    )
    context._admin_membership.cache_clear()  # a container that has not confirmed them yet
    # The token still says "admins"; the pool no longer does.
    assert ADMIN_GROUP in ADMIN.groups
    assert api.call("GET", "/api/billing/all-users", ADMIN).status == 403
    assert api.call("GET", f"/api/billing/user/{ALICE.user_id}/resources", ADMIN).status == 403
    assert api.call("GET", "/api/me", ADMIN).body["role"] == "user"


def test_a_deleted_user_is_no_admin(api: Api, pool: dict[str, Any]) -> None:
    pool["client"].admin_delete_user(UserPoolId=pool["pool_id"], Username=ADMIN.username)
    assert api.call("GET", "/api/billing/all-users", ADMIN).status == 403


def test_users_are_unaffected(api: Api, pool: dict[str, Any]) -> None:
    # ALICE is not in the pool at all: a token without the admins group is not looked up.
    assert api.call("GET", f"/api/billing/user/{ALICE.user_id}/resources", ALICE).status == 200
