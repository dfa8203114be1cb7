"""The alarms Tally creates (``cloudwatch:PutMetricAlarm``) notify the estate-alarms SNS
topic, which the alerts function reads: each change of state becomes an in-app notification
of the resource's Tally owners, whom the alarm's description names (``owners=<ids>``, written
when the alarm was made; ``tally.estate.actions.aws``).

CloudWatch's message is JSON with ``AlarmName``, ``AlarmDescription``, ``NewStateValue``,
``NewStateReason`` and ``StateChangeTime``. A message of another alarm (no ``owners=``) is
ignored; SNS delivers at least once, so the notification id (alarm, state, time) keeps one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tally.models import Notification
from tally.store import Stores

OWNERS = re.compile(r"owners=([A-Za-z0-9_.@+,-]*)")
KIND = "estate-alarm"


def is_alarm_message(message: Any) -> bool:
    return isinstance(message, Mapping) and "AlarmName" in message and "NewStateValue" in message


def notify_alarm(stores: Stores, message: Mapping[str, Any], *, now: datetime) -> int:
    """Notify the alarm's owners; the number of notifications added."""
    name = str(message.get("AlarmName", ""))
    found = OWNERS.search(str(message.get("AlarmDescription") or ""))
    if not name.startswith("tally-") or found is None:
        return 0
    state = str(message.get("NewStateValue", ""))
    at = str(message.get("StateChangeTime", "")) or now.isoformat()
    title = f"{name} is {'back to OK' if state == 'OK' else state}"
    added = 0
    for owner in (o for o in found.group(1).split(",") if o):
        added += stores.notifications.add(
            Notification(
                notification_id=f"alarm#{name}#{state}#{at}"[:512],
                user_id=owner,
                kind=KIND,
                title=title[:200],
                body=str(message.get("NewStateReason") or "")[:1000],
                link="#/estate",
                created_at=now,
            )
        )
    return added
