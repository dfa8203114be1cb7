"""An owner's costs, month summary and cost lines (the lines are read from the cost records;
the rest from roll-ups)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from api import caching, context, convert
from api.lazy import reports, team_costs
from api.paging import page_cursor
from api.problems import responses
from api.schemas import (
    CostCenterInPath,
    CostCenterSummaryOut,
    CostLinesOut,
    CostsOut,
    CurrencyQuery,
    EndDate,
    IsoMonth,
    LineSearch,
    LineSort,
    MonthOverMonthOut,
    NextToken,
    PageLimit,
    ServiceFilter,
    StartDate,
    SummaryOut,
    TeamId,
    TeamSummaryOut,
    UserId,
)

router = Router()


def owner_costs(
    owner: str, start: date | None, end: date | None, currency: str | None = None
) -> CostsOut:
    """An owner's costs over a range: a user's here, the organisation's in ``organisation``."""
    report = reports.cost_report(context.view(router), owner, start=start, end=end, quote=currency)
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
    pages = page_cursor(router, "cost-lines", owner, start, end, service, q, sort)
    offset = pages.read_offset(next_token)
    page = reports.cost_lines(
        context.view(router),
        owner,
        start=start,
        end=end,
        service=service,
        search=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return convert.cost_lines_out(page, pages.next_offset_token(page.next_offset))


@router.get(
    "/user/<userId>/costs",
    summary="A user's costs over a date range",
    description="startDate and endDate are UTC days, both inclusive; the default is the last 30 "
    "complete days, ending yesterday (today has no costs yet; with only startDate, 30 days from "
    "it, up to yesterday). A range covers at most 366 days. Every day in the range is in `daily` "
    "(zero when nothing was spent). With `currency`, `converted` adds every billed currency "
    "converted day by day (the sum of its days is its total, exactly); a day with no rate on "
    "or before it is 422 on `currency`.",
    responses=responses(200, CostsOut, 403),
    tags=["reports"],
)
def costs(
    userId: Annotated[UserId, Path()],
    startDate: StartDate = None,
    endDate: EndDate = None,
    currency: CurrencyQuery = None,
) -> CostsOut:
    return owner_costs(userId, startDate, endDate, currency)


@router.get(
    "/user/<userId>/summary",
    summary="This month's total against the budget, top cost drivers and the forecast",
    description="Judged by the budget in force this month. `previousMonth` is last month's "
    "result by last month's budget. In the first days of a month, before its first costs "
    "arrive (AWS delivers a day's costs 24-48 hours later), `noCostsYet` is true, status, "
    "percentUsed and remaining are null and `firstCostsExpected` says when to look again. "
    "If-None-Match with the ETag of your last read answers 304, decided from the versions of "
    "the roll-ups and the budget alone. With `currency`, `converted` adds the month so far "
    "converted day by day (always read afresh: no 304). A budget in a currency the month was "
    "not billed in (`currencyMismatch`) is judged as the budget alerts judge it: the month "
    "converted into the budget's currency day by day, `status`, `percentUsed` and `remaining` "
    "in that currency, and `budgetJudgedIn` with the converted spend and the rates used; "
    "without a rate on or before some day there is no verdict. Such a summary is never "
    "answered 304 from the versions (the rates are not in them).",
    responses={**responses(200, SummaryOut, 403), 304: caching.NOT_MODIFIED_DOC},
    tags=["reports"],
)
def summary(userId: Annotated[UserId, Path()], currency: CurrencyQuery = None) -> Response[str]:
    view = context.view(router)
    if currency is not None:
        # The rates are not in the summary's version: a converted read is never a 304.
        out = convert.summary_out(reports.month_summary(view, userId))
        out.converted = convert.converted_out(reports.converted_month(view, userId, currency))
        return caching.json_response(out, None)
    # Only a caller holding an ETag pays for the versions' read (two small requests): a
    # match is answered with them alone, a miss then reads the figures as anyone does.
    if caching.if_none_match(router):
        held = reports.summary_version(view, userId)
        etag = caching.version_etag(router, held) if held is not None else None
        if etag is not None and caching.is_fresh(router, etag):
            return caching.not_modified(etag)
    result = reports.month_summary(view, userId)
    # Without a version (a roll-up stored before versions were kept): the handler's body ETag.
    etag = caching.version_etag(router, result.version) if result.version is not None else None
    return caching.json_response(convert.summary_out(result), etag)


@router.get(
    "/team/<teamId>/summary",
    summary="A team's month against the team's budget, with each person's share",
    description="The user summary's figures for a team (`userId` is `team:<teamId>`): the "
    "allocated costs of the people of the team and of every team under it, each person counted "
    "once however many of those teams they are in, plus the resources assigned to those teams "
    "themselves (`teamResources`). `month` (YYYY-MM, default the current UTC month; a later "
    "month is refused) is judged by the team budget's terms in force then (a budget in a "
    "currency the month was not billed in is judged on the month converted into it: "
    "`budgetJudgedIn`). `members` lists each person's amount, highest first. Currencies are "
    "never added: amounts are in `total.currency`, other currencies under `otherCurrencies`. "
    "With `currency`, `converted` adds the month converted day by day, as on a user's summary "
    "(a day with no rate on or before it is 422 on `currency`).",
    responses=responses(200, TeamSummaryOut, 403, 404),
    tags=["reports"],
)
def team_summary(
    teamId: Annotated[TeamId, Path()],
    month: Annotated[IsoMonth | None, Query()] = None,
    currency: CurrencyQuery = None,
) -> TeamSummaryOut:
    result = team_costs.team_summary(context.view(router), teamId, month=month, quote=currency)
    return convert.team_summary_out(result)


@router.get(
    "/cost-center/<costCenter>/summary",
    summary="A cost center's month against its budget, with each person's share",
    description="The team summary's figures for a cost center (`userId` is "
    "`costcenter:<costCenter>`): the allocated costs of the people of every team that names it "
    "(not the teams under those: a cost center is not inherited), each person counted once "
    "however many of those teams they are in, plus the resources assigned to those teams "
    "themselves (`teamResources`). costs:read at the organisation; 404 when no team names it. "
    "`month` (YYYY-MM, default the current UTC month; a later month is refused) is judged by "
    "the cost center budget's terms in force then.",
    responses=responses(200, CostCenterSummaryOut, 403, 404),
    tags=["reports"],
)
def cost_center_summary(
    costCenter: Annotated[CostCenterInPath, Path()],
    month: Annotated[IsoMonth | None, Query()] = None,
) -> CostCenterSummaryOut:
    result = team_costs.cost_center_summary(context.view(router), costCenter, month=month)
    return convert.cost_center_summary_out(result)


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
    startDate: StartDate = None,
    endDate: EndDate = None,
    service: ServiceFilter = None,
    q: LineSearch = None,
    sort: LineSort = "-cost",
    limit: PageLimit = 50,
    nextToken: NextToken = None,
) -> CostLinesOut:
    return owner_cost_lines(userId, startDate, endDate, service, q, sort, limit, nextToken)


@router.get(
    "/user/<userId>/month-over-month",
    summary="A month against the one before by service, and why the bill changed",
    description="`month` (YYYY-MM, default: the current UTC month; a later month is refused) to "
    "date against the same day numbers of the previous month (`previousSameDays`, clamped to its "
    "length: 31 March compares with all of February) and against all of it (`previous`), by "
    "service. `waterfall` goes from the previous month's total as first reported to this "
    "month's (`end` = `currentTotal`): restatement, removed and new resources, usage and rate "
    "changes (split where both months bill one usage unit; otherwise `changed`), credits, "
    "refunds and other charges; each kind lists its 10 largest resources and folds the rest "
    "into one step. The steps add up exactly to end - start. Amounts are decimal strings in "
    "`currency`.",
    responses=responses(200, MonthOverMonthOut, 403),
    tags=["reports"],
)
def month_over_month(
    userId: Annotated[UserId, Path()],
    month: Annotated[IsoMonth | None, Query()] = None,
) -> MonthOverMonthOut:
    result = reports.month_over_month(context.view(router), userId, month=month)
    return convert.month_over_month_out(result)
