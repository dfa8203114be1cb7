"""Custom billing periods through the API (moto): the ``period`` section of the billing
settings, who may change it, what a bad one answers, and a change's recompute run by the
reports function: the summary follows the fiscal periods, and switching back gives the
original figures. The business date is the root conftest's 2026-11-20."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

import boto3
import pytest

from tally.allocation import OwnerTagRule
from tally.identity import Caller, Role
from tally.ingest import ingest_days
from tally.models import CostLine, UserProfile
from tally.tables import USER_GROUP
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api

FIONA = Caller("u-fiona", "fiona", "fiona@example.com", frozenset({USER_GROUP}))
DAYS = [date(2026, 9, 1) + timedelta(days=n) for n in range(80)]  # 1 September to 19 November
FISCAL = {"kind": "4-4-5", "fiscalYearStart": "01-01", "weekStart": "monday"}
SENDER = "reports@example.com"
BUCKET = "tally-reports-periods"


@pytest.fixture
def org(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, str, ModuleType]]:
    """Alice's costs since September, Fiona in finance, the reports queue and function."""
    from reports import handler

    from api import downloads

    lines = [
        CostLine(d, "AmazonEC2", "i-web", c, c, "USD", Decimal(24), "Hrs", tags={"Owner": "alice"})
        for n, d in enumerate(DAYS)
        for c in [Decimal("2.0000") + Decimal(n % 7) / 100]
    ]
    now = datetime.combine(date(2026, 11, 20), time(0, 30), UTC)
    ingest_days(lines, DAYS, stores=api.stores, rule=OwnerTagRule(), source="t", now=now)
    api.stores.users.put(UserProfile(FIONA.user_id, FIONA.username, FIONA.email, Role.USER))
    reply = api.call(
        "PUT",
        "/api/users/u-fiona/roles",
        ADMIN,
        body={"roles": [{"roleId": "finance", "scope": "org"}]},
    )
    assert reply.status == 200, reply.body
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"periods-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SENDER)
    monkeypatch.setenv("TALLY_REPORTS_QUEUE_URL", url)
    monkeypatch.setenv("TALLY_REPORTS_BUCKET", BUCKET)
    monkeypatch.setenv("TALLY_SENDER_EMAIL", SENDER)
    downloads._queue.cache_clear()
    caches = (handler._stores, handler._session, handler._client, handler._channels)
    for cache in caches:
        cache.cache_clear()
    yield api, str(url), handler
    for cache in caches:
        cache.cache_clear()


def run_queued(queue_url: str, handler: ModuleType) -> list[str]:
    """What the reports function makes of every job on the queue."""
    from reports.settings import ReportsSettings

    sqs = boto3.client("sqs", region_name="us-east-1")
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [
        handler.run_job(json.loads(m["Body"])["jobId"], ReportsSettings.load(), receive_count=1)
        for m in got
    ]


def cost_of(first: date, last: date) -> Decimal:
    """Alice's cost of the days from ``first`` to ``last``, as the fixture made them."""
    return sum(
        (
            Decimal("2.0000") + Decimal(n % 7) / 100
            for n, d in enumerate(DAYS)
            if first <= d <= last
        ),
        Decimal(0),
    )


def summary(api: Api) -> dict[str, Any]:
    reply = api.call("GET", "/api/billing/user/u-alice/summary", ALICE)
    assert reply.status == 200, reply.body
    return reply.body


def test_calendar_months_until_set(api: Api) -> None:
    period = api.call("GET", "/api/settings/billing", BOB).body["period"]
    assert period == {
        "kind": "calendar",
        "startDay": 1,
        "fiscalYearStart": "01-01",
        "weekStart": "monday",
        "current": {"month": "2026-11", "start": "2026-11-01", "end": "2026-11-30"},
        "updatedAt": None,
        "updatedBy": None,
        "recompute": None,
    }


def test_finance_switches_to_4_4_5_and_back_and_every_figure_returns(org: Any) -> None:
    api, queue, handler = org
    before = summary(api)
    assert (before["periodStart"], before["periodEnd"]) == ("2026-11-01", "2026-11-30")

    reply = api.call("PUT", "/api/settings/billing", FIONA, body={"period": FISCAL})
    assert reply.status == 200, reply.body
    period = reply.body["period"]
    assert period["kind"] == "4-4-5" and period["updatedBy"] == "u-fiona"
    # Fiscal 2026 began Monday 29 December 2025; November is its 11th period (4 weeks).
    assert period["current"] == {"month": "2026-11", "start": "2026-10-26", "end": "2026-11-22"}
    assert period["recompute"]["status"] == "pending"

    assert run_queued(queue, handler) == ["ready"]
    done = api.call("GET", "/api/settings/billing", ALICE).body["period"]["recompute"]
    assert done["status"] == "ready" and done["owners"] >= 2 and done["finishedAt"]
    fiscal = summary(api)
    # This period is fiscal November, last period fiscal October (28 September to 25
    # October), each from the stored records alone.
    assert (fiscal["periodStart"], fiscal["periodEnd"]) == ("2026-10-26", "2026-11-22")
    assert Decimal(fiscal["total"]["amount"]) == cost_of(date(2026, 10, 26), date(2026, 11, 19))
    assert fiscal["previousMonth"]["month"] == "2026-10"
    october = cost_of(date(2026, 9, 28), date(2026, 10, 25))
    assert Decimal(fiscal["previousMonth"]["total"]["amount"]) == october

    back = api.call("PUT", "/api/settings/billing", ADMIN, body={"period": {"kind": "calendar"}})
    assert back.status == 200, back.body
    assert run_queued(queue, handler) == ["ready"]
    again = summary(api)
    assert again["total"] == before["total"] and again["periodStart"] == "2026-11-01"
    assert again["previousMonth"] == before["previousMonth"]
    # Each change is in the organisation's audit log with the values before and after.
    audit = api.call("GET", "/api/audit?limit=50", ADMIN)
    assert audit.status == 200, audit.body
    changes = [e for e in audit.body["items"] if e["entityId"] == "billing-settings#period"]
    assert [e["actor"] for e in changes] == ["u-admin", "u-fiona"]  # newest first
    assert json.loads(changes[1]["details"]["after"])["kind"] == "4-4-5"
    assert json.loads(changes[0]["details"]["before"])["kind"] == "4-4-5"


