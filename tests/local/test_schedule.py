"""The local daily job: the event it sends is the one EventBridge Scheduler would send, for
the business date of the one clock."""

from __future__ import annotations

from datetime import UTC, datetime

from infra.local.schedule import scheduled_event, seconds_until_midnight
from ingest.handler import resolve_job, run_moment


def test_the_scheduled_event_carries_the_business_moment_and_one_id_per_day() -> None:
    now = datetime(2026, 12, 1, 0, 0, 3, 250, tzinfo=UTC)

    event = scheduled_event(now)

    assert run_moment(event) == now.replace(microsecond=0)
    assert event["executionId"] == "local-schedule-2026-12-01"
    assert scheduled_event(now.replace(hour=23))["executionId"] == event["executionId"]
    # The window ends yesterday, as the deployed schedule's does.
    assert str(resolve_job(event, today=run_moment(event).date()).end) == "2026-12-01"


def test_the_next_run_is_at_midnight_utc() -> None:
    assert seconds_until_midnight(datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC)) == 30
    assert seconds_until_midnight(datetime(2028, 2, 28, 0, 0, tzinfo=UTC)) == 86400
