"""``GET /api/health``: for uptime checks, public (no token) and without data.

An answer proves that API Gateway routes ``/api`` to the function and that the function
starts (imports, settings it reads at cold start) and runs: the gateway, the Lambda runtime
and the code are up. It reads no table and calls no AWS service, so it says nothing about
DynamoDB or Cognito (a monitor that needs those calls a signed-in route), and it costs an
uptime check no more than one short invocation.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from api.caching import app_version
from api.problems import responses
from api.schemas import HealthOut

router = Router()

PATH = "/health"


@router.get(
    PATH,
    summary="Is the API up?",
    description="Public (no Authorization header) and without data: `status` ok and the "
    "deployed code's `version`. It reads nothing, so it proves that the gateway and the "
    "function answer, not that the tables do.",
    responses={s: r for s, r in responses(200, HealthOut).items() if s != 401},
    tags=["health"],
    security=[{}],
)
def health() -> HealthOut:
    return HealthOut(status="ok", version=app_version())
