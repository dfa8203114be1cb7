"""Domain models -> API models."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from api import schemas as s
from tally.calendar import first_day, last_day
from tally.models import ORG, UNALLOCATED
from tally.money import format_amount
from tally.names import cost_per_unit, display_name
from tally.org.model import cost_center_of_owner, team_of_owner

if TYPE_CHECKING:  # annotations only: the domain modules load with the routes that use them
    from collections.abc import Mapping

    from tally.anomalies.model import Anomaly
    from tally.assignments import AssignedResource
    from tally.chargeback import Chargeback, ChargebackUnit
    from tally.forecast import Forecast
    from tally.models import (
        Assignment,
        Budget,
        BudgetTerms,
        Claim,
        CostRecord,
        Metric,
        Notification,
    )
    from tally.org.costs import CostCenterSummary, TeamSummary
    from tally.payments.port import InvoicePayment
    from tally.preferences import UserPreferences
    from tally.rates import ConvertedSet, RateUsed
    from tally.recommendations import RecommendationList
    from tally.reports import (
        Attribution,
        CostLinesPage,
        CostReport,
        MonthBudget,
        OrgMonth,
        Summary,
        UserPreviousMonth,
    )
    from tally.reports.summary import JudgedIn
    from tally.tax.model import TaxBreakdown


def money(amount: Decimal, currency: str) -> s.Money:
    return s.Money(amount=format_amount(amount), currency=currency)


def rate_used_out(r: RateUsed) -> s.RateUsedOut:
    return s.RateUsedOut(
        base=r.base,
        quote=r.quote,
        rate=format(r.rate.normalize(), "f"),
        rate_date=r.rate_day.isoformat(),
        source=r.source,
        fallback=r.fallback,
    )


def converted_out(c: ConvertedSet | None, *, daily: bool = False) -> s.ConvertedOut | None:
    """Converted figures beside the originals; the days' rates with ``daily``."""
    if c is None:
        return None
    days_out = None
    if daily:
        rates: dict[object, list[RateUsed]] = {}
        for part in c.parts:
            for d in part.days:
                rates.setdefault(d.day, []).append(d.rate)
        days_out = [
            s.ConvertedDayOut(
                date=day.isoformat(),
                cost=money(amount, c.quote),
                rates=[rate_used_out(r) for r in rates.get(day, [])],
            )
            for day, amount in c.daily().items()
        ]
    return s.ConvertedOut(
        total=money(c.total, c.quote),
        fallback=c.fallback,
        rates_used=[rate_used_out(r) for r in c.rates_used()],
        daily=days_out,
    )


def _optional_name(resource_id: str | None, name: str | None = None) -> str | None:
    return display_name(resource_id, name) if resource_id else None


def cost_per_unit_out(r: CostRecord, metric: Metric) -> s.CostPerUnitOut | None:
    price = cost_per_unit(
        r.amount(metric), r.usage_quantity, r.usage_unit, r.currency, r.charge_category
    )
    if price is None:
        return None
    return s.CostPerUnitOut(
        amount=format(price.amount, "f"), currency=price.currency, unit=price.unit
    )


def assignment_out(a: Assignment, name: str | None = None) -> s.AssignmentOut:
    return s.AssignmentOut(
        assignment_id=a.assignment_id,
        user_id=a.user_id,
        team_id=team_of_owner(a.user_id),
        resource_type=a.resource_type,
        resource_id=a.resource_id,
        resource_name=display_name(a.resource_id, name),
        cost_center=a.cost_center,
        share_pct=format(a.share_pct.normalize(), "f"),
        assigned_by=a.assigned_by,
        assigned_at=a.assigned_at.isoformat(),
        effective_from=a.effective_from.isoformat(),
        effective_to=a.effective_to.isoformat() if a.effective_to else None,
    )


def assigned_resource_out(r: AssignedResource) -> s.AssignedResourceOut:
    cost = None
    if r.cost is not None:
        cost = s.ResourceCostOut(
            last_30_days=money(r.cost.last_30_days, r.cost.currency),
            latest_daily=money(r.cost.latest_daily, r.cost.currency),
            latest_day=r.cost.latest_day.isoformat() if r.cost.latest_day else None,
        )
    return s.AssignedResourceOut(
        **assignment_out(r.assignment, r.name).model_dump(), scheduled=r.scheduled, cost=cost
    )


