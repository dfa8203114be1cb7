"""Per-container dependencies and the per-request caller.

Settings, stores and clients are built once per warm container, on first use (not at
import, so tests can import the API without AWS settings). The caller is identified once per
request, by the handler's middleware (``identify``), and read from Powertools' routing
context (``current_caller``); ``view`` hands it to a use case with the rest of the request's
context.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from api.settings import ApiSettings
from tally.clock import utc_today
from tally.errors import Unauthenticated
from tally.identity import Caller, group_name_problem
from tally.membership import AdminMembership, CognitoAdminMembership, confirm_admin
from tally.models import Metric
from tally.settings import Settings, get_settings
from tally.store import Stores, dynamodb_stores
from tally.tables import ADMIN_GROUP
from tally.view import View

logger = Logger(service="tally-api")


@lru_cache(maxsize=1)
def stores() -> Stores:
    return dynamodb_stores(get_settings())


def settings() -> Settings:
    return get_settings()


def today() -> date:
    """The business date every route works on: the one clock (``tally.clock``), never the
    route's own ``datetime.now``. The dashboard takes its "today" from ``/api/me``."""
    return utc_today()


@lru_cache(maxsize=1)
def _boto_session() -> Any:
    import boto3  # only the routes that call AWS services beyond DynamoDB pay for boto3

    return boto3.session.Session(region_name=get_settings().region)


def aws_client(service: str, region: str | None = None) -> Any:
    """A client of the deployment's AWS (the emulator locally), in ``region`` if given."""
    return _boto_session().client(
        service, region_name=region, endpoint_url=get_settings().aws_endpoint_url
    )


@lru_cache(maxsize=1)
def resource_catalog() -> Any:
    from tally.resources import AwsResourceCatalog

    return AwsResourceCatalog(aws_client)


@lru_cache(maxsize=1)
def user_source() -> Any:
    from tally.users import CognitoUserSource

    pool = ApiSettings.load().user_pool_id
    return CognitoUserSource(aws_client("cognito-idp"), pool) if pool else None


@lru_cache(maxsize=1)
def admin_mfa_directory() -> Any:
    """Where the API asks whether an admin has TOTP on; None when admins need no MFA
    (``TALLY_REQUIRE_ADMIN_MFA``). Its cache lives as long as the warm container."""
    from tally.mfa import CognitoMfaDirectory

    cfg = ApiSettings.load()  # refuses TALLY_REQUIRE_ADMIN_MFA without TALLY_USER_POOL_ID
    if not cfg.require_admin_mfa or not cfg.user_pool_id:
        return None
    return CognitoMfaDirectory(aws_client("cognito-idp"), cfg.user_pool_id)


def admin_membership() -> AdminMembership | None:
    """Where the API confirms a token's admins group with the user pool, so removing someone
    from the group takes their admin rights within minutes, not at token expiry
    (``tally.membership``). None without a pool: tests that build requests by hand."""
    pool = ApiSettings.load().user_pool_id
    return _admin_membership(pool) if pool else None


@lru_cache(maxsize=4)
def _admin_membership(pool: str) -> AdminMembership:
    # One per pool, with the cache of confirmed admins living as long as the container.
    return CognitoAdminMembership(aws_client("cognito-idp"), pool)


def _group_names(raw: object) -> tuple[list[str], bool]:
    """The names in the groups claim, and whether they were read unambiguously.

    API Gateway's REST Cognito authorizer renders the token's list as one string joined with
    commas ("admins" or "admins,users"); HTTP APIs' JWT authorizer as "[admins users]"; a
    JSON list is taken as it is. Nothing in those strings escapes a delimiter, so a name that
    holds one cannot be told from several names.
    """
    if isinstance(raw, list):
        names = [str(g) for g in raw]
    elif isinstance(raw, str):
        text = raw.strip()
        if text.startswith("[") and text.endswith("]"):
            names = text[1:-1].split(" ")
        else:
            names = text.split(",")
    else:
        return [], raw is None
    return names, all(group_name_problem(n) is None for n in names)


