"""Issue 13's acceptance through the running local stack (``make run``'s demo organisation in a
subprocess, Cognito tokens, real HTTP): every built-in role at each scope (org, team:payments,
self) tried on the routes of the route table, by a person holding only that role. Allowed where
the table says (``tests/authz_oracle.py``: roles.json + ``api.permissions.ROUTES``): anything
but the refusal; refused elsewhere: 403 with the body the API has always sent (404 for an
entity addressed by its own id). The people get their roles as an admin gives them
(``PUT /api/users/{userId}/roles``). And a revoked role stops working within the cache time.

The requests act on the demo's data (alice, in "payments" under "engineering"; "data", which
the team scope does not reach) and are chosen to change nothing that a later request reads:
a team or role route that is let through meets a conflict or a refused change (409/422) after
the decision. Ending an assignment and deciding a claim (ENTITY rules that consume their
entity) are tried in process, on fresh entities, by tests/api/test_authorization_matrix.py."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from api.permissions import ROUTES, On
from infra.local.aws import USER_ROLE, LocalAws, create_user
from infra.local.client import local_stack_process, sign_in
from tests.authz_oracle import OrgWorld, Subject, catalog, expected

pytestmark = pytest.mark.local_stack

TODAY = date(2026, 11, 25)
MONTH = "2026-11"
CACHE_SECONDS = 2  # the stack's TALLY_ACCESS_CACHE_SECONDS: revocations show quickly
SCOPES = ("org", "team:payments", "self")
FORBIDDEN_DETAILS = ("you do not have access to this", "you may only access your own data")
# Tried through the stack elsewhere or in process only (see the module docstring).
NOT_HERE = {
    ("DELETE", "/api/billing/unassign/{assignmentId}"),
    ("POST", "/api/billing/claims/{claimId}/approve"),
    ("POST", "/api/billing/claims/{claimId}/reject"),
    ("GET", "/api/unsubscribe"),  # public: the link's signed token decides, not a role
    ("POST", "/api/unsubscribe"),
    ("GET", "/api/health"),  # public and without data: the same answer to anyone (test_health)
    ("POST", "/api/payments/stripe/webhook"),  # public: the signature decides (tests/payments)
}


@dataclass
class Stack:
    local_json: dict[str, Any]
    aws: LocalAws
    ids: dict[str, str]  # username -> user id
    admin_token: str
    budget_id: str  # alice's
    export_id: str
    invoice_id: str
    anomaly_id: str | None  # one of alice's, if the demo has one

    def call(self, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.local_json["api_url"] + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return response.status, _json(raw)
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    where = tmp_path_factory.mktemp("roles-matrix")
    with local_stack_process(
        where / "local.json",
        log_path=where / "stack.log",
        timeout=240,
        today=TODAY,
        env={"TALLY_ACCESS_CACHE_SECONDS": str(CACHE_SECONDS)},
    ) as running:
        local_json = running.local_json
        ids = {u["username"]: u["user_id"] for u in local_json["users"]}
        admin = sign_in(local_json, "admin")
        partial = Stack(
            local_json, LocalAws.from_env(local_json["env"]), ids, admin, "", "", "", None
        )
        alice = ids["alice"]
        status, budget = partial.call(admin, "GET", f"/billing/budgets/{alice}")
        assert status == 200, budget
        status, export = partial.call(
            admin,
            "POST",
            "/exports",
            {
                "kind": "costs",
                "startDate": f"{MONTH}-01",
                "endDate": f"{MONTH}-20",
                "userId": alice,
            },
        )
        assert status == 202, export
        status, invoice = partial.call(
            admin, "POST", "/invoices", {"userId": alice, "month": "2026-10"}
        )
        assert status == 202, invoice
        status, anomalies = partial.call(admin, "GET", f"/anomalies?userId={alice}")
        assert status == 200, anomalies
        items = anomalies.get("items", [])
        yield Stack(
            local_json,
            partial.aws,
            ids,
            admin,
            budget["budgetId"],
            export["exportId"],
            invoice["invoiceId"],
            items[0]["anomalyId"] if items else None,
        )


# --- the requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class Try:
    """One request of a route, and the subject the oracle decides it on."""

    path: str
    body: Any = None
    subject: Subject | None = None  # the path's, body's or entity's; None: the rule's own


Builder = Callable[[Stack, str], list[Try]]  # (stack, the caller's user id) -> requests


def _users(s: Stack, me: str, path: str, body: Any = None, *, outside: bool = False) -> list[Try]:
    """A user route on alice (in payments); with ``outside``, on carol too (outside it: what
    a team scope must not reach). Carol only where it tells something new, to keep the
    matrix's request count (and time) down."""
    names = ("alice", "carol") if outside else ("alice",)
    return [Try(path.format(user=s.ids[name]), body, Subject.user(s.ids[name])) for name in names]


