"""Assignments over the API: effectiveFrom in, effectiveFrom/effectiveTo out, removal ends an
assignment (today, the pinned 2026-11-20) instead of deleting it."""

from __future__ import annotations

from datetime import date

from tests.conftest import ADMIN, BOB
from tests.harness import Api, Demo


def test_backdated_planned_listed_ended(api: Api, demo: Demo) -> None:
    url = "/api/billing/assign-resource"
    body = {"userId": "u-bob", "resourceType": "ec2"}
    backdated = api.call(
        "POST",
        url,
        ADMIN,
        body={**body, "resourceId": demo.instance_ids[1], "effectiveFrom": "2026-08-22"},
    )
    assert backdated.status == 201, backdated.body
    assert (backdated.body["effectiveFrom"], backdated.body["effectiveTo"]) == ("2026-08-22", None)
    # Users claim rather than assign (tests/api/test_claims.py): the admin assigns here.
    planned = api.call(
        "POST", url, ADMIN, body={**body, "resourceId": demo.instance_ids[2], "effectiveFrom": None}
    )
    assert planned.status == 201 and planned.body["effectiveFrom"] == "2026-11-20"
    later = api.call(
        "POST",
        url,
        ADMIN,
        body={**body, "resourceId": demo.instance_ids[3], "effectiveFrom": "2026-12-01"},
    )
    assert later.status == 201, later.body

    listed = api.call("GET", "/api/billing/user/u-bob/resources", BOB).body["items"]
    assert [(i["resourceId"], i["scheduled"], i["effectiveTo"]) for i in listed] == [
        (demo.instance_ids[1], False, None),
        (demo.instance_ids[2], False, None),
        (demo.instance_ids[3], True, None),
    ]

    gone = f"/api/billing/unassign/{backdated.body['assignmentId']}"
    assert api.call("DELETE", gone, BOB).status == 204
    assert api.call("DELETE", gone, BOB).status == 404
    kept = api.stores.assignments.get(backdated.body["assignmentId"])
    assert kept is not None and kept.effective_to == date(2026, 11, 20)
    listed = api.call("GET", "/api/billing/user/u-bob/resources", BOB).body["items"]
    assert [i["resourceId"] for i in listed] == demo.instance_ids[2:4]

    # Bob may be given the resource again, from the day it ended on.
    again = api.call("POST", url, ADMIN, body={**body, "resourceId": demo.instance_ids[1]})
    assert again.status == 201 and again.body["effectiveFrom"] == "2026-11-20"


def test_the_resource_list_says_which_cost_its_figures_use(api: Api) -> None:
    listed = api.call("GET", "/api/billing/user/u-bob/resources", BOB).body
    assert listed["metric"] == api.settings.budget_metric == "effective"
