"""tally.observability: personal data scrubbed from error reports, Sentry and the X-Ray SDK
loaded only when configured, and the ingest's lag at calendar edges."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tally import observability
from tally.ingest import IngestResult
from tally.observability import FILTERED, NoTracer, before_send, dsn_from_secret, scrub

REPO = Path(__file__).resolve().parents[2]
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("TALLY_SENTRY", "AWS_LAMBDA"))},
    "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("layers", "functions", ".")),
    "AWS_REGION": "us-east-1",
    "TALLY_PAGE_TOKEN_SECRET": "x",
}

# An event as Sentry's Lambda integration builds it for a failed API request.
SAMPLE_EVENT: dict[str, Any] = {
    "level": "error",
    "user": {"id": "u-alice", "email": "alice@example.org", "ip_address": "203.0.113.9"},
    "request": {
        "method": "PUT",
        "url": "https://api.example.org/api/billing/budgets/b-1",
        "headers": {
            "Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LWFsaWNlIn0.c2ln",
            "Cookie": "session=abc",
            "Accept": "application/json",
        },
        "data": '{"monthlyLimit": "250.00", "notifyEmail": "alice@example.org"}',
        "cookies": {"session": "abc"},
        "query_string": "email=alice%40example.org&limit=20",
    },
    "exception": {
        "values": [
            {
                "type": "Invalid",
                "value": "budget 250.00 USD for alice@example.org is below 312.5 spent (v 3.37.0)",
                "stacktrace": {
                    "frames": [
                        {
                            "function": "update_budget",
                            "lineno": 42,
                            "vars": {
                                "monthly_limit": "Decimal('250.00')",
                                "amount": "312.5",
                                "token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln",
                                "owner": "u-alice",
                            },
                        }
                    ]
                },
            }
        ]
    },
    "breadcrumbs": {
        "values": [
            {"category": "log", "message": "alert sent to bob@example.org", "data": {}},
            {"category": "log", "message": "total", "data": {"total": Decimal("99.95")}},
        ]
    },
    "extra": {"figure": Decimal("12.34"), "count": 3},
    "release": "3f2a9c01d4e5",
}


def test_before_send_strips_emails_tokens_authorization_and_amounts() -> None:
    event = before_send(json.loads(json.dumps(SAMPLE_EVENT, default=str)), {})  # type: ignore[arg-type]
    text = json.dumps(event)

    for secret in ("alice@example.org", "bob@example.org", "eyJ", "session=abc", "203.0.113.9"):
        assert secret not in text
    for amount in ("250.00", "312.5", "99.95", "12.34"):
        assert amount not in text
    request = event["request"]
    assert "data" not in request and "cookies" not in request and "user" not in event
    assert request["headers"] == {
        "Authorization": FILTERED,
        "Cookie": FILTERED,
        "Accept": "application/json",
    }
    # What an error report is for stays: the code path, the kind of error, the version.
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "Invalid" and "(v 3.37.0)" in exception["value"]
    (frame,) = exception["stacktrace"]["frames"]
    assert (frame["function"], frame["lineno"], frame["vars"]["owner"]) == (
        "update_budget",
        42,
        "u-alice",
    )
    assert event["extra"]["count"] == 3 and event["release"] == "3f2a9c01d4e5"


def test_money_as_decimals_never_leaves_whatever_its_key() -> None:
    assert scrub({"extra": {"figure": Decimal("12.34")}}) == {"extra": {"figure": FILTERED}}


def test_the_dsn_secret_is_the_dsn_or_a_json_object_with_one() -> None:
    dsn = "https://public@o1.ingest.sentry.io/2"
    assert dsn_from_secret(f" {dsn}\n") == dsn
    assert dsn_from_secret(json.dumps({"dsn": dsn})) == dsn
    assert dsn_from_secret("") == dsn_from_secret('{"dsn": ""}') == ""


@pytest.mark.parametrize(
    ("env", "enabled"),
    [
        ({}, False),  # tests, the local stack
        ({"AWS_LAMBDA_FUNCTION_NAME": "tally-alerts"}, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "tally-api", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "tally-api", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
    ],
)
def test_the_xray_sdk_runs_only_in_lambda_and_unless_disabled(
    env: dict[str, str], enabled: bool
) -> None:
    assert observability.tracing_enabled(env) is enabled


def test_without_the_sdk_the_tracer_decorators_leave_functions_as_they_are() -> None:
    tracer = observability.tracer("tally-api", {})
    assert isinstance(tracer, NoTracer)

    def handler(event: dict[str, Any], context: Any) -> str:
        return "done"

    @tracer.capture_method(capture_response=False)
    def step() -> int:
        return 1

    assert tracer.capture_lambda_handler(handler) is handler
    assert step() == 1


def test_without_the_setting_sentry_stays_off_and_reads_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(observability, "_error_tracking", None)
    reads: list[str] = []
    assert not observability.start_error_tracking("tally-api", {}, reads.append)  # type: ignore[arg-type]
    assert reads == []


def test_a_secret_that_cannot_be_read_leaves_sentry_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observability, "_error_tracking", None)

    def unreadable(name: str) -> str:
        raise PermissionError(f"not allowed to read {name}")

    env = {observability.SENTRY_DSN_SECRET_ENV: "tally/sentry-dsn"}
    assert not observability.start_error_tracking("tally-api", env, unreadable)


def run_python(code: str, **env: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**ENV, **env},
        check=True,
        cwd=REPO,
    )
    return out.stdout.strip()


def test_importing_the_handlers_without_a_dsn_loads_neither_sentry_nor_the_xray_sdk() -> None:
    loaded = run_python(
        "import sys\n"
        "import api.handler, alerts.handler, reports.handler, ingest.handler, access.handler\n"
        "import ingest.worker\n"
        "print(sorted(m for m in ('sentry_sdk', 'aws_xray_sdk') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_with_a_dsn_sentry_reports_errors_scrubbed_and_without_personal_data() -> None:
    # A transport that keeps the envelopes: nothing leaves the machine.
    code = """