def _teams(path: str, body: Any = None, teams: tuple[str, ...] = ("payments",)) -> Builder:
    return lambda s, me: [Try(path.format(team=t), body, Subject.team(t)) for t in teams]


def _plain(path: str, body: Any = None) -> Builder:
    return lambda s, me: [Try(path, body)]


ENGINEERING = {
    # A cycle (engineering under its own team): refused after the decision, changes nothing.
    "name": "Engineering",
    "kind": "department",
    "parentId": "payments",
    "members": [],
    "managers": [],
    "roles": [],
}

BUILDERS: dict[tuple[str, str], Builder] = {
    ("POST", "/api/billing/assign-resource"): lambda s, me: [
        Try(
            "/billing/assign-resource",
            {"userId": s.ids[name], "resourceType": "ec2", "resourceId": "i-0123456789abcdef0"},
            Subject.user(s.ids[name]),
        )
        for name in ("alice",)
    ],
    ("GET", "/api/billing/user/{userId}/resources"): lambda s, me: _users(
        s, me, "/billing/user/{user}/resources"
    ),
    ("POST", "/api/billing/claims"): _plain(
        "/billing/claims", {"resourceType": "ec2", "resourceId": "i-0123456789abcdef0"}
    ),
    ("GET", "/api/billing/claims"): _plain("/billing/claims"),
    # alice has a budget, and so has payments: 409 where it is let through.
    ("POST", "/api/billing/budgets"): lambda s, me: [
        *(
            Try(
                "/billing/budgets",
                {"userId": s.ids[name], "monthlyLimit": "10.00"},
                Subject.user(s.ids[name]),
            )
            for name in ("alice",)
        ),
        Try(
            "/billing/budgets",
            {"teamId": "payments", "monthlyLimit": "10.00"},
            Subject.team("payments"),
        ),
        # A cost center spans teams: decided at the organisation (CC-100 has a budget: 409).
        Try("/billing/budgets", {"costCenter": "CC-100", "monthlyLimit": "10.00"}, Subject.org()),
    ],
    ("GET", "/api/billing/budgets/{userId}"): lambda s, me: _users(
        s, me, "/billing/budgets/{user}", outside=True
    ),
    ("PUT", "/api/billing/budgets/{budgetId}"): lambda s, me: [
        Try(f"/billing/budgets/{s.budget_id}", {"alertThreshold": 80}, Subject.user(s.ids["alice"]))
    ],
    ("GET", "/api/billing/budgets/team/{teamId}"): _teams(
        "/billing/budgets/team/{team}", teams=("payments",)
    ),
    ("GET", "/api/billing/team/{teamId}/summary"): _teams(
        "/billing/team/{team}/summary", teams=("payments", "data")
    ),
    ("GET", "/api/billing/budgets/cost-center/{costCenter}"): _plain(
        "/billing/budgets/cost-center/CC-100"
    ),
    ("GET", "/api/billing/cost-center/{costCenter}/summary"): _plain(
        "/billing/cost-center/CC-100/summary"
    ),
    ("GET", "/api/billing/user/{userId}/costs"): lambda s, me: _users(
        s, me, "/billing/user/{user}/costs"
    ),
    ("GET", "/api/billing/user/{userId}/cost-lines"): lambda s, me: _users(
        s, me, "/billing/user/{user}/cost-lines"
    ),
    ("GET", "/api/billing/user/{userId}/summary"): lambda s, me: _users(
        s, me, "/billing/user/{user}/summary", outside=True
    ),
    ("GET", "/api/billing/user/{userId}/month-over-month"): lambda s, me: _users(
        s, me, "/billing/user/{user}/month-over-month?month=2026-10"
    ),
    ("GET", "/api/billing/all-users"): _plain("/billing/all-users"),
    ("GET", "/api/billing/organisation/costs"): _plain("/billing/organisation/costs"),
    ("GET", "/api/billing/organisation/cost-lines"): _plain("/billing/organisation/cost-lines"),
    ("GET", "/api/billing/unallocated/costs"): _plain("/billing/unallocated/costs"),
    ("GET", "/api/billing/unallocated/cost-lines"): _plain("/billing/unallocated/cost-lines"),
    ("GET", "/api/billing/organisation/chargeback"): _plain(
        f"/billing/organisation/chargeback?month={MONTH}&groupBy=team"
    ),
    ("POST", "/api/exports"): lambda s, me: [
        Try(
            "/exports",
            {
                "kind": "costs",
                "startDate": f"{MONTH}-01",
                "endDate": f"{MONTH}-20",
                "userId": s.ids["alice"],
            },
            Subject.user(s.ids["alice"]),
        )
    ],
    ("GET", "/api/exports/{exportId}"): lambda s, me: [
        Try(f"/exports/{s.export_id}", subject=Subject.user(s.ids["admin"]))
    ],
    ("POST", "/api/invoices"): lambda s, me: [
        Try(
            "/invoices",
            {"userId": s.ids["alice"], "month": "2026-10"},
            Subject.user(s.ids["alice"]),
        )
    ],
    ("GET", "/api/invoices/{invoiceId}"): lambda s, me: [
        Try(f"/invoices/{s.invoice_id}", subject=Subject.user(s.ids["admin"]))
    ],
    ("GET", "/api/anomalies"): lambda s, me: _users(s, me, "/anomalies?userId={user}"),
    ("PATCH", "/api/anomalies/{anomalyId}"): lambda s, me: (
        [
            Try(
                f"/anomalies/{s.anomaly_id}",
                {"status": "acknowledged"},
                Subject.user(s.ids["alice"]),
            )
        ]
        if s.anomaly_id
        else []
    ),
    ("GET", "/api/recommendations"): lambda s, me: _users(s, me, "/recommendations?userId={user}"),
    # Invoice templates and payments (issue 17), the organisation's: where let through, a
    # second organisation template (409: the demo has one), an edit of a version never made (409), a
    # preview of the stored one, and issuing for payment with payments off (409): nothing a
    # later request reads changes.
    ("GET", "/api/invoice-templates"): _plain("/invoice-templates"),
    ("POST", "/api/invoice-templates"): _plain("/invoice-templates", {"name": "Again"}),
    ("GET", "/api/invoice-templates/{templateId}"): _plain("/invoice-templates/org"),
    ("PUT", "/api/invoice-templates/{templateId}"): _plain(
        "/invoice-templates/org", {"name": "Stale", "version": 99}
    ),
    ("POST", "/api/invoice-templates/{templateId}/preview"): _plain(
        "/invoice-templates/org/preview"
    ),
    ("POST", "/api/invoices/{invoiceId}/payment"): lambda s, me: [
        Try(f"/invoices/{s.invoice_id}/payment", {}, Subject.org())
    ],
    ("GET", "/api/billing/organisation/chargeback/journal"): _plain(
        f"/billing/organisation/chargeback/journal?month={MONTH}&groupBy=team"
    ),
    ("GET", "/api/commitments"): _plain("/commitments"),
    ("GET", "/api/commitments/recommendations"): _plain("/commitments/recommendations"),
    ("GET", "/api/roles"): _plain("/roles"),
    # Built-in: taken (POST) and unchangeable (PUT, DELETE), 409 where it is let through.
    ("POST", "/api/roles"): _plain(
        "/roles", {"roleId": "finance", "name": "Finance", "permissions": ["costs:read"]}
    ),
    ("GET", "/api/roles/{roleId}"): _plain("/roles/finance"),
    ("PUT", "/api/roles/{roleId}"): _plain(
        "/roles/finance", {"name": "Finance", "permissions": ["costs:read"]}
    ),
    ("DELETE", "/api/roles/{roleId}"): _plain("/roles/finance"),
    ("GET", "/api/teams"): _plain("/teams"),
    ("POST", "/api/teams"): _plain("/teams", {"teamId": "payments", "name": "Payments"}),
    ("GET", "/api/teams/{teamId}"): _teams("/teams/{team}", teams=("payments", "data")),
    ("PUT", "/api/teams/{teamId}"): _teams("/teams/{team}", ENGINEERING, teams=("engineering",)),
    # The display currency as it is (none): nothing changes where it is let through.
    ("PATCH", "/api/teams/{teamId}"): _teams("/teams/{team}", {"displayCurrency": None}),
    # engineering has a team under it: 409 where it is let through.
    ("DELETE", "/api/teams/{teamId}"): _teams("/teams/{team}", teams=("engineering",)),
    ("GET", "/api/users/{userId}/roles"): lambda s, me: _users(
        s, me, "/users/{user}/roles", outside=True
    ),
    # alice's roles as they are (member@self): nothing changes where it is let through.
    ("PUT", "/api/users/{userId}/roles"): lambda s, me: [
        Try(
            f"/users/{s.ids['alice']}/roles",
            {"roles": [{"roleId": "member", "scope": "self"}]},
            Subject.user(s.ids["alice"]),
        )
    ],
    ("GET", "/api/users/{userId}/access"): lambda s, me: [
        *(
            Try(f"/users/{s.ids[name]}/access", subject=Subject.user(s.ids[name]))
            for name in ("alice",)
        ),
        Try(f"/users/{me}/access", subject=Subject.user(me)),
    ],
    ("GET", "/api/audit"): _plain("/audit?limit=5"),
    # The estate's views (issue 15). Lambda is decided on the caller (a member lists their own
    # functions; another's function, or its metrics, is then 404 as a missing one); the
    # network and IAM users are the organisation's.
    ("GET", "/api/estate/lambda"): lambda s, me: [Try("/estate/lambda", None, Subject.user(me))],
    ("GET", "/api/estate/lambda/{name}"): lambda s, me: [
        Try("/estate/lambda/tally-demo-checkout-api", None, Subject.user(me))
    ],
    ("GET", "/api/estate/metrics"): lambda s, me: [
        Try(
            "/estate/metrics?resourceArn=arn:aws:lambda:us-east-1:123456789012:function:"
            "tally-demo-checkout-api&start=2026-11-10T00:00:00Z&end=2026-11-17T00:00:00Z",
            None,
            Subject.user(me),
        )
    ],
    ("GET", "/api/estate/network"): _plain("/estate/network"),
    ("GET", "/api/estate/iam/users"): _plain("/estate/iam/users"),
    ("GET", "/api/estate/iam/users/{name}"): _plain("/estate/iam/users/demo-ci-old-key"),
    # An IAM user the inventory never read: the admin's mapping of it is 404 (changes nothing).
    ("PUT", "/api/estate/iam/users/{name}/link"): lambda s, me: [
        Try("/estate/iam/users/no-such-iam-user/link", {"userId": me})
    ],
    ("DELETE", "/api/estate/iam/users/{name}/link"): _plain(
        "/estate/iam/users/no-such-iam-user/link"
    ),
    # A preview on alice's demo function (its Owner tag names her): changes nothing.
    ("POST", "/api/estate/actions"): lambda s, me: [
        Try(
            "/estate/actions",
            {
                "action": "lambda:PutFunctionConcurrency",
                "target": "tally-demo-checkout-api",
                "parameters": {"reservedConcurrency": 0},
                "preview": True,
            },
            Subject.user(s.ids["alice"]),
        )
    ],
    # Tax (issue 17), the organisation's: where let through, a rule that overlaps the demo's
    # VAT on payments (409), the end of a rule that does not exist (404) and the settings as
    # the demo has them (the same values again): nothing a later request reads changes.
    ("GET", "/api/tax-rules"): _plain("/tax-rules"),
    ("POST", "/api/tax-rules"): _plain(
        "/tax-rules",
        {
            "name": "VAT",
            "jurisdiction": "DE",
            "rate": "19",
            "unit": "team:payments",
            "effectiveFrom": "2026-01-01",
        },
    ),
    ("POST", "/api/tax-rules/{ruleId}/end"): _plain(
        "/tax-rules/tr-000000000000/end", {"effectiveTo": "2027-01-01"}
    ),
    ("GET", "/api/tax-rules/settings"): _plain("/tax-rules/settings"),
    ("PUT", "/api/tax-rules/settings"): _plain(
        "/tax-rules/settings", {"mode": "add", "rounding": "total"}
    ),
    ("GET", "/api/me"): _plain("/me"),
    ("GET", "/api/openapi.json"): _plain("/openapi.json"),
    ("GET", "/api/notifications"): _plain("/notifications"),
    ("POST", "/api/notifications/read-all"): _plain("/notifications/read-all"),
    ("POST", "/api/notifications/{notificationId}/read"): _plain(
        "/notifications/no-such-note/read"
    ),
    ("POST", "/api/notifications/{notificationId}/unread"): _plain(
        "/notifications/no-such-note/unread"
    ),
    ("GET", "/api/preferences"): _plain("/preferences"),
    # Rates and the billing settings (issue 17): anyone reads; finance and admins write (the
    # manual rate and the display currency the demo already has: nothing changes).
    ("GET", "/api/rates"): _plain("/rates?limit=5"),
    ("POST", "/api/rates"): _plain(
        "/rates", {"date": "2026-11-02", "base": "USD", "quote": "GBP", "rate": "0.79"}
    ),
    ("GET", "/api/settings/billing"): _plain("/settings/billing"),
    ("PUT", "/api/settings/billing"): _plain(
        "/settings/billing", {"currency": {"billingCurrency": "USD"}}
    ),
    ("PUT", "/api/preferences"): _plain("/preferences", {"digest": "off"}),
    ("POST", "/api/preferences/webhook/test"): _plain("/preferences/webhook/test"),
}


