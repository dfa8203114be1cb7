"""The alert evaluation: after an ingest (or on the hourly drain) decide what each user is due
and tell them, exactly once per (user, period, level), through every channel.

The decisions are pure and live beside this module (``levels``, ``restatement``, ``digest``,
``content``, ``compose``); this one reads the stores, asks those, and drives the channels
through the alert ledger (``tally.store.alert_ledger``):

    claim -> (email: take a send slot -> render -> send) -> mark sent

A claim lost means another evaluation has it. No send slot (the run's cap) or a failed send
defers the entry: the next evaluation of the user, or the drain (oldest first), claims it
again and sends it with the figures of that moment; the other messages go on. A crash between
claim and mark leaves a claim that goes stale and is taken over once. The in-app notification,
the chat webhook and the admins' messages ride on the first claim of an alert; the retry of a
deferred email sends only the email. A user who turned email alerts off, whose address bounced
or complained, or who has no address, gets the rest, and the ledger records the level as sent
without a message id so it is not redone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from tally.alerts import compose
from tally.alerts.content import AlertMessage, alert_message, restatement_message
from tally.alerts.digest import (
    DIGEST_LEVEL,
    build_digest,
    cadence_of,
    digest_window,
    window_of,
)
from tally.alerts.levels import (
    AlertLevel,
    AlertRules,
    MonthFigures,
    SentLevel,
    covered,
    due_levels,
    month_figures,
    rearm,
)
from tally.alerts.restatement import RestatementNotice, pending_restatements
from tally.anomalies.detect import detect, history_start, judged_days
from tally.anomalies.episodes import record_findings
from tally.anomalies.model import Anomaly, AnomalyRules, AnomalyStatus
from tally.budgets import budget_for_month
from tally.calendar import month_of, previous_month
from tally.clock import Clock
from tally.email.model import EmailContent
from tally.email.render import render
from tally.errors import NotFound
from tally.identity import Role
from tally.models import (
    ORG,
    UNALLOCATED,
    Budget,
    BudgetTerms,
    DigestCadence,
    LedgerEntry,
    LedgerState,
    Metric,
    MonthlyRollup,
    Notification,
    Preferences,
    ResourceCost,
    UserProfile,
)
from tally.notify.ports import Channels, ChatMessage, OutgoingEmail, SendFailed
from tally.org.costs import GroupScope, cost_center_scope, team_months, team_scope
from tally.org.model import (
    Team,
    cost_center_of_owner,
    cost_center_owner,
    team_of_owner,
    team_owner,
)
from tally.rates import RateReader
from tally.store import Stores
from tally.store.alert_ledger import is_stale

logger = logging.getLogger(__name__)

# The admins' copy of an exceeded alert (SNS topic, their in-app notifications and webhooks):
# a ledger entry of its own, so a failed publish is retried without re-sending the user's email.
ADMIN_LEVEL = "exceeded#admins"
RESTATED = "restated#"  # restatement notices: level restated#<currency>#<at>
# Anomaly notices: period = the episode's first day (YYYY-MM-DD), level anomaly#<cause>.
ANOMALY_LEVEL = "anomaly#"
CAP_REACHED = "over this run's email cap"
# A deferred message still failing after this long is given up (recorded sent, unsent) rather
# than retried at the head of the queue for ever.
GIVE_UP_AFTER = timedelta(days=2)
# Cost Explorer settles a day's costs within about three days: until then the closed month can
# still cross a line, and saying so is news.
LATE_FIGURES_DAYS = 3
USERS_PAGE = 100
_ALERT_LEVELS = frozenset(level.value for level in AlertLevel)


def _is_group(owner: str) -> bool:
    """Whether ``owner`` is a team's or a cost center's owner id (their budgets alert their
    managers: ``evaluate_teams``), not a user's."""
    return team_of_owner(owner) is not None or cost_center_of_owner(owner) is not None


def _group_scope(owner: str, teams: Mapping[str, Team]) -> GroupScope | None:
    """The scope of a team's or a cost center's owner id among ``teams``; None when it names
    neither, or a team that is gone, or a cost center no team names any more."""
    team_id, code = team_of_owner(owner), cost_center_of_owner(owner)
    try:
        if team_id is not None:
            return team_scope(team_id, teams)
        if code is not None:
            return cost_center_scope(code, teams)
    except NotFound:
        return None
    return None


@dataclass(frozen=True)
class AlertSettings:
    rules: AlertRules = field(default_factory=AlertRules)
    metric: Metric = Metric.EFFECTIVE
    email_cap: int = 500  # per run (TALLY_ALERT_EMAIL_CAP)
    dashboard_url: str = "http://127.0.0.1:8080/"  # links in messages
    api_url: str = "http://127.0.0.1:8080/api"  # f"{api_url}/unsubscribe?token=..."
    stale_after: timedelta = timedelta(minutes=15)
    # Anomaly detection after each user's budget levels (its metric is ``metric``); None: off
    # (the alerts function always turns it on: ``AlertsSettings.alert_settings``).
    anomalies: AnomalyRules | None = None


