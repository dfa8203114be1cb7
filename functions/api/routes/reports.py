"""Cost reports and summaries, read from roll-ups."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from api import context, convert
from api.problems import responses
from api.schemas import CostsOut, SummaryOut, UserId
from tally import reports
from tally.clock import utc_today

router = Router()


@router.get(
    "/user/<userId>/costs",
    summary="A user's costs over a date range",
    description="startDate and endDate are UTC days, both inclusive; the default is the last 30 "
    "days ending today. A range covers at most 366 days. Every day in the range is in `daily` "
    "(zero when nothing was spent).",
    responses=responses(200, CostsOut, 403),
    tags=["reports"],
)
def costs(
    userId: Annotated[UserId, Path()],
    startDate: Annotated[date | None, Query()] = None,
    endDate: Annotated[date | None, Query()] = None,
) -> CostsOut:
    cfg = context.settings()
    report = reports.cost_report(
        context.current_caller(router),
        userId,
        stores=context.stores(),
        start=startDate,
        end=endDate,
        today=utc_today(),
        metric=cfg.budget_metric,
        default_currency=cfg.default_currency,
    )
    return convert.costs_out(report)


@router.get(
    "/user/<userId>/summary",
    summary="This month's total against the budget, top cost drivers and the forecast",
    responses=responses(200, SummaryOut, 403),
    tags=["reports"],
)
def summary(userId: Annotated[UserId, Path()]) -> SummaryOut:
    cfg = context.settings()
    result = reports.month_summary(
        context.current_caller(router),
        userId,
        stores=context.stores(),
        today=utc_today(),
        metric=cfg.budget_metric,
        default_currency=cfg.default_currency,
    )
    return convert.summary_out(result)
