"""Acceptance: the demo organisation's planted spike (alice-notebook, x6 for two days, twelve
days before the end) is reported as one anomaly with the right root cause, once, and its
steady services are not; through the real ingest of the demo's FOCUS export and the alerts
evaluation as the daily runs would do it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tally.alerts.evaluate import AlertEvaluation, AlertSettings
from tally.anomalies.detect import detect
from tally.anomalies.model import AnomalyRules
from tally.notify.memory import memory_channels
from tally.store import Stores
from tests.demo_org import ARNS, USERS, demo_export, demo_stores, ingest_export

END = date(2026, 11, 20)
DAYS = 90
SPIKE = END - timedelta(days=12)


@pytest.fixture(scope="module")
def demo() -> Stores:
    start = END - timedelta(days=DAYS)
    stores = demo_stores(since=start)
    ingest_export(stores, demo_export(end=END, days=DAYS), start, END)
    return stores


def _evaluate(stores: Stores, today: date) -> None:
    clock = datetime.combine(today, time(1), tzinfo=UTC)
    AlertEvaluation(
        stores,
        memory_channels(),
        AlertSettings(anomalies=AnomalyRules()),
        today=today,
        clock=lambda: clock,
        run_id=f"run-{today}",
    ).run(list(USERS), [])


def test_the_planted_spike_is_one_anomaly_with_its_root_cause(demo: Stores) -> None:
    # The start-up run (one ingest of 90 days), then the daily runs of the next days: the
    # look-back windows overlap, and nothing is found or told twice.
    for n in range(4):
        _evaluate(demo, END + timedelta(days=n))
    found = [a for u in USERS for a in demo.anomalies.since(u, END - timedelta(days=DAYS))]
    assert [(a.user_id, a.service, a.resource_id, a.day, a.last_day) for a in found] == [
        ("alice", "AmazonEC2", ARNS["alice-notebook"], SPIKE, SPIKE + timedelta(days=1))
    ]
    anomaly = found[0]
    assert anomaly.usage_unit == "Hrs"
    assert anomaly.impact > 50  # two days of about 5 x $5.50
    notes = [
        n
        for n in demo.notifications.list("alice", limit=100, start_key=None).items
        if n.kind == "anomaly"
    ]
    assert [(n.link, n.title) for n in notes] == [
        ("#/anomalies", f"Unusual spend on AmazonEC2: ${anomaly.impact:,.2f} above normal")
    ]


def test_over_the_whole_history_only_the_spike_days_are_anomalous(demo: Stores) -> None:
    # Every day with two weeks of history before it, as if each had been judged by its run.
    rules = AnomalyRules(lookback_days=DAYS - 14)
    start = END - timedelta(days=DAYS)
    found = {
        user: [
            (f.day, f.service, f.resource_id)
            for f in detect(demo.costs.for_owner(user, start, END), today=END, rules=rules)
        ]
        for user in USERS
    }
    spike = ("AmazonEC2", ARNS["alice-notebook"])
    assert found == {
        "alice": [(SPIKE, *spike), (SPIKE + timedelta(days=1), *spike)],
        "bob": [],
        "carol": [],
    }
