"""What the API does with anomalies: list them (a user their own, an admin anyone's or the
organisation's) and change their status. Someone else's anomaly id is answered as a missing
one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tally.access import allows, require
from tally.anomalies.model import Anomaly, AnomalyStatus
from tally.authz import Target
from tally.clock import Clock, utc_now
from tally.errors import NotFound
from tally.models import Page
from tally.view import View

if TYPE_CHECKING:
    from tally.store import PageKey

NO_SUCH = "no such anomaly"


def list_anomalies(
    view: View,
    user_id: str | None,
    status: AnomalyStatus | None,
    *,
    limit: int,
    start_key: PageKey | None,
) -> Page[Anomaly]:
    """Newest first. Without ``user_id``: the caller's own, or for an admin the whole
    organisation's; another user's needs an admin (Forbidden otherwise)."""
    store = view.stores.anomalies
    caller = view.caller
    if user_id is None and allows(caller, "costs:read", Target.org()):
        return store.list_org(status=status, limit=limit, start_key=start_key)
    owner = user_id or caller.user_id
    require(caller, "costs:read", Target.owner(owner))
    return store.list_user(owner, status=status, limit=limit, start_key=start_key)


def update_status(
    view: View, anomaly_id: str, status: AnomalyStatus, *, clock: Clock = utc_now
) -> Anomaly:
    """Set the status of an anomaly of the caller's (any, for an admin)."""
    store = view.stores.anomalies
    held = store.get(anomaly_id)
    if held is None or not allows(view.caller, "anomalies:update", Target.owner(held.user_id)):
        raise NotFound(NO_SUCH)
    if held.status is status:
        return held
    return store.set_status(anomaly_id, status, at=clock())
