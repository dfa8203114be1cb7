"""The alarms Tally creates (``cloudwatch:PutMetricAlarm``) notify the estate-alarms SNS
topic, which the alerts function reads: each change of state becomes an in-app notification
of the resource's Tally owners.

The owners are found from the alarm's metric: its ``Trigger.Dimensions`` name the resource
(``InstanceId`` an EC2 instance, ``DBInstanceIdentifier`` an RDS DB instance, ``BucketName``
an S3 bucket, ``FunctionName`` a function) and its assignments in force on the day of the
message are its owners, so a resource that changed hands since the alarm was made notifies
its owners of today. A resource without assignments (a function owned by its Owner tag, say)
falls back to the owners the alarm's description names (``owners=<ids>``, written when the
alarm was made; ``tally.estate.actions.aws``).

CloudWatch's message is JSON with ``AlarmName``, ``AlarmDescription``, ``NewStateValue``,
``NewStateReason``, ``StateChangeTime`` and ``Trigger``. A message of another alarm (not
``tally-``, no ``owners=``) is ignored; SNS delivers at least once, so the notification id
(alarm, state, time) keeps one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from tally.models import Notification
from tally.store import Stores

OWNERS = re.compile(r"owners=([A-Za-z0-9_.@+,-]*)")
ON = re.compile(r"Tally alarm on (arn:\S+);")
KIND = "estate-alarm"
# The dimension naming a resource in each type's metrics (tally.estate.metrics.PanelResource).
RESOURCE_DIMENSIONS = {
    "InstanceId": "ec2",
    "DBInstanceIdentifier": "rds",
    "BucketName": "s3",
    "FunctionName": "lambda",
}


def _dimensions(message: Mapping[str, Any]) -> dict[str, str]:
    # SNS carries them as {"name", "value"}; DescribeAlarms as {"Name", "Value"}.
    trigger = message.get("Trigger")
    raw = trigger.get("Dimensions") if isinstance(trigger, Mapping) else None
    out: dict[str, str] = {}
    for d in raw if isinstance(raw, list) else []:
        if isinstance(d, Mapping):
            name, value = d.get("name", d.get("Name")), d.get("value", d.get("Value"))
            if isinstance(name, str) and isinstance(value, str):
                out[name] = value
    return out


def resource_owners(stores: Stores, message: Mapping[str, Any], today: date) -> list[str]:
    """The owners today of the resource the alarm's metric names (its assignments in force),
    or none when the dimensions name no resource or nobody is assigned it."""
    dims = _dimensions(message)
    named = ON.search(str(message.get("AlarmDescription") or ""))
    for dimension, kind in RESOURCE_DIMENSIONS.items():
        value = dims.get(dimension)
        if not value:
            continue
        # By the bare id, and by the ARN the alarm was made for (an assignment made by ARN
        # meets under it: an RDS instance's, for one).
        ids = [value, *([named.group(1)] if named else [])]
        return sorted(
            {
                a.user_id
                for rid in ids
                for a in stores.assignments.for_resource(kind, rid)
                if a.effective_from <= today and not a.ended
            }
        )
    return []


def is_alarm_message(message: Any) -> bool:
    return isinstance(message, Mapping) and "AlarmName" in message and "NewStateValue" in message


def notify_alarm(stores: Stores, message: Mapping[str, Any], *, now: datetime) -> int:
    """Notify the alarm's owners; the number of notifications added."""
    name = str(message.get("AlarmName", ""))
    found = OWNERS.search(str(message.get("AlarmDescription") or ""))
    if not name.startswith("tally-") or found is None:
        return 0
    owners = resource_owners(stores, message, now.date()) or [
        o for o in found.group(1).split(",") if o
    ]
    state = str(message.get("NewStateValue", ""))
    at = str(message.get("StateChangeTime", "")) or now.isoformat()
    title = f"{name} is {'back to OK' if state == 'OK' else state}"
    added = 0
    for owner in owners:
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