def budget_terms_out(t: BudgetTerms) -> s.BudgetTermsOut:
    return s.BudgetTermsOut(
        effective_from=t.effective_from,
        monthly_limit=money(t.monthly_limit, t.currency),
        alert_threshold=t.alert_threshold,
        currency=t.currency,
    )


def budget_out(b: Budget) -> s.BudgetOut:
    return s.BudgetOut(
        budget_id=b.budget_id,
        user_id=b.user_id,
        team_id=team_of_owner(b.user_id),
        cost_center=cost_center_of_owner(b.user_id),
        monthly_limit=money(b.monthly_limit, b.currency),
        alert_threshold=b.alert_threshold,
        currency=b.currency,
        effective_from=b.effective_from,
        history=[budget_terms_out(t) for t in b.changes],
        created_at=b.created_at.isoformat(),
        updated_at=b.updated_at.isoformat(),
        version=b.version,
    )


def costs_out(r: CostReport) -> s.CostsOut:
    return s.CostsOut(
        user_id=r.user_id,
        start_date=r.start.isoformat(),
        end_date=r.end.isoformat(),
        metric=r.metric,  # type: ignore[arg-type]
        total=money(r.total, r.currency),
        by_service=[s.ServiceCost(service=k, cost=money(v, r.currency)) for k, v in r.by_service],
        daily=[s.DailyCost(date=d.isoformat(), cost=money(v, r.currency)) for d, v in r.daily],
        estimated=r.estimated,
        other_currencies=[money(m.amount, m.currency) for m in r.other_currencies],
        converted=converted_out(r.converted, daily=True),
    )


def cost_lines_out(p: CostLinesPage, next_token: str | None) -> s.CostLinesOut:
    return s.CostLinesOut(
        user_id=p.user_id,
        start_date=p.start.isoformat(),
        end_date=p.end.isoformat(),
        metric=p.metric,  # type: ignore[arg-type]
        total_count=p.total_count,
        services=p.services,
        lines=[
            s.CostLineOut(
                date=r.day.isoformat(),
                service=r.service,
                resource_id=r.resource_id,
                resource_name=_optional_name(r.resource_id, r.resource_name),
                charge_category=r.charge_category,
                cost=money(r.amount(p.metric), r.currency),
                billed_cost=money(r.billed_cost, r.currency),
                effective_cost=money(r.effective_cost, r.currency),
                usage_quantity=format(r.usage_quantity.normalize(), "f"),
                usage_unit=r.usage_unit,
                cost_per_unit=cost_per_unit_out(r, p.metric),
                estimated=r.estimated,
                allocation=r.allocation,  # type: ignore[arg-type]
                share_pct=format(r.share_pct.normalize(), "f"),
            )
            for r in p.lines
        ],
        next_token=next_token,
    )


def _forecast_out(f: Forecast | None, currency: str) -> s.ForecastOut | None:
    if f is None:
        return None
    end = f.month_end

    def m(value: Decimal) -> s.Money:
        return money(value, currency)

    return s.ForecastOut(
        method=f.model,
        as_of=f.as_of.isoformat(),
        actual_to_date=m(end.actual_to_date),
        month_end=m(end.projected_total),
        month_end_lower80=m(end.lower80),
        month_end_upper80=m(end.upper80),
        month_end_lower95=m(end.lower95),
        month_end_upper95=m(end.upper95),
        expected_charges=m(end.expected_charges),
        daily=[
            s.ForecastPoint(
                date=p.day.isoformat(),
                expected=m(p.amount),
                lower80=m(p.lower80),
                upper80=m(p.upper80),
                lower95=m(p.lower95),
                upper95=m(p.upper95),
            )
            for p in f.daily
        ],
    )


def _summary_budget(b: MonthBudget | None) -> s.SummaryBudget | None:
    if b is None:
        return None
    return s.SummaryBudget(
        budget_id=b.budget_id,
        monthly_limit=money(b.terms.monthly_limit, b.terms.currency),
        alert_threshold=b.terms.alert_threshold,
        version=b.version,
        effective_from=b.terms.effective_from,
    )


