"""Issue 11's acceptance flow through the running local stack (``make run`` in a subprocess,
``make ingest`` in another, as a person runs them), for several users at once:

assign a resource -> ingest costs -> set a budget -> the next ingest: exactly one threshold
email and one in-app notification per user; the same days again: nothing new; more spend over
100%: one urgent email to that user, one SNS message with level/userId/period, one in-app
notification per admin. Each user gets only their own, and a user's chat webhook (the stack's
own receiver, allowed on loopback only locally) gets theirs.

The ingests go through the bus, the rule and the stack's queue to the alerts function;
``/outbox.json?wait=`` returns once they have all been handled."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.local.aws import ADMIN_ROLE, USER_ROLE, LocalAws, create_user
from infra.local.client import local_stack_process, sign_in

REPO = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 25)
PERIOD = "2026-11"
ACCOUNT = "123456789012"

pytestmark = pytest.mark.local_stack


@dataclass
class Person:
    username: str
    password: str
    user_id: str
    email: str
    token: str = ""


@dataclass
class World:
    stack: dict[str, Any]
    folder: Path
    admin: Person
    grace: Person  # a second admin
    erin: Person
    frank: Person
    instances: dict[str, str]  # username -> EC2 instance ARN assigned to them


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    where = tmp_path_factory.mktemp("alerts-flow")
    with local_stack_process(
        where / "local.json",
        log_path=where / "stack.log",
        timeout=120,
        today=TODAY,
        env={
            "TALLY_LOCAL_DEMO": "off",  # the people and costs here are all there is
            # Every run fans out per user through the queue, as a large organisation's does.
            "TALLY_ALERTS_FANOUT_MIN_USERS": "1",
        },
    ) as running:
        stack = running.local_json
        aws = LocalAws.from_env(stack["env"])

        def person(name: str, role: str) -> Person:
            password = f"{name.title()}-Alerts-Flow-1"
            user_id = create_user(aws, name, password, role=role)
            return Person(name, password, user_id, f"{name}@example.com")

        admin, grace = person("admin", ADMIN_ROLE), person("grace", ADMIN_ROLE)
        erin, frank = person("erin", USER_ROLE), person("frank", USER_ROLE)
        for p in (admin, grace, erin, frank):
            p.token = sign_in(stack, p.username, p.password)
        ec2 = aws.client("ec2")
        image = ec2.describe_images(Owners=["amazon"], MaxResults=1)["Images"][0]["ImageId"]
        instances = {}
        for name in ("erin", "frank"):
            instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
            instances[name] = (
                f"arn:aws:ec2:{aws.region}:{ACCOUNT}:instance/{instance['InstanceId']}"
            )
        yield World(stack, where, admin, grace, erin, frank, instances)


def api(world: World, method: str, path: str, who: Person, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        world.stack["api_url"] + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {who.token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def settle(stack: dict[str, Any]) -> dict[str, Any]:
    """The outbox once every event and fan-out message so far has been handled."""
    with urllib.request.urlopen(stack["outbox_json_url"] + "?wait=60", timeout=90) as response:
        outbox: dict[str, Any] = json.load(response)
    assert outbox["idle"] is True, "the alerts did not settle within a minute"
    return outbox


def focus_file(path: Path, daily: dict[str, str]) -> Path:
    """November's first 24 days: one EC2 usage row a day per resource ARN in ``daily``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "BillingPeriodStart",
            "BillingPeriodEnd",
            "ChargePeriodStart",
            "ChargePeriodEnd",
            "ChargeCategory",
            "BilledCost",
            "EffectiveCost",
            "BillingCurrency",
            "ServiceName",
            "ResourceId",
            "Tags",
        ]
    )
    for n in range(TODAY.day - 1):
        day = date(2026, 11, 1) + timedelta(days=n)
        for arn, cost in daily.items():
            writer.writerow(
                [
                    "2026-11-01T00:00:00Z",
                    "2026-12-01T00:00:00Z",
                    f"{day}T00:00:00Z",
                    f"{day + timedelta(days=1)}T00:00:00Z",
                    "Usage",
                    cost,
                    cost,
                    "USD",
                    "AmazonEC2",
                    arn,
                    "{}",
                ]
            )
    path.write_text(out.getvalue())
    return path


