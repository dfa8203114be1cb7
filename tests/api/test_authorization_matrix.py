"""Every route x {anonymous, owner, other user, admin}.

The routes are read from the API's own OpenAPI document: a route added without a row here
fails ``test_every_route_has_a_row``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pytest

from tally.identity import Caller
from tests.api.conftest import FakeChannels
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api, World

Request = Callable[[World], tuple[str, dict[str, Any]]]  # url, call kwargs


@dataclass(frozen=True)
class Row:
    request: Request
    anonymous: int
    owner: int
    other: int
    admin: int


def body(payload: dict[str, Any]) -> dict[str, Any]:
    return {"body": payload}


# The owner is always alice; "other" is bob; the admin acts on alice's data.
MATRIX: dict[tuple[str, str], Row] = {
    ("POST", "/api/billing/assign-resource"): Row(
        lambda w: (
            "/api/billing/assign-resource",
            body(
                {"userId": "u-alice", "resourceType": "ec2", "resourceId": w.demo.instance_ids[1]}
            ),
        ),
        # A user asking for themselves makes a claim (the instance is unowned: held, 202).
        401,
        202,
        403,
        201,
    ),
    ("POST", "/api/billing/claims"): Row(
        lambda w: (
            "/api/billing/claims",
            body({"resourceType": "ec2", "resourceId": w.demo.instance_ids[2]}),
        ),
        # Anyone signed in may claim; an admin's claim is approved at once (still 201).
        401,
        201,
        201,
        201,
    ),
    ("GET", "/api/billing/claims"): Row(
        lambda w: ("/api/billing/claims?view=to-approve", {}), 401, 200, 200, 200
    ),
    # Bob claims alice's instance: alice (its owner) and the admin decide; bob, the claimant,
    # sees it but may not decide it (403). A stranger's 404 is in tests/api/test_claims.py.
    **{
        ("POST", f"/api/billing/claims/{{claimId}}/{decision}"): Row(
            lambda w, decision=decision: (
                f"/api/billing/claims/{pending_claim(w)}/{decision}",
                {},
            ),
            401,
            200,
            403,
            200,
        )
        for decision in ("approve", "reject")
    },
    ("GET", "/api/billing/user/{userId}/resources"): Row(
        lambda w: ("/api/billing/user/u-alice/resources", {}), 401, 200, 403, 200
    ),
    ("DELETE", "/api/billing/unassign/{assignmentId}"): Row(
        lambda w: (f"/api/billing/unassign/{w.assignment_id}", {}), 401, 204, 404, 204
    ),
    ("POST", "/api/billing/budgets"): Row(
        lambda w: (
            "/api/billing/budgets",
            body({"userId": "u-bob", "monthlyLimit": "10", "alertThreshold": 80}),
        ),
        # bob creating his own budget is the owner case here; alice creating bob's is "other".
        401,
        201,
        403,
        201,
    ),
    ("GET", "/api/billing/budgets/{userId}"): Row(
        lambda w: ("/api/billing/budgets/u-alice", {}), 401, 200, 403, 200
    ),
    ("PUT", "/api/billing/budgets/{budgetId}"): Row(
        lambda w: (f"/api/billing/budgets/{w.budget_id}", body({"monthlyLimit": "55.50"})),
        401,
        200,
        404,
        200,
    ),
    ("GET", "/api/billing/user/{userId}/costs"): Row(
        lambda w: ("/api/billing/user/u-alice/costs", {}), 401, 200, 403, 200
    ),
    ("GET", "/api/billing/user/{userId}/cost-lines"): Row(
        lambda w: ("/api/billing/user/u-alice/cost-lines", {}), 401, 200, 403, 200
    ),
    ("GET", "/api/billing/user/{userId}/summary"): Row(
        lambda w: ("/api/billing/user/u-alice/summary", {}), 401, 200, 403, 200
    ),
    ("GET", "/api/billing/user/{userId}/month-over-month"): Row(
        lambda w: ("/api/billing/user/u-alice/month-over-month?month=2026-10", {}),
        401,
        200,
        403,
        200,
    ),
    ("GET", "/api/billing/all-users"): Row(
        lambda w: ("/api/billing/all-users", {}), 401, 403, 403, 200
    ),
    **{
        ("GET", f"/api/billing/{scope}/{what}"): Row(
            lambda w, scope=scope, what=what: (f"/api/billing/{scope}/{what}", {}),
            401,
            403,
            403,
            200,
        )
        for scope in ("organisation", "unallocated")
        for what in ("costs", "cost-lines")
    },
    # The chargeback covers the whole organisation (costs:read there).
    ("GET", "/api/billing/organisation/chargeback"): Row(
        lambda w: ("/api/billing/organisation/chargeback?month=2026-10", {}), 401, 403, 403, 200
    ),
    # Its ledger journal is read as the chargeback is.
    ("GET", "/api/billing/organisation/chargeback/journal"): Row(
        lambda w: ("/api/billing/organisation/chargeback/journal?month=2026-10", {}),
        401,
        403,
        403,
        200,
    ),
    ("GET", "/api/me"): Row(lambda w: ("/api/me", {}), 401, 200, 200, 200),
    # Notifications and preferences are the caller's own: nobody, admins included, can name
    # another user's (their notification ids are 404, as missing ones).
    ("GET", "/api/notifications"): Row(lambda w: ("/api/notifications", {}), 401, 200, 200, 200),
    ("POST", "/api/notifications/read-all"): Row(
        lambda w: ("/api/notifications/read-all", {}), 401, 200, 200, 200
    ),
    **{
        ("POST", f"/api/notifications/{{notificationId}}/{mark}"): Row(
            lambda w, mark=mark: (f"/api/notifications/{alice_notification(w)}/{mark}", {}),
            401,
            200,
            404,
            404,
        )
        for mark in ("read", "unread")
    },
    ("GET", "/api/preferences"): Row(lambda w: ("/api/preferences", {}), 401, 200, 200, 200),
    ("PUT", "/api/preferences"): Row(
        lambda w: ("/api/preferences", body({"digest": "daily"})), 401, 200, 200, 200
    ),
    # Alice has a webhook; bob and the admin have none of their own (409), and nobody can test
    # anyone else's.
    ("POST", "/api/preferences/webhook/test"): Row(
        lambda w: (alice_webhook("/api/preferences/webhook/test"), {}), 401, 204, 409, 409
    ),
    # Public: the signed token in the link authorises, whoever follows it (signed in or not),
    # and only for the token's user (alice here). GET changes nothing; POST turns her digest
    # off. Altered, expired and missing tokens: test_unsubscribe_tokens below.
    **{
        (method, "/api/unsubscribe"): Row(
            lambda w: (f"/api/unsubscribe?token={alice_unsubscribe_token()}", {}),
            200,
            200,
            200,
            200,
        )
        for method in ("GET", "POST")
    },
    # Public, for uptime checks: the same data-free answer to anyone.
    ("GET", "/api/health"): Row(lambda w: ("/api/health", {}), 200, 200, 200, 200),
    ("GET", "/api/openapi.json"): Row(lambda w: ("/api/openapi.json", {}), 401, 200, 200, 200),
    # Exports and invoices: alice's own, anyone's for the admin; another user's job is 404
    # (as a budget), whether it exists or not. (reports_queue below: where POSTs are queued.)
    ("POST", "/api/exports"): Row(
        lambda w: (
            "/api/exports",
            body(
                {
                    "kind": "costs",
                    "startDate": "2026-11-01",
                    "endDate": "2026-11-19",
                    "userId": "u-alice",
                }
            ),
        ),
        401,
        202,
        403,
        202,
    ),
    ("GET", "/api/exports/{exportId}"): Row(
        lambda w: (f"/api/exports/{alice_job('export')}", {}), 401, 200, 404, 200
    ),
    ("POST", "/api/invoices"): Row(
        lambda w: ("/api/invoices", body({"userId": "u-alice", "month": "2026-10"})),
        401,
        202,
        403,
        202,
    ),
    ("GET", "/api/invoices/{invoiceId}"): Row(
        lambda w: (f"/api/invoices/{alice_job('invoice')}", {}), 401, 200, 404, 200
    ),
    # Payments: issuing an invoice to the provider is finance's and admins' (payments:issue at
    # the organisation); payments are off here, so the admin is told so (409). The provider's
    # webhook is public (its signature authorises) and absent while payments are off (404).
    # Issued, paid, replayed and forged: tests/payments/test_payments_api.py.
    ("POST", "/api/invoices/{invoiceId}/payment"): Row(
        lambda w: (f"/api/invoices/{alice_job('invoice')}/payment", {}), 401, 403, 403, 409
    ),
    ("POST", "/api/payments/stripe/webhook"): Row(
        lambda w: ("/api/payments/stripe/webhook", {"raw_body": "{}"}), 404, 404, 404, 404
    ),
    # Anomalies: alice's own list (bob asking for hers: 403), anyone's for the admin; another
    # user's anomaly id is 404, as a missing one.
    ("GET", "/api/anomalies"): Row(
        lambda w: ("/api/anomalies?userId=u-alice", {}), 401, 200, 403, 200
    ),
    ("PATCH", "/api/anomalies/{anomalyId}"): Row(
        lambda w: (f"/api/anomalies/{alice_anomaly()}", body({"status": "acknowledged"})),
        401,
        200,
        404,
        200,
    ),
    # Recommendations: alice's own (bob asking for hers: 403), anyone's for the admin.
    ("GET", "/api/recommendations"): Row(
        lambda w: ("/api/recommendations?userId=u-alice", {}), 401, 200, 403, 200
    ),
    # Reserved capacity (issue 17): the organisation's, finance and admins only.
    ("GET", "/api/commitments"): Row(lambda w: ("/api/commitments", {}), 401, 403, 403, 200),
    ("GET", "/api/commitments/recommendations"): Row(
        lambda w: ("/api/commitments/recommendations", {}), 401, 403, 403, 200
    ),
    # The estate (issue 15): a member lists their own functions (none here: an empty list),
    # a function nobody cached is 404 to everyone with estate:read; the network and IAM
    # users are the organisation's (estate:read / estate:iam:read at org).
    ("GET", "/api/estate/lambda"): Row(lambda w: ("/api/estate/lambda", {}), 401, 200, 200, 200),
    ("GET", "/api/estate/lambda/{name}"): Row(
        lambda w: ("/api/estate/lambda/nothing-cached", {}), 401, 404, 404, 404
    ),
    ("GET", "/api/estate/network"): Row(lambda w: ("/api/estate/network", {}), 401, 403, 403, 200),
    ("GET", "/api/estate/iam/users"): Row(
        lambda w: ("/api/estate/iam/users", {}), 401, 403, 403, 200
    ),
    ("GET", "/api/estate/iam/users/{name}"): Row(
        lambda w: ("/api/estate/iam/users/nobody", {}), 401, 403, 403, 404
    ),
    # Mapping an IAM user to a Tally user is the admin's (estate:iam:link at org); an IAM
    # user the inventory has not read is 404 to them (a mapped one: tests/api/test_estate_views).
    ("PUT", "/api/estate/iam/users/{name}/link"): Row(
        lambda w: ("/api/estate/iam/users/nobody/link", body({"userId": "u-alice"})),
        401,
        403,
        403,
        404,
    ),
    ("DELETE", "/api/estate/iam/users/{name}/link"): Row(
        lambda w: ("/api/estate/iam/users/nobody/link", {}), 401, 403, 403, 404
    ),
    # A resource's metrics panel: alice owns instance 0 (its assignment), bob does not (404,
    # as for a resource that is not there); the admin reads the organisation's.
    ("GET", "/api/estate/metrics"): Row(
        lambda w: (
            "/api/estate/metrics?resourceArn=arn:aws:ec2:us-east-1:123456789012:instance/"
            f"{w.demo.instance_ids[0]}&start=2026-11-19T00:00:00Z&end=2026-11-20T00:00:00Z",
            {},
        ),
        401,
        200,
        404,
        200,
    ),
}

# A team's budget and month (issue 13): the owner, alice, manages "payments" (bob is only a
# member, which gives no team budget or team cost); the team and its budget are made first.
MATRIX.update(
    {
        ("GET", "/api/billing/budgets/team/{teamId}"): Row(
            lambda w: (payments_team("/api/billing/budgets/team/payments"), {}), 401, 200, 403, 200
        ),
        ("GET", "/api/billing/team/{teamId}/summary"): Row(
            lambda w: (payments_team("/api/billing/team/payments/summary"), {}), 401, 200, 403, 200
        ),
    }
)


def payments_team(url: str) -> str:
    """Team "payments" (alice manages it; alice and bob are members) with a budget: ``url``."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from api import context
    from tally.models import AuditEntry, Budget, BudgetTerms
    from tally.org.model import Team, team_owner

    stores = context.stores()
    at = datetime(2026, 11, 1, tzinfo=UTC)
    team = Team(
        "payments",
        "Payments",
        members=frozenset({"u-alice", "u-bob"}),
        managers=frozenset({"u-alice"}),
    )
    previous = stores.access.get_team("payments")
    if previous is None:
        audit = AuditEntry(team_owner("payments"), at, "u-admin", "team.created", "payments", {})
        stores.access.save_team(team, previous=None, snapshot=stores.access.snapshot(), audit=audit)
    owner = team_owner("payments")
    if stores.budgets.get_for_user(owner) is None:
        terms = BudgetTerms("2026-11", Decimal(100), 80, "USD")
        stores.budgets.create(
            Budget("b-payments", owner, Decimal(100), 80, "USD", at, at, 0, (terms,)),
            AuditEntry(owner, at, "u-admin", "budget.created", "b-payments", {}),
        )
    return url


