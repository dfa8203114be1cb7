"""The API's own metrics: latency and server errors per route (CloudWatch EMF).

The ``route`` dimension is the route's template (``GET /api/billing/user/{userId}/summary``),
never the raw path: a path carries user and entity ids, and every distinct dimension value is
a metric CloudWatch bills by the month (0.30 USD each). A path no route matches counts as
``unmatched``. So a route costs one metric, not three: ``Latency`` is recorded for every
request (its SampleCount is the route's request count) and ``ServerErrors`` only when one
happens (a route that never fails has no such metric to pay for).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.metrics import EphemeralMetrics as Metrics

ROUTE_DIMENSION = "route"
UNMATCHED = "unmatched"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
SERVER_ERRORS = "ServerErrors"
LATENCY = "Latency"


def route_template(app: APIGatewayRestResolver, method: str, path: str) -> str:
    """``"<METHOD> <template>"`` of the route ``path`` matches, else ``UNMATCHED``.

    Powertools keeps no public list of its routes (see ``handler.not_found``); its route
    tables are read the same way, one compiled pattern per route."""
    for route in (*app._static_routes, *app._dynamic_routes):
        if route.method == method and route.rule.fullmatch(path):
            return f"{method} {route.openapi_path}"
    return UNMATCHED


def record_request(
    metrics: Metrics,
    app: APIGatewayRestResolver,
    event: dict[str, Any],
    status: int,
    latency_ms: float,
) -> str:
    """One request's metrics (flushed with the invocation's); the route it counted under."""
    method = str(event.get("httpMethod") or "").upper()
    route = route_template(app, method, str(event.get("path") or ""))
    metrics.add_dimension(name=ROUTE_DIMENSION, value=route)
    metrics.add_metric(name=LATENCY, unit=MetricUnit.Milliseconds, value=round(latency_ms, 1))
    if status >= 500:
        metrics.add_metric(name=SERVER_ERRORS, unit=MetricUnit.Count, value=1)
    return route


def measured(metrics: Metrics, app: APIGatewayRestResolver) -> Callable[[Handler], Handler]:
    """Decorates the Lambda entry: each invocation timed and recorded by ``record_request``
    (an exception that escapes the resolver counts as a 500, then propagates)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def timed(event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
            started = time.perf_counter()
            status = 500
            try:
                response = handler(event, lambda_context)
                status = int(response.get("statusCode") or 500)
                return response
            finally:
                elapsed_ms = (time.perf_counter() - started) * 1000
                record_request(metrics, app, event, status, elapsed_ms)

        return timed

    return decorate
