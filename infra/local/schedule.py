"""The daily schedule, locally: EventBridge Scheduler never fires in moto, so the local stack
runs its own 00:00 UTC job, the same handler with the same scheduled event.

It follows the one clock (``tally.clock``). With a pinned business date (``make run
TODAY=...``) the date never turns over, so there is no new day to fetch: ``make run`` does not
start the schedule then, and ``make ingest`` re-runs the window by hand.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from tally.clock import Clock, utc_now

log = logging.getLogger("tally.local")


def seconds_until_midnight(now: datetime) -> float:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (tomorrow - now).total_seconds()


class DailySchedule:
    """Calls ``job`` at every 00:00 UTC until ``stop``; a failing run is logged, not fatal,
    like a scheduler that retries tomorrow."""

    def __init__(self, job: Callable[[], object], *, clock: Clock = utc_now) -> None:
        self._job = job
        self._clock = clock
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tally-daily-schedule", daemon=True)

    def start(self) -> DailySchedule:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()

    def _loop(self) -> None:
        while not self._stopping.wait(seconds_until_midnight(self._clock())):
            try:
                log.info("daily schedule: running the ingest job")
                self._job()
            except Exception:
                log.exception("daily schedule: the ingest job failed")


def scheduled_event(now: datetime) -> dict[str, str]:
    """The event EventBridge Scheduler would send for the run at ``now``: its time decides
    the window, and its id makes each day's run one delivery for the idempotency record."""
    day = now.date().isoformat()
    return {
        "source": "tally.local.schedule",
        "scheduledTime": now.replace(microsecond=0).isoformat(),
        "executionId": f"local-schedule-{day}",
    }


def scheduled_ingest(clock: Clock = utc_now) -> object:
    """What the schedule runs: refresh the demo export and metrics to yesterday, then the
    ingest handler with a scheduled event (the restatement window)."""
    import os

    from infra.local.aws import LocalAws
    from infra.local.demo import current_demo, publish_demo_metrics, write_demo_export

    now = clock()
    demo = current_demo()
    if demo is not None:
        aws = LocalAws.from_env(os.environ)
        write_demo_export(aws, demo.resources, today=now.date())
        # Yesterday's metrics too, so a stack left running keeps its idle instance idle (the
        # recommendations judge the 14 days before today).
        publish_demo_metrics(aws.client("cloudwatch"), demo.metric_ids, today=now.date(), days=1)
    from ingest.handler import lambda_handler

    return lambda_handler(scheduled_event(now), _ScheduleContext())


class _ScheduleContext:
    function_name = "tally-local-ingest"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tally-local-ingest"
    aws_request_id = "local-schedule"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000
