"""Every route's action and target: the one table the API's authorization starts from.

The handler's middleware (``handler.require_identity``) finds the matched route's rule here
and decides the rules whose target the request itself names (``ORG``, ``SELF``,
``USER_IN_PATH``, ``TEAM_IN_PATH``) before the route runs; a route without a rule is refused.
The other targets are only known once the domain has read something (the body's subject, an
entity's owner): the domain decides them with the same action (``tally.access.require``).
``tests/api/test_route_table.py`` fails when a route has no rule, and the authorization matrix
(``tests/api/test_authorization_matrix.py``, through ``tests/authz_oracle.py``) tries every
built-in role at every scope on every row.

Keys are (METHOD, OpenAPI path), as Powertools names a matched route (``Route.openapi_path``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class On(StrEnum):
    """What a rule's action is decided on."""

    ORG = "org"  # the whole organisation
    SELF = "self"  # the caller themself
    USER_IN_PATH = "user-in-path"  # the path's {userId}
    TEAM_IN_PATH = "team-in-path"  # the path's {teamId}
    # The request's subject: the body's (or query's) userId / teamId, by default the caller;
    # decided by the domain once it has read the request.
    BODY_SUBJECT = "body-subject"
    # The owner of the entity the path names, known once it is read: decided by the domain,
    # and someone else's entity is 404 (as a missing one), never 403.
    ENTITY = "entity"
    PUBLIC = "public"  # no identity: the request's own signed token authorises it
    # The estate resource the body's ``target`` names, with the permission of the body's
    # ``action`` (``tally.estate.actions.ACTIONS``): decided by the domain once it has read
    # the resource's Tally owners from the estate cache (the organisation when unowned).
    # Refused: 403, as for any action on someone else's resource. The rule's action is the one
    # of the Lambda family, the action the authorization matrix's rows make.
    ESTATE_TARGET = "estate-target"


@dataclass(frozen=True)
class Rule:
    action: str
    on: On
    # Further actions needed on the same target (all of them).
    also: tuple[str, ...] = ()
    # An action that is enough instead when the target is the caller themself (a member's
    # own assignment request becomes a claim; anyone may give up their own resource).
    or_self: str | None = None
    # ENTITY rules decided at the organisation rather than on the entity's owner (anyone's
    # claims, anyone's report jobs), besides the caller's own.
    org_wide: bool = False
    # Actions each enough instead of ``action`` (and ``also``) on the same target: a setting
    # that whoever holds any of several existing permissions may change (a team's display
    # currency: teams:write, or budgets:write on it, or billing:settings).
    instead: tuple[str, ...] = ()


ACCOUNT = "account:use"  # everyone's, on their own data (policies/roles.json "selfService")
PUBLIC = Rule("", On.PUBLIC)
SELF = Rule(ACCOUNT, On.SELF)