def _optional_money(amount: Decimal | None, currency: str) -> s.Money | None:
    return money(amount, currency) if amount is not None else None


def _optional_str(value: object | None) -> str | None:
    return str(value) if value is not None else None


def judged_in_out(j: JudgedIn | None) -> s.BudgetJudgedInOut | None:
    if j is None:
        return None
    return s.BudgetJudgedInOut(
        currency=j.currency,
        spent=money(j.spent, j.currency),
        fallback=j.fallback,
        rates_used=[rate_used_out(r) for r in j.rates],
    )


def summary_out(m: Summary) -> s.SummaryOut:
    p = m.previous_month
    return s.SummaryOut(
        user_id=m.user_id,
        month=m.month,
        period_start=first_day(m.month).isoformat(),
        period_end=last_day(m.month).isoformat(),
        today=m.today.isoformat(),
        metric=m.metric,  # type: ignore[arg-type]
        total=money(m.total, m.currency),
        budget=_summary_budget(m.budget),
        no_costs_yet=m.no_costs_yet,
        first_costs_expected=m.first_costs_expected.isoformat() if m.first_costs_expected else None,
        previous_month=s.PreviousMonthOut(
            month=p.month,
            total=money(p.total, p.currency),
            budget=_summary_budget(p.budget),
            status=p.status.value if p.status else None,
            percent_used=_optional_str(p.percent_used),
            # Judged on converted figures, what remains is in the budget's currency.
            remaining=_optional_money(
                p.remaining, p.judged_in.currency if p.judged_in else p.currency
            ),
            final=p.final,
            budget_judged_in=judged_in_out(p.judged_in),
        )
        if p
        else None,
        remaining=_optional_money(m.remaining, m.currency),
        remaining_pct=_optional_str(m.remaining_pct),
        percent_used=_optional_str(m.percent_used),
        status=m.status.value if m.status else None,
        currency_mismatch=m.currency_mismatch,
        budget_judged_in=judged_in_out(m.judged_in),
        top_drivers=[
            s.DriverOut(
                resource_id=d.resource_id,
                resource_name=display_name(d.resource_id, d.name),
                service=d.service,
                cost=money(d.amounts.amount(m.metric), m.currency),
            )
            for d in m.top_drivers
        ],
        estimated=m.estimated,
        last_updated=m.updated_at.isoformat() if m.updated_at else None,  # type: ignore[attr-defined]
        forecast=_forecast_out(m.forecast, m.currency),
        restatements=[
            s.RestatementOut(
                month=str(x["month"]),
                at=str(x["at"]),
                previous=money(Decimal(str(x["old"])), str(x["currency"])),
                current=money(Decimal(str(x["new"])), str(x["currency"])),
            )
            for x in m.restatements
        ],
        other_currencies=[money(o.amount, o.currency) for o in m.other_currencies],
    )


def _user_previous_out(p: UserPreviousMonth | None) -> s.UserPreviousMonthOut | None:
    if p is None:
        return None
    return s.UserPreviousMonthOut(
        total=money(p.total, p.currency),
        budget=money(p.budget.monthly_limit, p.budget.currency) if p.budget else None,
        status=p.status.value if p.status else None,
    )


def _attribution_out(a: Attribution, currency: str, metric: Metric) -> s.AttributionOut:
    return s.AttributionOut(
        coverage=str(a.coverage) if a.coverage is not None else None,
        owned=money(a.owned, currency),
        unallocated=money(a.unallocated, currency),
        top_unowned=[
            s.UnownedResourceOut(
                resource_id=r.resource_id,
                resource_name=display_name(r.resource_id, r.name),
                service=r.service,
                cost=money(r.amounts.amount(metric), currency),
            )
            for r in a.top_unowned
        ],
    )


