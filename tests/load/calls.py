"""The calls of the dashboard's first screen, by the names the load test reports them under
(shared by the locustfile and the runner, which must not import locust: see __main__.py)."""

from __future__ import annotations

USER_CALLS = (
    "user: GET /billing/user/{id}/summary",
    "user: GET /billing/user/{id}/costs (trend)",
    "user: GET /billing/user/{id}/costs (month)",
    "user: GET /me",
    "user: GET /notifications?limit=1",
)
ADMIN_CALLS = (
    "admin: GET /me",
    "admin: GET /billing/all-users?limit=50",
    "admin: GET /notifications?limit=1",
)
FIRST_SCREEN_CALLS = USER_CALLS + ADMIN_CALLS
