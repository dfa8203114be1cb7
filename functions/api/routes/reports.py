"""Cost reports and summaries, read from roll-ups."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from api import context, convert
from api.lazy import lazy_module
from api.problems import responses
from api.schemas import CostLinesOut, CostsOut, SearchText, SummaryOut, UserId
from tally.errors import Invalid
from tally.paging import decode_token, encode_token

if TYPE_CHECKING:
    from tally import reports
else:  # loaded when one of these routes first runs, not on every cold start
    reports = lazy_module("tally.reports")

router = Router()


def owner_costs(owner: str, start: date | None, end: date | None) -> CostsOut:
    """An owner's costs over a range: a user's here, the organisation's in ``organisation``."""
    cfg = context.settings()
    report = reports.cost_report(
        context.current_caller(router),
        owner,
        stores=context.stores(),
        start=start,
        end=end,
        today=context.today(),
        metric=cfg.budget_metric,
        default_currency=cfg.default_currency,
    )
    return convert.costs_out(report)


def owner_cost_lines(
    owner: str,
    start: date | None,
    end: date | None,
    service: str | None,
    q: str | None,
    sort: str,
    limit: int,
    next_token: str | None,
) -> CostLinesOut:
    """A page of an owner's cost lines; the page token is bound to the caller, the owner and
    every filter, so it cannot be replayed against another listing."""
    caller = context.current_caller(router)
    cfg = context.settings()
    scope = f"cost-lines:{caller.user_id}:{owner}:{start}:{end}:{service}:{q}:{sort}"
    start_key = decode_token(next_token, secret=cfg.page_token_secret, scope=scope) or {}
    offset = start_key.get("offset", 0)
    if not isinstance(offset, int) or offset < 0:
        raise Invalid.field("nextToken", "the page token is not valid")
    page = reports.cost_lines(
        caller,
        owner,
        stores=context.stores(),
        start=start,
        end=end,
        today=context.today(),
        metric=cfg.budget_metric,
        service=service,
        search=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    token = encode_token(
        {"offset": page.next_offset} if page.next_offset is not None else None,
        secret=cfg.page_token_secret,
        scope=scope,
    )
    return convert.cost_lines_out(page, token)


@router.get(
    "/user/<userId>/costs",
    summary="A user's costs over a date range",
    description="startDate and endDate are UTC days, both inclusive; the default is the last 30 "
    "complete days, ending yesterday (today has no costs yet; with only startDate, 30 days from "
    "it, up to yesterday). A range covers at most 366 days. Every day in the range is in `daily` "
    "(zero when nothing was spent).",
    responses=responses(200, CostsOut, 403),
    tags=["reports"],
)
def costs(
    userId: Annotated[UserId, Path()],
    startDate: Annotated[date | None, Query()] = None,
    endDate: Annotated[date | None, Query()] = None,
) -> CostsOut:
    return owner_costs(userId, startDate, endDate)


@router.get(
    "/user/<userId>/summary",
    summary="This month's total against the budget, top cost drivers and the forecast",
    description="Judged by the budget in force this month. `previousMonth` is last month's "
    "result by last month's budget. In the first days of a month, before its first costs "
    "arrive (AWS delivers a day's costs 24-48 hours later), `noCostsYet` is true, status, "
    "percentUsed and remaining are null and `firstCostsExpected` says when to look again.",
    responses=responses(200, SummaryOut, 403),
    tags=["reports"],
)
def summary(userId: Annotated[UserId, Path()]) -> SummaryOut:
    cfg = context.settings()
    result = reports.month_summary(
        context.current_caller(router),
        userId,
        stores=context.stores(),
        today=context.today(),
        metric=cfg.budget_metric,
        default_currency=cfg.default_currency,
    )
    return convert.summary_out(result)


@router.get(
    "/user/<userId>/cost-lines",
    summary="A user's daily cost lines, filtered, sorted and paged (the details table)",
    description="startDate and endDate are UTC days, both inclusive (default: the last 30 "
    "complete days, ending yesterday; at most 92). `service` filters by service, `q` searches "
    "resource ids and services, `sort` is -cost (default, highest first), cost, -date or date.",
    responses=responses(200, CostLinesOut, 403),
    tags=["reports"],
)
def cost_lines(
    userId: Annotated[UserId, Path()],
    startDate: Annotated[date | None, Query()] = None,
    endDate: Annotated[date | None, Query()] = None,
    service: Annotated[SearchText | None, Query(min_length=1, max_length=128)] = None,
    q: Annotated[SearchText | None, Query(min_length=1, max_length=256)] = None,
    sort: Annotated[Literal["-cost", "cost", "-date", "date"], Query()] = "-cost",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    nextToken: Annotated[str | None, Query(max_length=4096)] = None,
) -> CostLinesOut:
    return owner_cost_lines(userId, startDate, endDate, service, q, sort, limit, nextToken)
