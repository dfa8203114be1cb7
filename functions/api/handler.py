"""The API's Lambda entry point: API Gateway REST proxy events -> Powertools resolver.

Imports only what every request needs; routes load heavier modules where they are used.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths

from api import context
from api.problems import problem
from api.routes import admin, assignments, budgets, me, organisation, reports
from tally.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    TallyError,
    Unauthenticated,
)

logger = Logger(service="tally-api")

_origin = os.environ.get("TALLY_DASHBOARD_ORIGIN")
app = APIGatewayRestResolver(
    enable_validation=True,
    cors=CORSConfig(
        allow_origin=_origin, allow_headers=["Authorization", "If-Match"], expose_headers=["ETag"]
    )
    if _origin
    else None,
)
app.include_router(assignments.router, prefix="/api/billing")
app.include_router(budgets.router, prefix="/api/billing")
app.include_router(reports.router, prefix="/api/billing")
app.include_router(admin.router, prefix="/api/billing")
app.include_router(organisation.router, prefix="/api/billing")
app.include_router(me.router, prefix="/api")


def require_identity(app: APIGatewayRestResolver, next_middleware: Any) -> Response[Any]:
    """Deny by default: no route runs without a verified identity, whatever it forgets."""
    context.current_caller(app)
    return next_middleware(app)


app.use(middlewares=[require_identity])

_STATUS: dict[type[TallyError], int] = {
    BadRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
}


@app.exception_handler(TallyError)
def domain_error(error: TallyError) -> Response[str]:
    status = next((s for cls, s in _STATUS.items() if isinstance(error, cls)), 500)
    return problem(status, error.detail, errors=error.errors, instance=app.current_event.path)


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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
    return app.resolve(event, lambda_context)
