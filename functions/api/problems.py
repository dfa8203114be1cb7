"""RFC 9457 problem+json responses, built in one place for every failure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from tally.errors import FieldError

PROBLEM_TYPE_BASE = "https://tally.dev/problems/"
CONTENT_TYPE = "application/problem+json"

_SLUGS = {
    400: "malformed-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    411: "length-required",
    413: "payload-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    422: "validation-failed",
    429: "too-many-requests",
    431: "request-header-fields-too-large",
    500: "internal-error",
    503: "service-unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    errors: Sequence[FieldError] = (),
    instance: str | None = None,
    slug: str | None = None,
) -> Response[str]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or _SLUGS.get(status, str(status))),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    # Powertools keeps a dict body as a dict for non-JSON content types: serialise it here.
    return Response(status_code=status, content_type=CONTENT_TYPE, body=json.dumps(body))


def _problem_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }


def responses(success: int, model: Any | None, *errors: int) -> dict[int, Any]:
    """OpenAPI ``responses`` for a route: its success (with its model) and every problem it
    can answer. (Powertools drops its default 200 once ``responses`` is given.)"""
    out: dict[int, Any] = {success: {"description": HTTPStatus(success).phrase}}
    if model is not None:
        out[success]["content"] = {"application/json": {"model": model}}
    # 404 everywhere: a path segment outside a parameter's pattern matches no route. 413, 414
    # and 431 everywhere too: the gateway refuses an oversized body, URL or header block before
    # any route runs (API Gateway's limits, which the local gateway applies as well).
    for status in sorted({400, 401, 404, 413, 414, 422, 429, 431, *errors}):
        out[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {CONTENT_TYPE: {"schema": _problem_schema()}},
        }
    return out
