"""GET /api/me tells the dashboard what the caller may do, the API's limits and the resource
types by name, so the dashboard copies none of them (no group names, no constants)."""

from __future__ import annotations

from dataclasses import replace

from tally.access import permissions_of
from tally.reports import MAX_LINES_RANGE_DAYS, MAX_RANGE_DAYS
from tally.resource_types import RESOURCE_TYPES
from tally.tables import ADMIN_GROUP
from tests.conftest import ADMIN, ALICE
from tests.harness import Api

NOTHING = {"viewAllUsers": False, "manageAssignments": False, "decideAnyClaim": False}
EVERYTHING = {"viewAllUsers": True, "manageAssignments": True, "decideAnyClaim": True}


def test_a_user_may_do_only_their_own_things(api: Api) -> None:
    me = api.call("GET", "/api/me", ALICE).body
    assert me["role"] == "user"
    assert me["permissions"] == NOTHING


def test_an_admin_may_do_everything(api: Api) -> None:
    me = api.call("GET", "/api/me", ADMIN).body
    assert me["role"] == "admin"
    assert me["permissions"] == EVERYTHING


def test_an_admin_who_still_needs_two_step_sign_in_has_a_users_permissions() -> None:
    # What tally.mfa makes of such an admin: the group is dropped, the flag set.
    pending = replace(ADMIN, groups=ADMIN.groups - {ADMIN_GROUP}, admin_needs_mfa=True)
    assert permissions_of(pending) == permissions_of(ALICE)
    # The flag alone is enough: never an admin while two-step sign-in is missing.
    assert not permissions_of(replace(ADMIN, admin_needs_mfa=True)).view_all_users


def test_limits_are_the_apis_own() -> None:
    assert (MAX_LINES_RANGE_DAYS, MAX_RANGE_DAYS) == (92, 366)


def test_limits_are_given_to_everyone(api: Api) -> None:
    for caller in (ALICE, ADMIN):
        limits = api.call("GET", "/api/me", caller).body["limits"]
        assert limits == {"costLinesMaxDays": MAX_LINES_RANGE_DAYS, "costsMaxDays": MAX_RANGE_DAYS}


def test_resource_types_come_from_the_registry(api: Api) -> None:
    types = api.call("GET", "/api/me", ALICE).body["resourceTypes"]
    assert [(t["key"], t["name"]) for t in types] == [
        (t.key, t.display_name) for t in RESOURCE_TYPES
    ]
    # What the dashboard showed before the registry, and how it maps a Cost Explorer service.
    names = {t["key"]: t["name"] for t in types}
    assert {k: names[k] for k in ("ec2", "s3", "rds", "lambda")} == {
        "ec2": "EC2 instance",
        "s3": "S3 bucket",
        "rds": "RDS database",
        "lambda": "Lambda function",
    }
    by_service = {s: t["key"] for t in types for s in t["serviceNames"]}
    assert by_service["amazonec2"] == "ec2"
    assert by_service["awslambda"] == "lambda"
    assert all(s == s.lower() for s in by_service)
