"""Hostile and careless input for every route: a problem+json 4xx, nothing stored, never 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import FakeChannels
from tests.conftest import ADMIN, ALICE
from tests.harness import Api, World

LONG = "x" * 10_240
GOOD_ASSIGN = {"userId": "u-alice", "resourceType": "ec2", "resourceId": "i-0123456789abcdef0"}
GOOD_CLAIM = {"resourceType": "ec2", "resourceId": "{instance1}"}
GOOD_BUDGET = {"userId": "u-bob", "monthlyLimit": "10.00", "alertThreshold": 80}
GOOD_EXPORT = {"kind": "costs", "startDate": "2026-11-01", "endDate": "2026-11-19"}
GOOD_ROLE = {"name": "Viewer", "permissions": ["costs:read"]}
GOOD_TEAM = {"name": "Data", "kind": "team", "members": ["u-alice"]}
CHARGEBACK_EXPORT = {"kind": "chargeback", "month": "2026-10", "groupBy": "team"}

# (method, url template, kwargs, expected status, failing field or None)
CASES: list[tuple[str, str, dict[str, Any], int, str | None]] = [
    # assign-resource
    ("POST", "/api/billing/assign-resource", {"raw_body": "{not json"}, 400, "body"),
    ("POST", "/api/billing/assign-resource", {"raw_body": ""}, 422, None),
    ("POST", "/api/billing/assign-resource", {"raw_body": "[]"}, 422, None),
    ("POST", "/api/billing/assign-resource", {"body": {**GOOD_ASSIGN, "extra": 1}}, 422, "extra"),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "resourceId": 123}},
        422,
        "resourceId",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "resourceId": LONG}},
        422,
        "resourceId",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "userId": LONG}},
        422,
        "userId",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "resourceType": "EC 2"}},
        422,
        "resourceType",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "sharePct": 150}},
        422,
        "sharePct",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "sharePct": -5}},
        422,
        "sharePct",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "sharePct": "NaN"}},
        422,
        "sharePct",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "sharePct": True}},
        422,
        "sharePct",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "costCenter": LONG}},
        422,
        "costCenter",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "resourceId": "i-doesnotexist"}},
        422,
        "resourceId",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "resourceType": "s3", "resourceId": "no-such-bucket"}},
        422,
        "resourceId",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "resourceType": "rds", "resourceId": "no-db"}},
        422,
        "resourceId",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "resourceType": "lambda", "resourceId": "no-fn"}},
        422,
        "resourceId",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "resourceType": "sagemaker", "resourceId": "my-endpoint"}},
        422,
        "resourceId",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "userId": "u-ghost"}},
        422,
        "userId",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "resourceId": "{instance0}"}},
        409,
        None,
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": GOOD_ASSIGN, "headers": {"Content-Type": "text/plain"}},
        415,
        None,
    ),
    # effectiveFrom: a YYYY-MM-DD day, at most 400 days back and 366 ahead (today 2026-11-20)
    *[
        (
            "POST",
            "/api/billing/assign-resource",
            {"body": {**GOOD_ASSIGN, "resourceId": "{instance1}", "effectiveFrom": bad}},
            422,
            "effectiveFrom",
        )
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "20261120",
            "2026-11-20T00:00:00",
            "yesterday",
            "",
            1795132800,  # a Unix time is not a day
            True,
            [],
            "2025-10-15",  # 401 days back
            "2027-11-22",  # 367 days ahead
        ]
    ],
    # alice already has instance0 from today: bob may not take it from before today
    (
        "POST",
        "/api/billing/assign-resource",
        {
            "body": {
                **GOOD_ASSIGN,
                "userId": "u-bob",
                "resourceId": "{instance0}",
                "effectiveFrom": "2026-11-01",
            }
        },
        409,
        None,
    ),
    # resources listing
    ("GET", "/api/billing/user/u-alice/resources?limit=0", {}, 422, "limit"),
    ("GET", "/api/billing/user/u-alice/resources?limit=1000", {}, 422, "limit"),
    ("GET", "/api/billing/user/u-alice/resources?limit=abc", {}, 422, "limit"),
    ("GET", "/api/billing/user/u-alice/resources?nextToken=forged", {}, 422, "nextToken"),
    ("GET", "/api/billing/user/" + "u" * 300 + "/resources", {}, 422, "userId"),
    # unassign
    ("DELETE", "/api/billing/unassign/does-not-exist", {}, 404, None),
    ("DELETE", "/api/billing/unassign/" + "a" * 500, {}, 422, "assignmentId"),
    # budgets
    ("POST", "/api/billing/budgets", {"raw_body": "{"}, 400, "body"),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {**GOOD_BUDGET, "monthlyLimit": "-1"}},
        422,
        "monthlyLimit",
    ),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {**GOOD_BUDGET, "monthlyLimit": "ten"}},
        422,
        "monthlyLimit",
    ),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {**GOOD_BUDGET, "monthlyLimit": "1e400"}},
        422,
        "monthlyLimit",
    ),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {**GOOD_BUDGET, "monthlyLimit": "Infinity"}},
        422,
        "monthlyLimit",
    ),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {**GOOD_BUDGET, "monthlyLimit": "10.001"}},
        422,
        "monthlyLimit",
    ),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {**GOOD_BUDGET, "monthlyLimit": [1]}},
        422,
        "monthlyLimit",
    ),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {**GOOD_BUDGET, "alertThreshold": 150}},
        422,
        "alertThreshold",
    ),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {**GOOD_BUDGET, "alertThreshold": "80"}},
        422,
        "alertThreshold",
    ),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {**GOOD_BUDGET, "alertThreshold": 80.5}},
        422,
        "alertThreshold",
    ),
    ("POST", "/api/billing/budgets", {"body": {**GOOD_BUDGET, "currency": "usd"}}, 422, "currency"),
    ("POST", "/api/billing/budgets", {"body": {**GOOD_BUDGET, "version": 7}}, 422, "version"),
    ("POST", "/api/billing/budgets", {"body": {**GOOD_BUDGET, "userId": "u-alice"}}, 409, None),
    ("POST", "/api/billing/budgets", {"body": {"userId": "u-bob"}}, 422, "monthlyLimit"),
    # a team's budget: teamId instead of userId, exactly one of them, a slug
    *[
        (
            "POST",
            "/api/billing/budgets",
            {"body": {"teamId": bad, "monthlyLimit": "1"}},
            422,
            "teamId",
        )
        for bad in ["Payments", "pay ments", "-payments", "", LONG, 7, ["payments"]]
    ],
    ("POST", "/api/billing/budgets", {"body": {**GOOD_BUDGET, "teamId": "payments"}}, 422, "body"),
    ("POST", "/api/billing/budgets", {"body": {"monthlyLimit": "1"}}, 422, "body"),
    ("POST", "/api/billing/budgets", {"body": {"teamId": "ghost", "monthlyLimit": "1"}}, 404, None),
    ("GET", "/api/billing/budgets/team/Not_A_Team", {}, 422, "teamId"),
    # a cost center's budget: costCenter instead of userId/teamId, as a team's cost center
    *[
        (
            "POST",
            "/api/billing/budgets",
            {"body": {"costCenter": bad, "monthlyLimit": "1"}},
            422,
            "costCenter",
        )
        for bad in ["=SUM(A1)", "@cmd", "", LONG, "cc\u200b1", "CC<1>", 7, ["CC-100"]]
    ],
    (
        "POST",
        "/api/billing/budgets",
        {"body": {**GOOD_BUDGET, "costCenter": "CC-100"}},
        422,
        "body",
    ),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {"teamId": "payments", "costCenter": "CC-100", "monthlyLimit": "1"}},
        422,
        "body",
    ),
    (
        "POST",
        "/api/billing/budgets",
        {"body": {"costCenter": "CC-404", "monthlyLimit": "1"}},
        404,
        None,
    ),
    *[
        ("GET", url.format(bad), {}, 422, "costCenter")
        for url in (
            "/api/billing/budgets/cost-center/{}",
            "/api/billing/cost-center/{}/summary",
        )
        for bad in ["=SUM(A1)", "C" * 65, "CC<1>", "%E2%80%8Bcc"]
    ],
    ("GET", "/api/billing/budgets/cost-center/CC-404", {}, 404, None),
    ("GET", "/api/billing/cost-center/CC-404/summary", {}, 404, None),
    ("GET", "/api/billing/cost-center/CC-404/summary?month=2026-13", {}, 422, "month"),
    ("GET", "/api/billing/team/Not_A_Team/summary", {}, 422, "teamId"),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "userId": None, "teamId": "Not A Team"}},
        422,
        "teamId",
    ),
    (
        "POST",
        "/api/billing/assign-resource",
        {"body": {**GOOD_ASSIGN, "teamId": "payments"}},
        422,
        "body",
    ),
    # effectiveFrom: a month YYYY-MM, this month or earlier (the tests run on 2026-11-20)
    *[
        (
            "POST",
            "/api/billing/budgets",
            {"body": {**GOOD_BUDGET, "effectiveFrom": bad}},
            422,
            "effectiveFrom",
        )
        for bad in [
            "2026-13",
            "2026-1",
            "2026-11-01",
            "11/2026",
            "",
            202611,
            ["2026-11"],
            "2026-12",
        ]
    ],
    *[
        (
            "PUT",
            "/api/billing/budgets/{budget}",
            {"body": {"effectiveFrom": bad}},
            422,
            "effectiveFrom",
        )
        for bad in ["2026-00", "november", 2026, "2027-01"]
    ],
    ("GET", "/api/billing/budgets/u-bob", {}, 404, None),
    ("PUT", "/api/billing/budgets/{budget}", {"body": {}}, 422, "body"),
    ("PUT", "/api/billing/budgets/{budget}", {"body": {"monthlyLimit": -3}}, 422, "monthlyLimit"),
    (
        "PUT",
        "/api/billing/budgets/{budget}",
        {"body": {"alertThreshold": 101}},
        422,
        "alertThreshold",
    ),
    ("PUT", "/api/billing/budgets/{budget}", {"body": {"userId": "u-bob"}}, 422, "userId"),
    ("PUT", "/api/billing/budgets/{budget}", {"raw_body": "nope"}, 400, "body"),
    (
        "PUT",
        "/api/billing/budgets/{budget}",
        {"body": {"monthlyLimit": "5"}, "headers": {"If-Match": '"7"'}},
        409,
        None,
    ),
    (
        "PUT",
        "/api/billing/budgets/{budget}",
        {"body": {"monthlyLimit": "5"}, "headers": {"If-Match": "garbage"}},
        422,
        "If-Match",
    ),
    ("PUT", "/api/billing/budgets/unknown-id", {"body": {"monthlyLimit": "5"}}, 404, None),
    # costs
    ("GET", "/api/billing/user/u-alice/costs?startDate=2026-13-01", {}, 422, "startDate"),
    ("GET", "/api/billing/user/u-alice/costs?startDate=yesterday", {}, 422, "startDate"),
    ("GET", "/api/billing/user/u-alice/costs?endDate=2026-02-30", {}, 422, "endDate"),
    (
        "GET",
        "/api/billing/user/u-alice/costs?startDate=2026-11-10&endDate=2026-11-01",
        {},
        422,
        "endDate",
    ),
    (
        "GET",
        "/api/billing/user/u-alice/costs?startDate=2024-01-01&endDate=2026-01-01",
        {},
        422,
        "endDate",
    ),
    # cost lines
    ("GET", "/api/billing/user/u-alice/cost-lines?sort=price", {}, 422, "sort"),
    (
        "GET",
        "/api/billing/user/u-alice/cost-lines?startDate=2026-01-01&endDate=2026-06-01",
        {},
        422,
        "endDate",
    ),
    ("GET", "/api/billing/user/u-alice/cost-lines?limit=0", {}, 422, "limit"),
    ("GET", "/api/billing/user/u-alice/cost-lines?q=" + "x" * 300, {}, 422, "q"),
    ("GET", "/api/billing/user/u-alice/cost-lines?nextToken=forged", {}, 422, "nextToken"),
    # summary, all-users
    ("GET", "/api/billing/user/%00/summary", {}, 422, "userId"),
    ("GET", "/api/billing/all-users?month=2026-13", {}, 422, "month"),
    ("GET", "/api/billing/all-users?month=november", {}, 422, "month"),
    ("GET", "/api/billing/all-users?limit=0", {}, 422, "limit"),
    ("GET", "/api/billing/all-users?limit=1000", {}, 422, "limit"),
    ("GET", "/api/billing/all-users?nextToken=" + "A" * 60, {}, 422, "nextToken"),
    # claims
    ("POST", "/api/billing/claims", {"raw_body": "{not json"}, 400, "body"),
    ("POST", "/api/billing/claims", {"raw_body": "[]"}, 422, None),
    ("POST", "/api/billing/claims", {"body": {"resourceType": "ec2"}}, 422, "resourceId"),
    (
        "POST",
        "/api/billing/claims",
        {"body": {**GOOD_CLAIM, "claimantId": "u-bob"}},
        422,
        "claimantId",
    ),
    ("POST", "/api/billing/claims", {"body": {**GOOD_CLAIM, "status": "approved"}}, 422, "status"),
    ("POST", "/api/billing/claims", {"body": {**GOOD_CLAIM, "sharePct": 0}}, 422, "sharePct"),
    ("POST", "/api/billing/claims", {"body": {**GOOD_CLAIM, "sharePct": "101"}}, 422, "sharePct"),
    ("POST", "/api/billing/claims", {"body": {**GOOD_CLAIM, "sharePct": True}}, 422, "sharePct"),
    ("POST", "/api/billing/claims", {"body": {**GOOD_CLAIM, "note": LONG}}, 422, "note"),
    ("POST", "/api/billing/claims", {"body": {**GOOD_CLAIM, "note": "hi\x1b[31m"}}, 422, "note"),
    ("POST", "/api/billing/claims", {"body": {**GOOD_CLAIM, "note": "a\u200bb"}}, 422, "note"),
    (
        "POST",
        "/api/billing/claims",
        {"body": {**GOOD_CLAIM, "resourceId": "i-0doesnotexist"}},
        422,
        "resourceId",
    ),
    (
        "POST",
        "/api/billing/claims",
        {"body": {"resourceType": "sqs", "resourceId": "arn:aws:sqs:us-east-1:999999999999:q"}},
        422,
        "resourceId",
    ),
    ("GET", "/api/billing/claims?view=everyone", {}, 422, "view"),
    ("GET", "/api/billing/claims?limit=0", {}, 422, "limit"),
    ("GET", "/api/billing/claims?limit=101", {}, 422, "limit"),
    ("GET", "/api/billing/claims?nextToken=forged", {}, 422, "nextToken"),
    ("POST", "/api/billing/claims/no-such-claim/approve", {}, 404, None),
    ("POST", "/api/billing/claims/no-such-claim/reject", {}, 404, None),
    ("POST", "/api/billing/claims/%00/approve", {}, 422, "claimId"),
    ("POST", "/api/billing/claims/" + "x" * 65 + "/reject", {}, 422, "claimId"),
    ("GET", "/api/billing/claims/x/approve", {}, 405, None),
    # identifiers (security review 7): hidden characters, ARNs per partition and service,
    # formula-like cost centres, currencies outside ISO 4217
    *[
        ("POST", "/api/billing/assign-resource", {"body": {**GOOD_ASSIGN, **bad}}, 422, field)
        for bad, field in [
            ({"resourceId": "i-0123456789abcdef0\x07"}, "resourceId"),
            ({"resourceId": "\x1b[31mi-0123456789abcdef0"}, "resourceId"),
            ({"resourceId": "i-0123456789abcdef0\u200b"}, "resourceId"),
            (
                {
                    "resourceType": "sqs",
                    "resourceId": 'arn:aws:sqs:us-east-1:123456789012:=HYPERLINK("http://x")',
                },
                "resourceId",
            ),
            (
                {
                    "resourceType": "dynamodb",
                    "resourceId": "arn:aws-cn:dynamodb:us-east-1:123456789012:table/t",
                },
                "resourceId",
            ),
            ({"resourceType": "ec2", "resourceId": "arn:aws:s3:::alice-data"}, "resourceId"),
            ({"costCenter": "+1"}, "costCenter"),
            ({"costCenter": "-1"}, "costCenter"),
            ({"costCenter": "=SUM(A1)"}, "costCenter"),
            ({"costCenter": "@cmd"}, "costCenter"),
            ({"costCenter": "cc\u200b1"}, "costCenter"),
        ]
    ],
    *[
        ("POST", "/api/billing/budgets", {"body": {**GOOD_BUDGET, "currency": c}}, 422, "currency")
        for c in ["ABC", "XXX", "ZZZ"]
    ],
    ("GET", "/api/billing/user/u-alice/cost-lines?q=a%07b", {}, 422, "q"),
    ("GET", "/api/billing/user/u-alice/cost-lines?q=%E2%80%8B", {}, 422, "q"),
    ("GET", "/api/billing/user/u-alice/cost-lines?service=a%1Bb", {}, 422, "service"),
    # the calendar's edges and hostile bodies (security review 3)
    ("GET", "/api/billing/user/u-alice/costs?startDate=9999-12-31", {}, 422, "startDate"),
    ("GET", "/api/billing/user/u-alice/costs?endDate=0001-01-01", {}, 422, "endDate"),
    ("GET", "/api/billing/user/u-alice/cost-lines?startDate=9999-12-31", {}, 422, "startDate"),
    ("GET", "/api/billing/all-users?month=9999-12", {}, 422, "month"),
    # month over month: a month YYYY-MM, up to the current one (2026-11)
    *[
        ("GET", f"/api/billing/user/u-alice/month-over-month?month={bad}", {}, 422, "month")
        for bad in ["2026-13", "2026-1", "november", "2026-11-01", "", "1999-12", "9999-12"]
    ],
    ("GET", "/api/billing/user/u-alice/month-over-month?month=2026-12", {}, 422, "month"),
    ("GET", "/api/billing/user/u-alice/month-over-month?month=2027-01", {}, 422, "month"),
    ("GET", "/api/billing/user/ORG/month-over-month", {}, 422, "userId"),
    ("POST", "/api/billing/budgets", {"raw_body": "[" * 1000 + "]" * 1000}, 400, "body"),
    (
        "POST",
        "/api/billing/assign-resource",
        {"raw_body": '{"a":' * 1000 + "1" + "}" * 1000},
        400,
        "body",
    ),
    ("POST", "/api/billing/budgets", {"raw_body": '"' + "x" * 70_000 + '"'}, 413, None),
    # notifications and preferences (the admin's own)
    ("GET", "/api/notifications?limit=0", {}, 422, "limit"),
    ("GET", "/api/notifications?limit=101", {}, 422, "limit"),
    ("GET", "/api/notifications?limit=ten", {}, 422, "limit"),
    ("GET", "/api/notifications?nextToken=forged", {}, 422, "nextToken"),
    ("POST", "/api/notifications/no-such/read", {}, 404, None),
    ("POST", "/api/notifications/no-such/unread", {}, 404, None),
    ("POST", "/api/notifications/%00/read", {}, 422, "notificationId"),
    ("POST", "/api/notifications/a%20b/read", {}, 422, "notificationId"),
    ("POST", "/api/notifications/" + "x" * 257 + "/unread", {}, 422, "notificationId"),
    ("GET", "/api/notifications/read-all", {}, 405, None),
    ("GET", "/api/notifications/x/read", {}, 405, None),
    ("PUT", "/api/preferences", {"raw_body": "{not json"}, 400, "body"),
    ("PUT", "/api/preferences", {"raw_body": ""}, 422, None),
    ("PUT", "/api/preferences", {"raw_body": "[]"}, 422, None),
    ("PUT", "/api/preferences", {"body": {}}, 422, "body"),
    ("PUT", "/api/preferences", {"body": {"digest": "hourly"}}, 422, "digest"),
    ("PUT", "/api/preferences", {"body": {"digest": "DAILY"}}, 422, "digest"),
    ("PUT", "/api/preferences", {"body": {"emailAlerts": "yes"}}, 422, "emailAlerts"),
    ("PUT", "/api/preferences", {"body": {"emailAlerts": 1}}, 422, "emailAlerts"),
    ("PUT", "/api/preferences", {"body": {"emailAlerts": None}}, 422, "body"),
    ("PUT", "/api/preferences", {"body": {"alertThreshold": 101}}, 422, "alertThreshold"),
    ("PUT", "/api/preferences", {"body": {"alertThreshold": -1}}, 422, "alertThreshold"),
    ("PUT", "/api/preferences", {"body": {"alertThreshold": "50"}}, 422, "alertThreshold"),
    ("PUT", "/api/preferences", {"body": {"alertThreshold": 50.5}}, 422, "alertThreshold"),
    ("PUT", "/api/preferences", {"body": {"alertThreshold": True}}, 422, "alertThreshold"),
    ("PUT", "/api/preferences", {"body": {"digest": "daily", "userId": "u-alice"}}, 422, "userId"),
    # the admin has no budget: there is no threshold to change
    ("PUT", "/api/preferences", {"body": {"alertThreshold": 50}}, 422, "alertThreshold"),
    (
        "PUT",
        "/api/preferences",
        {"body": {"digest": "daily"}, "headers": {"If-Match": '"latest"'}},
        422,
        "If-Match",
    ),
    (
        "PUT",
        "/api/preferences",
        {"body": {"digest": "daily"}, "headers": {"If-Match": '"7.7"'}},
        409,
        None,
    ),
    ("DELETE", "/api/preferences", {}, 405, None),
    # the webhook: https to a public host only (after DNS: tests/api/conftest.py fakes it)
    *[
        ("PUT", "/api/preferences", {"body": {"webhookUrl": hook}}, 422, "webhookUrl")
        for hook in (
            "http://hooks.slack.com/services/T0/B0/x",
            "https://127.0.0.1/hook",
            "https://10.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/hook",
            "https://intranet.example.com/hook",  # a public name for 10.1.2.3
            "https://no-such-host.invalid/hook",
            "https://user:secret@hooks.slack.com/services/x",
            "javascript:alert(1)",
            "hooks.slack.com/services/x",
            "https://hooks.slack.com/" + "x" * 2048,
            "https://hooks.slack.com/\u200bx",
            "",
            123,
            True,
            ["https://hooks.slack.com/services/x"],
            {"url": "https://hooks.slack.com/services/x"},
        )
    ],
    (
        "PUT",
        "/api/preferences",
        {"body": {"webhookUrl": "https://10.0.0.1/x", "digest": "daily"}},
        422,
        "webhookUrl",
    ),
    ("PUT", "/api/preferences", {"body": {"emailSuppressed": False}}, 422, "emailSuppressed"),
    (
        "PUT",
        "/api/preferences",
        {"body": {"emailSuppressed": {"reason": "bounce"}}},
        422,
        "emailSuppressed",
    ),
    ("PUT", "/api/preferences", {"body": {"webhook": None}}, 422, "webhook"),
    # the admin has no webhook to test
    ("POST", "/api/preferences/webhook/test", {}, 409, None),
    ("GET", "/api/preferences/webhook/test", {}, 405, None),
    # the unsubscribe link (public; its token decides)
    ("GET", "/api/unsubscribe", {}, 422, "token"),
    ("POST", "/api/unsubscribe", {}, 422, "token"),
    ("GET", "/api/unsubscribe?token=", {}, 422, "token"),
    ("GET", "/api/unsubscribe?token=" + "x" * 1025, {}, 422, "token"),
    ("POST", "/api/unsubscribe?token=forged", {}, 422, "token"),
    ("POST", "/api/unsubscribe?token=%00%ff", {}, 422, "token"),
    ("DELETE", "/api/unsubscribe?token=x", {}, 405, None),
    ("PUT", "/api/unsubscribe?token=x", {"body": {"digest": "off"}}, 405, None),
    # exports and invoices (the caller is the admin)
    ("POST", "/api/exports", {"raw_body": "{not json"}, 400, "body"),
    ("POST", "/api/exports", {"body": {**GOOD_EXPORT, "extra": 1}}, 422, "extra"),
    ("POST", "/api/exports", {"body": {**GOOD_EXPORT, "kind": "pdf"}}, 422, "kind"),
    # the chargeback (JSON and export)
    ("GET", "/api/billing/organisation/chargeback?month=2026-13", {}, 422, "month"),
    ("GET", "/api/billing/organisation/chargeback?month=2026-12", {}, 422, "month"),
    ("GET", "/api/billing/organisation/chargeback?groupBy=person", {}, 422, "groupBy"),
    ("POST", "/api/exports", {"body": {"kind": "chargeback", "groupBy": "team"}}, 422, "month"),
    ("POST", "/api/exports", {"body": {"kind": "chargeback", "month": "2026-10"}}, 422, "groupBy"),
    *(
        ("POST", "/api/exports", {"body": {**CHARGEBACK_EXPORT, name: value}}, 422, name)
        for name, value in (
            ("format", "xlsx"),
            ("unit", "=cmd"),
            ("unit", "nobody"),
            ("month", "2026-12"),
            ("userId", "u-alice"),
        )
    ),
    ("POST", "/api/exports", {"body": {**GOOD_EXPORT, "month": "2026-10"}}, 422, "month"),
    ("POST", "/api/exports", {"body": {**GOOD_EXPORT, "format": "pdf"}}, 422, "format"),
    (
        "POST",
        "/api/exports",
        {"body": {**GOOD_EXPORT, "startDate": "2026-13-01"}},
        422,
        "startDate",
    ),
    ("POST", "/api/exports", {"body": {**GOOD_EXPORT, "startDate": 20261101}}, 422, "startDate"),
    (
        "POST",
        "/api/exports",
        {"body": {"kind": "costs", "startDate": "2026-11-01"}},
        422,
        "endDate",
    ),
    ("POST", "/api/exports", {"body": {**GOOD_EXPORT, "endDate": "2026-10-31"}}, 422, "endDate"),
    ("POST", "/api/exports", {"body": {**GOOD_EXPORT, "startDate": "2025-01-01"}}, 422, "endDate"),
    ("POST", "/api/exports", {"body": {**GOOD_EXPORT, "userId": LONG}}, 422, "userId"),
    ("POST", "/api/exports", {"body": {**GOOD_EXPORT, "search": "a\u0007b"}}, 422, "search"),
    ("POST", "/api/exports", {"body": {**GOOD_EXPORT, "resourceId": LONG}}, 422, "resourceId"),
    (
        "POST",
        "/api/exports",
        {"body": {**GOOD_EXPORT, "kind": "all-users", "userId": "u-alice"}},
        422,
        "userId",
    ),
    ("GET", "/api/exports/not%20an%20id", {}, 422, "exportId"),
    ("GET", "/api/exports/00000000-0000-0000-0000-000000000000", {}, 404, None),
    ("DELETE", "/api/exports/x", {}, 405, None),
    ("POST", "/api/invoices", {"body": {"month": "2026-13"}}, 422, "month"),
    ("POST", "/api/invoices", {"body": {"month": "2026-12"}}, 422, "month"),
    ("POST", "/api/invoices", {"body": {"month": "2026-10", "email": "yes"}}, 422, "email"),
    ("POST", "/api/invoices", {"body": {"month": "2026-10", "extra": 1}}, 422, "extra"),
    (
        "POST",
        "/api/invoices",
        {"body": {"month": "2026-10", "costCenter": "=cmd"}},
        422,
        "costCenter",
    ),
    (
        "POST",
        "/api/invoices",
        {"body": {"month": "2026-10", "userId": "u-alice", "costCenter": "research"}},
        422,
        None,
    ),
    ("GET", "/api/invoices/x%00", {}, 422, "invoiceId"),
    # anomalies (the caller is the admin)
    ("GET", "/api/anomalies?status=closed", {}, 422, "status"),
    ("GET", "/api/anomalies?userId=" + LONG, {}, 422, "userId"),
    ("GET", "/api/anomalies?userId=ORG", {}, 422, "userId"),
    ("GET", "/api/anomalies?limit=0", {}, 422, "limit"),
    ("GET", "/api/anomalies?nextToken=forged", {}, 422, "nextToken"),
    ("PATCH", "/api/anomalies/x", {"raw_body": "{not json"}, 400, "body"),
    ("PATCH", "/api/anomalies/x", {"body": {"status": "open"}}, 422, "status"),
    ("PATCH", "/api/anomalies/x", {"body": {"status": "closed"}}, 422, "status"),
    ("PATCH", "/api/anomalies/x", {"body": {}}, 422, "status"),
    ("PATCH", "/api/anomalies/x", {"body": {"status": "resolved", "extra": 1}}, 422, "extra"),
    ("PATCH", "/api/anomalies/a%2Fb", {"body": {"status": "resolved"}}, 422, "anomalyId"),
    ("PATCH", "/api/anomalies/no-such-anomaly", {"body": {"status": "resolved"}}, 404, None),
    ("DELETE", "/api/anomalies/x", {}, 405, None),
    # recommendations (the caller is the admin)
    ("GET", "/api/recommendations?userId=", {}, 422, "userId"),
    ("GET", "/api/recommendations?userId=" + LONG, {}, 422, "userId"),
    ("GET", "/api/recommendations?userId=UNALLOCATED", {}, 422, "userId"),
    ("GET", "/api/recommendations?userId=a%20b", {}, 422, "userId"),
    ("GET", "/api/recommendations?userId=%00", {}, 422, "userId"),
    ("POST", "/api/recommendations", {"body": {}}, 405, None),
    ("DELETE", "/api/recommendations", {}, 405, None),
    # roles, teams, people's roles, the audit log (issue 13)
    ("POST", "/api/roles", {"raw_body": "{not json"}, 400, "body"),
    ("POST", "/api/roles", {"body": {**GOOD_ROLE, "extra": 1}}, 422, "extra"),
    ("POST", "/api/roles", {"body": {**GOOD_ROLE, "name": ""}}, 422, "name"),
    ("POST", "/api/roles", {"body": {**GOOD_ROLE, "name": LONG}}, 422, "name"),
    ("POST", "/api/roles", {"body": {**GOOD_ROLE, "permissions": ["costs:x"]}}, 422, "permissions"),
    (
        "POST",
        "/api/roles",
        {"body": {**GOOD_ROLE, "permissions": "costs:read"}},
        422,
        "permissions",
    ),
    ("POST", "/api/roles", {"body": {**GOOD_ROLE, "roleId": "Bad Id"}}, 422, "roleId"),
    ("POST", "/api/roles", {"body": {**GOOD_ROLE, "roleId": "finance"}}, 409, None),
    ("PUT", "/api/roles/finance", {"body": GOOD_ROLE}, 409, None),
    (
        "PUT",
        "/api/roles/viewer",
        {"body": GOOD_ROLE, "headers": {"If-Match": "v1"}},
        422,
        "If-Match",
    ),
    ("DELETE", "/api/roles/admin", {}, 409, None),
    ("GET", "/api/roles/NOT_A_SLUG", {}, 422, "roleId"),
    ("POST", "/api/teams", {"raw_body": "[]"}, 422, None),
    ("POST", "/api/teams", {"body": {**GOOD_TEAM, "kind": "squad"}}, 422, "kind"),
    ("POST", "/api/teams", {"body": {**GOOD_TEAM, "parentId": "ghosts"}}, 422, "parentId"),
    ("POST", "/api/teams", {"body": {**GOOD_TEAM, "members": ["u-nobody"]}}, 422, "members"),
    ("POST", "/api/teams", {"body": {**GOOD_TEAM, "managers": [LONG]}}, 422, "managers.0"),
    ("POST", "/api/teams", {"body": {**GOOD_TEAM, "teamId": "Bad Id"}}, 422, "teamId"),
    ("POST", "/api/teams", {"body": {**GOOD_TEAM, "costCenter": "=SUM(A1)"}}, 422, "costCenter"),
    (
        "POST",
        "/api/teams",
        {"body": {**GOOD_TEAM, "roles": [{"roleId": "admin", "scope": "org"}]}},
        422,
        "roles.0.roleId",
    ),
    (
        "POST",
        "/api/teams",
        {"body": {**GOOD_TEAM, "roles": [{"roleId": "finance", "scope": "nowhere"}]}},
        422,
        "roles.0.scope",
    ),
    ("GET", "/api/teams/Bad_Id", {}, 422, "teamId"),
    (
        "PUT",
        "/api/users/u-bob/roles",
        {"body": {"roles": [{"roleId": "admin", "scope": "self"}]}},
        422,
        "roles.0.scope",
    ),
    (
        "PUT",
        "/api/users/u-bob/roles",
        {"body": {"roles": [{"roleId": "nope", "scope": "org"}]}},
        422,
        "roles.0.roleId",
    ),
    ("PUT", "/api/users/u-bob/roles", {"body": {"roles": "admin"}}, 422, "roles"),
    ("PUT", "/api/users/u-bob/roles", {"body": {}}, 422, "roles"),
    (
        "PUT",
        "/api/users/u-bob/roles",
        {"body": {"roles": []}, "headers": {"If-Match": "x"}},
        422,
        "If-Match",
    ),
    ("PUT", "/api/users/u-nobody/roles", {"body": {"roles": []}}, 404, None),
    ("GET", "/api/audit?limit=0", {}, 422, "limit"),
    ("GET", "/api/audit?limit=101", {}, 422, "limit"),
    ("GET", "/api/audit?nextToken=forged", {}, 422, "nextToken"),
    ("GET", "/api/audit?subject=" + "s" * 200, {}, 422, "subject"),
    # routing
    ("PATCH", "/api/billing/budgets/x", {}, 405, None),
    ("DELETE", "/api/billing/all-users", {}, 405, None),
    ("GET", "/api/billing/../../etc/passwd", {}, 404, None),
]


def _state(api: Api) -> tuple[object, ...]:
    s = api.stores
    return (
        sorted((a.assignment_id, a.resource_id, a.effective_to) for a in s.assignments.all()),
        [s.budgets.get_for_user(u) for u in ("u-alice", "u-bob")],
        [len(s.audit.list_for_user(u, 100).items) for u in ("u-alice", "u-bob")],
        s.preferences.get("u-admin"),
        s.access.snapshot().version,
        len(s.audit.list_all(100).items),
    )


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "field"),
    CASES,
    ids=[f"{c[0]} {c[1][:60]} {str(c[2])[:40]}" for c in CASES],
)
def test_bad_input_is_refused_cleanly(
    api: Api,
    world: World,
    fake_channels: FakeChannels,
    method: str,
    url: str,
    kwargs: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    url = url.replace("{budget}", world.budget_id)
    if "body" in kwargs and isinstance(kwargs["body"], dict):
        kwargs = {
            **kwargs,
            "body": {
                k: {
                    "{instance0}": world.demo.instance_ids[0],
                    "{instance1}": world.demo.instance_ids[1],
                }.get(v, v)
                if isinstance(v, str)
                else v
                for k, v in kwargs["body"].items()
            },
        }
    before = _state(api)
    reply = api.call(method, url, ADMIN, **kwargs)
    assert reply.status == status, reply.body
    problem = reply.problem
    assert set(problem) >= {"type", "title", "status", "detail"}
    if field:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    assert "Traceback" not in str(problem)
    assert _state(api) == before


def test_concurrent_stale_budget_update_is_a_conflict(api: Api, world: World) -> None:
    """Two clients read version 1; the second write must not silently overwrite the first."""
    url = f"/api/billing/budgets/{world.budget_id}"
    first = api.call("PUT", url, ALICE, body={"monthlyLimit": "120"}, headers={"If-Match": '"1"'})
    second = api.call("PUT", url, ADMIN, body={"monthlyLimit": "90"}, headers={"If-Match": '"1"'})
    assert (first.status, second.status) == (200, 409)
    assert first.headers["ETag"] == '"2"'
    assert (
        api.call("GET", "/api/billing/budgets/u-alice", ALICE).body["monthlyLimit"]["amount"]
        == "120.00"
    )