def all_users_out(o: OrgMonth, next_token: str | None) -> s.AllUsersOut:
    p = o.previous_month
    return s.AllUsersOut(
        month=o.month,
        today=o.today.isoformat(),
        metric=o.metric,  # type: ignore[arg-type]
        organisation_total=money(o.org_total, o.currency),
        unallocated=money(o.unallocated, o.currency),
        estimated=o.estimated,
        no_costs_yet=o.no_costs_yet,
        first_costs_expected=o.first_costs_expected.isoformat() if o.first_costs_expected else None,
        previous_month=s.OrgPreviousMonthOut(
            month=p.month,
            organisation_total=money(p.org_total, p.currency),
            unallocated=money(p.unallocated, p.currency),
            final=p.final,
        )
        if p
        else None,
        attribution=_attribution_out(o.attribution, o.currency, o.metric),
        users=[
            s.UserRowOut(
                user_id=row.user.user_id,
                username=row.user.username,
                email=row.user.email,
                role=row.user.role.value,
                total=money(row.total, row.currency),
                budget=money(row.budget.monthly_limit, row.budget.currency) if row.budget else None,
                alert_threshold=row.budget.alert_threshold if row.budget else None,
                status=row.status.value if row.status else None,
                previous_month=_user_previous_out(row.previous_month),
                converted=converted_out(o.converted.get(row.user.user_id)),
            )
            for row in o.users.items
        ],
        next_token=next_token,
        converted_organisation_total=converted_out(o.converted.get(ORG)),
        converted_unallocated=converted_out(o.converted.get(UNALLOCATED)),
    )


def claim_out(c: Claim, name: str | None = None, claimant_name: str | None = None) -> s.ClaimOut:
    return s.ClaimOut(
        claim_id=c.claim_id,
        status=c.status.value,  # type: ignore[arg-type]
        resource_type=c.resource_type,
        resource_id=c.resource_id,
        resource_name=display_name(c.resource_id, name),
        share_pct=format(c.share_pct.normalize(), "f"),
        note=c.note,
        claimant_id=c.claimant_id,
        claimant_name=claimant_name,
        approver_ids=list(c.approver_ids),
        created_at=c.created_at.isoformat(),
        decided_at=c.decided_at.isoformat() if c.decided_at else None,
        decided_by=c.decided_by,
        assignment_id=c.assignment_id,
    )


def notification_out(n: Notification) -> s.NotificationOut:
    return s.NotificationOut(
        id=n.notification_id,
        kind=n.kind,
        title=n.title,
        body=n.body,
        link=n.link,
        created_at=n.created_at.isoformat(),
        read=n.read,
        read_at=n.read_at.isoformat() if n.read_at else None,
    )


def preferences_out(p: UserPreferences) -> s.PreferencesOut:
    prefs = p.preferences
    hook, stopped = prefs.webhook, prefs.email_suppressed
    return s.PreferencesOut(
        email_alerts=prefs.email_alerts,
        digest=prefs.digest.value,  # type: ignore[arg-type]
        alert_threshold=p.alert_threshold,
        # The hint only: the URL itself is a credential (anyone holding it can post).
        webhook=s.WebhookOut(hint=hook.hint, flavour=hook.flavour) if hook else None,
        email_suppressed=s.EmailSuppressedOut(
            reason=stopped.reason,  # type: ignore[arg-type]
            since=stopped.at.isoformat(),
            address=stopped.address,
        )
        if stopped
        else None,
        display_currency=prefs.display_currency,
        updated_at=prefs.updated_at.isoformat() if prefs.updated_at else None,
        version=p.version,
    )


# --- exports and invoices (issue 12: routes/exports.py) -------------------------------------

if TYPE_CHECKING:
    from api.downloads import Link
    from tally.models import ReportJob


def export_out(job: ReportJob, link: Link | None) -> s.ExportOut:
    return s.ExportOut(
        export_id=job.job_id,
        kind=job.params.get("kind", "costs"),  # type: ignore[arg-type]
        status=str(job.status),  # type: ignore[arg-type]
        created_at=job.created_at.isoformat(),
        url=link.url if link else None,
        expires_at=link.expires_at.isoformat() if link else None,
        rows=job.rows,
        error=job.error,
    )


def _flag(value: str | None) -> bool | None:
    return None if value is None else value == "true"


