"""Cost Explorer source: against moto (queued GetCostAndUsage pages) and botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from moto import mock_aws

from tally.models import CostLine
from tally.sources import PaginationLoopError
from tally.sources.cost_explorer import (
    EC2_COMPUTE,
    USAGE_RECORD_TYPES,
    CostExplorerSource,
    category_for_record_type,
    parse_tag_key,
)

MOTO_CE_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results"
TODAY = date(2026, 11, 20)
USAGE = {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(USAGE_RECORD_TYPES)}}


# -- canned responses ---------------------------------------------------------------------


def group(
    keys: list[str],
    billed: str,
    effective: str | None = None,
    quantity: str = "1",
    unit: str = "Hrs",
) -> dict[str, Any]:
    return {
        "Keys": keys,
        "Metrics": {
            "UnblendedCost": {"Amount": billed, "Unit": "USD"},
            "AmortizedCost": {"Amount": effective or billed, "Unit": "USD"},
            "UsageQuantity": {"Amount": quantity, "Unit": unit},
        },
    }


def period(day: date, groups: list[dict[str, Any]], *, estimated: bool = False) -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
        "Total": {},
        "Groups": groups,
        "Estimated": estimated,
    }


def page(periods: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"ResultsByTime": periods, "DimensionValueAttributes": []}
    if token:
        result["NextPageToken"] = token
    return result


def queue_in_moto(*results: dict[str, Any]) -> None:
    """Moto answers each distinct GetCostAndUsage request body with the next queued result."""
    response = requests.post(MOTO_CE_RESULTS, json={"results": list(results)}, timeout=5)
    assert response.status_code == 201


def no_sleep() -> tuple[list[float], Any]:
    slept: list[float] = []
    return slept, slept.append


@pytest.fixture
def moto_ce() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ce", region_name="us-east-1")


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("ce", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def totals(lines: list[CostLine]) -> tuple[Decimal, Decimal]:
    return sum((x.billed_cost for x in lines), Decimal(0)), sum(
        (x.effective_cost for x in lines), Decimal(0)
    )


# -- pure pieces ----------------------------------------------------------------------------


def test_tag_group_keys_map_to_tags() -> None:
    assert parse_tag_key("Owner$alice", "Owner") == {"Owner": "alice"}
    assert parse_tag_key("Owner$", "Owner") == {}
    assert parse_tag_key("Owner$a$b", "Owner") == {"Owner": "a$b"}
    assert parse_tag_key("Team$x", "Owner") == {}


def test_record_types_map_to_charge_categories() -> None:
    assert category_for_record_type("Credit") == "Credit"
    assert category_for_record_type("Refund") == "Refund"
    assert category_for_record_type("Tax") == "Tax"
    assert category_for_record_type("Recurring reservation fee") == "Purchase"
    assert category_for_record_type("SavingsPlanCoveredUsage") == "Usage"
    assert category_for_record_type("Some new record type") == "Adjustment"


def test_plan_splits_resource_level_window_from_older_days() -> None:
    source = CostExplorerSource(object(), today=TODAY)
    assert source.resource_window_start() == date(2026, 11, 7)
    queries = source.plan(date(2026, 11, 1), date(2026, 11, 20))

    resource, recent, older, non_usage = queries
    assert resource.operation == "get_cost_and_usage_with_resources"
    assert resource.params["TimePeriod"] == {"Start": "2026-11-07", "End": "2026-11-20"}
    assert resource.params["Filter"] == {
        "And": [{"Dimensions": {"Key": "SERVICE", "Values": [EC2_COMPUTE]}}, USAGE]
    }
    assert resource.params["GroupBy"] == [
        {"Type": "DIMENSION", "Key": "RESOURCE_ID"},
        {"Type": "TAG", "Key": "Owner"},
    ]
    assert recent.operation == "get_cost_and_usage"
    assert recent.params["TimePeriod"] == {"Start": "2026-11-07", "End": "2026-11-20"}
    assert recent.params["Filter"] == {
        "And": [USAGE, {"Not": {"Dimensions": {"Key": "SERVICE", "Values": [EC2_COMPUTE]}}}]
    }
    assert older.params["TimePeriod"] == {"Start": "2026-11-01", "End": "2026-11-07"}
    assert older.params["Filter"] == USAGE
    assert older.params["GroupBy"] == [
        {"Type": "DIMENSION", "Key": "SERVICE"},
        {"Type": "TAG", "Key": "Owner"},
    ]
    assert non_usage.params["TimePeriod"] == {"Start": "2026-11-01", "End": "2026-11-20"}
    assert non_usage.params["Filter"] == {"Not": USAGE}
    assert non_usage.params["GroupBy"][0] == {"Type": "DIMENSION", "Key": "RECORD_TYPE"}
    for query in queries:
        assert query.params["Granularity"] == "DAILY"
        assert query.params["Metrics"] == ["UnblendedCost", "AmortizedCost", "UsageQuantity"]
        assert len(query.params["GroupBy"]) <= 2


def test_plan_without_resource_level_is_two_requests_whatever_the_range() -> None:
    source = CostExplorerSource(object(), today=TODAY, use_resource_level=False)
    queries = source.plan(date(2026, 1, 1), date(2026, 11, 20))
    assert [q.operation for q in queries] == ["get_cost_and_usage", "get_cost_and_usage"]
    old = CostExplorerSource(object(), today=TODAY).plan(date(2026, 9, 1), date(2026, 10, 1))
    assert [q.operation for q in old] == ["get_cost_and_usage", "get_cost_and_usage"]


# -- moto: GetCostAndUsage with queued pages ------------------------------------------------


def test_several_pages_from_moto_become_lines(moto_ce: Any) -> None:
    d1, d2 = date(2026, 9, 1), date(2026, 9, 2)
    usage_page1 = page(
        [
            period(d1, [group(["AWS Lambda", "Owner$alice"], "1.25", "1.20", "100", "Requests")]),
            period(d2, [group(["AWS Lambda", "Owner$alice"], "2.50")], estimated=True),
        ],
        token="page-2",
    )
    usage_page2 = page(
        [
            period(d1, [group(["Amazon S3", "Owner$"], "0.10")]),
            period(
                d2,
                [
                    group(["Amazon S3", "Owner$bob"], "3.0000000001"),
                    group(["Amazon S3", "Owner$carol"], "0", "0", "0"),  # empty: skipped
                ],
                estimated=True,
            ),
        ]
    )
    non_usage = page(
        [
            period(d1, [group(["Tax", "Amazon S3"], "0.40", quantity="0")]),
            period(d2, [group(["Credit", "AWS Lambda"], "-1.00", quantity="0")], estimated=True),
        ]
    )
    queue_in_moto(usage_page1, usage_page2, non_usage)

    source = CostExplorerSource(moto_ce, today=TODAY, use_resource_level=False)
    fetch = source.fetch(d1, date(2026, 9, 3))
    lines = list(fetch)

    assert fetch.requests == 3  # pages, for the whole organisation
    assert fetch.covered_days == {d1, d2}
    assert fetch.estimated_days == {d2}
    assert len(lines) == 6
    assert totals(lines) == (Decimal("6.2500000001"), Decimal("6.2000000001"))

    lambda_d1 = lines[0]
    assert lambda_d1 == CostLine(
        day=d1,
        service="AWS Lambda",
        resource_id=None,
        billed_cost=Decimal("1.25"),
        effective_cost=Decimal("1.20"),
        currency="USD",
        usage_quantity=Decimal("100"),
        usage_unit="Requests",
        charge_category="Usage",
        estimated=False,
        tags={"Owner": "alice"},
    )
    untagged = next(x for x in lines if x.service == "Amazon S3" and x.day == d1 and x.tags == {})
    assert untagged.charge_category == "Usage"
    by_category = {(x.charge_category, x.day): x for x in lines if x.charge_category != "Usage"}
    assert by_category[("Tax", d1)].billed_cost == Decimal("0.40")
    assert by_category[("Tax", d1)].service == "Amazon S3"
    assert by_category[("Credit", d2)].billed_cost == Decimal("-1.00")
    assert by_category[("Credit", d2)].estimated is True
    assert all(isinstance(x.billed_cost, Decimal) for x in lines)


def test_the_same_run_twice_gives_the_same_lines(moto_ce: Any) -> None:
    d1 = date(2026, 9, 1)
    queue_in_moto(
        page([period(d1, [group(["AWS Lambda", "Owner$alice"], "1")])]),
        page([period(d1, [])]),
    )
    source = CostExplorerSource(moto_ce, today=TODAY, use_resource_level=False)
    first = list(source.fetch(d1, date(2026, 9, 2)))
    second = list(source.fetch(d1, date(2026, 9, 2)))  # moto keeps each body's answer
    assert first == second
    assert len(first) == 1


def test_custom_owner_tag_key_is_grouped_and_parsed(moto_ce: Any) -> None:
    d1 = date(2026, 9, 1)
    queue_in_moto(
        page([period(d1, [group(["AWS Lambda", "team$data"], "1")])]),
        page([period(d1, [])]),
    )
    source = CostExplorerSource(
        moto_ce, today=TODAY, use_resource_level=False, owner_tag_key="team"
    )
    assert source.plan(d1, date(2026, 9, 2))[0].params["GroupBy"][1] == {
        "Type": "TAG",
        "Key": "team",
    }
    [line] = list(source.fetch(d1, date(2026, 9, 2)))
    assert line.tags == {"team": "data"}


# -- Stubber: resource level, throttling, failures ------------------------------------------


def resource_params(start: date, end: date, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost", "AmortizedCost", "UsageQuantity"],
        "Filter": {"And": [{"Dimensions": {"Key": "SERVICE", "Values": [EC2_COMPUTE]}}, USAGE]},
        "GroupBy": [{"Type": "DIMENSION", "Key": "RESOURCE_ID"}, {"Type": "TAG", "Key": "Owner"}],
    }
    if token:
        params["NextPageToken"] = token
    return params


def any_params(token: str | None = None) -> dict[str, Any]:
    params = {"TimePeriod": ANY, "Granularity": ANY, "Metrics": ANY, "Filter": ANY, "GroupBy": ANY}
    if token:
        params["NextPageToken"] = token
    return params


RECENT = date(2026, 11, 18)


def test_resource_level_costs_for_recent_days(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    end = RECENT + timedelta(days=1)
    stubber.add_response(
        "get_cost_and_usage_with_resources",
        page(
            [
                period(
                    RECENT,
                    [
                        group(["i-0abc", "Owner$alice"], "2.40", "1.90", "24"),
                        group(["i-0def", "Owner$"], "0.80", quantity="8"),
                    ],
                    estimated=True,
                )
            ]
        ),
        resource_params(RECENT, end),
    )
    stubber.add_response(
        "get_cost_and_usage",
        page([period(RECENT, [group(["AWS Lambda", "Owner$bob"], "0.30")], estimated=True)]),
        any_params(),
    )
    stubber.add_response(
        "get_cost_and_usage",
        page([period(RECENT, [group(["Tax", EC2_COMPUTE], "0.35", quantity="0")])]),
        any_params(),
    )

    fetch = CostExplorerSource(client, today=TODAY).fetch(RECENT, end)
    lines = list(fetch)

    assert [(x.service, x.resource_id, x.tags, x.charge_category) for x in lines] == [
        (EC2_COMPUTE, "i-0abc", {"Owner": "alice"}, "Usage"),
        (EC2_COMPUTE, "i-0def", {}, "Usage"),
        ("AWS Lambda", None, {"Owner": "bob"}, "Usage"),
        (EC2_COMPUTE, None, {}, "Tax"),
    ]
    assert lines[0].effective_cost == Decimal("1.90")
    assert lines[0].usage_quantity == Decimal("24")
    assert totals(lines)[0] == Decimal("3.85")
    assert fetch.requests == 3
    assert fetch.estimated_days == {RECENT}


def test_throttling_is_retried_with_full_jitter_backoff(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    d1 = date(2026, 9, 1)
    for _ in range(3):
        stubber.add_client_error(
            "get_cost_and_usage", "LimitExceededException", http_status_code=400
        )
    stubber.add_response("get_cost_and_usage", page([period(d1, [group(["S3", "Owner$a"], "1")])]))
    stubber.add_client_error("get_cost_and_usage", "ThrottlingException", http_status_code=400)
    stubber.add_response("get_cost_and_usage", page([period(d1, [])]))

    slept, sleep = no_sleep()
    source = CostExplorerSource(
        client,
        today=TODAY,
        use_resource_level=False,
        sleep=sleep,
        rng=lambda: 0.5,
        base_delay=1.0,
        max_delay=3.0,
    )
    fetch = source.fetch(d1, date(2026, 9, 2))
    lines = list(fetch)

    assert [x.billed_cost for x in lines] == [Decimal("1")]
    # Full jitter: a random share of min(cap, base * 2^attempt); rng fixed at one half.
    assert slept == [0.5, 1.0, 1.5, 0.5]
    assert fetch.requests == 2


def test_throttling_that_never_ends_fails_the_fetch(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    for _ in range(3):
        stubber.add_client_error(
            "get_cost_and_usage", "LimitExceededException", http_status_code=400
        )
    slept, sleep = no_sleep()
    source = CostExplorerSource(
        client, today=TODAY, use_resource_level=False, max_attempts=3, sleep=sleep
    )
    with pytest.raises(ClientError, match="LimitExceededException"):
        list(source.fetch(date(2026, 9, 1), date(2026, 9, 2)))
    assert len(slept) == 2


def three_pages() -> list[dict[str, Any]]:
    d1 = date(2026, 9, 1)
    return [
        page([period(d1, [group(["S3", "Owner$alice"], "1")])], token="t2"),
        page([period(d1, [group(["EC2", "Owner$bob"], "2")])], token="t3"),
        page([period(d1, [group(["RDS", "Owner$alice"], "4")])]),
    ]


def test_a_failure_on_page_2_of_3_fails_the_fetch_and_a_rerun_converges() -> None:
    d1, end = date(2026, 9, 1), date(2026, 9, 2)
    first_page, second_page, third_page = three_pages()

    client = boto3.client("ce", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_response("get_cost_and_usage", first_page, any_params())
        stubber.add_client_error(
            "get_cost_and_usage",
            "InternalServerError",
            http_status_code=500,
            expected_params=any_params("t2"),
        )
        source = CostExplorerSource(client, today=TODAY, use_resource_level=False)
        fetch = source.fetch(d1, end)
        partial: list[CostLine] = []
        with pytest.raises(ClientError, match="InternalServerError"):
            partial.extend(fetch)
        assert not fetch.finished  # the ingest sees the error and commits nothing
        assert [x.service for x in partial] == ["S3"]

    client = boto3.client("ce", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_response("get_cost_and_usage", first_page, any_params())
        stubber.add_response("get_cost_and_usage", second_page, any_params("t2"))
        stubber.add_response("get_cost_and_usage", third_page, any_params("t3"))
        stubber.add_response("get_cost_and_usage", page([period(d1, [])]), any_params())
        rerun = CostExplorerSource(client, today=TODAY, use_resource_level=False).fetch(d1, end)
        lines = list(rerun)
        stubber.assert_no_pending_responses()

    assert [(x.service, x.billed_cost) for x in lines] == [
        ("S3", Decimal("1")),
        ("EC2", Decimal("2")),
        ("RDS", Decimal("4")),
    ]
    assert rerun.covered_days == {d1}
    assert rerun.requests == 4


def test_a_repeated_page_token_stops_with_an_error(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    d1 = date(2026, 9, 1)
    stubber.add_response("get_cost_and_usage", page([period(d1, [])], token="again"))
    stubber.add_response(
        "get_cost_and_usage", page([period(d1, [])], token="again"), any_params("again")
    )
    source = CostExplorerSource(client, today=TODAY, use_resource_level=False)
    with pytest.raises(PaginationLoopError, match="again"):
        list(source.fetch(d1, date(2026, 9, 2)))


def test_data_unavailable_yields_nothing_and_covers_nothing(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    d1, end = date(2026, 9, 1), date(2026, 9, 3)
    stubber.add_client_error("get_cost_and_usage", "DataUnavailableException", http_status_code=400)
    stubber.add_client_error("get_cost_and_usage", "DataUnavailableException", http_status_code=400)
    fetch = CostExplorerSource(client, today=TODAY, use_resource_level=False).fetch(d1, end)

    assert list(fetch) == []
    assert fetch.covered_days == frozenset()
    assert fetch.unavailable_days == {d1, date(2026, 9, 2)}


def test_data_unavailable_for_one_request_leaves_its_days_uncovered(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    d1, end = date(2026, 9, 1), date(2026, 9, 2)
    stubber.add_response("get_cost_and_usage", page([period(d1, [group(["S3", "Owner$a"], "1")])]))
    stubber.add_client_error("get_cost_and_usage", "DataUnavailableException", http_status_code=400)
    fetch = CostExplorerSource(client, today=TODAY, use_resource_level=False).fetch(d1, end)
    list(fetch)
    # Usage alone would understate the day: the ingest must keep what it has stored.
    assert fetch.covered_days == frozenset()


def test_other_errors_are_not_retried(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("get_cost_and_usage", "BillExpirationException", http_status_code=400)
    slept, sleep = no_sleep()
    source = CostExplorerSource(client, today=TODAY, use_resource_level=False, sleep=sleep)
    with pytest.raises(ClientError, match="BillExpirationException"):
        list(source.fetch(date(2020, 1, 1), date(2020, 1, 2)))
    assert slept == []
