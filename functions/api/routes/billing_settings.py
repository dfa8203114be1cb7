"""The organisation's billing settings, in sections (``currency``; the billing period and tax
sections are their parts' own): anyone signed in reads them, finance and admins change them
(``billing:settings``), audited. A section given is merged over its current values; the
sections not given are not written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from api import context
from api.lazy import lazy_module
from api.problems import responses
from api.schemas import BillingSettingsIn, BillingSettingsOut, CurrencySectionOut
from tally.clock import utc_now

if TYPE_CHECKING:
    from tally import billing_settings
else:
    billing_settings = lazy_module("tally.billing_settings")

router = Router()


def _out(sections: dict[str, billing_settings.Section]) -> BillingSettingsOut:
    currency = sections[billing_settings.CURRENCY]
    values = currency.values
    return BillingSettingsOut(
        currency=CurrencySectionOut(
            billing_currency=values["billingCurrency"],
            display_currency=values.get("displayCurrency") or values["billingCurrency"],
            updated_at=currency.updated_at.isoformat() if currency.updated_at else None,
            updated_by=currency.updated_by,
        )
    )


@router.get(
    "/settings/billing",
    summary="The organisation's billing settings",
    description="`currency`: the billing currency and the display currency (the billing "
    "currency unless set; a user's own display currency in their preferences wins).",
    responses=responses(200, BillingSettingsOut),
    tags=["settings"],
)
def get_billing_settings() -> BillingSettingsOut:
    return _out(billing_settings.billing_settings(context.view(router)))


@router.put(
    "/settings/billing",
    summary="Change the organisation's billing settings (billing:settings)",
    description="Give the sections to change, and in each the fields to change; the others "
    "stay. Each section is saved on its own and audited with its values before and after.",
    responses=responses(200, BillingSettingsOut, 403),
    tags=["settings"],
)
def put_billing_settings(body: Annotated[BillingSettingsIn, Body()]) -> BillingSettingsOut:
    changes = {
        name: section.model_dump(by_alias=True, exclude_unset=True)
        for name, section in body
        if section is not None
    }
    saved = billing_settings.save_sections(context.view(router), changes, now=utc_now())
    return _out(saved)
