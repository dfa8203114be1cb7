"""Anomalies in the alerts evaluation: found after the user's budget levels, stored once per
episode and told once through the alerts' channels (in-app always, email per preference),
whatever re-runs, crashes and failed sends happen."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tally.anomalies.detect import detect, history_start
from tally.anomalies.episodes import record_findings
from tally.anomalies.model import AnomalyRules, AnomalyStatus
from tally.models import LedgerState
from tests.unit.alert_world import World, at

TODAY = date(2026, 11, 20)
SPIKE = date(2026, 11, 16)  # a Monday
RULES = AnomalyRules()


def steady_with_a_spike(world: World, user_id: str = "u-ada", *, spike_days: int = 1) -> None:
    world.user(user_id)
    for n in range(70, 0, -1):
        day = TODAY - timedelta(days=n)
        extra = 120 if SPIKE <= day < SPIKE + timedelta(days=spike_days) else 0
        amount = 40 + (n * 7) % 5 + extra  # a little variation, no randomness
        world.spend(user_id, day, f"{amount}.00")


def run(world: World, today: date = TODAY, *, anomalies: AnomalyRules | None = RULES) -> None:
    world.evaluation(today, anomalies=anomalies).run(["u-ada"], [])


def anomaly_notes(world: World) -> list[tuple[str, str, str]]:
    return [n for n in world.notes("u-ada") if n[1] == "anomaly"]


def test_a_new_anomaly_is_stored_and_told_once_in_app_and_by_email() -> None:
    world = World()
    steady_with_a_spike(world)
    run(world)
    stored = world.stores.anomalies.since("u-ada", SPIKE - timedelta(days=30))
    assert [(a.day, a.status, a.resource_id) for a in stored] == [
        (SPIKE, AnomalyStatus.OPEN, "i-0abc")
    ]
    notes = anomaly_notes(world)
    assert len(notes) == 1 and notes[0][2].startswith("Unusual spend on Amazon Elastic")
    emails = world.email.to("u-ada@example.com")
    assert [e.rendered.subject for e in emails] == [notes[0][2]]
    assert "#/anomalies" in emails[0].rendered.text
    # The same day again, and the next days: nothing new, nothing told again.
    for later in (TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=2)):
        run(world, later)
    assert len(world.stores.anomalies.since("u-ada", SPIKE - timedelta(days=30))) == 1
    assert len(anomaly_notes(world)) == 1
    assert len(world.email.to("u-ada@example.com")) == 1


def test_consecutive_days_of_one_cause_are_one_episode() -> None:
    world = World()
    steady_with_a_spike(world, spike_days=2)
    run(world)
    (episode,) = world.stores.anomalies.since("u-ada", SPIKE - timedelta(days=30))
    assert (episode.day, episode.last_day) == (SPIKE, SPIKE + timedelta(days=1))
    assert episode.impact > 200
    assert len(anomaly_notes(world)) == 1


def test_the_second_day_found_by_a_later_run_extends_the_episode_untold() -> None:
    world = World()
    steady_with_a_spike(world, spike_days=2)
    run(world, SPIKE + timedelta(days=1))  # sees the first day only
    run(world, SPIKE + timedelta(days=2))
    (episode,) = world.stores.anomalies.since("u-ada", SPIKE - timedelta(days=30))
    assert episode.last_day == SPIKE + timedelta(days=1)
    assert len(anomaly_notes(world)) == 1
    assert len(world.email.to("u-ada@example.com")) == 1


def test_without_email_alerts_it_is_told_in_app_only() -> None:
    world = World()
    steady_with_a_spike(world)
    world.user("u-ada", email_alerts=False)
    run(world)
    assert len(anomaly_notes(world)) == 1
    assert world.email.to("u-ada@example.com") == []
    (entry,) = world.stores.alert_ledger.entries("u-ada", SPIKE.isoformat())
    assert entry.state is LedgerState.SENT and entry.message_id is None


def test_an_episode_stored_by_a_run_that_crashed_before_telling_is_told_by_the_next() -> None:
    world = World()
    steady_with_a_spike(world)
    records = world.stores.costs.for_owner("u-ada", history_start(TODAY, RULES), TODAY)
    findings = detect(records, today=TODAY, rules=RULES)
    record_findings(world.stores.anomalies, "u-ada", findings, now=at(TODAY))  # then "crash"
    run(world)
    run(world)
    assert len(anomaly_notes(world)) == 1
    assert len(world.email.to("u-ada@example.com")) == 1


def test_a_failed_email_is_retried_by_the_drain_without_a_second_notification() -> None:
    world = World()
    steady_with_a_spike(world)
    world.email.fail_next("u-ada@example.com")
    run(world)
    assert world.email.to("u-ada@example.com") == []
    (entry,) = world.stores.alert_ledger.entries("u-ada", SPIKE.isoformat())
    assert entry.state is LedgerState.DEFERRED
    world.evaluation(TODAY, anomalies=RULES).drain_deferred()
    assert len(world.email.to("u-ada@example.com")) == 1
    assert len(anomaly_notes(world)) == 1


def test_a_resolved_episode_is_not_told_and_its_deferred_email_is_released() -> None:
    world = World()
    steady_with_a_spike(world)
    world.email.fail_next("u-ada@example.com")
    run(world)
    (episode,) = world.stores.anomalies.since("u-ada", SPIKE)
    world.stores.anomalies.set_status(episode.anomaly_id, AnomalyStatus.RESOLVED, at=at(TODAY))
    world.evaluation(TODAY, anomalies=RULES).drain_deferred()
    assert world.email.to("u-ada@example.com") == []
    assert world.stores.alert_ledger.entries("u-ada", SPIKE.isoformat()) == []


def test_detection_is_off_without_rules_and_small_excesses_page_no_one() -> None:
    world = World()
    steady_with_a_spike(world)
    run(world, anomalies=None)
    assert world.stores.anomalies.since("u-ada", SPIKE - timedelta(days=30)) == []
    run(world, anomalies=AnomalyRules(min_impact=Decimal("500")))
    assert world.stores.anomalies.since("u-ada", SPIKE - timedelta(days=30)) == []
    assert anomaly_notes(world) == []
