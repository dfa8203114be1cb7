"""Issue 9 in Chromium against the local stack's demo organisation: claims with approval (the
Claims screen: mine, and those waiting for me) and the admin's attribution coverage with the
largest unowned resources, each one click from the assign form.

Named to sort after ``test_dashboard.py``: these tests change the demo's ownership, which
that file's figures and screenshots must not see (pytest keeps the files' order on a worker).
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import PHONE, Api, Session, user_id_of
from tests.browser.test_dashboard import pct, signed_in, usd


def carol_web(api: Api, local_json: dict[str, Any]) -> str:
    """The ARN of carol's tagged instance, as her summary names it (her largest cost)."""
    carol = user_id_of(local_json, "carol")
    drivers = api.get("carol", f"/billing/user/{carol}/summary")["topDrivers"]
    return str(next(d["resourceId"] for d in drivers if d["service"] == "AmazonEC2"))


def carol_web_name(api: Api, local_json: dict[str, Any], arn: str) -> str:
    """The name carol's cost lines give her instance (its Name tag, issue 16)."""
    carol = user_id_of(local_json, "carol")
    drivers = api.get("carol", f"/billing/user/{carol}/summary")["topDrivers"]
    name = str(next(d["resourceName"] for d in drivers if d["resourceId"] == arn))
    assert name != arn and not name.startswith("i-"), name  # the demo's instances are named
    return name


def claim_in_the_page(session: Session, resource_type: str, resource_id: str, note: str) -> None:
    form = session.page.locator("[data-testid=claim-form]")
    form.get_by_label("Resource type").fill(resource_type)
    form.get_by_label("Resource ID or ARN").fill(resource_id)
    form.get_by_label("Share %").fill("50")
    form.get_by_label("Note for the approver (optional)").fill(note)
    form.get_by_role("button", name="Claim").click()


def shot(session: Session, name: str, *selectors: str) -> None:
    """<name>-<light|dark>.png of just the part of the page the selectors cover; without
    selectors, of the window (a modal dialog's backdrop covers only that)."""
    page = session.page
    session.shots.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.wait_for_timeout(150)
        if not selectors:
            page.screenshot(path=str(session.shots / f"{name}-{scheme}.png"))
            continue
        boxes = [page.locator(s).first.bounding_box() for s in selectors]
        x = min(b["x"] for b in boxes) - 16
        y = min(b["y"] for b in boxes) - 16
        right = max(b["x"] + b["width"] for b in boxes) + 16
        bottom = max(b["y"] + b["height"] for b in boxes) + 16
        clip = {
            "x": max(x, 0),
            "y": max(y, 0),
            "width": right - max(x, 0),
            "height": bottom - max(y, 0),
        }
        page.screenshot(path=str(session.shots / f"{name}-{scheme}.png"), clip=clip, full_page=True)
    page.emulate_media(color_scheme="light")


def test_screenshots_of_claims_and_coverage(open_page: Any, api: Api) -> None:
    """The Claims screen with a claim waiting and one of one's own, and the admin's coverage
    with the unowned resources and the assign dialog (docs/screenshots with `make screenshots`)."""
    arn = carol_web(api, api.local_json)
    for user, body in [
        (
            "alice",
            {
                "resourceType": "ec2",
                "resourceId": arn,
                "sharePct": "30",
                "note": "Our load tests run on it",
            },
        ),
        (
            "carol",
            {
                "resourceType": "s3",
                "resourceId": "tally-demo-orphan-logs",
                "note": "The web team's access logs",
            },
        ),
    ]:
        status, claim, _ = api.call(user, "POST", "/billing/claims", body)
        assert status == 201 and claim["status"] == "pending", claim

    carol = signed_in(open_page, "carol")
    carol.go("#/claims")
    carol.wait_idle()
    carol.page.locator(
        "[data-testid=claims-to-approve] [data-claim-status=pending]"
    ).first.wait_for()
    carol.page.locator("[data-testid=claims-mine] [data-claim-status=pending]").first.wait_for()
    carol.screenshot("user-claims")

    phone = signed_in(open_page, "carol", viewport=PHONE)
    phone.go("#/claims")
    phone.wait_idle()
    phone.page.locator(
        "[data-testid=claims-to-approve] [data-claim-status=pending]"
    ).first.wait_for()
    phone.screenshot("phone-claims")

    admin = signed_in(open_page, "admin")
    admin.go("#/admin")
    admin.wait_idle()
    admin.page.locator("[data-testid=unowned] tbody tr").first.wait_for()
    shot(admin, "admin-coverage", ".org-figures", "[data-testid=unowned]")
    admin.page.locator("[data-testid=unowned] tbody tr").first.get_by_role(
        "button", name=re.compile("^Assign ")
    ).click()
    dialog = admin.page.get_by_role("dialog")
    dialog.locator("select option", has_text="dave").wait_for(state="attached")
    shot(admin, "admin-assign-unowned")
    dialog.get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="detached")


