"""The reserved-capacity reads of the API (``GET /api/commitments``, ``.../recommendations``):
the stored snapshot only (never Cost Explorer on a request path), with each commitment's days
left counted from the view's business date, and the utilisation and coverage derived from the
commitment uses the ingest of a FOCUS export stored (one Query over the periods shown). Who may
read is the route's rule (``commitments:read`` on the organisation: finance and admins)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tally import calendar
from tally.commitments.expiry import NOTICE_DAYS
from tally.commitments.focus import FocusFigures, figures
from tally.commitments.model import Commitment, CommitmentSnapshot, PurchaseRecommendation
from tally.view import View

SOON_DAYS = max(NOTICE_DAYS)  # "expiring soon": within the first notice's reach
# Complete periods shown before the current one, as many as the Cost Explorer refresh reads.
FOCUS_PERIODS = 3


@dataclass(frozen=True)
class ListedCommitment:
    commitment: Commitment
    days_left: int

    @property
    def expiring_soon(self) -> bool:
        return 0 < self.days_left <= SOON_DAYS


@dataclass(frozen=True)
class CommitmentsOverview:
    snapshot: CommitmentSnapshot | None  # None before the first refresh
    commitments: tuple[ListedCommitment, ...]
    focus: FocusFigures  # from FOCUS exports; empty for other sources


def overview(view: View) -> CommitmentsOverview:
    """Utilisation, coverage and every commitment with its days left, soonest end first."""
    snapshot = view.stores.commitments.snapshot()
    listed = tuple(
        ListedCommitment(c, (c.end - view.today).days)
        for c in (snapshot.commitments if snapshot else ())
        if c.end > view.today
    )
    return CommitmentsOverview(snapshot, listed, focus_figures(view))


def focus_figures(view: View) -> FocusFigures:
    """Utilisation and coverage from the stored FOCUS commitment uses of the current period
    (to the view's business date) and the ``FOCUS_PERIODS`` before it, in the organisation's
    periods."""
    first = calendar.month_of(view.today)
    for _ in range(FOCUS_PERIODS):
        first = calendar.previous_month(first)
    start = calendar.first_day(first)
    end = view.today + timedelta(days=1)
    return figures(view.stores.commitments.focus_uses(start, end))


def recommendations(view: View) -> tuple[CommitmentSnapshot | None, list[PurchaseRecommendation]]:
    """The purchase recommendations of the last refresh, highest monthly saving first."""
    snapshot = view.stores.commitments.snapshot()
    if snapshot is None:
        return None, []
    return snapshot, sorted(
        snapshot.recommendations, key=lambda r: (-r.monthly_saving, r.description)
    )