def make_ingest(world: World, export: Path) -> dict[str, Any]:
    """``make ingest FOCUS=...`` in its own process, then the alerts it set off, settled."""
    local_json = world.folder / "ingest-local.json"
    local_json.write_text(json.dumps(world.stack))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("layers", "functions", ".")),
    }
    command = [sys.executable, "-m", "infra.local.ingest", "--local-json", str(local_json)]
    run = subprocess.run(
        [*command, "--focus", str(export)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    return settle(world.stack)


def kind_of(subject: str) -> str:
    if subject.startswith("You have used "):
        return "threshold"
    if subject.startswith("You are over your "):
        return "exceeded"
    if subject.startswith("At this rate "):
        return "forecast"
    return "other"


def emails_to(outbox: dict[str, Any], person: Person) -> list[str]:
    """The kinds of the emails to ``person``, oldest first."""
    return [kind_of(e["subject"]) for e in reversed(outbox["emails"]) if person.email in e["to"]]


def notifications(world: World, person: Person) -> list[dict[str, Any]]:
    status, page = api(world, "GET", "/notifications?limit=100", person)
    assert status == 200, page
    items: list[dict[str, Any]] = page["items"]
    return items


def kinds(items: list[dict[str, Any]]) -> list[str]:
    return sorted(item["kind"] for item in items if item["kind"] != "forecast")


def new(after: dict[str, Any], before: dict[str, Any], key: str, id_field: str) -> list[Any]:
    seen = {item[id_field] for item in before[key]}
    return [item for item in after[key] if item[id_field] not in seen]


def test_the_alerts_flow_for_several_users(world: World) -> None:
    erin, frank, admins = world.erin, world.frank, (world.admin, world.grace)
    webhook_url = world.stack["dashboard_url"] + "webhooks/frank"
    before = settle(world.stack)

    # Assign a resource to each (from the 1st: the month's costs are theirs) -> ingest.
    for person in (erin, frank):
        status, body = api(
            world,
            "POST",
            "/billing/assign-resource",
            world.admin,
            {
                "userId": person.user_id,
                "resourceType": "ec2",
                "resourceId": world.instances[person.username],
                "effectiveFrom": "2026-11-01",
            },
        )
        assert status == 201, body
    spend = {world.instances["erin"]: "10.00", world.instances["frank"]: "5.00"}
    first = focus_file(world.folder / "november.csv", spend)
    outbox = make_ingest(world, first)
    assert emails_to(outbox, erin) == emails_to(outbox, frank) == []  # no budget, no alert

    # Set budgets (240 of 280 and 120 of 140: 85%) and a chat webhook for frank; the next
    # run (the day's ingest) alerts: a budget set after the threshold was crossed.
    for person, limit in ((erin, "280.00"), (frank, "140.00")):
        status, body = api(
            world,
            "POST",
            "/billing/budgets",
            person,
            {"userId": person.user_id, "monthlyLimit": limit, "alertThreshold": 80},
        )
        assert status == 201, body
    status, body = api(world, "PUT", "/preferences", frank, {"webhookUrl": webhook_url})
    assert status == 200, body
    assert body["webhook"]["hint"].startswith("http://127.0.0.1")

    outbox = make_ingest(world, first)
    for person in (erin, frank):
        assert [k for k in emails_to(outbox, person) if k != "forecast"] == ["threshold"]
        assert kinds(notifications(world, person)) == ["threshold"]
    threshold_email = next(
        e for e in outbox["emails"] if erin.email in e["to"] and "of your November" in e["subject"]
    )
    assert threshold_email["subject"] == "You have used 85% of your November AWS budget"
    assert threshold_email["html"] and threshold_email["text"]
    # Frank's alerts reached his webhook too (the forecast's may ride along).
    deliveries = outbox["webhooks"]
    assert deliveries and {d["name"] for d in deliveries} == {"frank"}
    assert all(d["status"] == 200 and d["payload"] for d in deliveries)
    assert new(outbox, before, "sns", "message_id") == []

    # The same days again: nothing new anywhere.
    settled = outbox
    outbox = make_ingest(world, first)
    assert new(outbox, settled, "emails", "message_id") == []
    assert new(outbox, settled, "sns", "message_id") == []
    assert new(outbox, settled, "webhooks", "receivedAt") == []
    for person in (erin, frank):
        assert kinds(notifications(world, person)) == ["threshold"]

    # More spend: erin crosses 100% (288 of 280); frank stays where he was.
    admin_alerts = {a.username: len(notifications(world, a)) for a in admins}
    spend[world.instances["erin"]] = "12.00"
    outbox = make_ingest(world, focus_file(world.folder / "november-more.csv", spend))
    added = new(outbox, settled, "emails", "message_id")
    assert [
        (e["to"], kind_of(e["subject"])) for e in added if kind_of(e["subject"]) != "forecast"
    ] == [([erin.email], "exceeded")]
    assert kinds(notifications(world, erin)) == ["exceeded", "threshold"]
    assert kinds(notifications(world, frank)) == ["threshold"]
    [message] = new(outbox, settled, "sns", "message_id")
    assert message["topic_arn"] == world.stack["admin_topic_arn"]
    assert message["attributes"] == {"level": "exceeded", "userId": erin.user_id, "period": PERIOD}
    for admin in admins:
        items = notifications(world, admin)
        assert len(items) == admin_alerts[admin.username] + 1, admin.username
        assert items[0]["kind"] == "admin-exceeded"
        assert erin.user_id in (items[0]["link"] or "")
    # Frank's webhook heard nothing of erin's.
    assert new(outbox, settled, "webhooks", "receivedAt") == []
