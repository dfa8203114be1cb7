"""Issue 15's resource page, in Chromium against the local stack's demo organisation: a
resource from the Resources screen with its metrics panel (one chart per metric, the daily cost
on the same day axis, a range picker), the alarms on it, "Create alarm" through the real stack
(previewed, confirmed, listed, and in the emulator's CloudWatch), and the estate screens'
Refresh with its new "as of".

The demo (``infra/local/demo.py``): alice owns the EC2 instances alice-training and
alice-notebook, whose hourly CPU and network CloudWatch holds for the 14 days before "today";
bob owns the function bob-image-resize (its invocations through the day).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from infra.local.aws import aws_client
from tests.browser.conftest import PHONE, Session, user_id_of


def signed_in(open_page: Any, username: str, **kw: Any) -> Session:
    session: Session = open_page(**kw)
    session.sign_in(username)
    return session


def settle(session: Session) -> None:
    # The panel reads CloudWatch through the emulator: slower than the cached views.
    session.page.wait_for_function(
        "() => !document.querySelector('[aria-busy=true]')", timeout=60_000
    )


def resources_of(api: Any, username: str) -> list[dict[str, Any]]:
    user_id = user_id_of(api.local_json, username)
    return list(api.get(username, f"/billing/user/{user_id}/resources?limit=100")["items"])


def busiest_instance(api: Any) -> dict[str, Any]:
    """alice's instance that costs most (alice-training)."""
    instances = [r for r in resources_of(api, "alice") if r["resourceType"] == "ec2"]
    return max(instances, key=lambda r: float(r["cost"]["last30Days"]["amount"]))


BOBS_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:bob-image-resize"


def bobs_function(api: Any) -> dict[str, Any]:
    """bob's assignment of bob-image-resize; given back to him first if an earlier test of the
    session unassigned it (test_dashboard unassigns bob's first resource)."""
    mine = [r for r in resources_of(api, "bob") if r["resourceId"] == BOBS_FUNCTION]
    if not mine:
        body = {
            "userId": user_id_of(api.local_json, "bob"),
            "resourceType": "lambda",
            "resourceId": BOBS_FUNCTION,
        }
        status, made, _ = api.call("admin", "POST", "/billing/assign-resource", body)
        assert status == 201, made
        mine = [r for r in resources_of(api, "bob") if r["resourceId"] == BOBS_FUNCTION]
    return mine[0]


def open_resource(session: Session, resource_id: str) -> None:
    session.go("#/resources")
    session.page.locator(f"tr[data-resource='{resource_id}'] a[data-testid=resource-link]").click()
    session.page.locator(f".view[data-view='resources/{quote(resource_id, safe='')}']").wait_for()
    settle(session)


def chart(session: Session, metric: str) -> Any:
    return session.page.locator(f"canvas[data-chart='metric-cost'][data-metric='{metric}']")


def test_an_instance_page_draws_its_cpu_with_its_daily_cost(open_page: Any, api: Any) -> None:
    instance = busiest_instance(api)
    session = signed_in(open_page, "alice")
    open_resource(session, instance["resourceId"])
    page = session.page
    facts = page.locator("[data-testid=resource-facts]").inner_text()
    assert "EC2 instance" in facts and instance["resourceId"] in facts
    assert instance["costCenter"] in facts and "100%" in facts
    cpu = chart(session, "cpu")
    page.locator(
        "canvas[data-chart='metric-cost'][data-metric='cpu'][data-drawn='true']"
    ).wait_for()
    assert cpu.get_attribute("aria-label") == (
        "CPU per day (%) and cost per day over the 30 days to 2026-11-24"
    )
    # The CPU card has datapoints (the demo's 14 days); the cost is on the same axis.
    card = page.locator(".metric-card[data-metric='cpu']")
    assert card.locator(".metric-empty").count() == 0
    note = page.locator("[data-testid=metrics-note]").inner_text()
    assert note.startswith("Cost over the 30 days: $") and "from CloudWatch" in note
    assert not note.startswith("Cost over the 30 days: $0.00")
    # The other default metrics of an instance, each its own chart.
    drawn = page.locator("canvas[data-chart='metric-cost']").evaluate_all(
        "els => els.map(e => e.dataset.metric)"
    )
    assert drawn == ["cpu", "networkIn", "networkOut", "statusCheckFailed"]
    # Each of the instance's metrics takes an alarm (the owner holds estate:alarms:write).
    offered = page.locator("[data-testid=create-alarm]").evaluate_all(
        "els => els.map(e => e.dataset.metric)"
    )
    assert offered == ["cpu", "networkIn", "networkOut", "statusCheckFailed"]
    # The range is in the address.
    page.get_by_label("7 days").check()
    page.wait_for_function(
        "() => document.querySelector(\"canvas[data-metric='cpu']\")"
        ".getAttribute('aria-label').includes('over the 7 days')"
    )
    assert page.evaluate("location.hash").endswith("?days=7")


