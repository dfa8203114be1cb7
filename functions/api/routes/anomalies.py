"""Cost anomalies: list them (own, anyone's for an admin, or the organisation's) and mark
them acknowledged or resolved."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from api import context, convert
from api.lazy import anomalies
from api.paging import page_cursor
from api.problems import responses
from api.schemas import (
    AnomalyListOut,
    AnomalyOut,
    AnomalyStatusIn,
    NextToken,
    PageLimit,
    UserId,
)

router = Router()

# <base64url user>.<YYYYMMDD>.<16 hex>: path-safe as it is.
AnomalyId = Annotated[str, Path(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_.-]+$")]


@router.get(
    "/anomalies",
    summary="Cost anomalies, newest first",
    description="Days whose spend on a service (or a large resource) was well above the usual "
    "of the weeks before, each with its root cause and impact; consecutive days of one cause "
    "are one anomaly. A user's own; `userId` other than the caller's needs costs:read on "
    "that user (403 otherwise). Without `userId`, whoever reads the organisation's costs "
    "gets the organisation's. `status` filters.",
    responses=responses(200, AnomalyListOut, 403),
    tags=["anomalies"],
)
def list_anomalies(
    userId: Annotated[UserId | None, Query()] = None,
    status: Annotated[Literal["open", "acknowledged", "resolved"] | None, Query()] = None,
    limit: PageLimit = 50,
    nextToken: NextToken = None,
) -> AnomalyListOut:
    from tally.anomalies.model import AnomalyStatus

    pages = page_cursor(router, "anomalies", userId, status)
    page = anomalies.list_anomalies(
        context.view(router),
        userId,
        AnomalyStatus(status) if status else None,
        limit=limit,
        start_key=pages.read_token(nextToken),
    )
    return AnomalyListOut(
        items=[convert.anomaly_out(a) for a in page.items],
        next_token=pages.next_token(page.next_key),
    )


@router.patch(
    "/anomalies/<anomalyId>",
    summary="Acknowledge or resolve an anomaly",
    description="The anomaly's user or whoever holds anomalies:update on them; anyone "
    "else's id is 404, as a missing one.",
    responses=responses(200, AnomalyOut, 404),
    tags=["anomalies"],
)
def update_anomaly(anomalyId: AnomalyId, body: Annotated[AnomalyStatusIn, Body()]) -> AnomalyOut:
    from tally.anomalies.model import AnomalyStatus

    return convert.anomaly_out(
        anomalies.update_status(context.view(router), anomalyId, AnomalyStatus(body.status))
    )
