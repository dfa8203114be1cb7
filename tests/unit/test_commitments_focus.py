"""Commitment utilisation and coverage from a FOCUS export's commitment columns
(tally.commitments.focus): worked examples to the cent (ratios to four places), the
organisation's periods, currencies kept apart, the shared sample against figures summed by
hand from the file, and the ingest storing a read's uses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tally import calendar
from tally.allocation import OwnerTagRule
from tally.calendar import MONTHLY, PeriodDefinition
from tally.commitments.focus import (
    CommitmentUse,
    CoverageFigure,
    UtilisationFigure,
    figures,
    kind_of,
    recording_uses,
    uses_of,
)
from tally.ingest import run_source
from tally.models import CostLine
from tally.sources.focus import FocusSource
from tests.focus_files import FOCUS_SAMPLE, needs_focus_sample

SP = "arn:aws:savingsplans::123456789012:savingsplan/sp-1"
RI = "arn:aws:ec2:us-east-1:123456789012:reservation/ri-1"
EC2, LAMBDA, S3 = "AmazonEC2", "AWSLambda", "AmazonS3"


def line(
    day: date,
    service: str,
    effective: str,
    *,
    commitment: str | None = None,
    status: str | None = None,
    category: str = "Usage",
    currency: str = "USD",
) -> CostLine:
    return CostLine(
        day=day,
        service=service,
        resource_id=f"{service}-resource",
        billed_cost=Decimal("0") if commitment else Decimal(effective),
        effective_cost=Decimal(effective),
        currency=currency,
        charge_category=category,
        commitment_id=commitment,
        commitment_status=status,
    )


def may(day: int) -> date:
    return date(2026, 5, day)


# A month of a Savings Plan (EC2 and Lambda), a reservation (EC2), and usage nothing covered.
MAY_LINES = [
    line(may(1), EC2, "30.00", commitment=SP, status="Used"),
    line(may(2), EC2, "45.50", commitment=SP, status="Used"),
    line(may(3), LAMBDA, "4.50", commitment=SP, status="Used"),
    line(may(3), EC2, "20.00", commitment=SP, status="Unused"),
    line(may(4), EC2, "12.345", commitment=RI, status="Used"),
    line(may(4), EC2, "2.655", commitment=RI, status="Unused"),
    line(may(5), EC2, "40.00"),  # on demand: eligible for both kinds (both covered EC2)
    line(may(5), LAMBDA, "5.50"),  # on demand: eligible for the Savings Plan only
    line(may(5), S3, "100.00"),  # on demand, a service no commitment covered: not eligible
    # Not usage: never counted (the fee, its amortised share, tax, a credit).
    line(may(1), EC2, "365.00", commitment=SP, category="Purchase"),
    line(may(6), "Tax", "9.99", category="Tax"),
    line(may(6), EC2, "-3.00", category="Credit"),
]


def test_utilisation_is_used_over_used_and_unused_per_commitment_and_kind() -> None:
    result = figures(uses_of(MAY_LINES))
    assert result.by_commitment == (
        UtilisationFigure(
            "reservation",
            "2026-05",
            Decimal("82.30"),  # 12.345 / 15.000 = 0.8230
            Decimal("15.000"),
            Decimal("12.345"),
            Decimal("2.655"),
            "USD",
            RI,
        ),
        UtilisationFigure(
            "savings-plan",
            "2026-05",
            Decimal("80.00"),  # 80.00 / 100.00
            Decimal("100.00"),
            Decimal("80.00"),
            Decimal("20.00"),
            "USD",
            SP,
        ),
    )
    # One commitment of each kind: the kind's figures are the commitment's.
    assert [(u.kind, u.percent, u.commitment, u.commitment_id) for u in result.utilisation] == [
        ("reservation", Decimal("82.30"), Decimal("15.000"), None),
        ("savings-plan", Decimal("80.00"), Decimal("100.00"), None),
    ]


def test_coverage_counts_the_services_a_kind_covered() -> None:
    result = figures(uses_of(MAY_LINES))
    assert result.coverage == (
        # 12.345 covered / (12.345 + 40.00 on-demand EC2) = 0.235839...
        CoverageFigure(
            "reservation", "2026-05", Decimal("23.58"), Decimal("12.345"), Decimal("40.00"), "USD"
        ),
        # 80.00 covered / (80.00 + 40.00 EC2 + 5.50 Lambda) = 0.637450...; S3 is not eligible
        CoverageFigure(
            "savings-plan", "2026-05", Decimal("63.75"), Decimal("80.00"), Decimal("45.50"), "USD"
        ),
    )


def test_kinds_add_their_commitments_and_rounding_is_half_even_to_four_places() -> None:
    other_sp = "arn:aws:savingsplans::123456789012:savingsplan/sp-2"
    lines = [
        line(may(1), EC2, "1", commitment=SP, status="Used"),
        line(may(1), EC2, "2", commitment=SP, status="Unused"),  # 1/3
        line(may(1), EC2, "0.25", commitment=other_sp, status="Used"),
        line(may(1), EC2, "7.75", commitment=other_sp, status="Unused"),  # 0.25/8 = 0.03125
    ]
    result = figures(uses_of(lines))
    assert [(u.commitment_id, u.percent) for u in result.by_commitment] == [
        (SP, Decimal("33.33")),
        (other_sp, Decimal("3.12")),  # 3.125 to two places, half-even
    ]
    (kind,) = result.utilisation
    assert (kind.used, kind.unused, kind.commitment, kind.percent) == (
        Decimal("1.25"),
        Decimal("9.75"),
        Decimal("11"),
        Decimal("11.36"),  # 1.25 / 11 = 0.113636...
    )
    # Everything covered: no on-demand usage of EC2.
    assert [(c.percent, c.on_demand_cost) for c in result.coverage] == [
        (Decimal("100.00"), Decimal("0"))
    ]


def test_currencies_are_never_mixed_and_periods_are_the_organisations() -> None:
    lines = [
        line(may(10), EC2, "10", commitment=SP, status="Used"),
        line(may(20), EC2, "10", commitment=SP, status="Unused"),
        line(may(20), EC2, "7", commitment=SP, status="Used", currency="EUR"),
    ]
    # Calendar months: one period, a figure per currency.
    result = figures(uses_of(lines))
    assert [(u.month, u.currency, u.percent) for u in result.utilisation] == [
        ("2026-05", "EUR", Decimal("100.00")),
        ("2026-05", "USD", Decimal("50.00")),
    ]
    # Months from the 15th: May 10 is in April's period, May 20 in May's.
    with calendar.using(PeriodDefinition(MONTHLY, start_day=15)):
        shifted = figures(uses_of(lines))
    assert [(u.month, u.currency, u.percent) for u in shifted.utilisation] == [
        ("2026-04", "USD", Decimal("100.00")),
        ("2026-05", "EUR", Decimal("100.00")),
        ("2026-05", "USD", Decimal("0.00")),
    ]


def test_nothing_to_divide_by_gives_no_figure() -> None:
    # A commitment whose lines cost nothing and usage of no covered service.
    lines = [line(may(1), EC2, "0", commitment=SP, status="Used"), line(may(1), S3, "5")]
    assert figures(uses_of(lines)).utilisation == ()
    assert figures(uses_of(lines)).by_commitment == ()
    assert figures(uses_of(lines)).coverage == ()


def test_a_commitments_kind_is_read_from_its_id() -> None:
    assert kind_of(SP) == "savings-plan"
    assert kind_of(RI) == "reservation"
    assert kind_of("arn:aws:rds:eu-west-1:123456789012:ri:db-ri-1") == "reservation"


@needs_focus_sample
def test_the_shared_sample_against_figures_summed_by_hand() -> None:
    # Given the shared FOCUS sample (May 2026, USD; no Unused rows: every commitment is
    # fully used). Summed by hand from the file's Usage rows with csv and Decimal: Savings
    # Plans covered 25.676832 of EC2, reservations 14.919456 of EC2, and EC2 usage without a
    # CommitmentDiscountId cost 2.234802 (the other services' on-demand usage is not eligible:
    # no commitment covered them).
    source = FocusSource.from_path(FOCUS_SAMPLE, today=date(2026, 7, 1))
    result = figures(uses_of(source.fetch(date(2026, 5, 1), date(2026, 6, 1))))

    assert [(u.kind, u.percent, u.used, u.unused) for u in result.utilisation] == [
        ("reservation", Decimal("100.00"), Decimal("14.919456"), Decimal("0")),
        ("savings-plan", Decimal("100.00"), Decimal("25.676832"), Decimal("0")),
    ]
    assert [(c.kind, c.covered, c.on_demand_cost, c.percent) for c in result.coverage] == [
        # 14.919456 / 17.154258 = 0.869723...
        ("reservation", Decimal("14.919456"), Decimal("2.234802"), Decimal("86.97")),
        # 25.676832 / 27.911634 = 0.919932...
        ("savings-plan", Decimal("25.676832"), Decimal("2.234802"), Decimal("91.99")),
    ]
    # One commitment summed by hand: nine Used rows of 0.576288 in all.
    one = "arn:aws:savingsplans:us-west-2::savingsplan/bc2ef7d34be13649"
    (mine,) = [u for u in result.by_commitment if u.commitment_id == one]
    assert (mine.used, mine.percent) == (Decimal("0.576288"), Decimal("100.00"))
    assert len(result.by_commitment) == 93  # every CommitmentDiscountId the file names


def test_the_ingest_stores_the_uses_of_the_days_it_read() -> None:
    from tally.store import memory_stores

    stores = memory_stores()
    stale = CommitmentUse(may(3), SP, EC2, "USD", "used", Decimal("999"))
    stores.commitments.replace_focus_uses([may(3)], [stale])

    # Given a FOCUS file of May with the worked example's commitment rows
    source = FocusSource.from_bytes(_focus_csv(MAY_LINES[:9]), today=date(2026, 7, 1))
    # When the ingest reads it
    run_source(
        source,
        date(2026, 5, 1),
        date(2026, 6, 1),
        stores=stores,
        rule=OwnerTagRule(),
        now=datetime(2026, 7, 1, tzinfo=UTC),
    )
    # Then the stored uses give the worked example's figures, the stale day replaced
    stored = stores.commitments.focus_uses(date(2026, 5, 1), date(2026, 6, 1))
    assert stale not in stored
    assert figures(stored) == figures(uses_of(MAY_LINES))


def test_a_cost_explorer_read_records_nothing() -> None:
    from tally.sources import CostFetch

    calls: list[object] = []
    fetch = CostFetch("cost-explorer", may(1), may(2), lambda log: iter(()))
    assert recording_uses(fetch, lambda days, uses: calls.append(days)) is fetch


def _focus_csv(lines: list[CostLine]) -> bytes:
    import csv
    import io

    header = [
        "BillingPeriodStart",
        "BillingPeriodEnd",
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "ChargeCategory",
        "BilledCost",
        "EffectiveCost",
        "BillingCurrency",
        "ServiceName",
        "ResourceId",
        "CommitmentDiscountId",
        "CommitmentDiscountStatus",
        "Tags",
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    for item in lines:
        writer.writerow(
            {
                "BillingPeriodStart": "2026-05-01T00:00:00Z",
                "BillingPeriodEnd": "2026-06-01T00:00:00Z",
                "ChargePeriodStart": f"{item.day}T00:00:00Z",
                "ChargePeriodEnd": f"{item.day}T01:00:00Z",
                "ChargeCategory": item.charge_category,
                "BilledCost": str(item.billed_cost),
                "EffectiveCost": str(item.effective_cost),
                "BillingCurrency": item.currency,
                "ServiceName": item.service,
                "ResourceId": item.resource_id or "",
                "CommitmentDiscountId": item.commitment_id or "",
                "CommitmentDiscountStatus": item.commitment_status or "",
                "Tags": "{}",
            }
        )
    return out.getvalue().encode()
