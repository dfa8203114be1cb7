"""In-app notifications through the handler: the caller's own only, newest first, paged, and
the unread count after every mark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tally.models import Notification
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _add(
    api: Api, user_id: str, notification_id: str, minutes: int, kind: str = "threshold"
) -> None:
    assert api.stores.notifications.add(
        Notification(
            notification_id=notification_id,
            user_id=user_id,
            kind=kind,
            title=f"title {notification_id}",
            body=f"body {notification_id}",
            link="#/budget",
            created_at=T0 + timedelta(minutes=minutes),
        )
    )


def _alice_three(api: Api) -> None:
    _add(api, "u-alice", "2026-11#forecast", 0, "forecast")
    _add(api, "u-alice", "2026-11#threshold", 10)
    _add(api, "u-alice", "2026-11#exceeded", 20, "exceeded")
    _add(api, "u-bob", "2026-11#threshold", 5)


def test_an_empty_inbox(api: Api) -> None:
    reply = api.call("GET", "/api/notifications", ALICE)
    assert reply.status == 200
    assert reply.body == {"items": [], "unreadCount": 0, "nextToken": None}


def test_the_caller_sees_only_their_own_newest_first(api: Api) -> None:
    _alice_three(api)
    alice = api.call("GET", "/api/notifications", ALICE).body
    assert [n["id"] for n in alice["items"]] == [
        "2026-11#exceeded",
        "2026-11#threshold",
        "2026-11#forecast",
    ]
    assert alice["unreadCount"] == 3
    assert alice["items"][0] == {
        "id": "2026-11#exceeded",
        "kind": "exceeded",
        "title": "title 2026-11#exceeded",
        "body": "body 2026-11#exceeded",
        "link": "#/budget",
        "createdAt": "2026-11-20T09:20:00+00:00",
        "read": False,
        "readAt": None,
    }
    bob = api.call("GET", "/api/notifications", BOB).body
    assert [(n["id"], n["createdAt"]) for n in bob["items"]] == [
        ("2026-11#threshold", "2026-11-20T09:05:00+00:00")
    ]
    # An admin's inbox is the admin's own, not everyone's.
    assert api.call("GET", "/api/notifications", ADMIN).body["items"] == []


def test_paging_keeps_the_unread_count_of_all(api: Api) -> None:
    _alice_three(api)
    first = api.call("GET", "/api/notifications?limit=2", ALICE).body
    assert [n["id"] for n in first["items"]] == ["2026-11#exceeded", "2026-11#threshold"]
    assert first["unreadCount"] == 3
    assert first["nextToken"]
    second = api.call("GET", f"/api/notifications?limit=2&nextToken={first['nextToken']}", ALICE)
    assert [n["id"] for n in second.body["items"]] == ["2026-11#forecast"]
    assert second.body["nextToken"] is None
    # The token is alice's: bob cannot page her inbox with it.
    stolen = api.call("GET", f"/api/notifications?nextToken={first['nextToken']}", BOB)
    assert stolen.status == 422
    assert [e["field"] for e in stolen.problem["errors"]] == ["nextToken"]


def test_marks_move_the_unread_count(api: Api) -> None:
    _alice_three(api)
    read = api.call("POST", "/api/notifications/2026-11%23threshold/read", ALICE)
    assert read.status == 200
    assert (read.body["id"], read.body["read"]) == ("2026-11#threshold", True)
    assert read.body["readAt"] is not None
    listed = api.call("GET", "/api/notifications", ALICE).body
    assert listed["unreadCount"] == 2
    assert {n["id"]: n["read"] for n in listed["items"]} == {
        "2026-11#exceeded": False,
        "2026-11#threshold": True,
        "2026-11#forecast": False,
    }
    unread = api.call("POST", "/api/notifications/2026-11%23threshold/unread", ALICE)
    assert (unread.status, unread.body["read"], unread.body["readAt"]) == (200, False, None)
    assert api.call("GET", "/api/notifications", ALICE).body["unreadCount"] == 3


def test_read_all_marks_only_the_callers(api: Api) -> None:
    _alice_three(api)
    api.call("POST", "/api/notifications/2026-11%23forecast/read", ALICE)
    reply = api.call("POST", "/api/notifications/read-all", ALICE)
    assert (reply.status, reply.body) == (200, {"updated": 2, "unreadCount": 0})
    assert api.call("GET", "/api/notifications", ALICE).body["unreadCount"] == 0
    again = api.call("POST", "/api/notifications/read-all", ALICE)
    assert again.body == {"updated": 0, "unreadCount": 0}
    assert api.call("GET", "/api/notifications", BOB).body["unreadCount"] == 1


def test_someone_elses_notification_is_not_found_like_a_missing_one(api: Api) -> None:
    _alice_three(api)
    for caller in (BOB, ADMIN):
        theirs = api.call("POST", "/api/notifications/2026-11%23exceeded/read", caller)
        missing = api.call("POST", "/api/notifications/2026-11%23nothing/read", caller)
        assert (theirs.status, missing.status) == (404, 404)
        assert {k: v for k, v in theirs.problem.items() if k != "instance"} == {
            k: v for k, v in missing.problem.items() if k != "instance"
        }
    # Bob's own notification of the same id is his to mark; alice's stays unread.
    assert api.call("POST", "/api/notifications/2026-11%23threshold/read", BOB).status == 200
    alice = api.call("GET", "/api/notifications", ALICE).body
    assert alice["unreadCount"] == 3
