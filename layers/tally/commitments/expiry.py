"""Expiry notices: a commitment ending within 30 days, and again within 7, is told to finance
(every holder of the finance role at the organisation, and the admins) in the app and on the
admins' SNS topic (whose email subscriptions the alerts use), once per commitment, end date and
notice: the store's conditional write (``claim_notice``) decides, so a re-run the same day, or
two runs at once, send nothing more. A commitment first seen 5 days before its end gets the
7-day notice only (the 30-day one would say less, late)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from tally.commitments.model import Commitment, CommitmentSnapshot
from tally.identity import Role
from tally.models import Notification
from tally.notify.ports import AdminTopic, SendFailed
from tally.org.model import ScopeKind
from tally.settings import ConfigurationError
from tally.store import Stores
from tally.users import every_user

logger = logging.getLogger(__name__)

NOTICE_DAYS = (30, 7)  # the notices, the earliest first
FINANCE_ROLES = frozenset({"finance", "admin"})
LINK = "#/commitments"


def due_notice(end: date, today: date) -> int | None:
    """The notice due ``today`` for a commitment ending on ``end``: the smallest of
    ``NOTICE_DAYS`` that is at least the days left, or None (ended, or further off)."""
    left = (end - today).days
    if left <= 0:
        return None
    due = [days for days in NOTICE_DAYS if left <= days]
    return min(due) if due else None


def finance_recipients(stores: Stores) -> list[str]:
    """Who hears of expiring commitments: holders of ``finance`` or ``admin`` at the
    organisation, directly or through a team (and the snapshot's admins)."""
    snapshot = stores.access.snapshot()
    team_roles = {
        team_id: {g.role_id for g in node.grants if g.scope.kind is ScopeKind.ORG}
        for team_id, node in snapshot.teams.items()
    }
    users = every_user(stores.users)
    profiles = stores.access.profiles([u.user_id for u in users])
    out = set(snapshot.admins)
    for user in users:
        profile = profiles.get(user.user_id)
        if profile is None:
            continue
        roles = {g.role_id for g in profile.grants or () if g.scope.kind is ScopeKind.ORG}
        for team in profile.teams:
            roles |= team_roles.get(team, set())
        if profile.grants is None and user.role is Role.ADMIN:
            roles.add("admin")  # the defaults before the access migration
        if roles & FINANCE_ROLES:
            out.add(user.user_id)
    return sorted(out)


@dataclass
class NoticeReport:
    sent: int = 0
    already: int = 0
    topic_failed: int = 0


def _text(commitment: Commitment, days: int, today: date) -> tuple[str, str]:
    left = (commitment.end - today).days
    title = f"A commitment ends in {left} days"
    body = (
        f"{commitment.description} ({commitment.commitment_id}) ends on "
        f"{commitment.end.isoformat()}: renew it or plan for on-demand prices "
        f"(the {days}-day notice)."
    )
    return title, body


def send_expiry_notices(
    snapshot: CommitmentSnapshot,
    *,
    stores: Stores,
    topic: AdminTopic,
    today: date,
    now: datetime,
    recipients: Iterable[str] | None = None,
) -> NoticeReport:
    """Claim and send every notice due ``today`` (see the module docstring)."""
    report = NoticeReport()
    people: list[str] | None = list(recipients) if recipients is not None else None
    for commitment in snapshot.commitments:
        days = due_notice(commitment.end, today)
        if days is None:
            continue
        if not stores.commitments.claim_notice(
            commitment.commitment_id, commitment.end, days, at=now
        ):
            report.already += 1
            continue
        if people is None:
            people = finance_recipients(stores)
        title, body = _text(commitment, days, today)
        notice_id = f"commitment#{commitment.commitment_id}#{commitment.end.isoformat()}#{days}"
        for user_id in people:
            stores.notifications.add(
                Notification(notice_id, user_id, "commitment-expiry", title, body, LINK, now)
            )
        try:
            topic.publish(
                subject=f"Tally: {title}",
                message=body,
                attributes={"kind": "commitment-expiry", "days": str(days)},
            )
        except (SendFailed, ConfigurationError) as error:
            # Claimed already: the in-app notices stand; the topic's copy is logged as lost
            # (refused, or no topic configured), and the other commitments are still told.
            logger.warning("admin topic did not take an expiry notice: %s", error)
            report.topic_failed += 1
        report.sent += 1
    return report
