"""The API's Lambda entry point: API Gateway REST proxy events -> Powertools resolver.

Imports only what every request needs; the domain modules behind the routes load on first
use (``api.lazy``).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths

from api import caching, context, permissions, telemetry
from api.problems import problem
from api.routes import (
    admin,
    anomalies,
    assignments,
    audit,
    billing_settings,
    budgets,
    chargeback,
    claims,
    commitments,
    estate,
    estate_actions,
    exports,
    health,
    invoice_templates,
    me,
    notifications,
    organisation,
    payments,
    preferences,
    rates,
    recommendations,
    reports,
    roles,
    tax,
    teams,
    unsubscribe,
    users,
)
from api.settings import dashboard_origin
from tally import access, observability, periods
from tally.authz import Target
from tally.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    TallyError,
    Unauthenticated,
    Unavailable,
)

SERVICE = "tally-api"
logger = Logger(service=SERVICE)
metrics = observability.metrics(SERVICE)
# No X-Ray SDK unless the function's environment asks for it (tally.observability: its cold
# start cost); Lambda's active tracing records the function's segment either way.
tracer = observability.tracer(SERVICE)
observability.start_error_tracking(SERVICE)

# Every body the API takes is a small flat object: these leave room and stop a hostile one
# (json.loads recurses once per level and raises RecursionError near 1,000).
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_NESTING = re.compile(r"[\[\]{}]")


class BodyTooLarge(BadRequest):
    """Answered 413."""


def json_body(text: str) -> Any:
    """The request body parsed as JSON, once its size and nesting depth have been bounded.

    Powertools calls this for every route that takes a body, before validation."""
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the request body is over {MAX_BODY_BYTES} bytes")
    depth = deepest = 0
    for bracket in _JSON_NESTING.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_JSON_DEPTH:
        raise BadRequest(
            f"the request body nests deeper than {MAX_JSON_DEPTH} levels",
            errors=[FieldError("body", "nested too deep")],
        )
    return json.loads(text)


_origin = dashboard_origin(os.environ)
app = APIGatewayRestResolver(
    enable_validation=True,
    json_body_deserializer=json_body,
    cors=CORSConfig(
        allow_origin=_origin,
        allow_headers=["Authorization", "If-Match", "If-None-Match"],
        expose_headers=["ETag"],
    )
    if _origin
    else None,
)
app.include_router(assignments.router, prefix="/api/billing")
app.include_router(budgets.router, prefix="/api/billing")
app.include_router(reports.router, prefix="/api/billing")
app.include_router(admin.router, prefix="/api/billing")
app.include_router(organisation.router, prefix="/api/billing")
app.include_router(chargeback.router, prefix="/api/billing")
app.include_router(payments.router, prefix="/api")
app.include_router(claims.router, prefix="/api/billing")
app.include_router(me.router, prefix="/api")
app.include_router(notifications.router, prefix="/api")
app.include_router(preferences.router, prefix="/api")
app.include_router(unsubscribe.router, prefix="/api")
app.include_router(exports.router, prefix="/api")
app.include_router(recommendations.router, prefix="/api")
app.include_router(commitments.router, prefix="/api")
app.include_router(anomalies.router, prefix="/api")
app.include_router(roles.router, prefix="/api")
app.include_router(teams.router, prefix="/api")
app.include_router(users.router, prefix="/api")
app.include_router(audit.router, prefix="/api")
app.include_router(rates.router, prefix="/api")
app.include_router(billing_settings.router, prefix="/api")
app.include_router(health.router, prefix="/api")
app.include_router(estate.router, prefix="/api")
app.include_router(estate_actions.router, prefix="/api/estate")
app.include_router(tax.router, prefix="/api")
app.include_router(invoice_templates.router, prefix="/api")

# The only paths served without a Cognito identity: the digest's unsubscribe link, which a
# mail client follows with the signed token it carries (RFC 8058), and the uptime check, which
# reads nothing. The gateway exposes exactly these without its authorizer
# (infra/constructs/api.py, infra/local/gateway.py).
PUBLIC_PATHS = frozenset(
    path for (_, path), rule in permissions.ROUTES.items() if rule.on is permissions.On.PUBLIC
)


def require_identity(app: APIGatewayRestResolver, next_middleware: Any) -> Response[Any]:
    """Deny by default: no route runs without a verified identity and its rule's decision,
    whatever it forgets.

    Every route names its action and target in ``api.permissions.ROUTES``; a route without
    one is refused. The rules whose target the request names (the organisation, the caller,
    the path's ``userId`` or ``teamId``) are decided here, before the route reads its page
    token or passes its input to the domain, so another user's id is 403 whatever the token
    says, with the same body whether that user exists or not. The others (the body's subject,
    an entity's owner) are decided by the domain with the same action. (Powertools validates
    parameters and bodies against the schemas before any middleware: a malformed request is
    422 first, which tells nothing about anyone's data.)

    The caller is worked out here once (token, app client, admin membership, MFA, the
    request's authorizer) and kept in the routing context, which Powertools clears after
    every request: routes and ``context.view`` read it with ``context.current_caller``.

    ``PUBLIC`` routes run without a caller: their token is their authorisation, and
    ``context.view`` still refuses them (no caller in the context)."""
    route = _matched_route(app)
    rule = permissions.rule_for(route.method, route.openapi_path) if route else None
    if rule is not None and rule.on is permissions.On.PUBLIC:
        return next_middleware(app)
    if route is None and app.current_event.path in PUBLIC_PATHS:
        return next_middleware(app)  # a public path with another method: 405, to anyone
    caller = context.identify(app)
    app.append_context(caller=caller)
    if route is None:  # no such route: 404 or 405 (``not_found``), to the signed in only
        return next_middleware(app)
    if rule is None:
        raise Forbidden(access.DENIED)
    target = _target(rule, caller, app.context.get("_route_args") or {})
    if target is not None:
        if any(access.allows(caller, action, target) for action in rule.instead):
            return next_middleware(app)
        for action in (rule.action, *rule.also):
            access.require(caller, action, target)
    return next_middleware(app)


def _matched_route(app: APIGatewayRestResolver) -> Any:
    """The registered route the request matched, or None. (For a path nothing matches,
    Powertools runs the middlewares with a catch-all route of its own around ``not_found``.)"""
    route = app.context.get("_route")
    routes = (*app._static_routes, *app._dynamic_routes)
    return route if route is not None and any(route is r for r in routes) else None


def _target(rule: permissions.Rule, caller: Any, args: dict[str, str]) -> Target | None:
    """What the middleware decides ``rule`` on; None: the domain decides it."""
    on = permissions.On
    if rule.on is on.ORG:
        return Target.org()
    if rule.on is on.SELF:
        return Target.user(caller.user_id)
    if rule.on is on.USER_IN_PATH:
        return Target.user(args["userId"])
    if rule.on is on.TEAM_IN_PATH:
        return Target.team(args["teamId"])
    return None


app.use(middlewares=[require_identity])

_STATUS: dict[type[TallyError], int] = {  # the first class that matches wins
    BodyTooLarge: 413,
    BadRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Unavailable: 503,
}


@app.exception_handler(TallyError)
def domain_error(error: TallyError) -> Response[str]:
    status = next((s for cls, s in _STATUS.items() if isinstance(error, cls)), 500)
    # A refusal with a type of its own (tally.errors.Disabled) keeps its status's meaning.
    slug = getattr(error, "problem_slug", None)
    reply = problem(
        status, error.detail, errors=error.errors, instance=app.current_event.path, slug=slug
    )
    retry = getattr(error, "retry_after_seconds", None)
    if retry is not None:
        # An AWS service the request reads live failed (tally.errors.Unavailable): logged with
        # its cause, since a run of these is an outage or a missing grant, not bad input.
        logger.warning("a live AWS read failed", extra={"detail": error.detail})
        reply.headers["Retry-After"] = str(retry)
    return reply


def _field(loc: tuple[Any, ...]) -> str:
    where, *rest = loc or ("body",)
    names = [str(p) for p in rest if not isinstance(p, int) or where == "body"]
    return ".".join(names) if names else str(where)


def _message(error: dict[str, Any]) -> str:
    # pydantic prefixes our own validators' messages with "Value error, ": the client
    # needs the sentence, not the exception class.
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


@app.exception_handler(RequestValidationError)
def validation_error(error: RequestValidationError) -> Response[str]:
    errors = error.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(
            400, "the request body is not valid JSON", errors=[FieldError("body", "not valid JSON")]
        )
    fields = [FieldError(_field(tuple(e.get("loc", ()))), _message(e)) for e in errors]
    return problem(
        422,
        "; ".join(f"{f.field}: {f.message}" for f in fields[:5]),
        errors=fields,
        instance=app.current_event.path,
    )


@app.exception_handler(RequestUnsupportedContentType)
def unsupported_content_type(_: RequestUnsupportedContentType) -> Response[str]:
    return problem(415, "send the body as application/json")


@app.not_found
def not_found(_: Exception) -> Response[str]:
    path = app.current_event.path
    # Powertools answers a known path with the wrong method as 404 and has no public way to
    # list its routes (checked on 3.37: only the OpenAPI schema, far too heavy per request),
    # so the resolver's own route tables are read to tell 405 (with Allow) from 404. A
    # Powertools upgrade that renames them fails tests/api/test_bad_input.py's 405 rows.
    allowed = sorted(
        {r.method for r in (*app._static_routes, *app._dynamic_routes) if r.rule.fullmatch(path)}
    )
    if allowed:
        reply = problem(405, f"{app.current_event.http_method} is not allowed here")
        reply.headers["Allow"] = ", ".join(allowed)
        return reply
    return problem(404, "no such route")


@app.exception_handler(Exception)
def unexpected(error: Exception) -> Response[str]:
    # Logged with its stack trace; the caller sees no detail of it.
    logger.exception("unhandled error")
    return problem(500, "something went wrong on our side; it has been logged")


def _security_headers(response: dict[str, Any]) -> dict[str, Any]:
    """No shared cache keeps a user's figures, and no browser sniffs a type we did not send.

    A response with an ETag may be kept by the caller's own browser, which must revalidate."""
    multi = response.get("multiValueHeaders")
    single = response.get("headers")
    names = {str(n).lower() for n in (*(multi or {}), *(single or {}))}
    added = {"X-Content-Type-Options": "nosniff"}
    if "cache-control" not in names:
        added["Cache-Control"] = "private, no-cache" if "etag" in names else "no-store"
    if multi is not None or single is None:
        response["multiValueHeaders"] = {**(multi or {}), **{k: [v] for k, v in added.items()}}
    else:
        response["headers"] = {**single, **added}
    return response


# Outermost first: the metrics flush after everything (cold start included); the request is
# timed and counted under its route template whatever it answered.
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@telemetry.measured(metrics, app)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
    # The organisation's billing periods, read on the request's first period computation
    # (one GetItem; a request that computes none reads nothing).
    with periods.in_force(context.stores):
        return _security_headers(caching.conditional(event, app.resolve(event, lambda_context)))
