"""Reading reserved capacity from AWS: Cost Explorer's utilisation, coverage and purchase
recommendations, and the commitments with their end dates. Called by the reports function's
daily refresh (``tally.commitments.refresh``), never on a request path.

The calls, and why each:

* ``GetSavingsPlansUtilization`` and ``GetReservationUtilization`` (monthly): used and unused
  commitment per month. ``GetSavingsPlansCoverage`` and ``GetReservationCoverage`` (monthly):
  the share of eligible usage the commitments covered and what the rest cost on demand.
* **End dates**: Savings Plans from ``savingsplans:DescribeSavingsPlans`` (its ``end``; Cost
  Explorer has no Savings Plans listing with end dates but the per-plan utilisation details,
  which cost a request per page and say the same); reservations from Cost Explorer's
  ``GetReservationUtilization`` grouped by ``SUBSCRIPTION_ID`` (each group's ``endDateTime``
  attribute): EC2's ``DescribeReservedInstances`` would cover EC2 alone and one region a call,
  while Cost Explorer's groups span every service and region of the organisation.
* ``GetSavingsPlansPurchaseRecommendation`` (Compute Savings Plans) and
  ``GetReservationPurchaseRecommendation`` (EC2): one year, no upfront, from the last 30 days
  (the settings a first purchase usually starts from).

Amounts are Cost Explorer's strings read as ``Decimal``. Utilisation and coverage carry no
currency: Cost Explorer reports them in US dollars (``CE_CURRENCY``); recommendations name
theirs (``CurrencyCode``). Each request is billed ($0.01): the refresh makes about eight a day.
A call answering ``DataUnavailableException`` (no commitments, a new account) is noted and
skipped; any other error fails the refresh, leaving the last snapshot stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from botocore.exceptions import ClientError

from tally.commitments.model import (
    Commitment,
    CommitmentSnapshot,
    Coverage,
    Kind,
    PurchaseRecommendation,
    Utilisation,
)
from tally.money import ZERO
from tally.sources import PaginationLoopError

SOURCE = "cost-explorer"
CE_CURRENCY = "USD"
MONTHS_READ = 3  # complete months before the current one
EC2_SERVICE = "Amazon Elastic Compute Cloud - Compute"
TERM, PAYMENT, LOOKBACK = "ONE_YEAR", "NO_UPFRONT", "THIRTY_DAYS"
SP_STATES = ["active", "queued", "payment-pending"]
UNAVAILABLE = "DataUnavailableException"


def window(today: date) -> tuple[date, date]:
    """``[start, end)``: the first day of the month ``MONTHS_READ`` before today's, to today
    (Cost Explorer's end is exclusive; on the 1st the current month is not asked for)."""
    year, month = today.year, today.month - MONTHS_READ
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1), today