@dataclass
class RunReport:
    """What a run did, as counts; reports merge with ``+=``."""

    users: int = 0
    emails_sent: int = 0
    emails_deferred: int = 0  # held back by the run's cap
    emails_failed: int = 0  # the send failed: deferred to a later run
    notifications: int = 0
    admin_messages: int = 0
    admin_failed: int = 0  # the admin topic refused: deferred to a later run
    webhooks_sent: int = 0
    webhooks_failed: int = 0
    digests: int = 0
    restatements: int = 0
    suppressed: int = 0  # emails not sent to an address that bounced or complained
    given_up: int = 0  # deferred messages that kept failing for GIVE_UP_AFTER
    anomalies: int = 0  # anomaly episodes found (each told once)

    def __iadd__(self, other: RunReport) -> RunReport:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class _User:
    """What one user's evaluation reads once."""

    profile: UserProfile
    preferences: Preferences
    budget: Budget | None
    rollups: dict[str, MonthlyRollup] = field(default_factory=dict)
    # Whose ledger an email is recorded in: the user's own, or (a team budget's alert to one
    # of its managers) the team's owner id.
    ledger_id: str | None = None

    @property
    def user_id(self) -> str:
        return self.profile.user_id

    @property
    def ledger_key(self) -> str:
        return self.ledger_id or self.profile.user_id

    @property
    def suppressed(self) -> bool:
        """Whether the user's address bounced or complained (and is still their address)."""
        stopped = self.preferences.email_suppressed
        return stopped is not None and stopped.covers(self.profile.email)

    @property
    def address(self) -> str | None:
        """Where email may go: None without an address or while it is suppressed."""
        return None if self.suppressed else (self.profile.email or None)