def test_a_claim_of_a_colleagues_resource_waits_for_her_approval(open_page: Any, api: Api) -> None:
    # Given carol's instance, owned by its Owner tag
    arn = carol_web(api, api.local_json)
    name = carol_web_name(api, api.local_json, arn)
    bob_id = user_id_of(api.local_json, "bob")

    # When bob claims half of it on the Claims screen
    bob = signed_in(open_page, "bob")
    bob.page.get_by_role("navigation", name="Main").get_by_role("link", name="Claims").click()
    bob.page.locator(".view[data-view='claims']").wait_for()
    bob.wait_idle()
    claim_in_the_page(bob, "ec2", arn, "I run the web tests on it")
    bob.page.locator("[data-testid=claim-result]").filter(
        has_text="Claim requested, waiting for approval."
    ).wait_for()

    # Then it is pending in his list, and nothing is assigned to him
    claim_id = next(
        c["claimId"]
        for c in api.get("bob", "/billing/claims?view=mine")["items"]
        if c["resourceId"] == arn
    )
    mine = bob.page.locator(f"[data-testid=claims-mine] tr[data-claim='{claim_id}']")
    mine.locator("[data-claim-status=pending]").wait_for()
    assert arn not in {
        i["resourceId"] for i in api.get("bob", f"/billing/user/{bob_id}/resources")["items"]
    }

    # When carol opens her Claims screen, it waits for her; she approves it
    carol = signed_in(open_page, "carol")
    carol.go("#/claims")
    carol.wait_idle()
    row = carol.page.locator(f"[data-testid=claims-to-approve] tr[data-claim='{claim_id}']")
    row.locator("[data-claim-status=pending]").wait_for()
    assert "I run the web tests on it" in row.inner_text()
    assert "50%" in row.inner_text()
    # (the buttons say the instance's name, as the row shows it first)
    row.get_by_role("button", name=f"Approve the claim of {name}").click()
    row.locator("[data-claim-status=approved]").wait_for()
    assert row.get_by_role("button", name=f"Approve the claim of {name}").count() == 0

    # Then bob sees it approved, and the assignment is his from today
    bob.page.reload()
    bob.page.locator(".view[data-view='claims']").wait_for()
    mine.locator("[data-claim-status=approved]").wait_for()
    items = api.get("bob", f"/billing/user/{bob_id}/resources")["items"]
    assert any(i["resourceId"] == arn and i["sharePct"] in ("50", "50.00") for i in items), items


def test_a_rejected_claim_shows_rejected_and_changes_nothing(open_page: Any, api: Api) -> None:
    # Given dave's claim of carol's instance by its plain id (through the API: the form is
    # tested above); the instance's cost lines name it by its ARN's Name tag
    arn = carol_web(api, api.local_json)
    name = carol_web_name(api, api.local_json, arn)
    instance = arn.rsplit("/", 1)[-1]
    carol_id = user_id_of(api.local_json, "carol")
    dave_id = user_id_of(api.local_json, "dave")
    status, claim, _ = api.call(
        "dave",
        "POST",
        "/billing/claims",
        {"resourceType": "ec2", "resourceId": instance, "sharePct": "25", "note": "mine now"},
    )
    assert status == 201 and claim["status"] == "pending", claim
    # The claim names it as the cost lines do (the name directory), whatever id it was made by
    assert (claim["resourceId"], claim["resourceName"]) == (instance, name)

    # When carol rejects it, after the confirmation (cancelled once)
    carol = signed_in(open_page, "carol")
    carol.go("#/claims")
    carol.wait_idle()
    row = carol.page.locator(f"[data-testid=claims-to-approve] tr[data-claim='{claim['claimId']}']")
    # The row shows the name first, the id the claim was made by beside it
    assert row.get_by_test_id("resource-name").inner_text() == name
    assert row.get_by_test_id("resource-id").inner_text() == instance
    row.get_by_role("button", name=f"Reject the claim of {name}").click()
    dialog = carol.page.get_by_role("dialog")
    dialog.get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="detached")
    row.locator("[data-claim-status=pending]").wait_for()
    row.get_by_role("button", name=f"Reject the claim of {name}").click()
    carol.page.get_by_role("dialog").get_by_role("button", name="Reject").click()
    row.locator("[data-claim-status=rejected]").wait_for()

    # Then dave sees it rejected, and nothing of carol's instance is his
    dave = signed_in(open_page, "dave", viewport=PHONE)
    dave.go("#/claims")
    dave.wait_idle()
    mine = dave.page.locator(f"[data-testid=claims-mine] tr[data-claim='{claim['claimId']}']")
    mine.locator("[data-claim-status=rejected]").wait_for()
    assert arn not in {
        i["resourceId"] for i in api.get("dave", f"/billing/user/{dave_id}/resources")["items"]
    }
    # Nothing of the phone layout is wider than the screen.
    width = dave.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert api.get("carol", f"/billing/user/{carol_id}/summary")["total"]