def _amount(value: Any) -> Decimal:
    text = str(value or "").strip()
    return Decimal(text) if text else ZERO


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _end_day(text: str) -> date:
    """The day a commitment ends: the UTC date of its end moment."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def break_even(upfront: Decimal, monthly_saving: Decimal) -> Decimal | None:
    """Months until the upfront payment is saved back (one decimal, rounded up at the half);
    0 without an upfront payment; None when nothing is saved."""
    if monthly_saving <= 0:
        return None
    return (upfront / monthly_saving).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _pages(
    call: Callable[..., dict[str, Any]], token_in: str, token_out: str, **params: Any
) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    while True:
        page = call(**params)
        yield page
        token = page.get(token_out)
        if not token:
            return
        if token in seen:
            raise PaginationLoopError(f"{token_out} repeated")
        seen.add(token)
        params[token_in] = token


class CommitmentReader:
    """Reads a ``CommitmentSnapshot`` through a Cost Explorer and a Savings Plans client."""

    def __init__(self, ce: Any, savingsplans: Any) -> None:
        self._ce = ce
        self._sp = savingsplans
        self.notes: list[str] = []

    def read(self, *, today: date, now: datetime) -> CommitmentSnapshot:
        self.notes = []
        start, end = window(today)
        period = {"Start": start.isoformat(), "End": end.isoformat()}
        utilisation = [
            *self._guard("Savings Plans utilisation", self._sp_utilisation, period),
            *self._guard("reservation utilisation", self._ri_utilisation, period),
        ]
        coverage = [
            *self._guard("Savings Plans coverage", self._sp_coverage, period),
            *self._guard("reservation coverage", self._ri_coverage, period),
        ]
        commitments = [
            *self._guard("Savings Plans", self._savings_plans, period),
            *self._guard("reservations", self._reservations, period),
        ]
        recommendations = [
            *self._guard("Savings Plans recommendations", self._sp_recommendations, period),
            *self._guard("reservation recommendations", self._ri_recommendations, period),
        ]
        return CommitmentSnapshot(
            read_at=now,
            source=SOURCE,
            utilisation=tuple(sorted(utilisation, key=lambda u: (u.kind, u.start))),
            coverage=tuple(sorted(coverage, key=lambda c: (c.kind, c.start))),
            commitments=tuple(sorted(commitments, key=lambda c: (c.end, c.commitment_id))),
            recommendations=tuple(
                sorted(recommendations, key=lambda r: (-r.monthly_saving, r.description))
            ),
            notes=tuple(self.notes),
        )

    def _guard(self, what: str, read: Callable[[dict[str, str]], list[Any]], period: Any) -> list:
        try:
            return read(period)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == UNAVAILABLE:
                self.notes.append(f"Cost Explorer has no {what} data yet")
                return []
            raise

    # -- utilisation and coverage ---------------------------------------------------------------

    def _sp_utilisation(self, period: dict[str, str]) -> list[Utilisation]:
        page = self._ce.get_savings_plans_utilization(TimePeriod=period, Granularity="MONTHLY")
        out = []
        for row in page.get("SavingsPlansUtilizationsByTime", []):
            u = row.get("Utilization", {})
            out.append(
                Utilisation(
                    kind="savings-plan",
                    start=_day(row["TimePeriod"]["Start"]),
                    percent=_amount(u.get("UtilizationPercentage")),
                    commitment=_amount(u.get("TotalCommitment")),
                    used=_amount(u.get("UsedCommitment")),
                    unused=_amount(u.get("UnusedCommitment")),
                    currency=CE_CURRENCY,
                    net_savings=_amount(row.get("Savings", {}).get("NetSavings")),
                )
            )
        return out

    def _ri_utilisation(self, period: dict[str, str]) -> list[Utilisation]:
        out = []
        for page in _pages(
            self._ce.get_reservation_utilization,
            "NextPageToken",
            "NextPageToken",
            TimePeriod=period,
            Granularity="MONTHLY",
        ):
            for row in page.get("UtilizationsByTime", []):
                t = row.get("Total", {})
                fee = _amount(t.get("TotalAmortizedFee"))
                unused = _amount(t.get("RICostForUnusedHours"))
                out.append(
                    Utilisation(
                        kind="reservation",
                        start=_day(row["TimePeriod"]["Start"]),
                        percent=_amount(t.get("UtilizationPercentage")),
                        commitment=fee,
                        used=fee - unused,
                        unused=unused,
                        currency=CE_CURRENCY,
                        net_savings=_amount(t.get("NetRISavings")),
                    )
                )
        return out

    def _sp_coverage(self, period: dict[str, str]) -> list[Coverage]:
        out = []
        for page in _pages(
            self._ce.get_savings_plans_coverage,
            "NextToken",
            "NextToken",
            TimePeriod=period,
            Granularity="MONTHLY",
        ):
            for row in page.get("SavingsPlansCoverages", []):
                c = row.get("Coverage", {})
                out.append(
                    Coverage(
                        kind="savings-plan",
                        start=_day(row["TimePeriod"]["Start"]),
                        percent=_amount(c.get("CoveragePercentage")),
                        on_demand_cost=_amount(c.get("OnDemandCost")),
                        currency=CE_CURRENCY,
                    )
                )
        return out

    def _ri_coverage(self, period: dict[str, str]) -> list[Coverage]:
        out = []
        for page in _pages(
            self._ce.get_reservation_coverage,
            "NextPageToken",
            "NextPageToken",
            TimePeriod=period,
            Granularity="MONTHLY",
        ):
            for row in page.get("CoveragesByTime", []):
                t = row.get("Total", {})
                out.append(
                    Coverage(
                        kind="reservation",
                        start=_day(row["TimePeriod"]["Start"]),
                        percent=_amount(t.get("CoverageHours", {}).get("CoverageHoursPercentage")),
                        on_demand_cost=_amount(t.get("CoverageCost", {}).get("OnDemandCost")),
                        currency=CE_CURRENCY,
                    )
                )
        return out

    # -- the commitments and their end dates ---------------------------------------------------

    def _savings_plans(self, period: dict[str, str]) -> list[Commitment]:
        out = []
        for page in _pages(
            self._sp.describe_savings_plans, "nextToken", "nextToken", states=SP_STATES
        ):
            for plan in page.get("savingsPlans", []):
                commitment = plan.get("commitment")
                currency = plan.get("currency") or CE_CURRENCY
                kind_name = str(plan.get("savingsPlanType") or "Savings Plan")
                out.append(
                    Commitment(
                        commitment_id=plan.get("savingsPlanArn") or plan["savingsPlanId"],
                        kind="savings-plan",
                        description=(
                            f"{kind_name} Savings Plan, {commitment} {currency}/hour"
                            if commitment
                            else f"{kind_name} Savings Plan"
                        ),
                        start=_end_day(plan["start"]) if plan.get("start") else None,
                        end=_end_day(plan["end"]),
                        state=str(plan.get("state") or ""),
                    )
                )
        return out

    def _reservations(self, period: dict[str, str]) -> list[Commitment]:
        latest: dict[str, Commitment] = {}
        for page in _pages(
            self._ce.get_reservation_utilization,
            "NextPageToken",
            "NextPageToken",
            TimePeriod=period,
            Granularity="MONTHLY",
            GroupBy=[{"Type": "DIMENSION", "Key": "SUBSCRIPTION_ID"}],
        ):
            for row in page.get("UtilizationsByTime", []):
                for group in row.get("Groups", []):
                    attributes = group.get("Attributes", {})
                    ends = attributes.get("endDateTime")
                    if not ends:
                        continue
                    count = attributes.get("numberOfInstances") or "1"
                    what = attributes.get("instanceType") or "reservation"
                    region = attributes.get("region") or ""
                    latest[group["Value"]] = Commitment(
                        commitment_id=attributes.get("leaseId") or group["Value"],
                        kind="reservation",
                        description=f"Reserved {what} x{count} {region}".strip(),
                        start=(
                            _end_day(attributes["startDateTime"])
                            if attributes.get("startDateTime")
                            else None
                        ),
                        end=_end_day(ends),
                        state=str(attributes.get("subscriptionStatus") or "active"),
                    )
        return list(latest.values())

    # -- recommendations -----------------------------------------------------------------------

    def _sp_recommendations(self, period: dict[str, str]) -> list[PurchaseRecommendation]:
        out = []
        for page in _pages(
            self._ce.get_savings_plans_purchase_recommendation,
            "NextPageToken",
            "NextPageToken",
            SavingsPlansType="COMPUTE_SP",
            TermInYears=TERM,
            PaymentOption=PAYMENT,
            LookbackPeriodInDays=LOOKBACK,
        ):
            found = page.get("SavingsPlansPurchaseRecommendation", {})
            for d in found.get("SavingsPlansPurchaseRecommendationDetails", []):
                upfront = _amount(d.get("UpfrontCost"))
                saving = _amount(d.get("EstimatedMonthlySavingsAmount"))
                hourly = d.get("HourlyCommitmentToPurchase") or "?"
                currency = d.get("CurrencyCode") or CE_CURRENCY
                out.append(
                    PurchaseRecommendation(
                        kind="savings-plan",
                        description=f"Compute Savings Plan, {hourly} {currency}/hour",
                        term=TERM,
                        payment_option=PAYMENT,
                        upfront_cost=upfront,
                        monthly_saving=saving,
                        saving_percent=_optional(d.get("EstimatedSavingsPercentage")),
                        break_even_months=break_even(upfront, saving),
                        currency=currency,
                    )
                )
        return out

    def _ri_recommendations(self, period: dict[str, str]) -> list[PurchaseRecommendation]:
        out = []
        for page in _pages(
            self._ce.get_reservation_purchase_recommendation,
            "NextPageToken",
            "NextPageToken",
            Service=EC2_SERVICE,
            TermInYears=TERM,
            PaymentOption=PAYMENT,
            LookbackPeriodInDays=LOOKBACK,
        ):
            for rec in page.get("Recommendations", []):
                for d in rec.get("RecommendationDetails", []):
                    ec2 = d.get("InstanceDetails", {}).get("EC2InstanceDetails", {})
                    upfront = _amount(d.get("UpfrontCost"))
                    saving = _amount(d.get("EstimatedMonthlySavingsAmount"))
                    count = d.get("RecommendedNumberOfInstancesToPurchase") or "?"
                    what = ec2.get("InstanceType") or "EC2"
                    region = ec2.get("Region") or ""
                    out.append(
                        PurchaseRecommendation(
                            kind="reservation",
                            description=f"Reserve {count} x {what} {region}".strip(),
                            term=TERM,
                            payment_option=PAYMENT,
                            upfront_cost=upfront,
                            monthly_saving=saving,
                            saving_percent=_optional(d.get("EstimatedMonthlySavingsPercentage")),
                            break_even_months=break_even(upfront, saving),
                            currency=d.get("CurrencyCode") or CE_CURRENCY,
                        )
                    )
        return out


def _optional(value: Any) -> Decimal | None:
    text = str(value or "").strip()
    return Decimal(text) if text else None


KIND_NAMES: dict[Kind, str] = {"savings-plan": "Savings Plan", "reservation": "Reserved Instance"}
