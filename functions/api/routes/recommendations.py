"""Savings recommendations: idle resources and savings tips, ranked by monthly saving."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from api import context, convert
from api.lazy import recommendations
from api.problems import responses
from api.schemas import RecommendationListOut, UserId

router = Router()


@router.get(
    "/recommendations",
    summary="Savings recommendations, highest saving first",
    description="A user's own; `userId` other than the caller's needs costs:read on that "
    "user (403 otherwise). Without `userId`, whoever reads the organisation's costs gets the "
    "organisation's, including resources nobody owns (`userId` null). Refreshed after each "
    "cost ingest and daily. Each saving is the owner's share, priced from the resource's own "
    "cost lines of the last 30 days where it has some.",
    responses=responses(200, RecommendationListOut, 403),
    tags=["recommendations"],
)
def list_recommendations(
    userId: Annotated[UserId | None, Query()] = None,
) -> RecommendationListOut:
    return convert.recommendation_list_out(
        recommendations.list_recommendations(context.view(router), userId)
    )