ROUTES: dict[tuple[str, str], Rule] = {
    # Assignments: an assignment for someone else needs assignments:write on them; a member
    # asking for themselves makes a claim (claims:create on self).
    ("POST", "/api/billing/assign-resource"): Rule(
        "assignments:write", On.BODY_SUBJECT, or_self="claims:create"
    ),
    ("GET", "/api/billing/user/{userId}/resources"): Rule("assignments:read", On.USER_IN_PATH),
    ("DELETE", "/api/billing/unassign/{assignmentId}"): Rule(
        "assignments:write", On.ENTITY, or_self="assignments:release"
    ),
    # Claims: anyone may claim for themselves; the resource's owners decide their resources'
    # claims (the domain knows them), claims:decide at the organisation decides any.
    ("POST", "/api/billing/claims"): Rule("claims:create", On.SELF),
    ("GET", "/api/billing/claims"): SELF,
    ("POST", "/api/billing/claims/{claimId}/approve"): Rule(
        "claims:decide", On.ENTITY, org_wide=True
    ),
    ("POST", "/api/billing/claims/{claimId}/reject"): Rule(
        "claims:decide", On.ENTITY, org_wide=True
    ),
    # Budgets.
    ("POST", "/api/billing/budgets"): Rule("budgets:write", On.BODY_SUBJECT),
    ("GET", "/api/billing/budgets/{userId}"): Rule("budgets:read", On.USER_IN_PATH),
    ("PUT", "/api/billing/budgets/{budgetId}"): Rule("budgets:write", On.ENTITY),
    # A team's budget and figures (its people once each, and its own resources).
    ("GET", "/api/billing/budgets/team/{teamId}"): Rule("budgets:read", On.TEAM_IN_PATH),
    ("GET", "/api/billing/team/{teamId}/summary"): Rule("costs:read", On.TEAM_IN_PATH),
    # A cost center's: it spans teams (those that name it), so it is the organisation's.
    ("GET", "/api/billing/budgets/cost-center/{costCenter}"): Rule("budgets:read", On.ORG),
    ("GET", "/api/billing/cost-center/{costCenter}/summary"): Rule("costs:read", On.ORG),
    # A user's figures.
    ("GET", "/api/billing/user/{userId}/costs"): Rule("costs:read", On.USER_IN_PATH),
    ("GET", "/api/billing/user/{userId}/cost-lines"): Rule("costs:read", On.USER_IN_PATH),
    ("GET", "/api/billing/user/{userId}/summary"): Rule("costs:read", On.USER_IN_PATH),
    ("GET", "/api/billing/user/{userId}/month-over-month"): Rule("costs:read", On.USER_IN_PATH),
    # The organisation's figures and the user directory.
    ("GET", "/api/billing/all-users"): Rule("users:read", On.ORG, also=("costs:read",)),
    ("GET", "/api/billing/organisation/costs"): Rule("costs:read", On.ORG),
    ("GET", "/api/billing/organisation/cost-lines"): Rule("costs:read", On.ORG),
    ("GET", "/api/billing/unallocated/costs"): Rule("costs:read", On.ORG),
    ("GET", "/api/billing/unallocated/cost-lines"): Rule("costs:read", On.ORG),
    # The month's chargeback per team, department or cost center: the whole organisation's.
    ("GET", "/api/billing/organisation/chargeback"): Rule("costs:read", On.ORG),
    # Its ledger journal (payments): read as the chargeback is.
    ("GET", "/api/billing/organisation/chargeback/journal"): Rule("costs:read", On.ORG),
    # Reports: an export or invoice of a subject (a user, the organisation, a cost centre);
    # a job is its requester's, and readable by whoever reads every cost.
    ("POST", "/api/exports"): Rule("exports:create", On.BODY_SUBJECT),
    ("GET", "/api/exports/{exportId}"): Rule(
        "costs:read", On.ENTITY, or_self=ACCOUNT, org_wide=True
    ),
    ("POST", "/api/invoices"): Rule("exports:create", On.BODY_SUBJECT),
    ("GET", "/api/invoices/{invoiceId}"): Rule(
        "costs:read", On.ENTITY, or_self=ACCOUNT, org_wide=True
    ),
    # Payments: an invoice issued to the provider (finance and admins); the webhook,
    # authorised by its signature (tally.payments.webhook).
    ("POST", "/api/invoices/{invoiceId}/payment"): Rule("payments:issue", On.ORG),
    ("POST", "/api/payments/stripe/webhook"): PUBLIC,
    ("GET", "/api/anomalies"): Rule("costs:read", On.BODY_SUBJECT),
    ("PATCH", "/api/anomalies/{anomalyId}"): Rule("anomalies:update", On.ENTITY),
    ("GET", "/api/recommendations"): Rule("costs:read", On.BODY_SUBJECT),
    # Reserved capacity (issue 17): the organisation's commitments, finance and admins.
    ("GET", "/api/commitments"): Rule("commitments:read", On.ORG),
    ("GET", "/api/commitments/recommendations"): Rule("commitments:read", On.ORG),
    # Roles, teams, people's roles and the audit log (issue 13). The team list is everyone's:
    # the domain lists the teams the caller may read. A person's effective access is their
    # own, or anyone's with roles:read on them (someone else's without it: 404).
    ("GET", "/api/roles"): Rule("roles:read", On.ORG),
    ("POST", "/api/roles"): Rule("roles:write", On.ORG),
    ("GET", "/api/roles/{roleId}"): Rule("roles:read", On.ORG),
    ("PUT", "/api/roles/{roleId}"): Rule("roles:write", On.ORG),
    ("DELETE", "/api/roles/{roleId}"): Rule("roles:write", On.ORG),
    ("GET", "/api/teams"): SELF,
    ("POST", "/api/teams"): Rule("teams:write", On.ORG),
    ("GET", "/api/teams/{teamId}"): Rule("teams:read", On.TEAM_IN_PATH),
    ("PUT", "/api/teams/{teamId}"): Rule("teams:write", On.TEAM_IN_PATH),
    ("DELETE", "/api/teams/{teamId}"): Rule("teams:write", On.TEAM_IN_PATH),
    # The team's display currency: who may rewrite the team, set its budget (its managers) or
    # set the organisation's display currency (finance).
    ("PATCH", "/api/teams/{teamId}"): Rule(
        "teams:write", On.TEAM_IN_PATH, instead=("budgets:write", "billing:settings")
    ),
    ("GET", "/api/users/{userId}/roles"): Rule("roles:read", On.USER_IN_PATH),
    ("PUT", "/api/users/{userId}/roles"): Rule("roles:assign", On.USER_IN_PATH),
    ("GET", "/api/users/{userId}/access"): Rule("roles:read", On.ENTITY, or_self=ACCOUNT),
    ("GET", "/api/audit"): Rule("audit:read", On.ORG),
    # The estate's read views (issue 15): Lambda is everyone's with estate:read (the domain
    # lists the organisation's at org scope, else the caller's own functions); the network
    # and IAM users are the organisation's only.
    ("GET", "/api/estate/lambda"): Rule("estate:read", On.BODY_SUBJECT),
    ("GET", "/api/estate/lambda/{name}"): Rule("estate:read", On.BODY_SUBJECT),
    ("GET", "/api/estate/network"): Rule("estate:read", On.ORG),
    # A resource's metrics panel: its owner's or the organisation's (the domain decides, 404
    # for anyone else, as for a resource that is not there).
    ("GET", "/api/estate/metrics"): Rule("estate:read", On.BODY_SUBJECT),
    ("GET", "/api/estate/iam/users"): Rule("estate:iam:read", On.ORG),
    ("GET", "/api/estate/iam/users/{name}"): Rule("estate:iam:read", On.ORG),
    # Which Tally user an IAM user is, as an admin maps it (wins over the owner tag).
    ("PUT", "/api/estate/iam/users/{name}/link"): Rule("estate:iam:link", On.ORG),
    ("DELETE", "/api/estate/iam/users/{name}/link"): Rule("estate:iam:link", On.ORG),
    # Invoice templates (issue 17): the organisation's and teams' templates are finance's and
    # the admins' (invoices:templates at the organisation), reading as well as writing.
    ("GET", "/api/invoice-templates"): Rule("invoices:templates", On.ORG),
    ("POST", "/api/invoice-templates"): Rule("invoices:templates", On.ORG),
    ("GET", "/api/invoice-templates/{templateId}"): Rule("invoices:templates", On.ORG),
    ("PUT", "/api/invoice-templates/{templateId}"): Rule("invoices:templates", On.ORG),
    ("POST", "/api/invoice-templates/{templateId}/preview"): Rule("invoices:templates", On.ORG),
    # The caller's own.
    ("GET", "/api/me"): SELF,
    ("GET", "/api/openapi.json"): SELF,
    ("GET", "/api/notifications"): SELF,
    ("POST", "/api/notifications/read-all"): SELF,
    ("POST", "/api/notifications/{notificationId}/read"): SELF,
    ("POST", "/api/notifications/{notificationId}/unread"): SELF,
    ("GET", "/api/preferences"): SELF,
    ("PUT", "/api/preferences"): SELF,
    ("POST", "/api/preferences/webhook/test"): SELF,
    # The digest's unsubscribe link (RFC 8058): its signed token is its authorisation.
    ("GET", "/api/unsubscribe"): PUBLIC,
    ("POST", "/api/unsubscribe"): PUBLIC,
    # The estate's management actions (issue 15): one route for every change.
    ("POST", "/api/estate/actions"): Rule("estate:lambda:manage", On.ESTATE_TARGET),
    # Tax rules and settings (issue 17): the organisation's, read and changed by finance and
    # admins (tax:read, tax:write).
    ("GET", "/api/tax-rules"): Rule("tax:read", On.ORG),
    ("POST", "/api/tax-rules"): Rule("tax:write", On.ORG),
    ("POST", "/api/tax-rules/{ruleId}/end"): Rule("tax:write", On.ORG),
    ("GET", "/api/tax-rules/settings"): Rule("tax:read", On.ORG),
    ("PUT", "/api/tax-rules/settings"): Rule("tax:write", On.ORG),
    # Exchange rates and the billing settings (issue 17): reference data anyone signed in
    # reads; finance and admins set a manual rate or change the settings.
    ("GET", "/api/rates"): SELF,
    ("POST", "/api/rates"): Rule("rates:write", On.ORG),
    ("GET", "/api/settings/billing"): SELF,
    ("PUT", "/api/settings/billing"): Rule("billing:settings", On.ORG),
    # Uptime checks: no identity, no data (status and version only).
    ("GET", "/api/health"): PUBLIC,
}


def rule_for(method: str, path: str) -> Rule | None:
    """The rule of the route matched as (``method``, its OpenAPI path); None: refuse."""
    return ROUTES.get((method.upper(), path))