import json, sentry_sdk
from tally import observability
dsn = "https://public@o1.ingest.sentry.io/2"
on = observability.start_error_tracking(
    "tally-api", {"TALLY_SENTRY_DSN_SECRET": "tally/sentry", "TALLY_VERSION": "abc123"},
    lambda name: json.dumps({"dsn": dsn}),
)
client = sentry_sdk.get_client()
sent = []
client.transport.capture_envelope = sent.append
try:
    raise ValueError("budget 250.00 for alice@example.org")
except ValueError:
    sentry_sdk.capture_exception()
client.flush()
(event,) = [item.payload.json for env in sent for item in env.items if item.type == "event"]
print(json.dumps({
    "on": on,
    "pii": client.options["send_default_pii"],
    "release": client.options["release"],
    "message": event["exception"]["values"][0]["value"],
}))
"""
    result = json.loads(run_python(code))
    assert result == {
        "on": True,
        "pii": False,
        "release": "abc123",
        "message": f"budget {FILTERED} for {FILTERED}",
    }


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("newest", "start", "now", "hours"),
    [
        # The newest day ends at midnight: a run at 00:00 the day after is on time.
        (date(2026, 11, 19), date(2026, 11, 17), at(2026, 11, 20), 0),
        (date(2026, 11, 30), date(2026, 11, 28), at(2026, 12, 1, 6), 6),  # 30-day month
        (date(2027, 12, 31), date(2027, 12, 29), at(2028, 1, 1, 2), 2),  # new year
        (date(2028, 2, 29), date(2028, 2, 27), at(2028, 3, 1, 1), 1),  # leap day
        (date(2028, 2, 28), date(2028, 2, 27), at(2028, 3, 2), 48),  # two days behind
        # No lines at all: as old as the day before the window.
        (None, date(2026, 11, 17), at(2026, 11, 20), 72),
    ],
)
def test_the_ingest_lag_runs_from_the_end_of_the_newest_day_with_costs(
    newest: date | None, start: date, now: datetime, hours: int
) -> None:
    from ingest.handler import lag_seconds

    result = IngestResult(days=[start], newest_day=newest)
    assert lag_seconds(result, window_start=start, now=now) == hours * 3600
