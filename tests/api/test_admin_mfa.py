"""Admins need two-step sign-in (TOTP) where the deployment says so (``requireAdminMfa``):
the API asks the pool (moto's cognito-idp) whether the admin has TOTP on, and until they do
treats them as a user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tally.tables import ADMIN_GROUP
from tests.conftest import ADMIN, ALICE
from tests.harness import Api
from tests.totp import code_now

PASSWORD = "Correct-Horse-9-battery"


@pytest.fixture
def pool(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from api import context

    # moto checks TOTP codes only when asked to (otherwise any code passes).
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = cognito.create_user_pool(PoolName="mfa", MfaConfiguration="OPTIONAL")["UserPool"][
        "Id"
    ]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="OPTIONAL",
    )
    cognito.create_group(UserPoolId=pool_id, GroupName=ADMIN_GROUP)
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="dashboard", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool_id, Username=ADMIN.username)
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=ADMIN.username, Password=PASSWORD, Permanent=True
    )
    cognito.admin_add_user_to_group(
        UserPoolId=pool_id, Username=ADMIN.username, GroupName=ADMIN_GROUP
    )
    monkeypatch.setenv("TALLY_REQUIRE_ADMIN_MFA", "true")
    monkeypatch.setenv("TALLY_USER_POOL_ID", pool_id)
    context.admin_mfa_directory.cache_clear()
    yield {"client": cognito, "pool_id": pool_id, "client_id": client_id}
    context.admin_mfa_directory.cache_clear()


def turn_on_totp(pool: dict[str, Any]) -> None:
    """What the dashboard's Security page does for a signed-in user."""
    cognito = pool["client"]
    tokens = cognito.initiate_auth(
        ClientId=pool["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": ADMIN.username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    secret = cognito.associate_software_token(AccessToken=tokens["AccessToken"])["SecretCode"]
    cognito.verify_software_token(AccessToken=tokens["AccessToken"], UserCode=code_now(secret))
    cognito.set_user_mfa_preference(
        AccessToken=tokens["AccessToken"],
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )


def test_an_admin_without_totp_is_refused_admin_routes_in_words(
    api: Api, pool: dict[str, Any]
) -> None:
    reply = api.call("GET", "/api/billing/all-users", ADMIN)
    assert reply.status == 403
    assert "two-step sign-in" in reply.problem["detail"]
    # Someone else's data is refused too: without TOTP the admin is an ordinary user.
    assert api.call("GET", f"/api/billing/user/{ALICE.user_id}/resources", ADMIN).status == 403
    me = api.call("GET", "/api/me", ADMIN).body
    assert me["mfaSetupRequired"] is True
    assert me["role"] == "user"


def test_an_admin_with_totp_is_an_admin_at_once(api: Api, pool: dict[str, Any]) -> None:
    assert api.call("GET", "/api/billing/all-users", ADMIN).status == 403
    turn_on_totp(pool)
    # The refusal above was not cached: the next request sees TOTP on.
    assert api.call("GET", "/api/billing/all-users", ADMIN).status == 200
    me = api.call("GET", "/api/me", ADMIN).body
    assert me["mfaSetupRequired"] is False
    assert me["role"] == "admin"


def test_users_are_unaffected(api: Api, pool: dict[str, Any]) -> None:
    assert api.call("GET", f"/api/billing/user/{ALICE.user_id}/resources", ALICE).status == 200
    assert api.call("GET", "/api/me", ALICE).body["mfaSetupRequired"] is False


def test_with_the_setting_off_admins_need_no_totp(
    api: Api, pool: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import context

    monkeypatch.setenv("TALLY_REQUIRE_ADMIN_MFA", "false")
    context.admin_mfa_directory.cache_clear()
    assert api.call("GET", "/api/billing/all-users", ADMIN).status == 200


def test_an_admin_by_role_alone_needs_totp_too(api: Api, pool: dict[str, Any]) -> None:
    """Admin given in Tally (a stored admin@org grant, no admins group in the token) is held to
    the same two-step sign-in as an admin by group: the role, not the group, makes the admin."""
    turn_on_totp(pool)
    pool["client"].admin_create_user(UserPoolId=pool["pool_id"], Username=ALICE.username)
    body = {"roles": [{"roleId": "admin", "scope": "org"}]}
    assert api.call("PUT", f"/api/users/{ALICE.user_id}/roles", ADMIN, body=body).status == 200
    from api import context

    context.access_source().forget()
    reply = api.call("GET", "/api/billing/all-users", ALICE)
    assert reply.status == 403
    assert "two-step sign-in" in reply.problem["detail"]
    me = api.call("GET", "/api/me", ALICE).body
    assert me["mfaSetupRequired"] is True
    assert me["role"] == "user"
