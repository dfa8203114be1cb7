"""Tax rules and the tax settings (issue 17, "Tax"): read with tax:read, change with tax:write
(finance and admins), at the organisation. Rules are added and ended, never deleted or
edited, so an old invoice is taxed again as it was; every change is audited.

The settings live here until the billing settings (``/api/settings/billing``) take them as
their ``tax`` section, through ``tally.tax.rules.tax_settings`` / ``save_tax_settings``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from api import context
from api.lazy import lazy_module
from api.problems import responses
from api.routes.roles import if_match, with_etag
from api.tax_schemas import (
    RuleId,
    TaxRuleEndIn,
    TaxRuleIn,
    TaxRuleListOut,
    TaxRuleOut,
    TaxSettingsIn,
    TaxSettingsOut,
)

if TYPE_CHECKING:
    from datetime import date

    from tally.tax import rules
    from tally.tax.model import TaxRule, TaxSettings
else:
    rules = lazy_module("tally.tax.rules")

router = Router()


def rule_out(r: TaxRule, today: date) -> TaxRuleOut:
    return TaxRuleOut(
        rule_id=r.rule_id,
        name=r.name,
        jurisdiction=r.jurisdiction,
        rate=format(r.rate.normalize(), "f"),
        unit=r.unit.key,
        effective_from=r.effective_from,
        effective_to=r.effective_to,
        treatment=r.treatment.value,  # type: ignore[arg-type]
        reason=r.reason,
        created_at=r.created_at,
        created_by=r.created_by,
        in_force=r.in_force(today),
    )


def settings_out(t: TaxSettings) -> TaxSettingsOut:
    return TaxSettingsOut(
        mode=t.mode.value,  # type: ignore[arg-type]
        rounding=t.rounding.value,  # type: ignore[arg-type]
        version=t.version,
        updated_at=t.updated_at,
        updated_by=t.updated_by,
    )


@router.get(
    "/tax-rules",
    summary="Every tax rule, ended ones too (tax:read)",
    description="Sorted by unit, jurisdiction and start. `inForce` says whether a rule taxes "
    "today. A unit's own rules replace the organisation's on the days they are in force "
    "(docs/user-guide.md, Tax).",
    responses=responses(200, TaxRuleListOut, 403),
    tags=["tax"],
)
def list_tax_rules() -> TaxRuleListOut:
    view = context.view(router)
    found = sorted(
        rules.list_rules(view).rules,
        key=lambda r: (r.unit.key != "org", r.unit.key, r.jurisdiction, r.effective_from),
    )
    return TaxRuleListOut(items=[rule_out(r, view.today) for r in found])


@router.post(
    "/tax-rules",
    status_code=201,
    summary="Add a tax rule (tax:write)",
    description="422 with the field: a rate outside 0..100 (or not 0 for a zero-rated or "
    "exempt rule), effectiveTo not after effectiveFrom, an unknown team, a zero-rated or "
    "exempt rule without a reason. 409 when a rule for the same unit and jurisdiction is in "
    "force on any of the same days: end that one first (a rate change is an end and a new "
    "rule).",
    responses=responses(201, TaxRuleOut, 403, 409),
    tags=["tax"],
)
def create_tax_rule(body: Annotated[TaxRuleIn, Body()]) -> Response[str]:
    from tally.tax.model import Treatment

    view = context.view(router)
    made = rules.create_rule(
        view,
        rules.RuleInput(
            name=body.name,
            jurisdiction=body.jurisdiction,
            rate=body.rate,
            unit=body.unit,
            effective_from=body.effective_from,
            effective_to=body.effective_to,
            treatment=Treatment(body.treatment),
            reason=body.reason,
        ),
    )
    return with_etag(rule_out(made, view.today), made.version, 201)


@router.post(
    "/tax-rules/<ruleId>/end",
    summary="End a tax rule (tax:write)",
    description="Sets the first day the rule no longer taxes (`effectiveTo`, today or later: "
    "the past stays as invoiced, 422 otherwise). A rule that ended in the past is 409.",
    responses=responses(200, TaxRuleOut, 403, 404, 409),
    tags=["tax"],
)
def end_tax_rule(
    ruleId: Annotated[RuleId, Path()], body: Annotated[TaxRuleEndIn, Body()]
) -> Response[str]:
    view = context.view(router)
    ended = rules.end_rule(view, ruleId, body.effective_to)
    return with_etag(rule_out(ended, view.today), ended.version)


@router.get(
    "/tax-rules/settings",
    summary="The tax settings (tax:read)",
    description="`mode`: what AWS's own tax lines become where a rule applies (add: kept, "
    "Tally's tax on top; replace: left out, Tally's tax instead); `rounding`: per line or per "
    "rate total, always half up to the currency's minor unit. Defaults (version 0): add, "
    "total. The ETag is the version.",
    responses=responses(200, TaxSettingsOut, 403),
    tags=["tax"],
)
def get_tax_settings() -> Response[str]:
    found = rules.read_settings(context.view(router))
    return with_etag(settings_out(found), found.version)


@router.put(
    "/tax-rules/settings",
    summary="Change the tax settings (tax:write)",
    description="If-Match with the ETag of your read refuses to overwrite a newer change "
    "(409). Invoices and statements made afterwards follow the new settings.",
    responses=responses(200, TaxSettingsOut, 403, 409),
    tags=["tax"],
)
def put_tax_settings(body: Annotated[TaxSettingsIn, Body()]) -> Response[str]:
    from tally.tax.model import Rounding, TaxMode

    saved = rules.update_settings(
        context.view(router),
        mode=TaxMode(body.mode),
        rounding=Rounding(body.rounding),
        expected_version=if_match(router),
    )
    return with_etag(settings_out(saved), saved.version)
