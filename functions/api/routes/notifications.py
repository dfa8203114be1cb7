"""In-app notifications: the caller's own, newest first; mark read, unread, or all read."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from api import context, convert
from api.lazy import notifications
from api.paging import page_cursor
from api.problems import responses
from api.schemas import NextToken, NotificationListOut, NotificationOut, PageLimit, ReadAllOut
from tally.errors import Invalid

router = Router()

# Ids are the producers' idempotency keys ("2026-11#threshold"): API Gateway's REST proxy
# passes the path still percent-encoded, so "#" arrives as "%23" and is decoded here.
NotificationId = Annotated[str, Path(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9%#:._-]+$")]
_DECODED_ID = re.compile(r"[A-Za-z0-9#:._-]+")


def _decoded(notification_id: str) -> str:
    decoded = unquote(notification_id)
    if not _DECODED_ID.fullmatch(decoded):
        raise Invalid.field("notificationId", "not a notification id")
    return decoded


@router.get(
    "/notifications",
    summary="My notifications, newest first",
    description="Only ever the caller's own (admins included). `unreadCount` counts all of "
    "them, not only this page. Notifications are kept 90 days.",
    responses=responses(200, NotificationListOut),
    tags=["notifications"],
)
def list_notifications(limit: PageLimit = 50, nextToken: NextToken = None) -> NotificationListOut:
    pages = page_cursor(router, "notifications")
    page, unread = notifications.list_notifications(
        context.view(router), limit=limit, start_key=pages.read_token(nextToken)
    )
    return NotificationListOut(
        items=[convert.notification_out(n) for n in page.items],
        unread_count=unread,
        next_token=pages.next_token(page.next_key),
    )


@router.post(
    "/notifications/read-all",
    summary="Mark all my notifications read",
    responses=responses(200, ReadAllOut),
    tags=["notifications"],
)
def mark_all_read() -> ReadAllOut:
    updated = notifications.mark_all_read(context.view(router))
    return ReadAllOut(updated=updated, unread_count=0)


@router.post(
    "/notifications/<notificationId>/read",
    summary="Mark one of my notifications read",
    description="404 for an id that is not one of the caller's notifications.",
    responses=responses(200, NotificationOut, 404),
    tags=["notifications"],
)
def mark_read(notificationId: NotificationId) -> NotificationOut:
    return convert.notification_out(
        notifications.mark_read(context.view(router), _decoded(notificationId))
    )


@router.post(
    "/notifications/<notificationId>/unread",
    summary="Mark one of my notifications unread",
    description="404 for an id that is not one of the caller's notifications.",
    responses=responses(200, NotificationOut, 404),
    tags=["notifications"],
)
def mark_unread(notificationId: NotificationId) -> NotificationOut:
    return convert.notification_out(
        notifications.mark_unread(context.view(router), _decoded(notificationId))
    )
