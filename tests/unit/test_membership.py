"""Revoking admin rights takes effect within minutes (issue 9, item 8): a token's admins
group is confirmed with the pool, a yes kept for a few minutes, a no never."""

from __future__ import annotations

from typing import Any

from tally.membership import CONFIRMED_FOR_SECONDS, CognitoAdminMembership, confirm_admin
from tally.tables import ADMIN_GROUP, USER_GROUP
from tests.conftest import ADMIN, ALICE


class UserNotFound(Exception):
    pass


class FakeCognito:
    """AdminListGroupsForUser over a dict, paged two groups at a time."""

    class exceptions:
        UserNotFoundException = UserNotFound

    def __init__(self, groups: dict[str, list[str]]) -> None:
        self.groups = groups
        self.calls = 0

    def admin_list_groups_for_user(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        assert request["UserPoolId"] == "pool"
        if request["Username"] not in self.groups:
            raise UserNotFound
        names = self.groups[request["Username"]]
        start = int(request.get("NextToken", 0))
        page: dict[str, Any] = {"Groups": [{"GroupName": n} for n in names[start : start + 2]]}
        if start + 2 < len(names):
            page["NextToken"] = str(start + 2)
        return page


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _membership(cognito: FakeCognito, clock: Clock) -> CognitoAdminMembership:
    return CognitoAdminMembership(cognito, "pool", monotonic=clock)


def test_removal_from_the_group_takes_effect_within_the_cache_time() -> None:
    cognito, clock = FakeCognito({ADMIN.username: [ADMIN_GROUP]}), Clock()
    membership = _membership(cognito, clock)
    assert confirm_admin(ADMIN, membership).is_admin
    cognito.groups[ADMIN.username] = [USER_GROUP]
    clock.now += CONFIRMED_FOR_SECONDS - 1
    assert confirm_admin(ADMIN, membership).is_admin  # the yes is still believed
    clock.now += 1
    demoted = confirm_admin(ADMIN, membership)
    assert not demoted.is_admin and demoted.groups == ADMIN.groups - {ADMIN_GROUP}
    assert CONFIRMED_FOR_SECONDS <= 300  # "within minutes"


def test_a_yes_is_cached_and_a_no_is_not() -> None:
    cognito, clock = FakeCognito({ADMIN.username: [USER_GROUP]}), Clock()
    membership = _membership(cognito, clock)
    assert not confirm_admin(ADMIN, membership).is_admin
    cognito.groups[ADMIN.username] = [ADMIN_GROUP]
    assert confirm_admin(ADMIN, membership).is_admin  # granted again at once
    calls = cognito.calls
    confirm_admin(ADMIN, membership)
    assert cognito.calls == calls


def test_the_group_is_found_on_any_page() -> None:
    cognito = FakeCognito({ADMIN.username: ["a", "b", "c", "d", ADMIN_GROUP]})
    assert _membership(cognito, Clock()).is_admin(ADMIN.username)
    assert cognito.calls == 3


def test_a_user_deleted_from_the_pool_is_no_admin() -> None:
    assert not confirm_admin(ADMIN, _membership(FakeCognito({}), Clock())).is_admin


def test_a_token_without_the_group_costs_no_call() -> None:
    cognito = FakeCognito({ALICE.username: [ADMIN_GROUP]})
    # Rights are only ever taken away: the pool's yes never makes a user's token an admin's.
    assert confirm_admin(ALICE, _membership(cognito, Clock())) == ALICE
    assert cognito.calls == 0
    assert confirm_admin(ADMIN, None) == ADMIN