def _verified_token_groups(event: Any, claims: dict[str, Any]) -> list[str] | None:
    """The groups list as the token holds it (a JSON array, never flattened), or None.

    API Gateway's Cognito authorizer verified exactly the token in the Authorization header
    (its identity source) before passing its claims on, so that token's payload is read
    here without checking the signature again; it must be the one whose claims were passed
    (same sub, aud and jti), and there must be only one such header."""
    multi = (event.get("multiValueHeaders") or {}) if event else {}
    single = (event.get("headers") or {}) if event else {}
    values = [v for k, vs in multi.items() if k.lower() == "authorization" for v in vs or []]
    values = values or [v for k, v in single.items() if k.lower() == "authorization"]
    if len(values) != 1 or not isinstance(values[0], str):
        return None
    token = values[0].removeprefix("Bearer ").strip()
    try:
        payload_part = token.split(".")[1]
        payload = json.loads(
            base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4))
        )
    except (IndexError, ValueError, RecursionError):
        return None
    if not isinstance(payload, dict) or any(
        payload.get(name) != claims.get(name) for name in ("sub", "aud", "jti")
    ):
        return None
    groups = payload.get("cognito:groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        return None
    return groups


def _groups(raw: object, token_groups: list[str] | None = None) -> frozenset[str]:
    """The caller's groups, matched exactly afterwards: from the verified token's own list
    when the request carries it, else from API Gateway's rendering of the claim. A name with
    a delimiter in it (a group such as "finance,admins", which the stack refuses to create)
    never grants admin: in the rendering it cannot be told from several groups."""
    names, clear = (
        (token_groups, all(group_name_problem(n) is None for n in token_groups))
        if token_groups is not None
        else _group_names(raw)
    )
    groups = frozenset(n for n in names if n)
    if clear:
        return groups
    logger.warning("a groups claim holds an ambiguous group name; admin rights withheld")
    return groups - {ADMIN_GROUP}


def app_client_ids() -> frozenset[str]:
    """The app clients whose tokens this API accepts (``TALLY_APP_CLIENT_IDS``, comma
    separated). API Gateway's Cognito authorizer accepts an ID token of any client of the
    pool, so the client is bound here. Asked on every request (the settings are kept, and
    re-read when the variable changes, as tests and the local stack do); missing, every
    request fails loudly (500).
    """
    return ApiSettings.load().app_client_ids


def identify(app: BaseRouter) -> Caller:
    """The verified token's identity, as API Gateway's Cognito authorizer passed it on, with
    admin rights confirmed with the pool and the request's authorizer bound. The handler's
    deny-by-default middleware calls it once per request; everything else reads its answer
    with ``current_caller``."""
    event = app.current_event
    request_context = (event.get("requestContext") or {}) if event else {}
    claims = (request_context.get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not sub or claims.get("token_use", "id") != "id":
        raise Unauthenticated("a Cognito ID token is required")
    if claims.get("aud") not in app_client_ids():
        raise Unauthenticated("the token was issued to another app client")
    caller = Caller(
        user_id=sub,
        username=claims.get("cognito:username") or sub,
        email=claims.get("email"),
        groups=_groups(claims.get("cognito:groups"), _verified_token_groups(event, claims)),
    )
    # The token's admins group counts only while the pool still has it (tally.membership).
    caller = confirm_admin(caller, admin_membership())
    # The path's user is read in the same batch as the caller, when a decision needs them.
    path_user = (app.context.get("_route_args") or {}).get("userId")
    prefetch = [path_user] if path_user else []
    caller = authorize(caller, prefetch=prefetch)
    from tally.mfa import enforce_admin_mfa

    # After the authorizer is bound: admin is whoever holds admin@org, by a stored grant as much
    # as by the token's group, and every admin needs two-step sign-in where it is required.
    checked = enforce_admin_mfa(caller, admin_mfa_directory())
    return caller if checked is caller else authorize(checked, prefetch=prefetch)


@lru_cache(maxsize=1)
def access_source() -> Any:
    """Where decisions read the organisation and people's access profiles: the access table,
    behind a cache that lives as long as the warm container (``TALLY_ACCESS_CACHE_SECONDS``,
    the longest a revoked role still counts; 0 turns it off). Tests clear it with the stores."""
    from tally.authz.authorizer import CachedAccessSource

    return CachedAccessSource(stores().access)


def authorize(caller: Caller, *, prefetch: Collection[str] = ()) -> Caller:
    """``caller`` with the request's authorizer bound: its access profile and those of
    ``prefetch`` (the path's user) are read together, in one batch, on the first decision."""
    from tally.authz.authorizer import Authorizer

    return replace(caller, authorizer=Authorizer(caller, access_source(), prefetch=prefetch))


def current_caller(app: BaseRouter) -> Caller:
    """The caller the deny-by-default middleware (``handler.require_identity``) identified for
    this request and kept in Powertools' routing context: a Router's ``context`` is its
    resolver's, and the resolver clears it after every request."""
    caller = app.context.get("caller")
    if not isinstance(caller, Caller):
        # Only code running outside that middleware gets here: deny, never guess.
        raise Unauthenticated("a Cognito ID token is required")
    return caller


def view(app: BaseRouter) -> View:
    """What a use case sees of this request: the caller, the stores, the business date, the
    cost metric and the default currency."""
    cfg = get_settings()
    return View(
        caller=current_caller(app),
        stores=stores(),
        today=today(),
        metric=Metric(cfg.budget_metric),
        currency=cfg.default_currency,
    )


def org_accounts(app: BaseRouter) -> frozenset[str]:
    """The AWS accounts whose resources may be assigned or claimed: the configured ones, or
    else the account this function runs in (from its ARN; the moto account locally)."""
    configured = get_settings().org_accounts
    if configured:
        return configured
    arn = str(getattr(app.lambda_context, "invoked_function_arn", "") or "")
    parts = arn.split(":")
    return frozenset({parts[4]}) if len(parts) > 4 and parts[4] else frozenset()


def claim_policy(app: BaseRouter) -> Any:
    from tally.allocation import OwnerTagRule
    from tally.claims import ClaimPolicy

    settings = get_settings()
    return ClaimPolicy(
        unowned=settings.claim_unowned,
        tag_rule=OwnerTagRule(key=settings.owner_tag_key, explicit=settings.owner_tag_map),
        org_accounts=org_accounts(app),
    )


@lru_cache(maxsize=1)
def claim_notifier() -> Any:
    """Where notice of claims goes: a log line until the alerts work plugs in SES and in-app
    notices (``tally.claims.ClaimNotifier``)."""
    from tally.claims import LogNotifier

    return LogNotifier()


def action_settings() -> Any:
    """What the deployment lets the estate's actions do (``tally.estate.actions.settings``),
    read on each use: a few variables, and tests and the local stack set them after import."""
    import os

    from tally.estate.actions.settings import VARIABLES, parse_action_settings

    return parse_action_settings(
        {name: os.environ.get(name) for name in VARIABLES}, region=get_settings().region
    )


def action_runner() -> Any:
    """Where an action runs: the management and inventory functions through Lambda, or their
    handlers in this process (the local stack, tests)."""
    from tally.estate.actions.runner import InProcessRunner, LambdaRunner

    settings = action_settings()
    return (
        InProcessRunner() if settings.in_process else LambdaRunner(aws_client("lambda"), settings)
    )


def owner_tag_rule() -> Any:
    from tally.allocation import OwnerTagRule

    settings = get_settings()
    return OwnerTagRule(key=settings.owner_tag_key, explicit=settings.owner_tag_map)
