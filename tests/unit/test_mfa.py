"""Admins without two-step sign-in are treated as users (tally.mfa), and the pool's answer is
cached only when it is a yes."""

from __future__ import annotations

from typing import Any

import pytest

from tally.access import require
from tally.authz import Target
from tally.errors import Forbidden
from tally.mfa import CognitoMfaDirectory, admin_mfa_required, enforce_admin_mfa
from tally.tables import ADMIN_GROUP, USER_GROUP
from tests.conftest import ADMIN, ALICE


class Pool:
    """AdminGetUser's answer shape, with the TOTP setting the test chooses."""

    def __init__(self, with_totp: set[str]) -> None:
        self.with_totp = with_totp
        self.calls = 0

    def admin_get_user(self, *, UserPoolId: str, Username: str) -> dict[str, Any]:
        self.calls += 1
        return {
            "Username": Username,
            "UserMFASettingList": ["SOFTWARE_TOKEN_MFA"] if Username in self.with_totp else [],
        }


def test_an_admin_without_totp_is_treated_as_a_user_and_told_why() -> None:
    caller = enforce_admin_mfa(ADMIN, CognitoMfaDirectory(Pool(set()), "pool"))
    assert not caller.is_admin
    assert caller.admin_needs_mfa
    assert ADMIN_GROUP not in caller.groups
    for action, target in (("users:read", Target.org()), ("costs:read", Target.user("u-bob"))):
        with pytest.raises(Forbidden, match="two-step sign-in"):
            require(caller, action, target)


def test_an_admin_with_totp_stays_admin() -> None:
    caller = enforce_admin_mfa(ADMIN, CognitoMfaDirectory(Pool({"admin"}), "pool"))
    assert caller == ADMIN
    require(caller, "users:read", Target.org())


def test_users_and_a_setting_that_is_off_ask_nothing() -> None:
    pool = Pool(set())
    assert enforce_admin_mfa(ALICE, CognitoMfaDirectory(pool, "pool")) == ALICE
    assert enforce_admin_mfa(ADMIN, None) == ADMIN
    assert pool.calls == 0
    assert USER_GROUP in ALICE.groups


def test_a_yes_is_cached_for_a_while_and_a_no_never() -> None:
    pool = Pool(set())
    clock = [1000.0]
    directory = CognitoMfaDirectory(pool, "pool", monotonic=lambda: clock[0], confirmed_for=300)
    assert not directory.has_totp("admin")
    assert not directory.has_totp("admin")
    assert pool.calls == 2  # a no is asked again: turning TOTP on takes effect at once
    pool.with_totp.add("admin")
    assert directory.has_totp("admin")
    clock[0] += 299
    pool.with_totp.clear()
    assert directory.has_totp("admin")  # cached
    assert pool.calls == 3
    clock[0] += 1
    assert not directory.has_totp("admin")  # turned off: noticed once the yes is stale
    assert pool.calls == 4


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"TALLY_REQUIRE_ADMIN_MFA": "true"}, True),
        ({"TALLY_REQUIRE_ADMIN_MFA": "False"}, False),
    ],
)
def test_the_setting(env: dict[str, str], expected: bool) -> None:
    assert admin_mfa_required(env) is expected


def test_a_malformed_setting_fails_loudly() -> None:
    with pytest.raises(ValueError, match="TALLY_REQUIRE_ADMIN_MFA"):
        admin_mfa_required({"TALLY_REQUIRE_ADMIN_MFA": "yes please"})