# The demo's organisation, as the oracle places people (infra/local/demo.py TEAMS).
def _world(ids: dict[str, str]) -> OrgWorld:
    return OrgWorld(
        parents={"engineering": None, "payments": "engineering", "data": None},
        members={
            "payments": frozenset({ids["alice"], ids["bob"]}),
            "data": frozenset({ids["dave"]}),
        },
    )


def _grants() -> list[tuple[str, str]]:
    roles = catalog()["roles"]
    assert isinstance(roles, dict)
    # Admin is granted at the organisation only (docs/authorization.md).
    return [(r, s) for r in sorted(roles) for s in SCOPES if r != "admin" or s == "org"]


def _person(stack: Stack, name: str, roles: list[dict[str, str]]) -> tuple[str, str]:
    """A new Cognito user (group "users") given ``roles`` by the admin; (user id, token)."""
    password = f"{name.title()}-Matrix-Pass-1"
    user_id = create_user(stack.aws, name, password, role=USER_ROLE)
    # People are made eight at a time, and the local API answers concurrently (containers):
    # every access change is checked against the organisation's version, so a change racing
    # another person's gets 409 "reload and retry" (as two admins at once do in AWS). Retry it.
    for _ in range(10):
        status, body = stack.call(
            stack.admin_token, "PUT", f"/users/{user_id}/roles", {"roles": roles}
        )
        if status != 409:
            break
    assert status == 200, (name, status, body)
    return user_id, sign_in(stack.local_json, name, password)


