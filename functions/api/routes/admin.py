"""The admins' organisation-wide views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from api import context, convert
from api.lazy import lazy_module
from api.problems import responses
from api.schemas import AllUsersOut, IsoMonth
from tally.paging import decode_token, encode_token

if TYPE_CHECKING:
    from tally import reports
else:  # loaded when one of these routes first runs, not on every cold start
    reports = lazy_module("tally.reports")

router = Router()


@router.get(
    "/all-users",
    summary="Every user's month total, budget and status (admins only)",
    description="Also the organisation's total and its unallocated cost. `month` (YYYY-MM) "
    "defaults to the current UTC month. Each user is judged by the budget in force in that "
    "month (a future month: the current budget, as planned); `previousMonth` gives the month "
    "before, by its own budgets. While the month has no costs yet (`noCostsYet`, its first "
    "days) no status is given. Read from roll-ups: no scan.",
    responses=responses(200, AllUsersOut, 403),
    tags=["admin"],
    middlewares=[context.admins_only],
)
def all_users(
    month: Annotated[IsoMonth | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    nextToken: Annotated[str | None, Query(max_length=4096)] = None,
) -> AllUsersOut:
    caller = context.current_caller(router)
    cfg = context.settings()
    chosen = month or reports.month_of(context.today())
    scope = f"all-users:{caller.user_id}:{chosen}"
    result = reports.all_users(
        caller,
        stores=context.stores(),
        month=chosen,
        today=context.today(),
        limit=limit,
        start_key=decode_token(nextToken, secret=cfg.page_token_secret, scope=scope),
        metric=cfg.budget_metric,
        default_currency=cfg.default_currency,
    )
    return convert.all_users_out(
        result, encode_token(result.users.next_key, secret=cfg.page_token_secret, scope=scope)
    )
