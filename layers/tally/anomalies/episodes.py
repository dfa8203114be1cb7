"""Findings become stored episodes: one anomaly per (user, root cause, run of consecutive
days). A finding on a day an episode already covers is nothing new (re-running an evaluation
creates nothing); one on the day after an episode's last grows that episode (a two-day spike,
the first days of a step up) instead of opening, and notifying, a second one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from tally.anomalies.model import Anomaly, AnomalyStatus, Finding, anomaly_id
from tally.store.anomalies import AnomalyStore

# How far back an episode that a finding might extend can have started.
EPISODE_REACH = timedelta(days=31)


def record_findings(
    store: AnomalyStore, user_id: str, findings: Sequence[Finding], *, now: datetime
) -> list[Anomaly]:
    """Store ``findings`` (one user's) as episodes; the episodes this call created."""
    if not findings:
        return []
    ordered = sorted(findings, key=lambda f: (f.day, f.cause))
    episodes = store.since(user_id, ordered[0].day - EPISODE_REACH)
    created: list[Anomaly] = []
    for finding in ordered:
        same = [a for a in episodes if a.cause == finding.cause]
        if any(a.covers(finding.day) for a in same):
            continue
        before = finding.day - timedelta(days=1)
        previous = next(
            (a for a in same if a.last_day == before and a.status is not AnomalyStatus.RESOLVED),
            None,
        )
        if previous is not None:
            grown = replace(
                previous,
                last_day=finding.day,
                expected=previous.expected + finding.expected,
                actual=previous.actual + finding.actual,
                score=max(previous.score, finding.score),
                usage_unit=previous.usage_unit or finding.usage_unit,
                updated_at=now,
            )
            if store.extend(grown, after=before):
                episodes[episodes.index(previous)] = grown
            continue
        anomaly = Anomaly(
            anomaly_id=anomaly_id(user_id, finding.day, finding.cause),
            user_id=user_id,
            day=finding.day,
            last_day=finding.day,
            service=finding.service,
            resource_id=finding.resource_id,
            usage_unit=finding.usage_unit,
            currency=finding.currency,
            expected=finding.expected,
            actual=finding.actual,
            score=finding.score,
            status=AnomalyStatus.OPEN,
            detected_at=now,
            updated_at=now,
        )
        if store.create(anomaly):
            created.append(anomaly)
        episodes.append(anomaly)
    return created
