"""The admins' organisation-wide views."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from api import context, convert
from api.lazy import reports
from api.paging import page_cursor
from api.problems import responses
from api.schemas import AllUsersOut, CurrencyQuery, IsoMonth, NextToken, PageLimit
from tally.calendar import month_of

router = Router()


@router.get(
    "/all-users",
    summary="Every user's month total, budget and status (users:read, costs:read)",
    description="Also the organisation's total and its unallocated cost. `month` (YYYY-MM) "
    "defaults to the current UTC month. Each user is judged by the budget in force in that "
    "month (a future month: the current budget, as planned); `previousMonth` gives the month "
    "before, by its own budgets. While the month has no costs yet (`noCostsYet`, its first "
    "days) no status is given. Read from roll-ups: no scan. With `currency`, each user's "
    "month and the organisation's are also converted day by day (`converted`).",
    responses=responses(200, AllUsersOut, 403),
    tags=["admin"],
)
def all_users(
    month: Annotated[IsoMonth | None, Query()] = None,
    limit: PageLimit = 50,
    nextToken: NextToken = None,
    currency: CurrencyQuery = None,
) -> AllUsersOut:
    chosen = month or month_of(context.today())
    pages = page_cursor(router, "all-users", chosen)
    result = reports.all_users(
        context.view(router),
        month=chosen,
        limit=limit,
        start_key=pages.read_token(nextToken),
        quote=currency,
    )
    return convert.all_users_out(result, pages.next_token(result.users.next_key))