def test_the_claim_form_shows_the_apis_field_errors(open_page: Any) -> None:
    session = signed_in(open_page, "dave")
    session.go("#/claims")
    session.wait_idle()
    session.console.expect("422")
    claim_in_the_page(session, "ec2", "not-an-instance", "")
    error = session.page.locator("[data-testid=claim-form] .field-error[data-field=resourceId]")
    error.filter(has_text="EC2").wait_for()
    assert session.page.get_by_label("Resource ID or ARN").get_attribute("aria-invalid") == "true"


def test_a_users_own_assignment_becomes_a_claim(open_page: Any, api: Api) -> None:
    # Carol's tagged bucket: dave asking for it himself makes a claim, not an assignment.
    session = signed_in(open_page, "dave")
    session.go("#/resources")
    session.wait_idle()
    form = session.page.locator("[data-testid=assign-form]")
    form.get_by_label("Resource type").fill("s3")
    form.get_by_label("Resource ID or ARN").fill("tally-demo-carol-assets")
    form.get_by_role("button", name="Request").click()
    session.page.locator("[data-testid=assign-result]").filter(
        has_text="Claim requested, waiting for approval"
    ).wait_for()
    mine = api.get("dave", "/billing/claims?view=mine")["items"]
    assert any(
        c["resourceId"] == "tally-demo-carol-assets" and c["status"] == "pending" for c in mine
    )


def test_admin_sees_coverage_and_assigns_an_unowned_resource_in_one_click(
    open_page: Any, api: Api
) -> None:
    data = api.get("admin", "/billing/all-users")
    attribution = data["attribution"]
    top = attribution["topUnowned"]
    assert top, "the demo has resources nobody owns"
    admin = signed_in(open_page, "admin")
    admin.go("#/admin")
    admin.wait_idle()
    page = admin.page

    # The coverage card says the API's share, and the list its largest unowned resources
    coverage = page.locator("[data-testid=coverage]")
    assert coverage.locator("[data-value=coverage]").inner_text().strip() == pct(
        attribution["coverage"]
    )
    assert usd(attribution["owned"]) in coverage.inner_text()
    rows = page.locator("[data-testid=unowned] tbody tr")
    assert rows.count() == len(top)
    first = top[0]
    assert usd(first["cost"]) in rows.first.inner_text()

    # One click opens the assign form with the resource in it; the admin picks dave
    rows.first.get_by_role("button", name=f"Assign {first['resourceId']}").click()
    dialog = page.get_by_role("dialog")
    assert dialog.get_by_label("Resource ID or ARN").input_value() == first["resourceId"]
    expected_type = {
        "AmazonEC2": "ec2",
        "AmazonS3": "s3",
        "AmazonRDS": "rds",
        "AWSLambda": "lambda",
    }
    assert dialog.get_by_label("Resource type").input_value() == expected_type.get(
        first["service"], "other"
    )
    dialog.locator("select option", has_text="dave").wait_for(state="attached")
    dialog.get_by_label("User").select_option(
        label=next(
            o for o in dialog.locator("select option").all_inner_texts() if o.startswith("dave")
        )
    )
    dialog.get_by_role("button", name="Assign").click()
    dialog.wait_for(state="detached")
    page.locator(
        f"[data-testid=unowned] tr[data-resource='{first['resourceId']}'] "
        "[data-testid=assigned-note]"
    ).wait_for()
    dave = user_id_of(admin.local_json, "dave")
    items = api.get("admin", f"/billing/user/{dave}/resources")["items"]
    assert any(i["resourceId"] == first["resourceId"] for i in items), items
