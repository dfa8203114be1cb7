"""The alert evaluation end to end on in-memory stores and channels: each (user, period,
level) tells each person exactly once, through every channel, whatever fails or runs twice.
The edge cases of issue 11's acceptance, each with explicit dates."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

from tally.alerts.evaluate import ADMIN_LEVEL, AlertEvaluation, RunReport
from tally.identity import Role
from tally.models import DigestCadence, EmailSuppression, LedgerState
from tests.unit.alert_world import API, DASHBOARD, World, at

NOV = "2026-11"
NOV20 = date(2026, 11, 20)
NOV21 = date(2026, 11, 21)
THRESHOLD_85 = "You have used 85% of your November AWS budget"


def crossing(world: World, user: str = "u-alice", spent: str = "85", limit: str = "100") -> None:
    world.user(user)
    world.budget(user, limit)
    world.spend(user, date(2026, 11, 18), spent)


def states(world: World, user: str = "u-alice", period: str = NOV) -> dict[str, str]:
    return {e.level: e.state.value for e in world.stores.alert_ledger.entries(user, period)}


class TestOnce:
    def test_threshold_tells_the_user_once_on_every_channel(self) -> None:
        world = World()
        world.user("u-alice", webhook="https://hooks.example.com/alice")
        world.budget("u-alice", "100")
        world.spend("u-alice", date(2026, 11, 18), "85")

        report = world.run(NOV20)

        (email,) = [e for _, e in world.email.sent]
        assert email.to == "u-alice@example.com"
        assert email.rendered.subject == THRESHOLD_85
        assert email.tags == {
            "userId": "u-alice",
            "kind": "threshold",
            "period": NOV,
            "runId": "run-2026-11-20",
        }
        assert "$85.00" in email.rendered.text and "$100.00" in email.rendered.text
        assert "i-0abc" in email.rendered.text  # the top driver
        assert f"{DASHBOARD}#/budget" in email.rendered.text
        assert f"{DASHBOARD}#/settings" in email.rendered.text
        assert "List-Unsubscribe" not in email.rendered.headers  # alerts are not a list
        assert world.notes("u-alice") == [("2026-11_threshold_100_80", "threshold", THRESHOLD_85)]
        ((url, chat),) = world.webhooks.posted
        assert url == "https://hooks.example.com/alice"
        assert (chat.title, chat.level, chat.link) == (
            THRESHOLD_85,
            "threshold",
            f"{DASHBOARD}#/budget",
        )
        assert states(world) == {"threshold": "sent"}
        (entry,) = world.stores.alert_ledger.entries("u-alice", NOV)
        assert entry.message_id == world.email.sent[0][0]
        assert (report.users, report.emails_sent, report.notifications) == (1, 1, 1)
        assert report.webhooks_sent == 1

        # The same days ingested again, and again the next day: nothing new.
        assert world.run(NOV20, run_id="again") == RunReport(users=1)
        world.run(NOV21)
        assert len(world.email.sent) == 1 and len(world.notes("u-alice")) == 1
        assert len(world.webhooks.posted) == 1

    def test_dipping_under_and_back_over_does_not_alert_again(self) -> None:
        world = World()
        crossing(world)
        world.run(NOV20)
        world.spend("u-alice", date(2026, 11, 19), "-10")  # a credit
        world.run(NOV20, run_id="r2")
        world.spend("u-alice", date(2026, 11, 20), "12")
        world.run(NOV21)
        assert world.subjects() == [THRESHOLD_85]

    def test_no_costs_at_all_sends_nothing(self) -> None:
        world = World()
        world.user("u-alice", digest=DigestCadence.DAILY)
        world.budget("u-alice", "0")
        report = world.run(NOV20)
        assert world.email.sent == [] and world.notes("u-alice") == []
        assert world.stores.alert_ledger.entries("u-alice", NOV) == []
        assert report.emails_sent == 0 and world.topic.published == []

    def test_each_user_gets_only_their_own(self) -> None:
        world = World()
        crossing(world, "u-alice")
        crossing(world, "u-bob", spent="120")
        world.user("u-carol")
        world.budget("u-carol", "100")
        world.spend("u-carol", date(2026, 11, 18), "10")
        world.run(NOV20)
        assert world.subjects("u-alice@example.com") == [THRESHOLD_85]
        # Both lines crossed in one run: the over-budget alert alone says so.
        assert world.subjects("u-bob@example.com") == ["You are over your November AWS budget"]
        assert world.subjects("u-carol@example.com") == []
        assert [n[1] for n in world.notes("u-bob")] == ["exceeded"]
        assert states(world, "u-bob") == {
            "threshold": "sent",
            "exceeded": "sent",
            ADMIN_LEVEL: "sent",
        }
        assert world.notes("u-carol") == []

    def test_threshold_then_over_on_later_runs_sends_both(self) -> None:
        world = World()
        crossing(world)
        world.run(NOV20)
        world.spend("u-alice", date(2026, 11, 20), "20")  # 105 of 100
        world.run(NOV21)
        assert world.subjects() == [THRESHOLD_85, "You are over your November AWS budget"]
        assert [n[1] for n in world.notes("u-alice")] == ["exceeded", "threshold"]

    def test_the_last_month_is_news_only_in_the_first_days_of_this_one(self) -> None:
        world = World()
        crossing(world)
        world.run(date(2026, 12, 4), months=[NOV])
        assert world.email.sent == [] and states(world) == {}
        world.run(date(2026, 12, 3), months=[NOV])
        assert world.subjects() == [THRESHOLD_85]


class TestBudgets:
    def test_a_zero_budget_alerts_on_any_spend(self) -> None:
        world = World()
        crossing(world, spent="0.01", limit="0")
        world.run(NOV20)
        assert world.subjects() == ["You are over your November AWS budget"]
        assert len(world.topic.published) == 1

    def test_a_budget_created_after_the_threshold_was_crossed_alerts_on_the_next_run(
        self,
    ) -> None:
        world = World()
        world.user("u-alice")
        world.spend("u-alice", date(2026, 11, 10), "90")
        world.run(NOV20)
        assert world.email.sent == []
        world.budget("u-alice", "100")
        world.run(NOV21)
        assert world.subjects() == ["You have used 90% of your November AWS budget"]

    def test_a_budget_lowered_then_raised_mid_month(self) -> None:
        world = World()
        crossing(world, spent="500", limit="1000")
        world.run(NOV20)
        assert world.email.sent == []

        world.budget("u-alice", "400")  # lowered: both lines crossed at once
        world.run(NOV20, run_id="lowered")
        assert world.subjects() == ["You are over your November AWS budget"]
        assert states(world) == {"threshold": "sent", "exceeded": "sent", ADMIN_LEVEL: "sent"}

        world.budget("u-alice", "2000")  # raised above the spend: every level re-armed
        world.run(NOV20, run_id="raised")
        assert states(world) == {}
        assert len(world.email.sent) == 1

        world.spend("u-alice", date(2026, 11, 19), "1200")  # 1700 of 2000: 85% again
        world.run(NOV21)
        assert world.subjects()[-1] == THRESHOLD_85
        # A new in-app notification: the level fired again under new terms.
        assert [n[0] for n in world.notes("u-alice") if n[1] == "threshold"] == [
            "2026-11_threshold_2000_80",
        ]

    def test_a_new_month_rearms_every_level(self) -> None:
        world = World()
        crossing(world, spent="120")
        world.run(NOV20)
        assert len(world.email.sent) == 1
        world.spend("u-alice", date(2026, 12, 2), "90")
        world.run(date(2026, 12, 4))
        assert world.subjects()[1:] == ["You have used 90% of your December AWS budget"]
        assert states(world, period="2026-12") == {"threshold": "sent"}

    def test_the_first_day_of_a_month_sends_nothing(self) -> None:
        world = World()
        world.user("u-alice", digest=DigestCadence.DAILY)
        world.budget("u-alice", "100")
        world.spend("u-alice", date(2026, 11, 29), "85")
        world.run(date(2026, 11, 30))
        sent = len(world.email.sent)
        assert sent == 2  # the threshold and the digest of the 29th
        # 1 December: no December figures, nothing spent on the 30th: no alert, no digest.
        report = world.run(date(2026, 12, 1))
        assert len(world.email.sent) == sent and report.digests == 0
        assert world.stores.alert_ledger.entries("u-alice", "2026-12") == []
        assert world.stores.alert_ledger.entries("u-alice", "2026-11-30") == []

    def test_only_this_month_and_the_last_are_judged(self) -> None:
        world = World()
        crossing(world)
        world.spend("u-alice", date(2026, 9, 10), "500")
        world.run(NOV20, months=["2026-09", "2026-10", NOV])
        assert world.subjects() == [THRESHOLD_85]
        assert world.stores.alert_ledger.entries("u-alice", "2026-09") == []


class TestPreferences:
    def test_email_alerts_off_tells_in_app_only_and_once(self) -> None:
        world = World()
        world.user("u-alice", email_alerts=False, webhook="https://hooks.example.com/a")
        world.budget("u-alice", "100")
        world.spend("u-alice", date(2026, 11, 18), "85")
        world.run(NOV20)
        world.run(NOV21)
        assert world.email.sent == []
        assert [n[1] for n in world.notes("u-alice")] == ["threshold"]
        assert len(world.webhooks.posted) == 1
        (entry,) = world.stores.alert_ledger.entries("u-alice", NOV)
        assert entry.state is LedgerState.SENT and entry.message_id is None

    def test_a_suppressed_address_gets_no_email_until_it_changes(self) -> None:
        world = World()
        crossing(world)
        world.stores.preferences.set_suppression(
            "u-alice",
            EmailSuppression("U-Alice@example.com", "bounce", at(NOV20)),
            at=at(NOV20),
        )
        report = world.run(NOV20)
        assert world.email.sent == [] and report.suppressed == 1
        assert [n[1] for n in world.notes("u-alice")] == ["threshold"]

    def test_a_user_without_an_address_is_told_in_app(self) -> None:
        world = World()
        world.user("u-alice", email=None)
        world.budget("u-alice", "100")
        world.spend("u-alice", date(2026, 11, 18), "85")
        report = world.run(NOV20)
        assert world.email.sent == [] and report.suppressed == 0
        assert states(world) == {"threshold": "sent"}

    def test_a_failing_webhook_never_stops_the_email(self) -> None:
        world = World()
        world.user("u-alice", webhook="https://hooks.example.com/broken")
        world.webhooks.refused.add("https://hooks.example.com/broken")
        world.budget("u-alice", "100")
        world.spend("u-alice", date(2026, 11, 18), "85")
        report = world.run(NOV20)
        assert world.subjects() == [THRESHOLD_85]
        assert (report.webhooks_sent, report.webhooks_failed) == (0, 1)


class TestFaults:
    def test_ses_failing_for_one_message_retries_only_that_one(self) -> None:
        world = World()
        crossing(world, "u-alice")
        crossing(world, "u-bob")
        world.email.fail_next("u-alice@example.com", retryable=True)

        report = world.run(NOV20)
        assert world.subjects() == [THRESHOLD_85]  # bob's
        assert (report.emails_sent, report.emails_failed) == (1, 1)
        assert states(world, "u-alice") == {"threshold": "deferred"}
        # The in-app notification did not wait for the email.
        assert [n[1] for n in world.notes("u-alice")] == ["threshold"]

        report = world.run(NOV21)
        assert [e.to for _, e in world.email.sent] == ["u-bob@example.com", "u-alice@example.com"]
        assert report.emails_sent == 1
        assert states(world, "u-alice") == {"threshold": "sent"}
        assert len(world.notes("u-alice")) == 1

    def test_a_permanent_failure_is_deferred_too(self) -> None:
        world = World()
        crossing(world)
        world.email.fail_next("u-alice@example.com", retryable=False)
        report = world.run(NOV20)
        assert report.emails_failed == 1
        (deferred,) = world.stores.alert_ledger.deferred(limit=10)
        assert deferred.level == "threshold" and "simulated failure" in deferred.reason

    def test_two_evaluations_at_once_send_one_email_each(self) -> None:
        world = World()
        for n in range(12):
            crossing(world, f"u-{n:02d}", spent="120")
        start = threading.Barrier(3)
        reports: list[RunReport] = []

        def evaluate(run_id: str) -> None:
            evaluation = world.evaluation(NOV20, run_id=run_id)
            users = evaluation.candidates([NOV])
            start.wait()
            reports.append(evaluation.run(users, [NOV]))

        threads = [threading.Thread(target=evaluate, args=(f"r{n}",)) for n in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sent = sorted((e.to, e.tags["kind"]) for _, e in world.email.sent)
        # Each user crossed both lines at once: one over-budget email each, once.
        assert len(sent) == 12 and len(set(sent)) == 12
        assert len(world.topic.published) == 12
        assert sum(r.emails_sent for r in reports) == 12

    def test_a_stale_claim_is_retried_once(self) -> None:
        world = World()
        crossing(world)
        now = at(NOV20, 12)
        ledger = world.stores.alert_ledger
        # An evaluation claimed the level 5 minutes ago and is still sending: leave it.
        ledger.claim(
            "u-alice",
            NOV,
            "threshold",
            limit=Decimal(100),
            threshold=80,
            at=now - timedelta(minutes=5),
        )
        world.run(NOV20, now=now)
        assert world.email.sent == []
        # It crashed: 20 minutes on, the claim is stale and taken over, once.
        world.run(NOV20, now=now + timedelta(minutes=15), run_id="later")
        assert world.subjects() == [THRESHOLD_85]
        assert states(world) == {"threshold": "sent"}

    def test_a_claim_that_crashed_twice_is_not_sent_a_third_time(self) -> None:
        world = World()
        crossing(world)
        now = at(NOV20, 12)
        for minutes in (60, 40):
            world.stores.alert_ledger.claim(
                "u-alice",
                NOV,
                "threshold",
                limit=Decimal(100),
                threshold=80,
                at=now - timedelta(minutes=minutes),
                stale_before=now - timedelta(minutes=45),
            )
        (entry,) = world.stores.alert_ledger.entries("u-alice", NOV)
        assert entry.attempts == 2
        world.run(NOV20, now=now)
        assert world.email.sent == []


class TestCap:
    def test_what_the_cap_defers_goes_next_run_oldest_first(self) -> None:
        world = World()
        for user in ("u-carol", "u-alice", "u-bob"):
            crossing(world, user)
        report = world.run(NOV20, cap=1, run_id="run-1")
        assert (report.emails_sent, report.emails_deferred) == (1, 2)
        # Users are evaluated in id order: alice went, bob then carol were deferred.
        assert [e.to for _, e in world.email.sent] == ["u-alice@example.com"]
        assert [d.user_id for d in world.stores.alert_ledger.deferred(limit=10)] == [
            "u-bob",
            "u-carol",
        ]
        # In-app notifications are not capped.
        assert all(world.notes(u) for u in ("u-alice", "u-bob", "u-carol"))

        report = world.run(NOV21, cap=1, run_id="run-2")
        assert [e.to for _, e in world.email.sent][1:] == ["u-bob@example.com"]
        assert (report.emails_sent, report.emails_deferred) == (1, 0)
        world.run(date(2026, 11, 22), cap=1, run_id="run-3")
        assert [e.to for _, e in world.email.sent][2:] == ["u-carol@example.com"]
        assert world.stores.alert_ledger.deferred(limit=10) == []

    def test_the_cap_is_per_run_across_invocations(self) -> None:
        world = World()
        for user in ("u-alice", "u-bob", "u-carol"):
            crossing(world, user)
        # A fanned-out run: one invocation per user, all counting against run "evt-1".
        for user in ("u-alice", "u-bob", "u-carol"):
            world.evaluation(NOV20, run_id="evt-1", cap=2).evaluate_user(user, [NOV])
        assert len(world.email.sent) == 2
        assert [d.user_id for d in world.stores.alert_ledger.deferred(limit=10)] == ["u-carol"]

    def test_the_drain_releases_what_is_no_longer_due(self) -> None:
        world = World()
        crossing(world)
        world.run(NOV20, cap=0)
        assert states(world) == {"threshold": "deferred"}
        world.budget("u-alice", "500")  # raised: 85 of 500 is no news
        report = world.evaluation(NOV21).drain_deferred()
        assert report.emails_sent == 0 and states(world) == {}

    def test_the_drain_resends_with_the_figures_of_now(self) -> None:
        world = World()
        crossing(world)
        world.run(NOV20, cap=0)
        world.spend("u-alice", date(2026, 11, 19), "5")
        world.evaluation(NOV21).drain_deferred()
        assert world.subjects() == ["You have used 90% of your November AWS budget"]

    def test_a_message_failing_for_two_days_is_given_up(self) -> None:
        world = World()
        crossing(world)
        world.email.failing.add("u-alice@example.com")
        world.run(NOV20)
        report = world.evaluation(date(2026, 11, 22)).drain_deferred()  # 47 hours on
        assert (report.emails_failed, report.given_up) == (1, 0)
        (deferred,) = world.stores.alert_ledger.deferred(limit=10)
        assert deferred.due_at < at(NOV20) + timedelta(minutes=1)  # its place in the queue kept
        report = world.evaluation(
            date(2026, 11, 22), now=at(NOV20, 2) + timedelta(days=2)
        ).drain_deferred()
        assert (report.emails_failed, report.given_up) == (0, 1)
        assert states(world) == {"threshold": "sent"} and world.email.sent == []
        assert world.stores.alert_ledger.deferred(limit=10) == []


class TestAdmins:
    def test_exceeded_goes_to_the_topic_and_every_admin(self) -> None:
        world = World()
        world.user("u-root", role=Role.ADMIN, webhook="https://hooks.example.com/root")
        world.user("u-ops", role=Role.ADMIN)
        crossing(world, "u-alice", spent="130")

        report = world.run(NOV20)

        (published,) = world.topic.published
        assert published.attributes == {"level": "exceeded", "userId": "u-alice", "period": NOV}
        assert published.subject == "Alice is over their November 2026 AWS budget"
        assert "$130.00 of a $100.00 budget" in published.message
        assert "u-alice" in published.message
        for admin in ("u-root", "u-ops"):
            assert world.notes(admin) == [
                (
                    "admin_u-alice_2026-11_exceeded_100",
                    "admin-exceeded",
                    "Alice is over their November 2026 AWS budget",
                )
            ]
        assert [url for url, _ in world.webhooks.posted] == ["https://hooks.example.com/root"]
        assert report.admin_messages == 1
        world.run(NOV21)
        assert len(world.topic.published) == 1 and len(world.notes("u-ops")) == 1

    def test_a_failed_publish_is_retried_alone(self) -> None:
        world = World()
        world.user("u-root", role=Role.ADMIN)
        crossing(world, spent="130")
        world.topic.fail_next()
        report = world.run(NOV20)
        assert report.admin_failed == 1 and world.topic.published == []
        assert states(world)[ADMIN_LEVEL] == "deferred"
        world.run(NOV21)
        assert len(world.topic.published) == 1
        assert len(world.email.sent) == 1 and len(world.notes("u-root")) == 1
        assert states(world)[ADMIN_LEVEL] == "sent"

    def test_threshold_alone_does_not_bother_admins(self) -> None:
        world = World()
        world.user("u-root", role=Role.ADMIN)
        crossing(world)
        world.run(NOV20)
        assert world.topic.published == [] and world.notes("u-root") == []


class TestRestatements:
    @staticmethod
    def restated(world: World, *changes: tuple[str, str, str]) -> None:
        world.roll_up(
            "u-alice",
            "2026-10",
            restatements=[
                {"at": when, "month": "2026-10", "currency": "USD", "old": old, "new": new}
                for when, old, new in changes
            ],
        )

    def test_a_restated_month_is_told_once(self) -> None:
        world = World()
        world.user("u-alice", webhook="https://hooks.example.com/a")
        world.spend("u-alice", date(2026, 10, 5), "1187.90")
        self.restated(
            world,
            ("2026-11-03T00:00:00+00:00", "1204.33", "1190.00"),
            ("2026-11-04T00:00:00+00:00", "1190.00", "1187.90"),
        )
        report = world.run(date(2026, 11, 5), months=["2026-10", NOV])
        assert world.subjects() == ["October changed: $1,204.33 -> $1,187.90"]
        assert report.restatements == 1
        assert [n[1] for n in world.notes("u-alice")] == ["restatement"]
        assert world.webhooks.posted[0][1].title == "October changed: $1,204.33 -> $1,187.90"
        assert set(states(world, period="2026-10").values()) == {"sent"}
        world.run(date(2026, 11, 6), months=["2026-10", NOV])
        assert len(world.email.sent) == 1

    def test_a_deferred_notice_comes_back_whole(self) -> None:
        world = World()
        world.user("u-alice")
        world.spend("u-alice", date(2026, 10, 5), "100")
        self.restated(
            world,
            ("2026-11-03T00:00:00+00:00", "100.00", "110.00"),
            ("2026-11-04T00:00:00+00:00", "110.00", "120.00"),
        )
        world.email.fail_next("u-alice@example.com")
        world.run(date(2026, 11, 5), months=["2026-10"])
        assert world.email.sent == []
        world.evaluation(date(2026, 11, 5), run_id="drain").drain_deferred()
        assert world.subjects() == ["October changed: $100.00 -> $120.00"]
        assert len(world.notes("u-alice")) == 1

    def test_a_new_change_after_the_notice_tells_only_the_change(self) -> None:
        world = World()
        world.user("u-alice")
        world.spend("u-alice", date(2026, 10, 5), "100")
        first = ("2026-11-03T00:00:00+00:00", "100.00", "110.00")
        self.restated(world, first)
        world.run(date(2026, 11, 5), months=["2026-10"])
        self.restated(world, first, ("2026-11-09T00:00:00+00:00", "110.00", "90.00"))
        world.run(date(2026, 11, 10), months=["2026-10"])
        assert world.subjects() == [
            "October changed: $100.00 -> $110.00",
            "October changed: $110.00 -> $90.00",
        ]


class TestDigests:
    def test_a_daily_digest_with_its_unsubscribe_header(self) -> None:
        world = World()
        world.user("u-alice", digest=DigestCadence.DAILY)
        world.budget("u-alice", "1000")
        world.spend("u-alice", date(2026, 11, 18), "30")
        world.spend("u-alice", date(2026, 11, 19), "42.10")

        report = world.run(NOV20)

        (email,) = [e for _, e in world.email.sent]
        assert email.rendered.subject == (
            "Tally daily: $42.10 on Thu 19 Nov, $72.10 of $1,000.00 in November 2026"
        )
        assert email.tags == {
            "userId": "u-alice",
            "kind": "digest",
            "period": "2026-11-19",
            "runId": "run-2026-11-20",
        }
        header = email.rendered.headers["List-Unsubscribe"]
        assert header.startswith(f"<{API}/unsubscribe?token=") and header.endswith(">")
        token = header[len(f"<{API}/unsubscribe?token=") : -1]
        assert world.channels.unsubscribe.verify(token, now=at(NOV20)) == "u-alice"
        assert email.rendered.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert report.digests == 1
        world.run(NOV20, run_id="again")
        assert len(world.email.sent) == 1

    def test_a_weekly_digest_on_mondays_only(self) -> None:
        world = World()
        world.user("u-alice", digest=DigestCadence.WEEKLY)
        world.budget("u-alice", "1000")
        for n in range(7):
            world.spend("u-alice", date(2026, 11, 16) + timedelta(days=n), "10")
        world.run(date(2026, 11, 22))  # Sunday
        assert world.email.sent == []
        world.run(date(2026, 11, 23))  # Monday
        (email,) = [e for _, e in world.email.sent]
        assert email.rendered.subject == (
            "Tally weekly: $70.00 last week, $70.00 of $1,000.00 in November 2026"
        )
        assert email.tags["period"] == "2026-W47"
        assert "List-Unsubscribe" in email.rendered.headers
        world.run(date(2026, 11, 24))
        assert len(world.email.sent) == 1

    def test_no_digest_full_of_zeros_nor_without_a_budget(self) -> None:
        world = World()
        world.user("u-alice", digest=DigestCadence.DAILY)
        world.budget("u-alice", "1000")
        world.spend("u-alice", date(2026, 11, 10), "30")  # not yesterday
        world.user("u-bob", digest=DigestCadence.DAILY)
        world.spend("u-bob", date(2026, 11, 19), "30")  # no budget
        assert world.run(NOV20).digests == 0 and world.email.sent == []

    def test_an_unsubscribed_user_gets_no_deferred_digest(self) -> None:
        world = World()
        world.user("u-alice", digest=DigestCadence.DAILY)
        world.budget("u-alice", "1000")
        world.spend("u-alice", date(2026, 11, 19), "30")
        world.run(NOV20, cap=0)
        assert states(world, period="2026-11-19") == {"digest": "deferred"}
        world.user("u-alice", digest=DigestCadence.OFF)
        world.evaluation(NOV21).drain_deferred()
        assert world.email.sent == [] and states(world, period="2026-11-19") == {}

    def test_digest_subscribers_are_candidates_without_new_figures(self) -> None:
        world = World()
        world.user("u-alice", digest=DigestCadence.DAILY)
        world.user("u-bob", digest=DigestCadence.WEEKLY)
        world.user("u-carol")
        evaluation = world.evaluation(NOV20)  # a Friday
        assert evaluation.candidates([]) == ["u-alice"]
        assert world.evaluation(date(2026, 11, 23)).candidates([]) == ["u-alice", "u-bob"]


class TestCalendarEdges:
    def test_new_year(self) -> None:
        world = World()
        world.user("u-alice", digest=DigestCadence.DAILY)
        world.budget("u-alice", "100", since="2026-12")
        world.spend("u-alice", date(2026, 12, 31), "85")
        world.run(date(2027, 1, 1))
        assert world.subjects() == [
            "You have used 85% of your December AWS budget",
            "Tally daily: $85.00 on Thu 31 Dec, $85.00 of $100.00 in December 2026",
        ]
        assert states(world, period="2026-12") == {"threshold": "sent"}
        assert states(world, period="2026-12-31") == {"digest": "sent"}

    def test_the_week_across_new_year(self) -> None:
        world = World()
        world.user("u-alice", digest=DigestCadence.WEEKLY)
        world.budget("u-alice", "100", since="2026-12")
        world.spend("u-alice", date(2026, 12, 30), "20")
        world.spend("u-alice", date(2027, 1, 2), "5")
        world.run(date(2027, 1, 4))  # Monday: 28 Dec 2026 to 3 Jan 2027, ISO week 53
        (email,) = [e for _, e in world.email.sent]
        assert email.tags["period"] == "2026-W53"
        # The month to date is the month of the week's last day.
        assert email.rendered.subject == (
            "Tally weekly: $25.00 last week, $5.00 of $100.00 in January 2027"
        )

    def test_leap_day(self) -> None:
        world = World()
        world.user("u-alice", digest=DigestCadence.DAILY)
        world.budget("u-alice", "100", since="2028-02")
        world.spend("u-alice", date(2028, 2, 29), "101")
        world.run(date(2028, 3, 1))
        assert world.subjects() == [
            "You are over your February AWS budget",
            "Tally daily: $101.00 on Tue 29 Feb, $101.00 of $100.00 in February 2028",
        ]
        text = " ".join(world.email.sent[0][1].rendered.text.split())
        assert "It is the last day" not in text and "February 2028 is over." in text
        assert world.notes("u-alice")[0][2] == "You are over your February AWS budget"

    def test_the_last_day_of_a_30_day_month(self) -> None:
        world = World()
        crossing(world)
        report = world.run(date(2026, 11, 30))
        assert report.emails_sent == 1
        text = " ".join(world.email.sent[0][1].rendered.text.split())
        assert "budget for November 2026, with 1 day left in the month" in text


def test_an_unknown_user_is_skipped() -> None:
    world = World()
    world.spend("u-ghost", date(2026, 11, 18), "85")
    evaluation: AlertEvaluation = world.evaluation(NOV20)
    assert evaluation.candidates([NOV]) == ["u-ghost"]
    assert evaluation.evaluate_user("u-ghost", [NOV]) == RunReport(users=1)


class TestBudgetCurrency:
    def test_a_gbp_budget_on_usd_costs_alerts_in_gbp(self) -> None:
        from tally.rates import ECB, Rate

        # Given a GBP budget of 100, 100 USD spent on the 18th, and that day's ECB rates
        # (1 EUR = 1.00 USD = 0.85 GBP): 85 GBP spent.
        world = World()
        world.user("u-alice")
        world.budget("u-alice", "100", currency="GBP")
        world.spend("u-alice", date(2026, 11, 18), "100")
        world.stores.rates.put_many(
            [
                Rate(date(2026, 11, 18), "EUR", "USD", Decimal("1.00"), ECB),
                Rate(date(2026, 11, 18), "EUR", "GBP", Decimal("0.85"), ECB),
            ]
        )
        # When the alerts run, then the threshold alert is in GBP.
        world.run(NOV20)
        (email,) = [e for _, e in world.email.sent]
        assert email.rendered.subject == THRESHOLD_85
        assert "You have spent 85.00 GBP of your 100.00 GBP budget" in email.rendered.text
        assert "USD" not in email.rendered.text and "$" not in email.rendered.text

    def test_without_a_rate_a_gbp_budget_on_usd_costs_stays_quiet(self) -> None:
        world = World()
        world.user("u-alice")
        world.budget("u-alice", "100", currency="GBP")
        world.spend("u-alice", date(2026, 11, 18), "100")
        world.run(NOV20)
        assert world.email.sent == []
