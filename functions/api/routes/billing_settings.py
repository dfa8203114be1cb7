"""The organisation's billing settings, in sections: ``currency`` (``tally.billing_settings``),
``tax`` (the tax package's own settings, ``tally.tax``, versioned; also at
``/api/tax-rules/settings``) and ``period`` (the billing periods, ``tally.periods``: a change
queues the recompute of every roll-up on the reports queue). Anyone signed in reads them;
finance and admins change them (``billing:settings``, and tax:write for the tax section),
audited. A section given is merged over its current values; the sections not given are not
written. Every section given is checked before any is saved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from api import context
from api.lazy import lazy_module
from api.problems import responses
from api.routes.tax import settings_out as tax_out
from api.schemas import (
    BillingSettingsIn,
    BillingSettingsOut,
    CurrencySectionOut,
    PeriodNowOut,
    PeriodRecomputeOut,
    PeriodSectionOut,
    TaxSectionIn,
)
from tally.clock import utc_now
from tally.errors import Unavailable

if TYPE_CHECKING:
    from tally import billing_settings, periods
    from tally.calendar import PeriodDefinition
    from tally.tax import rules as tax_rules
    from tally.view import View
else:
    billing_settings = lazy_module("tally.billing_settings")
    periods = lazy_module("tally.periods")
    tax_rules = lazy_module("tally.tax.rules")

logger = Logger(service="tally-api", child=True)

router = Router()


def _period_out(view: View, section: billing_settings.Section) -> PeriodSectionOut:
    from tally import calendar

    values = section.values
    definition = periods.from_values(values)
    with calendar.using(definition):
        now = periods.current_period(view.today)
    recompute = None
    job = (
        view.stores.report_jobs.get(values["recomputeJobId"])
        if values.get("recomputeJobId")
        else None
    )
    if job is not None:
        done = job.status.value != "pending"
        recompute = PeriodRecomputeOut(
            job_id=job.job_id,
            status=job.status.value,
            requested_at=job.created_at.isoformat(),
            finished_at=job.updated_at.isoformat() if done else None,
            owners=int(job.details["owners"]) if "owners" in job.details else None,
            periods=int(job.details["periods"]) if "periods" in job.details else None,
            error=job.error,
        )
    return PeriodSectionOut(
        kind=definition.kind,  # type: ignore[arg-type]
        start_day=definition.start_day,
        fiscal_year_start=definition.fiscal_year_start,
        week_start=definition.week_start,
        current=PeriodNowOut(**now),
        updated_at=section.updated_at.isoformat() if section.updated_at else None,
        updated_by=section.updated_by,
        recompute=recompute,
    )


def _out(view: View, sections: dict[str, billing_settings.Section]) -> BillingSettingsOut:
    currency = sections[billing_settings.CURRENCY]
    values = currency.values
    return BillingSettingsOut(
        period=_period_out(view, sections[billing_settings.PERIOD]),
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
    "`GET /api/tax-rules/settings`). `period`: the billing periods (calendar months unless "
    "set), today's period, and the recompute the last change started.",
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
    "newer change (409); it is saved first, so a refusal leaves every section as it was. "
    "A changed `period` definition queues the recompute of every stored roll-up from the "
    "stored cost records (no cost source is read): `period.recompute` says how it goes "
    "(poll this GET). Until it is ready, figures of periods may still be the old "
    "definition's. Budgets keep their limit per period (a period named from a budget's "
    "`effectiveFrom` on has its limit, whatever its length). 503 with Retry-After when the "
    "recompute cannot be queued: then nothing is changed.",
    responses=responses(200, BillingSettingsOut, 403, 409, 503),
    tags=["settings"],
)
def put_billing_settings(body: Annotated[BillingSettingsIn, Body()]) -> BillingSettingsOut:
    view = context.view(router)
    new_periods = _checked_periods(view, body) if body.period is not None else None
    if body.tax is not None:
        _save_tax(view, body.tax)
    if new_periods is not None:
        _save_periods(view, *new_periods)
    changes = {
        name: section.model_dump(by_alias=True, exclude_unset=True)
        for name, section in body
        if section is not None and name not in ("tax", "period")
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


def _checked_periods(
    view: View, body: BillingSettingsIn
) -> tuple[PeriodDefinition, billing_settings.Section]:
    """The definition the body asks for, checked before anything is saved: refused (403)
    before its fields are judged (422, naming ``period.<field>``); and the section read."""
    from tally.access import require
    from tally.authz import Target

    require(view.caller, billing_settings.SETTINGS_WRITE, Target.org())
    assert body.period is not None
    fields = body.period.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
    section = billing_settings.billing_settings(view)[billing_settings.PERIOD]
    return periods.checked(fields, section.values), section


def _save_periods(view: View, new: PeriodDefinition, section: billing_settings.Section) -> None:
    """Save ``new`` over ``section`` (as read) and queue its recompute; nothing when it gives
    the periods in force already. ``Unavailable`` (503) when the queue refused the job: the
    definition is put back."""
    import json
    import uuid

    from api import downloads
    from tally.models import JobStatus, ReportJob

    if periods.from_values(section.values).normalised() == new:
        return
    queue = downloads.queue()  # a missing TALLY_REPORTS_QUEUE_URL fails before anything is saved
    now = utc_now()
    job = ReportJob(
        job_id=str(uuid.uuid4()),
        kind=periods.RECOMPUTE_JOB,
        requester_id=view.caller.user_id,
        params={"definition": json.dumps(periods.to_values(new), sort_keys=True)},
        status=JobStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    view.stores.report_jobs.create(job)
    saved = {**periods.to_values(new), "recomputeJobId": job.job_id}
    billing_settings.save_sections(view, {billing_settings.PERIOD: saved}, now=now)
    try:
        queue.send(job.job_id)
    except downloads.QueueUnavailable as error:
        logger.error("the recompute could not be queued", extra={"error": str(error)})
        billing_settings.save_sections(
            view, {billing_settings.PERIOD: dict(section.values)}, now=utc_now()
        )
        view.stores.report_jobs.fail(
            job.job_id, error="the recompute could not be queued", at=utc_now()
        )
        raise Unavailable(
            "the billing periods cannot be changed at the moment; try again"
        ) from None
