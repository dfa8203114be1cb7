"""The daily refresh of reserved capacity (the reports function's scheduled step, after the
recommendations): read Cost Explorer, replace the stored snapshot, send the expiry notices due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tally.commitments.cost_explorer import CommitmentReader
from tally.commitments.expiry import NoticeReport, send_expiry_notices
from tally.notify.ports import AdminTopic
from tally.store import Stores


@dataclass(frozen=True)
class CommitmentRefresh:
    commitments: int
    recommendations: int
    notices: NoticeReport
    notes: tuple[str, ...]


def refresh_commitments(
    stores: Stores,
    client: Callable[[str], Any],
    *,
    topic: AdminTopic,
    today: date,
    now: datetime,
) -> CommitmentRefresh:
    """Read, store and notify (see the module docstring). ``client(service)`` gives the
    ``ce`` and ``savingsplans`` clients."""
    snapshot = CommitmentReader(client("ce"), client("savingsplans")).read(today=today, now=now)
    stores.commitments.replace_snapshot(snapshot)
    notices = send_expiry_notices(snapshot, stores=stores, topic=topic, today=today, now=now)
    return CommitmentRefresh(
        len(snapshot.commitments), len(snapshot.recommendations), notices, snapshot.notes
    )
