"""The organisation's own figures and what nobody owns (costs:read at the organisation), as
routes of their own.

They read the same stores the user routes read: the organisation (``ORG``) and the
unallocated costs (``UNALLOCATED``) are owners in storage, with records and roll-ups like a
user's, so a total here always agrees with its lines. A user path never reaches them.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from api.problems import responses
from api.routes.reports import owner_cost_lines, owner_costs
from api.schemas import (
    CostLinesOut,
    CostsOut,
    EndDate,
    LineSearch,
    LineSort,
    NextToken,
    PageLimit,
    ServiceFilter,
    StartDate,
)
from tally.models import ORG, UNALLOCATED

router = Router()

SCOPES = {"organisation": ORG, "unallocated": UNALLOCATED}
_WHAT = {
    "organisation": "The whole organisation's costs, as billed (every user plus unallocated)",
    "unallocated": "Costs nobody owns: no assignment and no owner tag naming a user",
}


def _register(name: str, owner: str) -> None:
    """The same two routes for each scope: a total and its lines, which always agree."""

    @router.get(
        f"/{name}/costs",
        summary=f"{_WHAT[name]}: over a date range (costs:read at the org)",
        description="As `GET /user/{userId}/costs`: startDate and endDate inclusive, default the "
        "last 30 complete days. `userId` in the answer is "
        f"`{owner}`. The same figures as `/{name}/cost-lines` over the same range.",
        responses=responses(200, CostsOut, 403),
        tags=["admin"],
    )
    def costs(
        startDate: StartDate = None,
        endDate: EndDate = None,
    ) -> CostsOut:
        return owner_costs(owner, startDate, endDate)

    @router.get(
        f"/{name}/cost-lines",
        summary=f"{_WHAT[name]}: daily lines, filtered, sorted, paged (costs:read at the org)",
        description="As `GET /user/{userId}/cost-lines` (at most 92 days). "
        + (
            "Each line is as billed, before allocation (`allocation` is `organisation`)."
            if owner == ORG
            else "Each line is a cost nobody owns (`allocation` is `unallocated`)."
        ),
        responses=responses(200, CostLinesOut, 403),
        tags=["admin"],
    )
    def cost_lines(
        startDate: StartDate = None,
        endDate: EndDate = None,
        service: ServiceFilter = None,
        q: LineSearch = None,
        sort: LineSort = "-cost",
        limit: PageLimit = 50,
        nextToken: NextToken = None,
    ) -> CostLinesOut:
        return owner_cost_lines(owner, startDate, endDate, service, q, sort, limit, nextToken)


for _name, _owner in SCOPES.items():
    _register(_name, _owner)