def test_an_admin_sees_a_users_resource_page(open_page: Any, api: Any) -> None:
    instance = busiest_instance(api)
    alice = user_id_of(api.local_json, "alice")
    session = signed_in(open_page, "admin")
    session.go(f"#/resources/{quote(instance['resourceId'], safe='')}?user={alice}&name=alice")
    settle(session)
    assert session.page.locator("[data-testid=viewing-as]").is_visible()
    chart(session, "cpu").and_(session.page.locator("[data-drawn='true']")).wait_for()
    back = session.page.locator(".back-link a").get_attribute("href")
    assert back == f"#/resources?user={alice}&name=alice"


def test_a_type_without_metrics_says_so(open_page: Any, api: Any) -> None:
    """A resource the panel does not draw (a queue): its facts, and why there is no chart.
    Assigned for this test only, and unassigned after it (other tests count alice's)."""
    queue = "arn:aws:sqs:us-east-1:123456789012:tally-demo-jobs"
    user_id = user_id_of(api.local_json, "alice")
    status, made, _ = api.call(
        "admin",
        "POST",
        "/billing/assign-resource",
        {"userId": user_id, "resourceType": "sqs", "resourceId": queue},
    )
    assert status == 201, made
    try:
        session = signed_in(open_page, "alice")
        open_resource(session, queue)
        assert session.page.locator("[data-testid=metrics-unsupported]").is_visible()
        assert session.page.locator("canvas").count() == 0
        assert "tally-demo-jobs" in session.page.locator("h1").inner_text()
    finally:
        status, _, _ = api.call("admin", "DELETE", f"/billing/unassign/{made['assignmentId']}")
        assert status in (200, 204)


def test_an_alarm_is_previewed_created_and_listed(open_page: Any, api: Any) -> None:
    function = bobs_function(api)
    session = signed_in(open_page, "bob")
    open_resource(session, function["resourceId"])
    page = session.page
    chart(session, "invocations").and_(page.locator("[data-drawn='true']")).wait_for()
    page.locator("[data-testid=create-alarm][data-metric='errors']").click()
    dialog = page.locator("[data-testid=action-dialog]")
    # The metric clicked is chosen; its preview names the alarm Tally makes.
    assert dialog.get_by_label("Metric", exact=True).input_value() == "errors"
    dialog.get_by_label("Threshold").fill("7")
    dialog.get_by_label("Periods in a row").fill("2")
    name = "tally-bob-image-resize-Errors-Sum-ge-7"
    preview = dialog.locator("[data-testid=preview-changes]")
    # The preview of what the form holds now (each change asks again; the latest answer wins).
    preview.get_by_text(f"New alarm {name}: Errors (Sum) ≥ 7 for 2 periods of 5 minutes").wait_for()
    dialog.get_by_role("button", name="Create alarm").click()
    dialog.wait_for(state="detached")
    listed = page.locator(f"[data-testid=alarms] li[data-alarm='{name}']")
    listed.wait_for()
    assert "Errors (Sum) ≥ 7" in listed.inner_text()
    assert name in page.locator("[data-testid=resource-notice]").inner_text()
    # In CloudWatch itself (the emulator), on the function, notifying Tally's topic.
    local = session.local_json
    cloudwatch = aws_client("cloudwatch", local["aws_endpoint_url"], local["region"])
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["Threshold"] == 7 and alarm["EvaluationPeriods"] == 2
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "bob-image-resize"}]
    assert alarm["AlarmActions"]


