"""Budgets: create, read, update (with optimistic locking)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from api import context, convert
from api.lazy import budgets
from api.problems import responses
from api.schemas import BudgetIn, BudgetOut, BudgetUpdateIn, CostCenterInPath, TeamId, UserId
from tally.errors import Invalid

router = Router()


def _with_etag(budget: BudgetOut, status: int = 200) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=budget.model_dump_json(by_alias=True),
        headers={"ETag": f'"{budget.version}"'},
    )


@router.post(
    "/budgets",
    status_code=201,
    summary="Create a user's, a team's or a cost center's monthly budget (one per subject)",
    description="The budget holds from `effectiveFrom` (YYYY-MM, default the current month; "
    "earlier months backdate it). Months before it have no budget. Give exactly one of "
    "`userId`, `teamId` and `costCenter` (422 otherwise); a team's budget is judged on the "
    "team's costs and alerts the team's managers (404 for a team that does not exist); a "
    "cost center's is judged on the costs of the teams that name it, alerts the managers of "
    "each of them and needs budgets:write at the organisation (404 when no team names it).",
    responses=responses(201, BudgetOut, 403, 404, 409),
    tags=["budgets"],
)
def create_budget(body: Annotated[BudgetIn, Body()]) -> Response[str]:
    created = budgets.create_budget(
        context.view(router),
        budgets.BudgetRequest(
            user_id=body.user_id,
            monthly_limit=body.monthly_limit,
            alert_threshold=body.alert_threshold,
            currency=body.currency,
            effective_from=body.effective_from,
            team_id=body.team_id,
            cost_center=body.cost_center,
        ),
        user_source=context.user_source(),
    )
    return _with_etag(convert.budget_out(created), 201)


@router.get(
    "/budgets/team/<teamId>",
    summary="A team's budget",
    responses=responses(200, BudgetOut, 403, 404),
    tags=["budgets"],
)
def get_team_budget(teamId: Annotated[TeamId, Path()]) -> Response[str]:
    found = budgets.get_team_budget(context.view(router), teamId)
    return _with_etag(convert.budget_out(found))


@router.get(
    "/budgets/cost-center/<costCenter>",
    summary="A cost center's budget (budgets:read at the organisation)",
    responses=responses(200, BudgetOut, 403, 404),
    tags=["budgets"],
)
def get_cost_center_budget(costCenter: Annotated[CostCenterInPath, Path()]) -> Response[str]:
    found = budgets.get_cost_center_budget(context.view(router), costCenter)
    return _with_etag(convert.budget_out(found))


@router.get(
    "/budgets/<userId>",
    summary="A user's budget",
    responses=responses(200, BudgetOut, 403, 404),
    tags=["budgets"],
)
def get_budget(userId: Annotated[UserId, Path()]) -> Response[str]:
    found = budgets.get_budget(context.view(router), userId)
    return _with_etag(convert.budget_out(found))


def _if_match() -> int | None:
    raw = (router.current_event.headers or {}).get("if-match") or (
        router.current_event.headers or {}
    ).get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    try:
        return int(raw.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise Invalid.field("If-Match", "If-Match must be the ETag a read returned") from None


@router.put(
    "/budgets/<budgetId>",
    summary="Change a budget's limit or threshold",
    description="The change holds from `effectiveFrom` (YYYY-MM, default the current month; "
    "earlier months backdate it and replace any change effective from then on); earlier months "
    "keep the terms they had, so they are still judged by them. Send If-Match with the ETag "
    "of your read to refuse to overwrite a newer change (412 semantics answered as 409 "
    "Conflict). Concurrent writers never overwrite each other.",
    responses=responses(200, BudgetOut, 403, 404, 409),
    tags=["budgets"],
)
def update_budget(
    budgetId: Annotated[str, Path(min_length=1, max_length=64)],
    body: Annotated[BudgetUpdateIn, Body()],
) -> Response[str]:
    updated = budgets.update_budget(
        context.view(router),
        budgetId,
        budgets.BudgetChanges(
            monthly_limit=body.monthly_limit,
            alert_threshold=body.alert_threshold,
            effective_from=body.effective_from,
        ),
        expected_version=_if_match(),
    )
    return _with_etag(convert.budget_out(updated))