def invoice_out(
    job: ReportJob, link: Link | None, payments: list[InvoicePayment] | None = None
) -> s.InvoiceOut:
    return s.InvoiceOut(
        invoice_id=job.job_id,
        status=str(job.status),  # type: ignore[arg-type]
        created_at=job.created_at.isoformat(),
        url=link.url if link else None,
        expires_at=link.expires_at.isoformat() if link else None,
        invoice_number=job.details.get("invoiceNumber"),
        provisional=_flag(job.details.get("provisional")),
        emailed=_flag(job.details.get("emailed")),
        template_id=job.details.get("templateId"),
        template_version=_int(job.details.get("templateVersion")),
        error=job.error,
        tax=_invoice_tax(job.details.get("tax")),
        payments=[invoice_payment_out(p) for p in payments or []],
    )


def invoice_payment_out(p: InvoicePayment) -> s.InvoicePaymentOut:
    return s.InvoicePaymentOut(
        invoice_id=p.invoice_id,
        currency=p.currency,
        provider=p.provider,  # type: ignore[arg-type]
        reference=p.reference,
        status=p.status.value,  # type: ignore[arg-type]
        updated_at=p.updated_at.isoformat(),
        url=p.url,
    )


def _invoice_tax(doc: str | None) -> list[s.InvoiceTaxOut]:
    import json

    if not doc:
        return []
    return [
        s.InvoiceTaxOut(
            currency=t["currency"],
            net=s.Money(amount=t["net"], currency=t["currency"]),
            tax=s.Money(amount=t["tax"], currency=t["currency"]),
            gross=s.Money(amount=t["gross"], currency=t["currency"]),
        )
        for t in json.loads(doc)
    ]


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


# --- month over month (H4: reports/changes) ----------------------------------------------

if TYPE_CHECKING:
    from tally.reports import MonthOverMonth


def month_over_month_out(m: MonthOverMonth) -> s.MonthOverMonthOut:
    return s.MonthOverMonthOut(
        user_id=m.user_id,
        month=m.month,
        previous_month=m.previous_month,
        currency=m.currency,
        metric=m.metric,  # type: ignore[arg-type]
        estimated=m.estimated,
        days_compared=m.days_compared,
        current_total=format_amount(m.current_total),
        previous_same_days_total=format_amount(m.previous_same_days_total),
        previous_total=format_amount(m.previous_total),
        services=[
            s.ServiceChangeOut(
                service=c.service,
                current=format_amount(c.current),
                previous_same_days=format_amount(c.previous_same_days),
                previous=format_amount(c.previous),
                change=format_amount(c.change),
                change_pct=None if c.change_pct is None else format(c.change_pct, "f"),
            )
            for c in m.services
        ],
        waterfall=s.WaterfallOut(
            start=format_amount(m.waterfall.start),
            end=format_amount(m.waterfall.end),
            steps=[
                s.WaterfallStepOut(
                    kind=step.kind,  # type: ignore[arg-type]
                    label=step.label,
                    amount=format_amount(step.amount),
                    service=step.service,
                    resource_id=step.resource_id,
                    resource_name=_optional_name(step.resource_id),
                )
                for step in m.waterfall.steps
            ],
        ),
    )


# --- savings recommendations (issue 12) -------------------------------------------------


def recommendation_list_out(r: RecommendationList) -> s.RecommendationListOut:
    from tally.models import UNALLOCATED

    return s.RecommendationListOut(
        currency=r.currency,
        total_monthly_saving=format_amount(r.total_monthly_saving),
        items=[
            s.RecommendationOut(
                recommendation_id=i.recommendation_id,
                user_id=None if i.owner == UNALLOCATED else i.owner,
                kind=i.kind,  # type: ignore[arg-type]
                resource_id=i.resource_id,
                resource_name=display_name(i.resource_id),
                resource_type=i.resource_type,
                service=i.service,
                title=i.title,
                detail=i.detail,
                monthly_saving=format_amount(i.monthly_saving),
                currency=i.currency,
                evidence=i.evidence,
                detected_at=i.detected_at.isoformat(),
            )
            for i in r.items
        ],
    )


# --- anomalies (issue 12, H5) ----------------------------------------------------------


