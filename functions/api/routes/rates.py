"""Exchange rates: the rate in force on a day and its provenance, the stored rates, and a
rate entered by hand (internal transfer pricing; finance and admins, audited)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from api import context, convert
from api.lazy import lazy_module
from api.paging import page_cursor
from api.problems import responses
from api.schemas import Currency, NextToken, PageLimit, RateIn, RateOut, RatesOut
from tally.clock import utc_now
from tally.errors import Invalid

if TYPE_CHECKING:
    from tally.rates import Rate
    from tally.rates import use_cases as rates
else:
    rates = lazy_module("tally.rates.use_cases")

router = Router()


def rate_out(r: Rate) -> RateOut:
    return RateOut(
        date=r.day.isoformat(),
        base=r.base,
        quote=r.quote,
        rate=format(r.rate.normalize(), "f"),
        source=r.source,
        entered_by=r.entered_by,
        entered_at=r.entered_at.isoformat() if r.entered_at else None,
        note=r.note,
    )


@router.get(
    "/rates",
    summary="Exchange rates: the rate in force on a day, and the stored rates",
    description="With `date`, `base` and `quote`: `inForce` is the rate used for that day "
    "(that day's, else the latest earlier one: `fallback`), with its day and source; manual "
    "(transfer pricing) wins over the market rate of the same day, and a pair the ECB does not "
    "publish is worked out through EUR. `items` lists stored rates newest day first: one "
    "pair's with `base` and `quote`, every pair's without. No rate on or before `date` is 422 "
    "on `currency`.",
    responses=responses(200, RatesOut),
    tags=["rates"],
)
def get_rates(
    date: Annotated[date | None, Query()] = None,
    base: Annotated[Currency | None, Query()] = None,
    quote: Annotated[Currency | None, Query()] = None,
    limit: PageLimit = 50,
    nextToken: NextToken = None,
) -> RatesOut:
    view = context.view(router)
    in_force = None
    if date is not None:
        if base is None or quote is None:
            raise Invalid.field("base" if base is None else "quote", "give base and quote")
        in_force = convert.rate_used_out(rates.rate_in_force(view, base, quote, date))
    pages = page_cursor(router, "rates", base, quote)
    page = rates.list_rates(
        view, limit=limit, start_key=pages.read_token(nextToken), base=base, quote=quote
    )
    return RatesOut(
        in_force=in_force,
        items=[rate_out(r) for r in page.items],
        next_token=pages.next_token(page.next_key),
    )


@router.post(
    "/rates",
    status_code=201,
    summary="Enter a rate by hand: internal transfer pricing (rates:write)",
    description="It wins over the market rate of the same day and pair; a second one for the "
    "same day and pair replaces it. Both are in the audit log.",
    responses=responses(201, RateOut, 403),
    tags=["rates"],
)
def add_rate(body: Annotated[RateIn, Body()]) -> Response[str]:
    stored = rates.add_manual_rate(
        context.view(router),
        day=body.day,
        base=body.base,
        quote=body.quote,
        rate=body.rate,
        note=body.note,
        now=utc_now(),
    )
    return Response(
        status_code=201,
        content_type="application/json",
        body=rate_out(stored).model_dump_json(by_alias=True),
    )
