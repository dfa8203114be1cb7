"""A small organisation for the alert evaluation's tests: in-memory stores, in-memory
channels, users, budgets and spend written as the ingest writes them (cost lines, then the
month's roll-up recomputed from them). Every date is explicit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import cast

from tally.alerts.evaluate import AlertEvaluation, AlertSettings, RunReport
from tally.calendar import month_days, month_of, previous_month
from tally.identity import Role
from tally.models import (
    AuditEntry,
    Budget,
    BudgetTerms,
    CostRecord,
    DigestCadence,
    MonthlyRollup,
    Preferences,
    StoredWebhook,
    UserProfile,
)
from tally.notify.memory import (
    MemoryAdminTopic,
    MemoryEmailSender,
    MemoryWebhookPoster,
    memory_channels,
)
from tally.rollups import compute_rollup
from tally.store import Stores, memory_stores

DASHBOARD = "https://tally.example.com/"
API = "https://api.tally.example.com/api"


def at(day: date, hour: int = 1) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def ticking(start: datetime) -> Iterator[datetime]:
    """A clock that moves a second per reading: deferrals get distinct, ordered times."""
    for n in count():
        yield start + timedelta(seconds=n)


class World:
    def __init__(self) -> None:
        self.stores: Stores = memory_stores()
        self.channels = memory_channels()
        self.records: dict[date, list[CostRecord]] = {}
        self._lines = count(1)

    # --- channels, typed as the fakes they are --------------------------------------------

    @property
    def email(self) -> MemoryEmailSender:
        return cast(MemoryEmailSender, self.channels.email)

    @property
    def topic(self) -> MemoryAdminTopic:
        return cast(MemoryAdminTopic, self.channels.admin_topic)

    @property
    def webhooks(self) -> MemoryWebhookPoster:
        return cast(MemoryWebhookPoster, self.channels.webhooks)

    def subjects(self, address: str | None = None) -> list[str]:
        return [e.rendered.subject for _, e in self.email.sent if address in (None, e.to)]

    def notes(self, user_id: str) -> list[tuple[str, str, str]]:
        """(id, kind, title) of the user's in-app notifications, newest first."""
        page = self.stores.notifications.list(user_id, limit=100, start_key=None)
        return [(n.notification_id, n.kind, n.title) for n in page.items]

    # --- people ---------------------------------------------------------------------------

    def user(
        self,
        user_id: str,
        *,
        email: str | None = "",
        role: Role = Role.USER,
        email_alerts: bool = True,
        digest: DigestCadence = DigestCadence.OFF,
        webhook: str | None = None,
    ) -> None:
        address = f"{user_id}@example.com" if email == "" else email
        self.stores.users.put(
            UserProfile(user_id, user_id.removeprefix("u-").title(), address, role)
        )
        stored = None
        if webhook is not None:
            sealed = self.channels.secrets.seal(webhook, user_id=user_id)
            stored = StoredWebhook(sealed, "https://hooks.example.com/…/x9Qa", "slack")
        current = self.stores.preferences.get(user_id)
        self.stores.preferences.put(
            Preferences(
                user_id,
                email_alerts=email_alerts,
                digest=digest,
                webhook=stored,
                version=current.version if current else 0,
            )
        )

    def budget(
        self,
        user_id: str,
        limit: str,
        *,
        threshold: int = 80,
        since: str = "2026-11",
        currency: str = "USD",
    ) -> None:
        """Create the user's budget, or change its terms from ``since`` on."""
        terms = BudgetTerms(since, Decimal(limit), threshold, currency)
        current = self.stores.budgets.get_for_user(user_id)
        created = at(date.fromisoformat(f"{since}-01"))
        audit = AuditEntry(user_id, created, user_id, "budget", "b-" + user_id, {})
        if current is None:
            budget = Budget(
                "b-" + user_id,
                user_id,
                terms.monthly_limit,
                threshold,
                currency,
                created,
                created,
                0,
                (terms,),
            )
            self.stores.budgets.create(budget, audit)
            return
        history = (*(t for t in current.changes if t.effective_from < since), terms)
        changed = Budget(
            current.budget_id,
            user_id,
            terms.monthly_limit,
            threshold,
            currency,
            current.created_at,
            created,
            current.version,
            history,
        )
        self.stores.budgets.update(changed, audit)

    # --- spend ----------------------------------------------------------------------------

    def spend(
        self,
        user_id: str,
        day: date,
        amount: str,
        *,
        service: str = "Amazon Elastic Compute Cloud - Compute",
        resource: str = "i-0abc",
        estimated: bool = False,
    ) -> None:
        """A cost line for the user on ``day``; the day and the month's roll-up rewritten."""
        record = CostRecord(
            owner=user_id,
            day=day,
            line_id=f"l{next(self._lines)}",
            service=service,
            resource_id=resource,
            usage_quantity=Decimal(1),
            usage_unit="Hrs",
            billed_cost=Decimal(amount),
            effective_cost=Decimal(amount),
            currency="USD",
            charge_category="Usage",
            estimated=estimated,
            source="test",
            fetched_at=at(day),
            allocation="assignment",
        )
        self.records.setdefault(day, []).append(record)
        self.stores.costs.replace_day(day, self.records[day])
        self.roll_up(user_id, month_of(day))

    def roll_up(self, user_id: str, month: str, **extra: object) -> MonthlyRollup:
        first, following = month_days(month)
        records = self.stores.costs.for_owner(user_id, first, following)
        rollup = compute_rollup(user_id, month, records, now=at(following))
        if extra:
            from dataclasses import replace

            rollup = replace(rollup, **extra)  # type: ignore[arg-type]
        self.stores.rollups.put(rollup)
        return rollup

    # --- runs -----------------------------------------------------------------------------

    def evaluation(
        self,
        today: date,
        *,
        now: datetime | None = None,
        run_id: str | None = None,
        cap: int = 500,
        **settings: object,
    ) -> AlertEvaluation:
        clock = ticking(now or at(today))
        return AlertEvaluation(
            self.stores,
            self.channels,
            AlertSettings(dashboard_url=DASHBOARD, api_url=API, email_cap=cap, **settings),  # type: ignore[arg-type]
            today=today,
            clock=lambda: next(clock),
            run_id=run_id or f"run-{today}",
        )

    def run(
        self,
        today: date,
        months: Sequence[str] | None = None,
        **kw: object,
    ) -> RunReport:
        """What the alerts function does on a CostsIngested event of ``months`` (by default
        this month and the last, as a daily ingest recomputes them)."""
        current = month_of(today)
        months = list(months) if months is not None else [previous_month(current), current]
        evaluation = self.evaluation(today, **kw)  # type: ignore[arg-type]
        return evaluation.run(evaluation.candidates(months), months)
