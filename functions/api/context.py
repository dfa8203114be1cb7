"""Per-container dependencies and the per-request caller.

Settings, stores and clients are built once per warm container, on first use (not at
import, so tests can import the API without AWS settings).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from tally.clock import utc_today
from tally.errors import Unauthenticated
from tally.identity import Caller
from tally.settings import Settings, get_settings
from tally.store import Stores, dynamodb_stores


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


def aws_client(service: str) -> Any:
    return _boto_session().client(service, endpoint_url=get_settings().aws_endpoint_url)


@lru_cache(maxsize=1)
def resource_catalog() -> Any:
    from tally.resources import AwsResourceCatalog

    return AwsResourceCatalog(aws_client)


@lru_cache(maxsize=1)
def user_source() -> Any:
    import os

    from tally.users import CognitoUserSource

    pool = os.environ.get("TALLY_USER_POOL_ID")
    return CognitoUserSource(aws_client("cognito-idp"), pool) if pool else None


def _groups(raw: object) -> frozenset[str]:
    """API Gateway renders the groups list claim as a string ("admins" or "[admins, users]");
    a JSON list is accepted too. Names are matched exactly afterwards."""
    if isinstance(raw, list):
        return frozenset(str(g) for g in raw)
    if not isinstance(raw, str):
        return frozenset()
    return frozenset(g for g in re.split(r"[\s,]+", raw.strip().strip("[]")) if g)


def current_caller(app: BaseRouter) -> Caller:
    """The verified token's identity, as API Gateway's Cognito authorizer passed it on."""
    event = app.current_event
    request_context = (event.get("requestContext") or {}) if event else {}
    claims = (request_context.get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not sub or claims.get("token_use", "id") != "id":
        raise Unauthenticated("a Cognito ID token is required")
    return Caller(
        user_id=sub,
        username=claims.get("cognito:username") or sub,
        email=claims.get("email"),
        groups=_groups(claims.get("cognito:groups")),
    )
