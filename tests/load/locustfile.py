"""The dashboard's first screen, as locust users: run by ``python -m tests.load`` (``make load``),
never by pytest (locust's gevent patches the process it runs in).

Each simulated person signs in once (the runner hands the ID tokens over in
``TALLY_LOAD_PLAN``) and then loads their first screen again and again, with the same calls,
in the same order and overlap, as ``templates/dashboard/src`` makes them:

- a user (``views/dashboard.js``, ``main.js``): the month's summary and the 30-day trend leave
  at once, this month's costs follow the summary (it brings the business date); once the
  screen has its data, ``GET /me`` and the bell's unread count (``inbox.js``) go together;
- an admin (``main.js``'s ``enter``: ``askFirst``): ``GET /me`` first, which sends them to All
  users (``views/admin.js``: one page of 50), then the bell's count.

Every answer's time, status and serving container are written to ``TALLY_LOAD_RESULTS`` when
locust quits: the runner makes the table from them (exact percentiles, not locust's rounded
ones).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

import gevent
from locust import HttpUser, between, events, task

from tests.load.calls import ADMIN_CALLS, USER_CALLS

PLAN: dict[str, Any] = json.loads(os.environ.get("TALLY_LOAD_PLAN", "{}"))
CONTAINER_HEADER = "X-Tally-Local-Container"

_times: dict[str, list[float]] = defaultdict(list)
_errors: dict[str, list[str]] = defaultdict(list)
_containers: Counter[str] = Counter()


@events.request.add_listener
def _record(
    name: str, response_time: float, response: Any, exception: BaseException | None, **_: Any
) -> None:
    _times[name].append(response_time)
    if exception is not None:
        status = getattr(response, "status_code", 0)
        _errors[name].append(f"{status or ''} {exception}".strip())
    container = getattr(response, "headers", {}).get(CONTAINER_HEADER)
    if container:
        _containers[container] += 1


@events.quitting.add_listener
def _write_results(**_: Any) -> None:
    path = os.environ.get("TALLY_LOAD_RESULTS")
    if not path:
        return
    results = {
        "calls": {
            name: {"times_ms": _times[name], "errors": _errors.get(name, [])} for name in _times
        },
        "containers": dict(_containers),
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(results, out)


class _Person(HttpUser):
    abstract = True
    role = ""
    # After a first screen, a person reads it a moment before loading it again.
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.person = PLAN[self.role]
        self.api = PLAN["api_path"]
        self.headers = {"Authorization": f"Bearer {self.person['token']}"}

    def get(self, name: str, path: str, **params: Any) -> None:
        self.client.get(
            f"{self.api}{path}",
            params={k: v for k, v in params.items() if v is not None},
            headers=self.headers,
            name=name,
        )

    def together(self, *calls: Callable[[], None]) -> None:
        """The calls the browser has in flight at the same time (``Promise``s not awaited)."""
        gevent.joinall([gevent.spawn(call) for call in calls], raise_error=True)


class DashboardUser(_Person):
    """A demo user opening the dashboard (their home page)."""

    role = "user"
    weight = 3

    def summary_then_month(self, summary: str, month: str, user: str) -> None:
        self.get(summary, f"/billing/user/{user}/summary")
        self.get(
            month,
            f"/billing/user/{user}/costs",
            startDate=PLAN["month_start"],
            endDate=PLAN["today"],
        )

    @task
    def first_screen(self) -> None:
        summary, trend, month, me, bell = USER_CALLS
        user = self.person["user_id"]
        self.together(
            partial(self.summary_then_month, summary, month, user),
            partial(self.get, trend, f"/billing/user/{user}/costs"),
        )
        self.together(
            partial(self.get, me, "/me"), partial(self.get, bell, "/notifications", limit=1)
        )


class AdminUser(_Person):
    """An admin opening the dashboard: asked about first, then All users."""

    role = "admin"
    weight = 1

    @task
    def first_screen(self) -> None:
        me, all_users, bell = ADMIN_CALLS
        self.get(me, "/me")
        self.get(all_users, "/billing/all-users", limit=50)
        self.get(bell, "/notifications", limit=1)