# A cost center's budget and month: it spans teams, so only the organisation's readers see
# them. Alice manages "ledger", the team naming CC-100, and still may not (403 as bob).
MATRIX.update(
    {
        ("GET", "/api/billing/budgets/cost-center/{costCenter}"): Row(
            lambda w: (cost_center("/api/billing/budgets/cost-center/CC-100"), {}),
            401,
            403,
            403,
            200,
        ),
        ("GET", "/api/billing/cost-center/{costCenter}/summary"): Row(
            lambda w: (cost_center("/api/billing/cost-center/CC-100/summary"), {}),
            401,
            403,
            403,
            200,
        ),
    }
)


def cost_center(url: str) -> str:
    """Team "ledger" (cost center CC-100; alice manages it) and CC-100's budget: ``url``."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from api import context
    from tally.models import AuditEntry, Budget, BudgetTerms
    from tally.org.model import Team, cost_center_owner, team_owner

    stores = context.stores()
    at = datetime(2026, 11, 1, tzinfo=UTC)
    if stores.access.get_team("ledger") is None:
        team = Team(
            "ledger",
            "Ledger",
            cost_center="CC-100",
            members=frozenset({"u-alice"}),
            managers=frozenset({"u-alice"}),
        )
        audit = AuditEntry(team_owner("ledger"), at, "u-admin", "team.created", "ledger", {})
        stores.access.save_team(team, previous=None, snapshot=stores.access.snapshot(), audit=audit)
    owner = cost_center_owner("CC-100")
    if stores.budgets.get_for_user(owner) is None:
        terms = BudgetTerms("2026-11", Decimal(100), 80, "USD")
        stores.budgets.create(
            Budget("b-cc-100", owner, Decimal(100), 80, "USD", at, at, 0, (terms,)),
            AuditEntry(owner, at, "u-admin", "budget.created", "b-cc-100", {}),
        )
    return url


# Roles, teams, people's roles and the audit log (issue 13): alice is a member of team "data"
# (bob is not) and the admin made custom role "viewer" first.
MATRIX.update(
    {
        ("GET", "/api/roles"): Row(lambda w: ("/api/roles", {}), 401, 403, 403, 200),
        ("POST", "/api/roles"): Row(
            lambda w: ("/api/roles", body({"name": "Made", "permissions": ["costs:read"]})),
            401,
            403,
            403,
            201,
        ),
        ("GET", "/api/roles/{roleId}"): Row(
            lambda w: (viewer_role("/api/roles/viewer"), {}), 401, 403, 403, 200
        ),
        ("PUT", "/api/roles/{roleId}"): Row(
            lambda w: (
                viewer_role("/api/roles/viewer"),
                body({"name": "Viewer", "permissions": ["budgets:read"]}),
            ),
            401,
            403,
            403,
            200,
        ),
        ("DELETE", "/api/roles/{roleId}"): Row(
            lambda w: (viewer_role("/api/roles/viewer"), {}), 401, 403, 403, 204
        ),
        ("GET", "/api/teams"): Row(lambda w: ("/api/teams", {}), 401, 200, 200, 200),
        ("POST", "/api/teams"): Row(
            lambda w: ("/api/teams", body({"name": "Made"})), 401, 403, 403, 201
        ),
        ("GET", "/api/teams/{teamId}"): Row(
            lambda w: (data_team("/api/teams/data"), {}), 401, 200, 403, 200
        ),
        ("PUT", "/api/teams/{teamId}"): Row(
            lambda w: (
                data_team("/api/teams/data"),
                body({"name": "Data", "members": ["u-alice"]}),
            ),
            401,
            403,
            403,
            200,
        ),
        # The display currency: alice is a member of data, not its manager (403).
        ("PATCH", "/api/teams/{teamId}"): Row(
            lambda w: (data_team("/api/teams/data"), body({"displayCurrency": "GBP"})),
            401,
            403,
            403,
            200,
        ),
        ("DELETE", "/api/teams/{teamId}"): Row(
            lambda w: (data_team("/api/teams/data"), {}), 401, 403, 403, 204
        ),
        ("GET", "/api/users/{userId}/roles"): Row(
            lambda w: ("/api/users/u-alice/roles", {}), 401, 403, 403, 200
        ),
        ("PUT", "/api/users/{userId}/roles"): Row(
            lambda w: (
                "/api/users/u-alice/roles",
                body({"roles": [{"roleId": "member", "scope": "self"}]}),
            ),
            401,
            403,
            403,
            200,
        ),
        # Someone else's effective access is 404 without roles:read, as a missing user's.
        ("GET", "/api/users/{userId}/access"): Row(
            lambda w: ("/api/users/u-alice/access", {}), 401, 200, 404, 200
        ),
        ("GET", "/api/audit"): Row(lambda w: ("/api/audit", {}), 401, 403, 403, 200),
    }
)

# The estate's actions (issue 15): a preview on alice's function (its Owner tag names her).
# Hers to manage (member); bob's refusal is 403, the same as for any other resource.
MATRIX.update(
    {
        ("POST", "/api/estate/actions"): Row(
            lambda w: (
                alice_function("/api/estate/actions"),
                body(
                    {
                        "action": "lambda:PutFunctionConcurrency",
                        "target": "alice-fn",
                        "parameters": {"reservedConcurrency": 0},
                        "preview": True,
                    }
                ),
            ),
            401,
            200,
            403,
            200,
        ),
    }
)

# Tax rules and settings (issue 17): the organisation's, finance's and admins' alone; a
# member is 403 whatever the rule. Ending needs a rule: the admin's VAT, made first.
MATRIX.update(
    {
        ("GET", "/api/tax-rules"): Row(lambda w: ("/api/tax-rules", {}), 401, 403, 403, 200),
        ("POST", "/api/tax-rules"): Row(
            lambda w: (
                "/api/tax-rules",
                body(
                    {
                        "name": "VAT",
                        "jurisdiction": "DE",
                        "rate": "19",
                        "unit": "costCenter:CC-MATRIX",
                        "effectiveFrom": "2026-11-01",
                    }
                ),
            ),
            401,
            403,
            403,
            201,
        ),
        ("POST", "/api/tax-rules/{ruleId}/end"): Row(
            lambda w: (
                f"/api/tax-rules/{org_vat()}/end",
                body({"effectiveTo": "2027-01-01"}),
            ),
            401,
            403,
            403,
            200,
        ),
        ("GET", "/api/tax-rules/settings"): Row(
            lambda w: ("/api/tax-rules/settings", {}), 401, 403, 403, 200
        ),
        ("PUT", "/api/tax-rules/settings"): Row(
            lambda w: ("/api/tax-rules/settings", body({"mode": "add", "rounding": "line"})),
            401,
            403,
            403,
            200,
        ),
    }
)


def org_vat() -> str:
    """The organisation's 19% VAT from 1 January 2026 (made once): its rule id."""
    from datetime import date
    from decimal import Decimal

    from api import context
    from tally.tax.model import TaxRule, Unit

    store = context.stores().tax
    found = store.rules()
    existing = next((r for r in found.rules if r.unit == Unit.org()), None)
    if existing is not None:
        return existing.rule_id
    made = TaxRule("tr-00000000a1a1", "VAT", "DE", Decimal(19), Unit.org(), date(2026, 1, 1), None)
    store.save_rule(made, read_at=found.revision, audit=_org_audit("tax:org", "tax.rule", "vat"))
    return made.rule_id


