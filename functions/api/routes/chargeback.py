"""The month's chargeback per team, department or cost center (costs:read at the
organisation): every unit's allocated cost, its share of the shared and of the unallocated
cost, adding up to the organisation's total to the cent. The rules are in the user guide."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from api import context, convert
from api.problems import responses
from api.schemas import ChargebackGroupBy, ChargebackOut, IsoMonth
from tally.calendar import month_of

router = Router()


@router.get(
    "/organisation/chargeback",
    summary="The month's chargeback per team, department or cost center",
    description="For `month` (YYYY-MM, default the current one) and `groupBy` (team, default; "
    "department; costCenter): each unit's allocated cost, its share of the shared costs (split "
    "assignments) and of the unallocated cost (the `rule`), and its total, per currency. The "
    "units, `noTeam` and `unallocated` add up to `organisationTotal` exactly. A person in "
    "several teams is split equally between them. Needs costs:read at the organisation.",
    responses=responses(200, ChargebackOut, 403),
    tags=["admin"],
)
def get_chargeback(
    month: Annotated[IsoMonth | None, Query()] = None,
    groupBy: Annotated[ChargebackGroupBy, Query()] = "team",
) -> ChargebackOut:
    from tally.chargeback import chargeback

    chosen = month or month_of(context.today())
    report = chargeback(context.view(router), month=chosen, group_by=groupBy)
    return convert.chargeback_out(report)