def test_the_same_periods_again_start_no_recompute(org: Any) -> None:
    api, queue, handler = org
    same = {"period": {"kind": "monthly", "startDay": 1}}  # calendar months by another name
    reply = api.call("PUT", "/api/settings/billing", FIONA, body=same)
    assert reply.status == 200 and reply.body["period"]["recompute"] is None
    assert run_queued(queue, handler) == []


@pytest.mark.parametrize(
    ("period", "field"),
    [
        ({"kind": "weekly"}, "period.kind"),
        ({"kind": "monthly", "startDay": 29}, "period.startDay"),
        ({"kind": "monthly", "startDay": "15th"}, "period.startDay"),
        ({"kind": "4-4-5", "fiscalYearStart": "04-31"}, "period.fiscalYearStart"),
        ({"kind": "4-4-5", "fiscalYearStart": "02-29"}, "period.fiscalYearStart"),
        ({"kind": "4-4-5", "weekStart": "funday"}, "period.weekStart"),
        ({"kind": "4-4-5", "colour": "red"}, "period.colour"),
    ],
)
def test_a_definition_that_names_no_periods_is_422_naming_the_field(
    org: Any, period: dict[str, Any], field: str
) -> None:
    api, queue, handler = org
    before = api.call("GET", "/api/settings/billing", BOB).body
    reply = api.call(
        "PUT",
        "/api/settings/billing",
        FIONA,
        body={"currency": {"displayCurrency": "EUR"}, "period": period},
    )
    assert reply.status == 422, reply.body
    assert reply.headers["Content-Type"].startswith("application/problem+json")
    assert field in json.dumps(reply.body)
    # Bad input changes nothing: not the currency given beside it either.
    assert api.call("GET", "/api/settings/billing", BOB).body == before
    assert run_queued(queue, handler) == []


def test_only_finance_and_admins_change_the_periods(org: Any) -> None:
    api, queue, handler = org
    # A definition the schema accepts but the calendar refuses is refused as forbidden first.
    for body in ({"period": FISCAL}, {"period": {"kind": "4-4-5", "fiscalYearStart": "04-31"}}):
        reply = api.call("PUT", "/api/settings/billing", ALICE, body=body)
        assert reply.status == 403, reply.body
    assert api.call("PUT", "/api/settings/billing", None, body={"period": FISCAL}).status == 401
    assert api.call("GET", "/api/settings/billing", BOB).body["period"]["kind"] == "calendar"
    assert run_queued(queue, handler) == []


def test_a_refused_queue_changes_nothing_and_answers_503(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import downloads

    api, queue, _ = org
    monkeypatch.setenv("TALLY_REPORTS_QUEUE_URL", queue.rsplit("/", 1)[0] + "/no-such-queue")
    downloads._queue.cache_clear()
    reply = api.call("PUT", "/api/settings/billing", FIONA, body={"period": FISCAL})
    assert reply.status == 503 and reply.headers["Retry-After"]
    period = api.call("GET", "/api/settings/billing", BOB).body["period"]
    assert period["kind"] == "calendar"
    assert summary(api)["periodStart"] == "2026-11-01"


def test_a_change_of_periods_changes_the_summarys_etag_even_without_roll_ups(org: Any) -> None:
    """A caller with no roll-ups of their own: nothing of theirs is rebuilt, yet their
    summary's month now covers other days, so a held ETag is no longer fresh."""
    api, queue, handler = org
    url = "/api/billing/user/u-fiona/summary"
    first = api.call("GET", url, FIONA)
    assert first.status == 200 and first.body["periodStart"] == "2026-11-01"
    etag = first.headers["ETag"]
    assert api.call("GET", url, FIONA, headers={"If-None-Match": etag}).status == 304
    assert api.call("PUT", "/api/settings/billing", FIONA, body={"period": FISCAL}).status == 200
    after = api.call("GET", url, FIONA, headers={"If-None-Match": etag})
    assert after.status == 200 and after.body["periodStart"] == "2026-10-26"
    assert run_queued(queue, handler) == ["ready"]