def anomaly_out(a: Anomaly) -> s.AnomalyOut:
    return s.AnomalyOut(
        anomaly_id=a.anomaly_id,
        user_id=a.user_id,
        day=a.day.isoformat(),
        service=a.service,
        resource_id=a.resource_id,
        resource_name=_optional_name(a.resource_id),
        usage_unit=a.usage_unit,
        expected=format_amount(a.expected),
        actual=format_amount(a.actual),
        impact=format_amount(a.impact),
        currency=a.currency,
        score=float(a.score),
        status=a.status.value,  # type: ignore[arg-type]
        detected_at=a.detected_at.isoformat(),
        updated_at=a.updated_at.isoformat(),
    )


def team_summary_out(t: TeamSummary) -> s.TeamSummaryOut:
    base = summary_out(t.summary)
    currency = t.summary.currency
    return s.TeamSummaryOut(
        **base.model_dump(exclude={"converted"}),
        team_id=t.team.team_id,
        team_name=t.team.name,
        members=[
            s.TeamMemberCostOut(
                user_id=m.user_id, username=m.username, amount=money(m.amount, currency)
            )
            for m in t.members
        ],
        team_resources=money(t.team_resources, currency),
        resources=[assignment_out(a) for a in t.resources],
        converted=converted_out(t.converted),
    )


def cost_center_summary_out(c: CostCenterSummary) -> s.CostCenterSummaryOut:
    base = summary_out(c.summary)
    currency = c.summary.currency
    return s.CostCenterSummaryOut(
        **base.model_dump(),
        cost_center=c.scope.code,
        name=c.scope.name,
        teams=[s.CostCenterTeamOut(team_id=t.team_id, name=t.name) for t in c.scope.teams],
        members=[
            s.TeamMemberCostOut(
                user_id=m.user_id, username=m.username, amount=money(m.amount, currency)
            )
            for m in c.members
        ],
        team_resources=money(c.team_resources, currency),
    )


def tax_breakdown_out(b: TaxBreakdown) -> s.TaxBreakdownOut:
    cur = b.currency
    return s.TaxBreakdownOut(
        currency=cur,
        rows=[
            s.TaxRateRowOut(
                name=r.name,
                jurisdiction=r.jurisdiction,
                rate=format(r.rate.normalize(), "f"),
                treatment=r.treatment.value,  # type: ignore[arg-type]
                reason=r.reason,
                base=money(r.base, cur),
                tax=money(r.tax, cur),
                first_day=r.first_day,
                last_day=r.last_day,
            )
            for r in b.rows
        ],
        net=money(b.net, cur),
        tax=money(b.tax, cur),
        gross=money(b.gross, cur),
        untaxed=money(b.untaxed, cur),
        mode=b.mode.value,  # type: ignore[arg-type]
        rounding=b.rounding.value,  # type: ignore[arg-type]
    )


def chargeback_out(c: Chargeback) -> s.ChargebackOut:
    def amounts(values: Mapping[str, Decimal]) -> list[s.Money]:
        return [money(values.get(cur, Decimal(0)), cur) for cur in c.currencies]

    def unit(u: ChargebackUnit) -> s.ChargebackUnitOut:
        figures = [(cur, u.in_currency(cur)) for cur in c.currencies]
        return s.ChargebackUnitOut(
            unit_id=u.unit_id,
            name=u.name,
            kind=u.kind,  # type: ignore[arg-type]
            parent_id=u.parent_id,
            cost_center=u.cost_center,
            people=u.people,
            allocated=[money(f.allocated, cur) for cur, f in figures],
            shared=[money(f.shared, cur) for cur, f in figures],
            unallocated=[money(f.unallocated, cur) for cur, f in figures],
            total=[money(f.total, cur) for cur, f in figures],
            tax=[tax_breakdown_out(u.tax[cur]) for cur in c.currencies if cur in u.tax],
        )

    return s.ChargebackOut(
        month=c.month,
        group_by=c.group_by.value,  # type: ignore[arg-type]
        metric=c.metric.value,  # type: ignore[arg-type]
        currencies=list(c.currencies),
        rule=c.rule.value,  # type: ignore[arg-type]
        units=[unit(u) for u in c.units],
        no_team=unit(c.no_team),
        unallocated=amounts(c.unallocated),
        organisation_total=amounts(c.organisation_total),
        final=c.final,
    )