class AlertEvaluation:
    """One run's evaluation; ``run_id`` names the run whose email cap it shares."""

    def __init__(
        self,
        stores: Stores,
        channels: Channels,
        settings: AlertSettings,
        *,
        today: date,
        clock: Clock,
        run_id: str,
    ) -> None:
        self.stores = stores
        self.channels = channels
        self.settings = settings
        self.today = today
        self.clock = clock
        self.run_id = run_id
        self.links = compose.Links(settings.dashboard_url)
        self.current = month_of(today)
        self._admins: list[tuple[UserProfile, Preferences | None]] | None = None
        self._cap_reached = False

    # --- planning --------------------------------------------------------------------------

    def judged(self, months: Sequence[str]) -> list[str]:
        """Of ``months``, those whose budget levels are judged: this month, and the last one
        during the first ``LATE_FIGURES_DAYS`` days of this one, while its last days' costs
        still arrive (an "over your October budget" later than that is history, not news;
        the dashboard shows it)."""
        late = self.today.day <= LATE_FIGURES_DAYS
        return sorted(
            {m for m in months if m == self.current or (late and m == previous_month(self.current))}
        )

    def candidates(self, months: Sequence[str]) -> list[str]:
        """Users with a roll-up in a judged month of ``months``, or with a restated closed
        month there, plus the subscribers of the digests due today; sorted, unique."""
        judged = set(self.judged(months))
        users: set[str] = set()
        for month in sorted(set(months)):
            if month not in judged and month >= self.current:
                continue
            for rollup in self.stores.rollups.of_month(month):
                if month in judged or rollup.restatements:
                    users.add(rollup.owner)
        for cadence in (DigestCadence.DAILY, DigestCadence.WEEKLY):
            if digest_window(cadence, self.today) is not None:
                users.update(self.stores.preferences.subscribers(cadence))
        # A team's own resources have roll-ups too: teams are evaluated by ``evaluate_teams``.
        return sorted(u for u in users - {ORG, UNALLOCATED} if not _is_group(u))

    def run(self, user_ids: Sequence[str], months: Sequence[str]) -> RunReport:
        """Drain what earlier runs deferred (they waited longest), then evaluate each user,
        then every team with a budget."""
        report = self.drain_deferred()
        for user_id in user_ids:
            report += self.evaluate_user(user_id, months)
        report += self.evaluate_teams(months)
        return report

    # --- one user --------------------------------------------------------------------------

    def evaluate_user(self, user_id: str, months: Sequence[str]) -> RunReport:
        """Everything ``user_id`` is due after a change to ``months``: the budget levels of the
        judged months, restatement notices of closed months, and today's digest."""
        report = RunReport(users=1)
        user = self._user(user_id)
        if user is None:
            return report  # left the directory since the ingest
        judged = self.judged(months)
        closed = sorted({m for m in months if m < self.current})
        wanted = sorted(set(judged) | set(closed))
        found = self.stores.rollups.get_many_months([user_id], wanted) if wanted else {}
        user.rollups = {month: rollup for (_, month), rollup in found.items()}
        for period in judged:
            report += self._judge(user, period)
        for period in closed:
            report += self._restatements(user, period)
        window = digest_window(user.preferences.digest, self.today)
        if window is not None:
            report += self._digest(user, window.period, window.cadence)
        report += self._anomalies(user)
        return report

    def drain_deferred(self) -> RunReport:
        """Send what earlier runs deferred, the longest waiting first, until the run's cap;
        what is no longer due is released."""
        report = RunReport()
        for item in self.stores.alert_ledger.deferred(limit=max(1, self.settings.email_cap)):
            if self._cap_reached:
                break
            if _is_group(item.user_id):
                report += self._team_retry(item.user_id, item.period, item.level)
                continue
            user = self._user(item.user_id)
            if user is None:
                self.stores.alert_ledger.release(item.user_id, item.period, item.level)
                continue
            if item.due_at < self.clock() - GIVE_UP_AFTER:
                logger.error(
                    "gave up %s %s %s, deferred since %s: %s",
                    item.user_id,
                    item.period,
                    item.level,
                    item.due_at.isoformat(),
                    item.reason,
                )
                if self._claim(item.user_id, item.period, item.level, Decimal(0), 0):
                    self._mark_sent(item.user_id, item.period, item.level, None)
                    report.given_up += 1
                continue
            if item.level == DIGEST_LEVEL:
                report += self._digest(user, item.period, cadence_of(item.period))
            elif item.level.startswith(RESTATED):
                user.rollups = self._rollups(item.user_id, item.period)
                report += self._restatements(user, item.period)
            elif item.level.startswith(ANOMALY_LEVEL):
                report += self._anomaly_retry(user, item.period, item.level)
            elif item.level in _ALERT_LEVELS or item.level == ADMIN_LEVEL:
                user.rollups = self._rollups(item.user_id, item.period)
                report += self._judge(user, item.period, only=item.level)
            else:
                logger.warning("unknown deferred alert level %s: released", item.level)
                self.stores.alert_ledger.release(item.user_id, item.period, item.level)
        return report

    # --- budget levels ---------------------------------------------------------------------

    def _rates(self) -> RateReader | None:
        """The rates that convert spend into a budget's currency (``month_figures``)."""
        return getattr(self.stores, "rates", None)

    def _judge(self, user: _User, period: str, *, only: str | None = None) -> RunReport:
        """The budget levels of ``period``: re-arm what a raised budget releases, send what is
        due. ``only`` limits it to one level (the drain's retry of a deferred one)."""
        report = RunReport()
        ledger = self.stores.alert_ledger
        terms = budget_for_month(user.budget, period)
        entries = {e.level: e for e in ledger.entries(user.user_id, period)}
        if terms is None:
            waiting = entries.get(only) if only is not None else None
            if waiting is not None and waiting.state is LedgerState.DEFERRED:
                ledger.release(user.user_id, period, waiting.level)  # the budget is gone
            return report
        figures = month_figures(
            user.rollups.get(period), terms, self.settings.metric, period, self._rates()
        )
        levels = {name: e for name, e in entries.items() if name in _ALERT_LEVELS}
        released = rearm(
            [SentLevel(AlertLevel(e.level), e.limit, e.threshold) for e in levels.values()],
            figures,
            terms,
            rules=self.settings.rules,
        )
        for level in released:
            ledger.release(user.user_id, period, level)
            levels.pop(level.value)
            if level is AlertLevel.EXCEEDED:
                ledger.release(user.user_id, period, ADMIN_LEVEL)
                entries.pop(ADMIN_LEVEL, None)
        stale_before = self._stale_before()
        held = {
            AlertLevel(name)
            for name, e in levels.items()
            if e.state is LedgerState.SENT
            or (e.state is LedgerState.CLAIMED and not is_stale(e, stale_before))
        }
        due = due_levels(figures, terms, held, today=self.today, rules=self.settings.rules)
        rollup = user.rollups.get(period)
        section = rollup.section(terms.currency) if rollup is not None else None
        drivers = section.top_resources if section is not None else []
        exceeded = None
        quiet = covered(due)
        for alert in due:
            message = alert_message(
                alert, today=self.today, drivers=drivers, metric=self.settings.metric
            )
            if alert.level is AlertLevel.EXCEEDED:
                exceeded = message
            if only is not None and only != alert.level.value:
                continue
            if alert.level in quiet and levels.get(alert.level) is None:
                if self._claim(
                    user.user_id, period, alert.level.value, alert.limit, alert.threshold
                ):
                    self._mark_sent(user.user_id, period, alert.level.value, None)
                continue
            report += self._alert(user, message, alert.threshold, levels.get(alert.level))
        waiting = levels.get(only) if only is not None else None
        if (
            waiting is not None
            and waiting.state is LedgerState.DEFERRED
            and waiting.level not in {a.level.value for a in due}
        ):
            ledger.release(user.user_id, period, waiting.level)  # no longer due
        # The admins' copy: with the user's exceeded alert, or retried on its own.
        if only is None or only == ADMIN_LEVEL:
            admin_entry = entries.get(ADMIN_LEVEL)
            if exceeded is None and _waiting(admin_entry, stale_before):
                exceeded = self._exceeded_now(figures, terms, drivers)
                if exceeded is None:
                    ledger.release(user.user_id, period, ADMIN_LEVEL)
            if exceeded is not None and (
                admin_entry is None or _waiting(admin_entry, stale_before)
            ):
                report += self._tell_admins(user, exceeded, terms.alert_threshold, admin_entry)
        return report

    def _exceeded_now(
        self, figures: MonthFigures, terms: BudgetTerms, drivers: Sequence[ResourceCost]
    ) -> AlertMessage | None:
        """The exceeded alert as the figures stand, whatever the ledger says."""
        due = due_levels(figures, terms, (), today=self.today, rules=self.settings.rules)
        alert = next((a for a in due if a.level is AlertLevel.EXCEEDED), None)
        if alert is None:
            return None
        return alert_message(alert, today=self.today, drivers=drivers, metric=self.settings.metric)

    def _alert(
        self,
        user: _User,
        message: AlertMessage,
        threshold: int,
        previous: LedgerEntry | None,
    ) -> RunReport:
        report = RunReport()
        level = message.level.value
        if self._waits_for_the_cap(previous) or not self._claim(
            user.user_id, message.period, level, message.limit, threshold
        ):
            return report
        first = previous is None or previous.state is not LedgerState.DEFERRED
        if first:
            note = compose.alert_notification(
                message, user_id=user.user_id, threshold=threshold, at=self.clock()
            )
            report.notifications += self._notify(note)
        if user.preferences.email_alerts:
            content = compose.alert_email(message, to_name=user.profile.username, links=self.links)
            report += self._email(
                user, message.period, level, message.limit, threshold, content, retry=not first
            )[0]
        else:
            self._mark_sent(user.user_id, message.period, level, None)
        if first:
            report += self._webhook(
                user.user_id, user.preferences, compose.alert_chat(message, links=self.links)
            )
        return report

    def _tell_admins(
        self, user: _User, message: AlertMessage, threshold: int, previous: LedgerEntry | None
    ) -> RunReport:
        report = RunReport()
        period = message.period
        if not self._claim(user.user_id, period, ADMIN_LEVEL, message.limit, threshold):
            return report
        name = user.profile.username
        if previous is None or previous.state is not LedgerState.DEFERRED:
            chat = compose.admin_chat(message, user_name=name, links=self.links)
            for admin, preferences in self._admin_profiles():
                report.notifications += self._notify(
                    compose.admin_notification(
                        message,
                        admin_id=admin.user_id,
                        user_id=user.user_id,
                        user_name=name,
                        at=self.clock(),
                    )
                )
                if preferences is not None:
                    report += self._webhook(admin.user_id, preferences, chat)
        subject, body, attributes = compose.admin_topic_message(
            message, user_id=user.user_id, user_name=name
        )
        try:
            message_id = self.channels.admin_topic.publish(
                subject=subject, message=body, attributes=attributes
            )
        except SendFailed as error:
            logger.warning("admin topic refused %s %s: %s", user.user_id, period, error.reason)
            self._defer(user.user_id, period, ADMIN_LEVEL, message.limit, threshold, error.reason)
            report.admin_failed += 1
            return report
        self._mark_sent(user.user_id, period, ADMIN_LEVEL, message_id)
        report.admin_messages += 1
        return report

    # --- team budgets ----------------------------------------------------------------------

    def evaluate_teams(self, months: Sequence[str]) -> RunReport:
        """The budget levels of every team and every cost center with a budget, for the
        judged months of ``months``: told to each of its managers (a cost center's: the
        managers of every team naming it, each once) in-app and by email, once per (team or
        cost center, period, level, manager). The teams come from the access store's list
        (one query), the budgets from one batch read, the figures from one batch read of
        their people's and teams' roll-ups each (``tally.org.costs``): no Scan of costs."""
        report = RunReport()
        judged = self.judged(months)
        access = getattr(self.stores, "access", None)
        if not judged or access is None:
            return report
        teams = {t.team_id: t for t in access.list_teams()}
        codes = {t.cost_center for t in teams.values() if t.cost_center}
        owners = [team_owner(t) for t in sorted(teams)] + [
            cost_center_owner(c) for c in sorted(codes)
        ]
        budgets = self.stores.budgets.get_many(owners)
        for owner, budget in sorted(budgets.items()):
            scope = _group_scope(owner, teams)
            if scope is not None:
                report += self._evaluate_group(scope, budget, judged)
        return report

    def _evaluate_group(
        self,
        scope: GroupScope,
        budget: Budget,
        periods: Sequence[str],
        *,
        only: str | None = None,
    ) -> RunReport:
        figures = team_months(self.stores.rollups, scope, periods)
        managers = self._managers(scope, budget)
        report = RunReport()
        for period in periods:
            rollup = figures[period].rollup
            report += self._judge_team(scope, budget, period, rollup, managers, only)
        return report

    def _managers(self, scope: GroupScope, budget: Budget) -> list[_User]:
        """The group's managers as recipients (each with their own preferences and address),
        their emails recorded in the group's ledger."""
        ids = sorted(scope.managers)
        profiles = self.stores.users.get_many(ids) if ids else {}
        return [
            _User(
                profiles[m],
                self.stores.preferences.get(m) or Preferences(user_id=m),
                budget,
                ledger_id=scope.owner,
            )
            for m in ids
            if m in profiles
        ]

    def _judge_team(
        self,
        scope: GroupScope,
        budget: Budget,
        period: str,
        rollup: MonthlyRollup | None,
        managers: Sequence[_User],
        only: str | None,
    ) -> RunReport:
        """One period of a team's or a cost center's budget (the figures' month): as
        ``_judge`` for a user, with a ledger entry per manager (``<level>#<managerId>``, under
        the group's owner id), so a manager added later is told too and one manager's failed
        email is retried alone."""
        report = RunReport()
        ledger = self.stores.alert_ledger
        owner = scope.owner
        terms = budget_for_month(budget, period)
        entries = {e.level: e for e in ledger.entries(owner, period)}
        if terms is None:
            for level, entry in entries.items():
                if entry.state is LedgerState.DEFERRED:
                    ledger.release(owner, period, level)  # the budget is gone
            return report
        figures = month_figures(rollup, terms, self.settings.metric, period, self._rates())
        sent = {
            SentLevel(AlertLevel(base), e.limit, e.threshold)
            for level, e in entries.items()
            if (base := level.split("#", 1)[0]) in _ALERT_LEVELS
        }
        rearmed = rearm(sorted(sent, key=str), figures, terms, rules=self.settings.rules)
        released = {level.value for level in rearmed}
        for level in [x for x in entries if x.split("#", 1)[0] in released]:
            ledger.release(owner, period, level)
            entries.pop(level)
        section = rollup.section(terms.currency) if rollup is not None else None
        drivers = section.top_resources if section is not None else []
        stale_before = self._stale_before()
        still_due: set[str] = set()
        for manager in managers:
            mine = {
                AlertLevel(level.split("#", 1)[0]): e
                for level, e in entries.items()
                if level.endswith("#" + manager.user_id) and level.split("#", 1)[0] in _ALERT_LEVELS
            }
            held = {
                level
                for level, e in mine.items()
                if e.state is LedgerState.SENT
                or (e.state is LedgerState.CLAIMED and not is_stale(e, stale_before))
            }
            due = due_levels(figures, terms, held, today=self.today, rules=self.settings.rules)
            quiet = covered(due)
            for alert in due:
                level = f"{alert.level.value}#{manager.user_id}"
                still_due.add(level)
                if only is not None and only != level:
                    continue
                if alert.level in quiet and mine.get(alert.level) is None:
                    if self._claim(owner, period, level, alert.limit, alert.threshold):
                        self._mark_sent(owner, period, level, None)
                    continue
                message = alert_message(
                    alert,
                    today=self.today,
                    drivers=drivers,
                    metric=self.settings.metric,
                    team=scope.name,
                )
                report += self._team_alert(scope, manager, message, alert.threshold, mine)
        waiting = entries.get(only) if only is not None else None
        if waiting is not None and waiting.state is LedgerState.DEFERRED and only not in still_due:
            ledger.release(owner, period, waiting.level)  # no longer due, or not a manager now
        return report

    def _team_alert(
        self,
        scope: GroupScope,
        manager: _User,
        message: AlertMessage,
        threshold: int,
        mine: Mapping[AlertLevel, LedgerEntry],
    ) -> RunReport:
        report = RunReport()
        owner = manager.ledger_key
        level = f"{message.level.value}#{manager.user_id}"
        previous = mine.get(message.level)
        if self._waits_for_the_cap(previous) or not self._claim(
            owner, message.period, level, message.limit, threshold
        ):
            return report
        first = previous is None or previous.state is not LedgerState.DEFERRED
        if first:
            report.notifications += self._notify(
                compose.team_alert_notification(
                    message,
                    owner=scope.owner,
                    user_id=manager.user_id,
                    threshold=threshold,
                    at=self.clock(),
                )
            )
        if manager.preferences.email_alerts:
            content = compose.team_alert_email(
                message,
                team_name=scope.name,
                to_name=manager.profile.username,
                links=self.links,
                owner=scope.owner,
            )
            report += self._email(
                manager, message.period, level, message.limit, threshold, content, retry=not first
            )[0]
        else:
            self._mark_sent(owner, message.period, level, None)
        return report

    def _team_retry(self, owner: str, period: str, level: str) -> RunReport:
        """The drain's retry of a team's or a cost center's deferred alert email (released
        when the team or the cost center, its budget or the manager is gone)."""
        access = getattr(self.stores, "access", None)
        budget = self.stores.budgets.get_for_user(owner)
        scope = None
        if access is not None and budget is not None:
            team_id = team_of_owner(owner)
            # A team just changed may not be in the list yet: its own read is the latest.
            team = access.get_team(team_id) if team_id is not None else None
            if team_id is None or team is not None:
                teams = {t.team_id: t for t in access.list_teams()}
                if team is not None:
                    teams[team.team_id] = team
                scope = _group_scope(owner, teams)
        if budget is None or scope is None:
            self.stores.alert_ledger.release(owner, period, level)
            return RunReport()
        return self._evaluate_group(scope, budget, [period], only=level)

    # --- restatements ----------------------------------------------------------------------

    def _restatements(self, user: _User, period: str) -> RunReport:
        """Notices of the closed month ``period``'s restated totals not told yet. Several
        changes fold into one notice, claimed under its latest change's level; the others it
        covers are recorded sent once it went, so a deferred notice comes back whole."""
        report = RunReport()
        rollup = user.rollups.get(period)
        if rollup is None or not rollup.restatements:
            return report
        ledger = self.stores.alert_ledger
        stale_before = self._stale_before()
        restated = {
            e.level: e for e in ledger.entries(user.user_id, period) if e.level.startswith(RESTATED)
        }
        notified = {
            _restatement_key(period, level)
            for level, e in restated.items()
            if e.state is LedgerState.SENT
        }
        notices = pending_restatements(rollup, notified)
        pending = {_restated_level(key) for notice in notices for key in notice.keys}
        for level, entry in restated.items():
            if entry.state is LedgerState.DEFERRED and level not in pending:
                ledger.release(user.user_id, period, level)  # no notice tells it any more
        for notice in notices:
            levels = [_restated_level(key) for key in notice.keys]
            if any(
                restated.get(level) is not None
                and restated[level].state is LedgerState.CLAIMED
                and not is_stale(restated[level], stale_before)
                for level in levels
            ):
                continue  # another evaluation is telling it
            report += self._restatement(user, notice, levels, restated.get(levels[-1]))
        return report

    def _restatement(
        self,
        user: _User,
        notice: RestatementNotice,
        levels: list[str],
        previous: LedgerEntry | None,
    ) -> RunReport:
        report = RunReport()
        *covered, level = levels
        if self._waits_for_the_cap(previous) or not self._claim(
            user.user_id, notice.period, level, Decimal(0), 0
        ):
            return report
        message = restatement_message(notice)
        first = previous is None or previous.state is not LedgerState.DEFERRED
        if first:
            report.notifications += self._notify(
                compose.restatement_notification(
                    message, user_id=user.user_id, level=level, at=self.clock()
                )
            )
        sent = True
        if user.preferences.email_alerts:
            content = compose.restatement_email(
                message, to_name=user.profile.username, links=self.links
            )
            emailed, sent = self._email(
                user, notice.period, level, Decimal(0), 0, content, retry=not first
            )
            report += emailed
        else:
            self._mark_sent(user.user_id, notice.period, level, None)
        if sent:
            for other in covered:
                if self._claim(user.user_id, notice.period, other, Decimal(0), 0):
                    self._mark_sent(user.user_id, notice.period, other, None)
        if first:
            report += self._webhook(
                user.user_id, user.preferences, compose.restatement_chat(message, links=self.links)
            )
        report.restatements += 1
        return report

    # --- anomalies -------------------------------------------------------------------------

    def _anomalies(self, user: _User) -> RunReport:
        """Detect the user's anomalies over the look-back window, store each episode once,
        and tell every episode of the window the ledger has not recorded as told.

        The episode store makes detection idempotent; the ledger (claim -> send -> mark, as
        for budget alerts) makes the telling exactly-once: a crash after the episode was stored
        and before it was told leaves no ledger entry (or a stale claim), so the next run tells
        it; the in-app notification's id is the episode's, so a retry cannot add it twice."""
        report = RunReport()
        rules = self.settings.anomalies
        if rules is None:
            return report
        rules = replace(rules, metric=self.settings.metric)
        records = self.stores.costs.for_owner(
            user.user_id, history_start(self.today, rules), self.today
        )
        findings = detect(records, today=self.today, rules=rules)
        report.anomalies += len(
            record_findings(self.stores.anomalies, user.user_id, findings, now=self.clock())
        )
        window = judged_days(self.today, rules)
        episodes = [
            a
            for a in self.stores.anomalies.since(user.user_id, window[0])
            if a.status is not AnomalyStatus.RESOLVED
        ]
        stale_before = self._stale_before()
        ledgers: dict[str, dict[str, LedgerEntry]] = {}
        for anomaly in episodes:
            period = anomaly.day.isoformat()
            if period not in ledgers:
                ledgers[period] = {
                    e.level: e
                    for e in self.stores.alert_ledger.entries(user.user_id, period)
                    if e.level.startswith(ANOMALY_LEVEL)
                }
            previous = ledgers[period].get(ANOMALY_LEVEL + anomaly.cause)
            if previous is not None and not (
                previous.state is LedgerState.DEFERRED or is_stale(previous, stale_before)
            ):
                continue  # told, or being told
            report += self._tell_anomaly(user, anomaly, previous)
        return report

    def _tell_anomaly(
        self, user: _User, anomaly: Anomaly, previous: LedgerEntry | None
    ) -> RunReport:
        report = RunReport()
        period, level = anomaly.day.isoformat(), ANOMALY_LEVEL + anomaly.cause
        if self._waits_for_the_cap(previous) or not self._claim(
            user.user_id, period, level, Decimal(0), 0
        ):
            return report
        first = previous is None or previous.state is not LedgerState.DEFERRED
        if first:
            report.notifications += self._notify(
                compose.anomaly_notification(anomaly, at=self.clock())
            )
        if user.preferences.email_alerts:
            content = compose.anomaly_email(
                anomaly, to_name=user.profile.username, links=self.links
            )
            report += self._email(user, period, level, Decimal(0), 0, content, retry=not first)[0]
        else:
            self._mark_sent(user.user_id, period, level, None)
        if first:
            report += self._webhook(
                user.user_id, user.preferences, compose.anomaly_chat(anomaly, links=self.links)
            )
        return report

    def _anomaly_retry(self, user: _User, period: str, level: str) -> RunReport:
        """The drain's retry of a deferred anomaly email; released if the episode is gone
        or resolved."""
        ledger = self.stores.alert_ledger
        cause = level.removeprefix(ANOMALY_LEVEL)
        anomaly = next(
            (
                a
                for a in self.stores.anomalies.since(user.user_id, date.fromisoformat(period))
                if a.cause == cause and a.day.isoformat() == period
            ),
            None,
        )
        previous = next((e for e in ledger.entries(user.user_id, period) if e.level == level), None)
        if anomaly is None or anomaly.status is AnomalyStatus.RESOLVED:
            ledger.release(user.user_id, period, level)
            return RunReport()
        return self._tell_anomaly(user, anomaly, previous)

    # --- digests ---------------------------------------------------------------------------

    def _digest(self, user: _User, period: str, cadence: DigestCadence) -> RunReport:
        """The ``cadence`` digest of ``period`` (a day or an ISO week), if the user still
        wants it and it would not be all zeros."""
        report = RunReport()
        ledger = self.stores.alert_ledger
        previous = next(
            (e for e in ledger.entries(user.user_id, period) if e.level == DIGEST_LEVEL), None
        )
        if user.preferences.digest != cadence:
            if previous is not None and previous.state is LedgerState.DEFERRED:
                ledger.release(user.user_id, period, DIGEST_LEVEL)  # unsubscribed since
            return report
        window = window_of(cadence, period)
        terms = budget_for_month(user.budget, window.month)
        records = self.stores.costs.for_owner(user.user_id, window.first, window.end)
        rollup = self.stores.rollups.get(user.user_id, window.month)
        digest = build_digest(window, records, rollup, terms, metric=self.settings.metric)
        if digest is None or terms is None:
            if previous is not None and previous.state is LedgerState.DEFERRED:
                ledger.release(user.user_id, period, DIGEST_LEVEL)
            return report
        if self._waits_for_the_cap(previous) or not self._claim(
            user.user_id, period, DIGEST_LEVEL, terms.monthly_limit, terms.alert_threshold
        ):
            return report
        now = self.clock()
        token = self.channels.unsubscribe.sign(user.user_id, now=now)
        content = compose.digest_email(
            digest,
            to_name=user.profile.username,
            links=self.links,
            unsubscribe_url=f"{self.settings.api_url.rstrip('/')}/unsubscribe?token={token}",
        )
        retry = previous is not None and previous.state is LedgerState.DEFERRED
        emailed, _ = self._email(
            user,
            period,
            DIGEST_LEVEL,
            terms.monthly_limit,
            terms.alert_threshold,
            content,
            retry=retry,
        )
        report += emailed
        report.digests += emailed.emails_sent
        if not retry:
            report += self._webhook(
                user.user_id, user.preferences, compose.digest_chat(digest, links=self.links)
            )
        return report

    # --- channels --------------------------------------------------------------------------

    def _email(
        self,
        user: _User,
        period: str,
        level: str,
        limit: Decimal,
        threshold: int,
        content: EmailContent,
        *,
        retry: bool,
    ) -> tuple[RunReport, bool]:
        """Send the claimed entry's email within the run's cap and mark it sent (True), or
        defer it (False). Without an address to send to, it is marked sent unsent. A
        ``retry`` (of a deferred email) held back by the cap again is not counted again."""
        report = RunReport()
        ledger = self.stores.alert_ledger
        address = user.address
        if address is None:
            report.suppressed += user.suppressed
            self._mark_sent(user.ledger_key, period, level, None)
            return report, True
        if self._cap_reached or not ledger.take_send_slot(
            self.run_id, cap=self.settings.email_cap, at=self.clock()
        ):
            self._cap_reached = True
            self._defer(user.ledger_key, period, level, limit, threshold, CAP_REACHED)
            report.emails_deferred += not retry
            return report, False
        email = OutgoingEmail(
            to=address,
            rendered=render(content),
            # The run's id: SES events (bounces, deliveries) and the logs of the run meet on it.
            tags={
                "userId": user.user_id,
                "kind": str(content.kind),
                "period": period,
                "runId": self.run_id,
            },
        )
        try:
            message_id = self.channels.email.send(email)
        except SendFailed as error:
            logger.warning(
                "email to %s (%s %s) failed, retryable=%s: %s",
                user.user_id,
                period,
                level,
                error.retryable,
                error.reason,
            )
            self._defer(user.ledger_key, period, level, limit, threshold, error.reason)
            report.emails_failed += 1
            return report, False
        self._mark_sent(user.ledger_key, period, level, message_id)
        report.emails_sent += 1
        return report, True

    def _webhook(self, user_id: str, preferences: Preferences, message: ChatMessage) -> RunReport:
        """Post to the user's chat webhook, if any; a failure is counted, never raised."""
        report = RunReport()
        if preferences.webhook is None:
            return report
        try:
            url = self.channels.secrets.open(preferences.webhook.ciphertext, user_id=user_id)
            self.channels.webhooks.post(url, message)
        except Exception as error:  # a chat room's trouble (KMS, DNS, HTTP) never stops email
            logger.warning("webhook of %s failed: %s", user_id, error)
            report.webhooks_failed += 1
            return report
        report.webhooks_sent += 1
        return report

    def _notify(self, notification: Notification) -> int:
        return int(self.stores.notifications.add(notification))

    # --- ledger and reads ------------------------------------------------------------------

    def _waits_for_the_cap(self, previous: LedgerEntry | None) -> bool:
        """A deferred entry stays as it is (and keeps its place) once this run's cap is
        reached: claiming it only to defer it again would count it twice."""
        return (
            self._cap_reached and previous is not None and (previous.state is LedgerState.DEFERRED)
        )

    def _stale_before(self) -> datetime:
        return self.clock() - self.settings.stale_after

    def _claim(self, user_id: str, period: str, level: str, limit: Decimal, threshold: int) -> bool:
        return self.stores.alert_ledger.claim(
            user_id,
            period,
            level,
            limit=limit,
            threshold=threshold,
            at=self.clock(),
            stale_before=self._stale_before(),
        )

    def _mark_sent(self, user_id: str, period: str, level: str, message_id: str | None) -> None:
        try:
            self.stores.alert_ledger.mark_sent(
                user_id, period, level, message_id=message_id, at=self.clock()
            )
        except NotFound:
            # Re-armed (released) by a budget change while it was sending: it went anyway.
            logger.info("%s %s %s was released while sending", user_id, period, level)

    def _defer(
        self, user_id: str, period: str, level: str, limit: Decimal, threshold: int, reason: str
    ) -> None:
        self.stores.alert_ledger.defer(
            user_id, period, level, limit=limit, threshold=threshold, at=self.clock(), reason=reason
        )

    def _user(self, user_id: str) -> _User | None:
        profile = self.stores.users.get(user_id)
        if profile is None:
            return None
        preferences = self.stores.preferences.get(user_id) or Preferences(user_id=user_id)
        return _User(profile, preferences, self.stores.budgets.get_for_user(user_id))

    def _rollups(self, user_id: str, period: str) -> dict[str, MonthlyRollup]:
        rollup = self.stores.rollups.get(user_id, period)
        return {period: rollup} if rollup is not None else {}

    def _admin_profiles(self) -> list[tuple[UserProfile, Preferences | None]]:
        """Every admin in the directory with their preferences, read once per evaluation."""
        if self._admins is None:
            admins: list[UserProfile] = []
            start = None
            while True:
                page = self.stores.users.list(USERS_PAGE, start)
                admins += [u for u in page.items if u.role is Role.ADMIN]
                start = page.next_key
                if not start:
                    break
            self._admins = [(a, self.stores.preferences.get(a.user_id)) for a in admins]
        return self._admins


def _waiting(entry: LedgerEntry | None, stale_before: datetime) -> bool:
    """Whether an entry waits for a retry: deferred, or a claim gone stale."""
    return entry is not None and (
        entry.state is LedgerState.DEFERRED or is_stale(entry, stale_before)
    )


def _restated_level(key: str) -> str:
    """The ledger level of a restatement key (``<period>#<currency>#<at>``)."""
    return RESTATED + key.split("#", 1)[1]


def _restatement_key(period: str, level: str) -> str:
    return f"{period}#{level.removeprefix(RESTATED)}"
