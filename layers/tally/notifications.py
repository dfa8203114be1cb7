"""In-app notifications: the caller's own, listed newest first, marked read or unread.

Nobody reads or marks another user's notifications, admins included: every use case works on
the caller's id, and someone else's notification id is answered exactly as a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tally.clock import Clock, utc_now
from tally.errors import NotFound
from tally.models import Notification, Page
from tally.view import View

if TYPE_CHECKING:
    from tally.store import PageKey


def list_notifications(
    view: View, *, limit: int, start_key: PageKey | None
) -> tuple[Page[Notification], int]:
    """A page of the caller's notifications (newest first) and how many of all are unread."""
    store = view.stores.notifications
    user_id = view.caller.user_id
    return store.list(user_id, limit=limit, start_key=start_key), store.unread_count(user_id)


def _mark(view: View, notification_id: str, read_at: datetime | None) -> Notification:
    try:
        return view.stores.notifications.mark(
            view.caller.user_id,
            notification_id,
            read_at=read_at,
        )
    except NotFound:
        # One body whatever the store said: another user's id cannot be told from a missing one.
        raise NotFound("no such notification") from None


def mark_read(view: View, notification_id: str, *, clock: Clock = utc_now) -> Notification:
    """Mark one of the caller's notifications read (now); NotFound if it is not theirs."""
    return _mark(view, notification_id, clock())


def mark_unread(view: View, notification_id: str) -> Notification:
    """Mark one of the caller's notifications unread again; NotFound if it is not theirs."""
    return _mark(view, notification_id, None)


def mark_all_read(view: View, *, clock: Clock = utc_now) -> int:
    """Mark every unread notification of the caller read; how many changed."""
    return view.stores.notifications.mark_all_read(view.caller.user_id, at=clock())