def test_the_route_table_is_covered() -> None:
    assert set(BUILDERS) | NOT_HERE == set(ROUTES)


def test_every_role_at_every_scope_on_every_route(stack: Stack) -> None:
    grants = _grants()
    with ThreadPoolExecutor(max_workers=8) as pool:
        made = pool.map(
            lambda g: _person(
                stack, f"{g[0]}-{g[1].replace(':', '-')}", [{"roleId": g[0], "scope": g[1]}]
            ),
            grants,
        )
        people = dict(zip(grants, made, strict=True))
    time.sleep(CACHE_SECONDS + 0.5)  # every container's cached view of them has expired
    world = _world(stack.ids)

    def one(job: tuple[tuple[str, str], tuple[str, str], Try]) -> str | None:
        (role, scope), route, attempt = job
        user_id, token = people[(role, scope)]
        rule = ROUTES[route]
        allowed = expected(role, scope, rule, attempt.subject, caller=user_id, world=world)
        refusal = 404 if rule.on is On.ENTITY else 403
        status, body = stack.call(token, route[0], "/" + attempt.path.lstrip("/"), attempt.body)
        where = f"{role}@{scope} {route[0]} {attempt.path}"
        if allowed and status in (403, refusal):
            return f"{where}: allowed by the table, answered {status} {body}"
        if not allowed and status != refusal:
            return f"{where}: refused by the table, answered {status}"
        refused_as_before = isinstance(body, dict) and body.get("detail") in FORBIDDEN_DETAILS
        if not allowed and refusal == 403 and not refused_as_before:
            return f"{where}: refused with another body: {body}"
        if status >= 500:
            return f"{where}: server error {status} {body}"
        return None

    jobs = [
        (grant, route, attempt)
        for grant in people
        for route, build in sorted(BUILDERS.items())
        for attempt in build(stack, people[grant][0])
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        wrong = [w for w in pool.map(one, jobs) if w]
    assert not wrong, "\n".join(wrong)


def test_admin_is_granted_at_the_organisation_only(stack: Stack) -> None:
    user_id = create_user(stack.aws, "would-be-admin", "Would-Be-Admin-Pass-1", role=USER_ROLE)
    for scope in ("team:payments", "self"):
        status, body = stack.call(
            stack.admin_token,
            "PUT",
            f"/users/{user_id}/roles",
            {"roles": [{"roleId": "admin", "scope": scope}]},
        )
        assert status == 422, (scope, body)


def test_a_revoked_role_stops_working_within_the_cache_time(stack: Stack) -> None:
    user_id, token = _person(stack, "revoked-finance", [{"roleId": "finance", "scope": "org"}])
    time.sleep(CACHE_SECONDS + 0.5)
    assert stack.call(token, "GET", "/billing/all-users")[0] == 200

    # When the admin takes finance away (the token stays the same)
    status, body = stack.call(
        stack.admin_token,
        "PUT",
        f"/users/{user_id}/roles",
        {"roles": [{"roleId": "member", "scope": "self"}]},
    )
    assert status == 200, body
    time.sleep(CACHE_SECONDS + 0.5)

    # Then the next request after the cache time is refused, with the usual body
    status, body = stack.call(token, "GET", "/billing/all-users")
    assert status == 403 and body["detail"] in FORBIDDEN_DETAILS
    assert stack.call(token, "GET", f"/billing/user/{user_id}/summary")[0] == 200
