"""The organisation's billing settings, in sections: ``currency`` (``tally.billing_settings``)
and ``tax`` (the tax package's own settings, ``tally.tax``, versioned; also at
``/api/tax-rules/settings``). Anyone signed in reads them; finance and admins change them
(``billing:settings``, and tax:write for the tax section), audited. A section given is merged
over its current values; the sections not given are not written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from api import context
from api.lazy import lazy_module
from api.problems import responses
from api.routes.tax import settings_out as tax_out
from api.schemas import BillingSettingsIn, BillingSettingsOut, CurrencySectionOut, TaxSectionIn
from tally.clock import utc_now

if TYPE_CHECKING:
    from tally import billing_settings
    from tally.tax import rules as tax_rules
    from tally.view import View
else:
    billing_settings = lazy_module("tally.billing_settings")
    tax_rules = lazy_module("tally.tax.rules")

router = Router()


def _out(view: View, sections: dict[str, billing_settings.Section]) -> BillingSettingsOut:
    currency = sections[billing_settings.CURRENCY]
    values = currency.values
    return BillingSettingsOut(
        tax=tax_out(tax_rules.tax_settings(view.stores)),
        currency=CurrencySectionOut(
            billing_currency=values["billingCurrency"],
            display_currency=values.get("displayCurrency") or values["billingCurrency"],
            updated_at=currency.updated_at.isoformat() if currency.updated_at else None,
            updated_by=currency.updated_by,
        ),
    )


@router.get(
    "/settings/billing",
    summary="The organisation's billing settings",
    description="`currency`: the billing currency and the display currency (the billing "
    "currency unless set; a user's own display currency in their preferences wins). `tax`: "
    "what AWS's own tax lines become and where tax is rounded (as "
    "`GET /api/tax-rules/settings`).",
    responses=responses(200, BillingSettingsOut),
    tags=["settings"],
)
def get_billing_settings() -> BillingSettingsOut:
    view = context.view(router)
    return _out(view, billing_settings.billing_settings(view))


@router.put(
    "/settings/billing",
    summary="Change the organisation's billing settings (billing:settings)",
    description="Give the sections to change, and in each the fields to change; the others "
    "stay. Each section is saved on its own and audited with its values before and after. "
    "The `tax` section also needs tax:write, and with its `version` refuses to overwrite a "
    "newer change (409); it is saved first, so a refusal leaves every section as it was.",
    responses=responses(200, BillingSettingsOut, 403, 409),
    tags=["settings"],
)
def put_billing_settings(body: Annotated[BillingSettingsIn, Body()]) -> BillingSettingsOut:
    view = context.view(router)
    if body.tax is not None:
        _save_tax(view, body.tax)
    changes = {
        name: section.model_dump(by_alias=True, exclude_unset=True)
        for name, section in body
        if section is not None and name != "tax"
    }
    saved = (
        billing_settings.save_sections(view, changes, now=utc_now())
        if changes
        else billing_settings.billing_settings(view)
    )
    return _out(view, saved)


def _save_tax(view: View, section: TaxSectionIn) -> None:
    from tally.tax.model import Rounding, TaxMode

    current = tax_rules.tax_settings(view.stores)
    tax_rules.update_settings(
        view,
        mode=TaxMode(section.mode or current.mode),
        rounding=Rounding(section.rounding or current.rounding),
        expected_version=section.version,
    )