ESTATE_ACCOUNT = "123456789012"


@pytest.fixture(autouse=True)
def estate_actions_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every action family on, run in process (the local demo's settings)."""
    monkeypatch.setenv("TALLY_ESTATE_ACTIONS", "all")
    monkeypatch.setenv("TALLY_ESTATE_ACCOUNT", ESTATE_ACCOUNT)
    monkeypatch.setenv("TALLY_ESTATE_IN_PROCESS", "true")
    monkeypatch.setenv("TALLY_ESTATE_ALARM_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:a")


def alice_function(url: str) -> str:
    """Function "alice-fn" in the estate cache, tagged Owner=alice: ``url``."""
    from api import context
    from tally.estate.inventory import function_record, scope_of
    from tally.estate.models import LambdaFunction
    from tests.conftest import NOW

    function = LambdaFunction(
        name="alice-fn",
        arn=f"arn:aws:lambda:us-east-1:{ESTATE_ACCOUNT}:function:alice-fn",
        region="us-east-1",
        runtime="python3.12",
        architecture="arm64",
        memory=256,
        timeout=10,
        last_modified="2026-11-01T00:00:00.000+0000",
        reserved_concurrency=5,
        tags={"Owner": "alice"},
    )
    context.stores().estate.put(
        scope_of(ESTATE_ACCOUNT, "us-east-1", "lambda"), function_record(function, NOW)
    )
    return url


def viewer_role(url: str) -> str:
    """Custom role "viewer" (costs:read), made by the admin: ``url``."""
    from api import context
    from tally.org.model import RoleDef

    access = context.stores().access
    snapshot = access.snapshot()
    if "viewer" not in snapshot.roles:
        access.save_role(
            RoleDef("viewer", "Viewer", "", frozenset({"costs:read"})),
            previous=None,
            snapshot=snapshot,
            audit=_org_audit("role:viewer", "role.created", "viewer"),
        )
    return url


def data_team(url: str) -> str:
    """Team "data", alice its one member: ``url``."""
    from api import context
    from tally.org.model import Team

    access = context.stores().access
    if access.get_team("data") is None:
        access.save_team(
            Team("data", "Data", members=frozenset({"u-alice"})),
            previous=None,
            snapshot=access.snapshot(),
            audit=_org_audit("team:data", "team.created", "data"),
        )
    return url


def _org_audit(subject: str, action: str, entity_id: str) -> Any:
    from datetime import UTC, datetime

    from tally.models import AuditEntry

    return AuditEntry(subject, datetime(2026, 11, 1, tzinfo=UTC), "u-admin", action, entity_id, {})


@pytest.fixture(autouse=True)
def reports_queue(moto_module: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reports queue and bucket the export and invoice routes use, in this module's moto."""
    import uuid

    import boto3

    from api import downloads

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"matrix-reports-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    monkeypatch.setenv("TALLY_REPORTS_QUEUE_URL", url)
    monkeypatch.setenv("TALLY_REPORTS_BUCKET", "matrix-exports")
    downloads._queue.cache_clear()
    downloads._signer.cache_clear()


def alice_job(kind: str) -> str:
    """A ready export or invoice alice asked for."""
    import uuid
    from datetime import UTC, datetime

    from api import context
    from tally.models import JobStatus, ReportJob

    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    job_id = str(uuid.uuid4())
    context.stores().report_jobs.create(
        ReportJob(
            job_id=job_id,
            kind=kind,
            requester_id="u-alice",
            params={"kind": "costs", "startDate": "2026-11-01", "endDate": "2026-11-19"}
            if kind == "export"
            else {"userId": "u-alice", "month": "2026-10", "email": "false"},
            status=JobStatus.PENDING,
            created_at=at,
            updated_at=at,
        )
    )
    context.stores().report_jobs.complete(
        job_id, object_key=f"reports/{kind}s/u-alice/{job_id}", rows=1, details={}, at=at
    )
    return job_id


def alice_anomaly() -> str:
    """An open anomaly of alice's (her notebook's spike)."""
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from api import context
    from tally.anomalies.model import Anomaly, AnomalyStatus, anomaly_id, cause_key

    at = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    day = date(2026, 11, 8)
    cause = cause_key("AmazonEC2", "i-alice", "USD")
    made = Anomaly(
        anomaly_id=anomaly_id("u-alice", day, cause),
        user_id="u-alice",
        day=day,
        last_day=day,
        service="AmazonEC2",
        resource_id="i-alice",
        usage_unit="Hrs",
        currency="USD",
        expected=Decimal("5.50"),
        actual=Decimal("33.00"),
        score=Decimal("40"),
        status=AnomalyStatus.OPEN,
        detected_at=at,
        updated_at=at,
    )
    context.stores().anomalies.create(made)
    return made.anomaly_id


def pending_claim(w: World) -> str:
    """Bob's pending claim of alice's instance (instance 0, assigned to her)."""
    from api import context
    from tally import claims
    from tally.view import View

    made = claims.create_claim(
        View(BOB, context.stores(), context.today()),
        claims.ClaimRequest("ec2", w.demo.instance_ids[0]),
        catalog=context.resource_catalog(),
        policy=claims.ClaimPolicy(org_accounts=frozenset({"123456789012"})),
    )
    return made.claim_id


def alice_notification(w: World) -> str:
    """An unread notification of alice's; its id as a path segment ("#" percent-encoded)."""
    from datetime import UTC, datetime

    from api import context
    from tally.models import Notification

    context.stores().notifications.add(
        Notification(
            notification_id="2026-11#threshold",
            user_id="u-alice",
            kind="threshold",
            title="You have used 80% of your November AWS budget",
            body="$80.00 of $100.00",
            link="#/budget",
            created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        )
    )
    return "2026-11%23threshold"


def alice_webhook(url: str) -> str:
    """Alice's webhook, sealed by the fake box the matrix runs with (``fake_channels``)."""
    from api import channels, context
    from tally.models import Preferences, StoredWebhook

    sealed = channels.secret_box().seal(
        "https://hooks.slack.com/services/T/B/x9Qa", user_id="u-alice"
    )
    context.stores().preferences.put(
        Preferences(
            "u-alice", webhook=StoredWebhook(sealed, "https://hooks.slack.com/…/x9Qa", "slack")
        )
    )
    return url


def alice_unsubscribe_token() -> str:
    from urllib.parse import quote

    from api import channels
    from tally.clock import utc_now

    return quote(channels.unsubscribe_signer().sign("u-alice", now=utc_now()), safe="")


# Invoice templates (issue 17): finance's and the admins' (invoices:templates at the
# organisation); members, alice and bob alike, are refused. The organisation's template is
# made first; the admin creates team "data"'s.
MATRIX.update(
    {
        ("GET", "/api/invoice-templates"): Row(
            lambda w: (org_template("/api/invoice-templates"), {}), 401, 403, 403, 200
        ),
        ("POST", "/api/invoice-templates"): Row(
            lambda w: (
                data_team("/api/invoice-templates"),
                body({"teamId": "data", "name": "Data invoices"}),
            ),
            401,
            403,
            403,
            201,
        ),
        ("GET", "/api/invoice-templates/{templateId}"): Row(
            lambda w: (org_template("/api/invoice-templates/org"), {}), 401, 403, 403, 200
        ),
        ("PUT", "/api/invoice-templates/{templateId}"): Row(
            lambda w: (
                org_template("/api/invoice-templates/org"),
                body({"name": "Renamed", "version": 1}),
            ),
            401,
            403,
            403,
            200,
        ),
        ("POST", "/api/invoice-templates/{templateId}/preview"): Row(
            lambda w: (org_template("/api/invoice-templates/org/preview"), {}),
            401,
            403,
            403,
            200,
        ),
    }
)


def org_template(url: str) -> str:
    """The organisation's invoice template, version 1, made by the admin: ``url``."""
    from api import context
    from tally.invoice_templates.model import InvoiceTemplate, TemplateContent
    from tests.conftest import NOW

    store = context.stores().invoice_templates
    if store.get("org") is None:
        made = InvoiceTemplate("org", 1, TemplateContent(name="Org"), NOW, "u-admin")
        store.save(made, _org_audit("invoice-template:org", "invoice-template.created", "org"))
    return url


# Exchange rates and the billing settings (issue 17): reference data anyone signed in reads;
# a manual rate and a settings change are finance's and admins' (rates:write,
# billing:settings at the organisation).
MATRIX.update(
    {
        ("GET", "/api/rates"): Row(lambda w: ("/api/rates", {}), 401, 200, 200, 200),
        ("POST", "/api/rates"): Row(
            lambda w: (
                "/api/rates",
                body({"date": "2026-11-02", "base": "USD", "quote": "GBP", "rate": "0.79"}),
            ),
            401,
            403,
            403,
            201,
        ),
        ("GET", "/api/settings/billing"): Row(
            lambda w: ("/api/settings/billing", {}), 401, 200, 200, 200
        ),
        ("PUT", "/api/settings/billing"): Row(
            lambda w: ("/api/settings/billing", body({"currency": {"displayCurrency": "EUR"}})),
            401,
            403,
            403,
            200,
        ),
    }
)


# For the budget-creation row the data belongs to bob: the owner is bob, the other is alice.
OWNER_OVERRIDE = {("POST", "/api/billing/budgets"): (BOB, ALICE)}


def test_every_route_has_a_row() -> None:
    from api.openapi import document

    documented = {
        (method.upper(), path)
        for path, ops in document()["paths"].items()
        for method in ops
        if method.upper() in {"GET", "POST", "PUT", "DELETE", "PATCH"}
    }
    assert documented == set(MATRIX), "every route needs a row in the authorization matrix"


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
@pytest.mark.parametrize("who", ["anonymous", "owner", "other", "admin"])
def test_matrix(
    api: Api, world: World, fake_channels: FakeChannels, route: tuple[str, str], who: str
) -> None:
    row = MATRIX[route]
    owner, other = OWNER_OVERRIDE.get(route, (ALICE, BOB))
    callers: dict[str, Caller | None] = {
        "anonymous": None,
        "owner": owner,
        "other": other,
        "admin": ADMIN,
    }
    url, kwargs = row.request(world)
    before = _state(api)
    reply = api.call(route[0], url, callers[who], **kwargs)
    assert reply.status == getattr(row, who), reply.body
    if reply.status >= 400:
        assert reply.problem["status"] == reply.status
        assert _state(api) == before, "a refused request changed stored data"


def _state(api: Api) -> tuple[object, ...]:
    s = api.stores
    return (
        sorted(a.assignment_id for a in s.assignments.all()),
        [s.budgets.get_for_user(u) for u in ("u-alice", "u-bob")],
        [s.preferences.get(u) for u in ("u-alice", "u-bob", "u-admin")],
        s.notifications.list("u-alice", limit=100, start_key=None).items,
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("who", ["anonymous", "owner", "other", "admin"])
def test_unsubscribe_tokens(api: Api, fake_channels: FakeChannels, method: str, who: str) -> None:
    """Whoever calls, signed in or not: an altered, expired or missing token is refused on
    ``token`` and changes nothing; another user's token acts for that user only."""
    from dataclasses import replace
    from datetime import timedelta
    from urllib.parse import quote

    from tally.clock import utc_now
    from tally.models import DigestCadence, Preferences

    caller = {"anonymous": None, "owner": ALICE, "other": BOB, "admin": ADMIN}[who]
    for user in ("u-alice", "u-bob"):
        api.stores.preferences.put(Preferences(user, digest=DigestCadence.DAILY))
    now = utc_now()
    good = fake_channels.signer.sign("u-alice", now=now)
    for token in (
        good[:-2] + ("xy" if not good.endswith("xy") else "yz"),
        fake_channels.signer.sign("u-alice", now=now - timedelta(days=30, seconds=1)),
        None,
    ):
        before = _state(api)
        target = "/api/unsubscribe" + (f"?token={quote(token, safe='')}" if token else "")
        reply = api.call(method, target, caller)
        assert reply.status == 422, reply.body
        assert [e["field"] for e in reply.problem["errors"]] == ["token"]
        assert _state(api) == before
    reply = api.call(method, f"/api/unsubscribe?token={quote(good, safe='')}", caller)
    assert reply.status == 200
    alice, bob = (api.stores.preferences.get(u) for u in ("u-alice", "u-bob"))
    assert alice is not None and bob is not None
    assert alice.digest is (DigestCadence.OFF if method == "POST" else DigestCadence.DAILY)
    assert bob == replace(bob, digest=DigestCadence.DAILY)  # whoever the caller was


def test_other_users_id_gets_the_same_refusal_whether_it_exists_or_not(api: Api) -> None:
    real = api.call("GET", "/api/billing/user/u-bob/summary", ALICE)
    ghost = api.call("GET", "/api/billing/user/u-nobody/summary", ALICE)
    assert (real.status, ghost.status) == (403, 403)
    assert {k: v for k, v in real.body.items() if k != "instance"} == {
        k: v for k, v in ghost.body.items() if k != "instance"
    }


@pytest.mark.parametrize(
    "groups", ["admins-readonly", "[users]", "Admins", "xadmins", "users,admin"]
)
def test_admin_group_is_matched_exactly(api: Api, groups: str) -> None:
    caller = Caller("u-eve", "eve", None, frozenset({groups}))
    assert api.call("GET", "/api/billing/all-users", caller).status == 403


@pytest.mark.parametrize("reserved", ["ORG", "UNALLOCATED"])
@pytest.mark.parametrize(
    "what", ["costs", "cost-lines", "summary", "resources", "month-over-month"]
)
def test_organisation_owners_are_not_user_ids(api: Api, reserved: str, what: str) -> None:
    """The organisation's figures have routes of their own; as a user id they are refused
    for everyone, admins included, the same way whatever the caller."""
    for caller in (ALICE, ADMIN):
        reply = api.call("GET", f"/api/billing/user/{reserved}/{what}", caller)
        assert reply.status == 422, reply.body
        assert reply.problem["errors"][0]["field"] == "userId"
        assert reply.problem["errors"][0]["message"].startswith("not a user id")


# --- role x scope x route, from the route table ---------------------------------------------
# A world with teams: alice and bob in "payments", carol in "data". The caller is carol, holding
# exactly one built-in role at one scope (admin only at the organisation: it cannot be granted
# elsewhere). Each row's request acts on the data of the row's owner (alice; bob for budget
# creation): the oracle (tests/authz_oracle.py) says from roles.json and the route table
# whether carol gets through; the API must agree, refusing with the usual 403 body (404 for an
# entity addressed by its own id) and changing nothing when it refuses.

CAROL = Caller("u-carol", "carol", "carol@example.com", frozenset({"users"}))
TEAMS = {"payments": frozenset({"u-alice", "u-bob"}), "data": frozenset({"u-carol"})}
SCOPES = ("org", "team:payments", "self")


def _grants() -> list[tuple[str, str]]:
    from tests.authz_oracle import catalog

    # Admin last: what it may do (approve the row's claim, end the row's assignment) would
    # leave nothing for the roles after it to be refused.
    roles = sorted(catalog()["roles"], key=lambda role: (role == "admin", role))
    return [
        (role, scope) for role in roles for scope in SCOPES if role != "admin" or scope == "org"
    ]


class OneGrantSource:
    """The access store of that world, with carol holding only ``grant``."""

    def __init__(self, role_id: str, scope: str, version: int) -> None:
        from tally.org.model import AccessProfile, Grant, OrgSnapshot, Scope, TeamKind, TeamNode

        grant = Grant(role_id, Scope.parse(scope))
        self._snapshot = OrgSnapshot(
            teams={t: TeamNode(t, t.title(), TeamKind.TEAM, None, None) for t in TEAMS},
            admins=frozenset({CAROL.user_id}) if role_id == "admin" else frozenset(),
            version=version,
        )
        self._profiles = {
            user: AccessProfile(
                user,
                grants=(grant,) if user == CAROL.user_id else None,
                teams=frozenset(t for t, people in TEAMS.items() if user in people),
            )
            for user in ("u-alice", "u-bob", "u-carol")
        }

    def snapshot(self) -> Any:
        return self._snapshot

    def profiles(self, user_ids: Any) -> dict[str, Any]:
        return {u: self._profiles[u] for u in user_ids if u in self._profiles}


# The owner of the entity a row's path names (ENTITY rules), where it is not alice.
ENTITY_OWNERS: dict[tuple[str, str], str] = {}


def _subject(route: tuple[str, str], url: str, kwargs: dict[str, Any]) -> Any:
    from urllib.parse import parse_qsl, urlsplit

    from api.permissions import ROUTES, On
    from tests.authz_oracle import Subject

    rule = ROUTES[route]
    parts = urlsplit(url)
    if rule.on in (On.USER_IN_PATH, On.TEAM_IN_PATH):
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route[1]))
        found = re.fullmatch(pattern, parts.path)
        assert found, (route, url)
        args = found.groupdict()
        return Subject.user(args["userId"]) if "userId" in args else Subject.team(args["teamId"])
    if rule.on is On.BODY_SUBJECT:
        given = {**dict(parse_qsl(parts.query)), **(kwargs.get("body") or {})}
        if given.get("teamId"):
            return Subject.team(given["teamId"])
        return Subject.user(given["userId"]) if given.get("userId") else None
    if rule.on in (On.ENTITY, On.ESTATE_TARGET):
        return Subject.user(ENTITY_OWNERS.get(route, "u-alice"))
    return None


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_role_scope_matrix(
    api: Api,
    world: World,
    fake_channels: FakeChannels,
    monkeypatch: pytest.MonkeyPatch,
    route: tuple[str, str],
) -> None:
    from api import context
    from api.permissions import ROUTES, On
    from tally.authz.authorizer import FORBIDDEN, FORBIDDEN_USER
    from tests.authz_oracle import OrgWorld, expected

    rule = ROUTES[route]
    org = OrgWorld(parents={t: None for t in TEAMS}, members=TEAMS)
    wrong = []
    # One request for every grant (its setup, such as alice's webhook or bob's pending claim,
    # is made once): what a grant may do is never undone for the next one (admin comes last).
    url, kwargs = MATRIX[route].request(world)
    for n, (role, scope) in enumerate(_grants()):
        source = OneGrantSource(role, scope, version=913_000 + n)
        # (lru_cached as the real one is: the harness clears it after the test)
        monkeypatch.setattr(context, "access_source", lru_cache(maxsize=1)(lambda s=source: s))
        allowed = expected(
            role, scope, rule, _subject(route, url, kwargs), caller=CAROL.user_id, world=org
        )
        refusal = 404 if rule.on is On.ENTITY else 403
        before = _state(api)
        reply = api.call(route[0], url, CAROL, **kwargs)
        if allowed and reply.status in (403, refusal):
            wrong.append(f"{role}@{scope}: allowed by the table, answered {reply.status}")
        elif not allowed and reply.status != refusal:
            wrong.append(f"{role}@{scope}: refused by the table, answered {reply.status}")
        elif not allowed:
            assert reply.problem["status"] == refusal
            if refusal == 403:
                assert reply.problem["detail"] in (FORBIDDEN, FORBIDDEN_USER), reply.body
            assert _state(api) == before, f"{role}@{scope}: a refused request changed data"
    assert not wrong, wrong