def test_an_alarm_on_an_instance_is_created_from_its_page(open_page: Any, api: Any) -> None:
    """The same dialog on an EC2 instance's CPU: the API takes the ARN the page asked the panel
    for and makes the alarm on the instance's InstanceId, notifying Tally's topic."""
    instance = busiest_instance(api)
    instance_id = instance["resourceId"].rsplit("/", 1)[-1]
    session = signed_in(open_page, "alice")
    open_resource(session, instance["resourceId"])
    page = session.page
    chart(session, "cpu").and_(page.locator("[data-drawn='true']")).wait_for()
    page.locator("[data-testid=create-alarm][data-metric='cpu']").click()
    dialog = page.locator("[data-testid=action-dialog]")
    assert dialog.get_by_label("Metric", exact=True).input_value() == "cpu"
    dialog.get_by_label("Threshold").fill("85")
    name = f"tally-{instance_id}-CPUUtilization-Average-ge-85"
    preview = dialog.locator("[data-testid=preview-changes]")
    preview.get_by_text(f"New alarm {name}: CPUUtilization (Average) ≥ 85").wait_for()
    dialog.get_by_role("button", name="Create alarm").click()
    dialog.wait_for(state="detached")
    listed = page.locator(f"[data-testid=alarms] li[data-alarm='{name}']")
    listed.wait_for()
    assert "CPUUtilization (Average) ≥ 85" in listed.inner_text()
    local = session.local_json
    cloudwatch = aws_client("cloudwatch", local["aws_endpoint_url"], local["region"])
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert (alarm["Namespace"], alarm["Threshold"]) == ("AWS/EC2", 85)
    assert alarm["Dimensions"] == [{"Name": "InstanceId", "Value": instance_id}]
    assert alarm["AlarmActions"] and "owners=" in alarm["AlarmDescription"]
    # bob does not own it: no alarm of his on it (the API's 403; the panel is alice's).
    status, body, _ = api.call(
        "bob",
        "POST",
        "/estate/actions",
        {
            "action": "cloudwatch:PutMetricAlarm",
            "target": instance["resourceId"],
            "parameters": {"metric": "CPUUtilization", "threshold": 1},
        },
    )
    assert status in (403, 404), body


def test_refresh_reads_the_estate_again_with_a_new_as_of(open_page: Any) -> None:
    session = signed_in(open_page, "admin")
    page = session.page
    for route in (
        "#/estate",
        "#/estate/network",
        "#/estate/iam",
        "#/estate/lambda/bob-image-resize",
    ):
        session.go(route)
        settle(session)
        before = page.locator("[data-testid=as-of]").get_attribute("data-read-at")
        assert before
        page.locator("[data-testid=refresh]").click()
        page.wait_for_function(
            "before => { const p = document.querySelector('[data-testid=as-of]');"
            " return p && p.dataset.readAt && p.dataset.readAt !== before }",
            arg=before,
            timeout=60_000,
        )
        assert page.locator("[data-testid=as-of]").inner_text().startswith("As of ")


def test_a_member_refreshes_their_function_but_not_the_region(open_page: Any) -> None:
    session = signed_in(open_page, "bob")
    session.go("#/estate")
    settle(session)
    assert session.page.locator("[data-testid=refresh]").count() == 0
    session.go("#/estate/lambda/bob-image-resize")
    settle(session)
    assert session.page.locator("[data-testid=refresh]").is_visible()


def test_resource_page_screenshots(open_page: Any, api: Any) -> None:
    """The resource page in light and dark, and at phone width (docs/screenshots)."""
    instance = busiest_instance(api)
    session = signed_in(open_page, "alice")
    open_resource(session, instance["resourceId"])
    session.page.locator("canvas[data-metric='statusCheckFailed'][data-drawn='true']").wait_for()
    session.screenshot("resource-page")
    dark = session.page
    dark.emulate_media(color_scheme="dark")
    card = dark.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    assert card == "rgb(23, 30, 41)"
    dark.emulate_media(color_scheme="light")

    phone = signed_in(open_page, "alice", viewport=PHONE)
    open_resource(phone, instance["resourceId"])
    phone.page.locator("canvas[data-metric='cpu'][data-drawn='true']").wait_for()
    overflow = phone.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    phone.screenshot("phone-resource-page")

    bob = signed_in(open_page, "bob")
    open_resource(bob, bobs_function(api)["resourceId"])
    bob.page.locator("canvas[data-metric='invocations'][data-drawn='true']").wait_for()
    bob.screenshot("resource-page-function")
