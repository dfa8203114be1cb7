"""Reserved capacity from AWS (tally.commitments.cost_explorer), expiry notices
(tally.commitments.expiry) and the refresh that stores both. Cost Explorer and Savings Plans
are botocore Stubbers: every request and response below is validated against the services'
own models, so a misspelt parameter or field fails here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tally.commitments.cost_explorer import CommitmentReader, break_even, window
from tally.commitments.expiry import due_notice, finance_recipients, send_expiry_notices
from tally.commitments.model import Commitment, CommitmentSnapshot
from tally.commitments.refresh import refresh_commitments
from tally.identity import Role
from tally.models import UserProfile
from tally.notify.memory import MemoryAdminTopic
from tally.store import Stores, memory_stores

TODAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 5, 30, tzinfo=UTC)
PERIOD = {"Start": "2026-09-01", "End": "2026-12-03"}
SP_ARN = "arn:aws:savingsplans::123456789012:savingsplan/5f1c-0001"


def _clients() -> tuple[Any, Any, Stubber, Stubber]:
    ce = boto3.client("ce", region_name="us-east-1")
    sp = boto3.client("savingsplans", region_name="us-east-1")
    return ce, sp, Stubber(ce), Stubber(sp)


def _month(start: str, end: str) -> dict[str, str]:
    return {"Start": start, "End": end}


def _stub_everything(ce: Stubber, sp: Stubber, *, no_sp_data: bool = False) -> None:
    monthly = {"TimePeriod": PERIOD, "Granularity": "MONTHLY"}
    if no_sp_data:
        ce.add_client_error(
            "get_savings_plans_utilization", "DataUnavailableException", expected_params=monthly
        )
    else:
        _sp_utilisation(ce, monthly)
    _after_sp_utilisation(ce, sp, monthly)


def _sp_utilisation(ce: Stubber, monthly: dict[str, Any]) -> None:
    ce.add_response(
        "get_savings_plans_utilization",
        {
            "SavingsPlansUtilizationsByTime": [
                {
                    "TimePeriod": _month("2026-11-01", "2026-12-01"),
                    "Utilization": {
                        "TotalCommitment": "720.00",
                        "UsedCommitment": "684.00",
                        "UnusedCommitment": "36.00",
                        "UtilizationPercentage": "95",
                    },
                    "Savings": {"NetSavings": "210.40"},
                }
            ],
            "Total": {"Utilization": {"UtilizationPercentage": "95"}},
        },
        monthly,
    )


def _after_sp_utilisation(ce: Stubber, sp: Stubber, monthly: dict[str, Any]) -> None:
    ce.add_response(
        "get_reservation_utilization",
        {
            "UtilizationsByTime": [
                {
                    "TimePeriod": _month("2026-11-01", "2026-12-01"),
                    "Total": {
                        "UtilizationPercentage": "80",
                        "TotalAmortizedFee": "100.00",
                        "RICostForUnusedHours": "20.00",
                        "NetRISavings": "35.5",
                    },
                }
            ],
            "NextPageToken": "page-2",
        },
        monthly,
    )
    ce.add_response(
        "get_reservation_utilization",
        {"UtilizationsByTime": []},
        {**monthly, "NextPageToken": "page-2"},
    )
    ce.add_response(
        "get_savings_plans_coverage",
        {
            "SavingsPlansCoverages": [
                {
                    "TimePeriod": _month("2026-11-01", "2026-12-01"),
                    "Coverage": {"CoveragePercentage": "62.5", "OnDemandCost": "410.00"},
                }
            ]
        },
        monthly,
    )
    ce.add_response(
        "get_reservation_coverage",
        {
            "CoveragesByTime": [
                {
                    "TimePeriod": _month("2026-11-01", "2026-12-01"),
                    "Total": {
                        "CoverageHours": {"CoverageHoursPercentage": "40"},
                        "CoverageCost": {"OnDemandCost": "120.00"},
                    },
                }
            ]
        },
        monthly,
    )
    sp.add_response(
        "describe_savings_plans",
        {
            "savingsPlans": [
                {
                    "savingsPlanId": "5f1c-0001",
                    "savingsPlanArn": SP_ARN,
                    "start": "2025-12-24T00:00:00.000Z",
                    "end": "2026-12-24T00:00:00.000Z",
                    "state": "active",
                    "savingsPlanType": "Compute",
                    "currency": "USD",
                    "commitment": "1.0",
                }
            ]
        },
        {"states": ["active", "queued", "payment-pending"]},
    )
    ce.add_response(
        "get_reservation_utilization",
        {
            "UtilizationsByTime": [
                {
                    "TimePeriod": _month("2026-11-01", "2026-12-01"),
                    "Groups": [
                        {
                            "Key": "SUBSCRIPTION_ID",
                            "Value": "sub-1",
                            "Attributes": {
                                "leaseId": "ri-0abc",
                                "instanceType": "m6i.large",
                                "numberOfInstances": "2",
                                "region": "eu-west-1",
                                "startDateTime": "2024-03-01T00:00:00.000Z",
                                "endDateTime": "2027-03-01T00:00:00.000Z",
                            },
                        }
                    ],
                }
            ]
        },
        {**monthly, "GroupBy": [{"Type": "DIMENSION", "Key": "SUBSCRIPTION_ID"}]},
    )
    ce.add_response(
        "get_savings_plans_purchase_recommendation",
        {
            "SavingsPlansPurchaseRecommendation": {
                "SavingsPlansPurchaseRecommendationDetails": [
                    {
                        "HourlyCommitmentToPurchase": "0.5",
                        "UpfrontCost": "0",
                        "EstimatedMonthlySavingsAmount": "120.45",
                        "EstimatedSavingsPercentage": "21.3",
                        "CurrencyCode": "USD",
                    }
                ]
            }
        },
        {
            "SavingsPlansType": "COMPUTE_SP",
            "TermInYears": "ONE_YEAR",
            "PaymentOption": "NO_UPFRONT",
            "LookbackPeriodInDays": "THIRTY_DAYS",
        },
    )
    ce.add_response(
        "get_reservation_purchase_recommendation",
        {
            "Recommendations": [
                {
                    "RecommendationDetails": [
                        {
                            "InstanceDetails": {
                                "EC2InstanceDetails": {
                                    "InstanceType": "c7g.xlarge",
                                    "Region": "eu-west-1",
                                }
                            },
                            "RecommendedNumberOfInstancesToPurchase": "3",
                            "UpfrontCost": "600.00",
                            "EstimatedMonthlySavingsAmount": "80.00",
                            "EstimatedMonthlySavingsPercentage": "30",
                            "CurrencyCode": "USD",
                        }
                    ]
                }
            ]
        },
        {
            "Service": "Amazon Elastic Compute Cloud - Compute",
            "TermInYears": "ONE_YEAR",
            "PaymentOption": "NO_UPFRONT",
            "LookbackPeriodInDays": "THIRTY_DAYS",
        },
    )


def test_the_reader_makes_one_snapshot_of_every_call() -> None:
    ce, sp, ce_stub, sp_stub = _clients()
    _stub_everything(ce_stub, sp_stub)
    with ce_stub, sp_stub:
        snapshot = CommitmentReader(ce, sp).read(today=TODAY, now=NOW)
    ce_stub.assert_no_pending_responses()
    sp_stub.assert_no_pending_responses()

    ri_use, sp_use = snapshot.utilisation  # by kind, then month
    assert (sp_use.kind, sp_use.start, sp_use.percent, sp_use.unused) == (
        "savings-plan",
        date(2026, 11, 1),
        Decimal("95"),
        Decimal("36.00"),
    )
    assert (ri_use.kind, ri_use.used, ri_use.unused, ri_use.currency) == (
        "reservation",
        Decimal("80.00"),
        Decimal("20.00"),
        "USD",
    )
    assert [(c.kind, c.percent) for c in snapshot.coverage] == [
        ("reservation", Decimal("40")),
        ("savings-plan", Decimal("62.5")),
    ]
    assert [(c.commitment_id, c.kind, c.end) for c in snapshot.commitments] == [
        (SP_ARN, "savings-plan", date(2026, 12, 24)),
        ("ri-0abc", "reservation", date(2027, 3, 1)),
    ]
    assert [
        (r.kind, r.monthly_saving, r.break_even_months, r.currency)
        for r in snapshot.recommendations
    ] == [
        ("savings-plan", Decimal("120.45"), Decimal("0.0"), "USD"),
        ("reservation", Decimal("80.00"), Decimal("7.5"), "USD"),
    ]
    assert snapshot.notes == ()


def test_no_data_yet_is_noted_and_the_rest_is_read() -> None:
    ce, sp, ce_stub, sp_stub = _clients()
    _stub_everything(ce_stub, sp_stub, no_sp_data=True)
    with ce_stub, sp_stub:
        snapshot = CommitmentReader(ce, sp).read(today=TODAY, now=NOW)
    assert [u.kind for u in snapshot.utilisation] == ["reservation"]
    assert snapshot.notes == ("Cost Explorer has no Savings Plans utilisation data yet",)


def test_another_error_fails_the_read() -> None:
    from botocore.exceptions import ClientError

    ce, sp, ce_stub, _ = _clients()
    ce_stub.add_client_error("get_savings_plans_utilization", "LimitExceededException")
    with ce_stub, pytest.raises(ClientError):
        CommitmentReader(ce, sp).read(today=TODAY, now=NOW)


@pytest.mark.parametrize(
    ("today", "start"),
    [
        (date(2026, 12, 3), date(2026, 9, 1)),
        (date(2026, 2, 1), date(2025, 11, 1)),
        (date(2026, 3, 31), date(2025, 12, 1)),
    ],
)
def test_the_window_is_three_months_and_this_one(today: date, start: date) -> None:
    assert window(today) == (start, today)


def test_break_even_is_upfront_over_the_monthly_saving() -> None:
    assert break_even(Decimal("600"), Decimal("80")) == Decimal("7.5")
    assert break_even(Decimal("0"), Decimal("80")) == Decimal("0.0")
    assert break_even(Decimal("100"), Decimal("0")) is None
    assert break_even(Decimal("100"), Decimal("3")) == Decimal("33.3")


# -- expiry notices -----------------------------------------------------------------------------

LEAP_END = date(2028, 2, 29)


@pytest.mark.parametrize(
    ("end", "today", "due"),
    [
        (date(2027, 1, 2), date(2026, 12, 3), 30),  # the 30th day before
        (date(2027, 1, 3), date(2026, 12, 3), None),  # the 31st
        (date(2026, 12, 10), date(2026, 12, 3), 7),  # the 7th day before
        (date(2026, 12, 11), date(2026, 12, 3), 30),  # the 8th: still the 30-day notice
        (date(2026, 12, 3), date(2026, 12, 3), None),  # ends today: nothing left to tell
        (LEAP_END, date(2028, 1, 30), 30),  # 30 days before 29 February
        (LEAP_END, date(2028, 1, 29), None),
        (LEAP_END, date(2028, 2, 22), 7),
        (LEAP_END, date(2028, 2, 28), 7),
    ],
)
def test_which_notice_is_due(end: date, today: date, due: int | None) -> None:
    assert due_notice(end, today) == due


def _snapshot(*commitments: Commitment) -> CommitmentSnapshot:
    return CommitmentSnapshot(read_at=NOW, source="cost-explorer", commitments=commitments)


def _finance_org() -> Stores:
    stores = memory_stores()
    stores.users.put(UserProfile("u-fin", "fin", "fin@example.com", Role.USER))
    stores.users.put(UserProfile("u-admin", "admin", None, Role.ADMIN))
    stores.users.put(UserProfile("u-dev", "dev", None, Role.USER))
    from tally.org.model import AccessProfile, Grant, Scope, ScopeKind

    stores.access.ensure_profile(
        AccessProfile("u-fin", grants=(Grant("finance", Scope(ScopeKind.ORG)),))
    )
    return stores


def _notices(stores: Stores, user: str) -> list[str]:
    page = stores.notifications.list(user, limit=50, start_key=None)
    return sorted(n.notification_id for n in page.items)


def test_finance_and_admins_hear_of_an_expiry_once_across_the_calendar() -> None:
    stores, topic = _finance_org(), MemoryAdminTopic()
    plan = Commitment(SP_ARN, "savings-plan", "Compute Savings Plan", None, LEAP_END, "active")
    snapshot = _snapshot(plan)

    def run(day: date) -> int:
        at = datetime(day.year, day.month, day.day, 5, 30, tzinfo=UTC)
        return send_expiry_notices(snapshot, stores=stores, topic=topic, today=day, now=at).sent

    assert finance_recipients(stores) == ["u-admin", "u-fin"]
    assert run(date(2028, 1, 29)) == 0  # the 31st day before
    assert run(date(2028, 1, 30)) == 1  # the 30th: told
    assert run(date(2028, 1, 30)) == 0  # re-run the same day: nothing more
    day = date(2028, 1, 31)
    while day < LEAP_END:
        run(day)
        day += timedelta(days=1)
    key = f"commitment#{SP_ARN}#2028-02-29"
    assert _notices(stores, "u-fin") == [f"{key}#30", f"{key}#7"]
    assert _notices(stores, "u-admin") == [f"{key}#30", f"{key}#7"]
    assert _notices(stores, "u-dev") == []
    assert [m.attributes["days"] for m in topic.published] == ["30", "7"]


def test_the_refresh_stores_the_snapshot_and_notifies() -> None:
    ce, sp, ce_stub, sp_stub = _clients()
    _stub_everything(ce_stub, sp_stub)
    stores, topic = _finance_org(), MemoryAdminTopic()
    clients = {"ce": ce, "savingsplans": sp}
    with ce_stub, sp_stub:
        done = refresh_commitments(stores, clients.__getitem__, topic=topic, today=TODAY, now=NOW)
    assert (done.commitments, done.recommendations, done.notices.sent) == (2, 2, 1)
    stored = stores.commitments.snapshot()
    assert stored is not None and stored.commitments[0].end == date(2026, 12, 24)
    assert stored.recommendations[1].break_even_months == Decimal("7.5")
    assert len(topic.published) == 1


@pytest.mark.parametrize(
    "today", [date(2026, 11, 20), date(2026, 1, 1), date(2028, 2, 29), date(2026, 3, 31)]
)
def test_the_demos_recorded_answers_make_a_savings_plan_ending_soon(today: date) -> None:
    from infra.local.demo_commitments import SAVINGS_PLAN_DAYS_LEFT, seed_demo_commitments

    stores, topic = _finance_org(), MemoryAdminTopic()
    at = datetime(today.year, today.month, today.day, 6, tzinfo=UTC)
    done = seed_demo_commitments(stores, topic, today=today, now=at, region="us-east-1")
    assert (done.commitments, done.recommendations, done.notices.sent) == (2, 2, 1)
    snapshot = stores.commitments.snapshot()
    assert snapshot is not None and snapshot.utilisation and snapshot.coverage
    soonest = snapshot.commitments[0]
    assert (soonest.kind, (soonest.end - today).days) == ("savings-plan", SAVINGS_PLAN_DAYS_LEFT)


def test_a_refused_topic_message_still_leaves_the_in_app_notices_and_the_next_commitment() -> None:
    stores, topic = _finance_org(), MemoryAdminTopic()
    topic.fail_next(retryable=True)
    first = Commitment("ri-1", "reservation", "Reserved", None, TODAY + timedelta(days=6), "active")
    second = Commitment("ri-2", "reservation", "Reserved", None, TODAY + timedelta(days=30), "x")
    report = send_expiry_notices(
        _snapshot(first, second), stores=stores, topic=topic, today=TODAY, now=NOW
    )
    assert (report.sent, report.topic_failed) == (2, 1)
    assert len(_notices(stores, "u-fin")) == 2
    assert [m.attributes["days"] for m in topic.published] == ["30"]
