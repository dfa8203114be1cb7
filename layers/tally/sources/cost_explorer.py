"""Cost Explorer as a cost source: the whole organisation in a handful of paged requests.

What is asked, and why:

* **Usage** (record types in ``USAGE_RECORD_TYPES``) is what users cause, so it is read at
  the finest grain the API allows: per resource and owner tag with
  ``GetCostAndUsageWithResources`` for the services that have resource-level data, inside
  that API's window (the last 14 days), and per service and owner tag with
  ``GetCostAndUsage`` for every other day and service. The two never overlap: the
  per-service request over the recent days excludes the resource-level services.
* **Everything else** (credits, refunds, tax, reservation and Savings Plans fees, ...) is one
  more request filtered to *not* those record types and grouped by ``RECORD_TYPE`` and
  ``SERVICE``, so each becomes its own line with its own charge category instead of being
  netted into a user's usage. These charges carry no resource and, in practice, no owner
  tag (tax, account-level credits), so they land in "unallocated" for admins to see;
  ``non_usage_second_key="owner"`` groups them by the owner tag instead, for organisations
  whose credits are tagged.

Because the record-type filters partition the bill, the lines always add up to Cost
Explorer's total for the range. Savings Plans negation and covered usage stay with usage:
they net each other per resource, and the amortized (effective) cost then shows each owner's
share of the commitment.

Every request is for the whole organisation; the number of requests depends on the number of
pages (result size), never on the number of users.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from botocore.exceptions import ClientError

from tally.models import CostLine
from tally.money import ZERO
from tally.sources import (
    CostFetch,
    FetchLog,
    PaginationLoopError,
    SourceFormatError,
)

SOURCE_NAME = "cost-explorer"
EC2_COMPUTE = "Amazon Elastic Compute Cloud - Compute"
METRICS = ("UnblendedCost", "AmortizedCost", "UsageQuantity")

# Record types that are consumption of a resource: allocated to owners like usage.
USAGE_RECORD_TYPES: tuple[str, ...] = (
    "Usage",
    "DiscountedUsage",
    "SavingsPlanCoveredUsage",
    "SavingsPlanNegation",
)

# Cost Explorer record type -> the FOCUS-style charge category stored on the line.
RECORD_TYPE_CATEGORIES: Mapping[str, str] = {
    "Credit": "Credit",
    "Refund": "Refund",
    "Tax": "Tax",
    "Upfront reservation fee": "Purchase",
    "Recurring reservation fee": "Purchase",
    "SavingsPlanUpfrontFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
    "Support fee": "Purchase",
}
# Anything not listed (discount programmes, out-of-cycle charges, types AWS adds later)
# stays visible as an adjustment rather than being mistaken for usage.
FALLBACK_CATEGORY = "Adjustment"

# LimitExceededException is Cost Explorer's throttling; the rest are the generic codes.
RETRYABLE_CODES = frozenset(
    {
        "LimitExceededException",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
    }
)
DATA_UNAVAILABLE = "DataUnavailableException"


def category_for_record_type(record_type: str) -> str:
    """The charge category of a non-usage Cost Explorer record type."""
    if record_type in USAGE_RECORD_TYPES:
        return "Usage"
    return RECORD_TYPE_CATEGORIES.get(record_type, FALLBACK_CATEGORY)


def parse_tag_key(group_key: str, tag_key: str) -> dict[str, str]:
    """``"Owner$alice"`` -> ``{"Owner": "alice"}``; ``"Owner$"`` (untagged) -> ``{}``."""
    prefix, sep, value = group_key.partition("$")
    if not sep or prefix != tag_key or not value:
        return {}
    return {tag_key: value}


@dataclass(frozen=True)
class _Query:
    """One logical request (all its pages) and how to read its groups."""

    operation: str  # boto3 method name
    params: dict[str, Any]
    start: date
    end: date
    read_group: Callable[[date, bool, Sequence[str], Mapping[str, Any]], CostLine | None]


def _dimension(key: str, values: Sequence[str]) -> dict[str, Any]:
    return {"Dimensions": {"Key": key, "Values": list(values)}}


def _all_of(*expressions: dict[str, Any]) -> dict[str, Any]:
    return expressions[0] if len(expressions) == 1 else {"And": list(expressions)}


def _amount(metrics: Mapping[str, Any], name: str) -> tuple[Decimal, str | None]:
    metric = metrics.get(name)
    if not metric:
        return ZERO, None
    try:
        return Decimal(str(metric.get("Amount", "0"))), metric.get("Unit")
    except InvalidOperation as exc:
        raise SourceFormatError(f"{name} is not a number: {metric.get('Amount')!r}") from exc


class CostExplorerSource:
    """Daily costs of the whole organisation from the Cost Explorer API.

    ``client`` is a boto3 ``ce`` client (inject a moto or Stubber client in tests).
    ``today`` fixes "now" for the 14-day resource-level window; by default the UTC date at
    fetch time. ``sleep`` and ``rng`` are injectable so retries run instantly in tests.
    """

    source_name = SOURCE_NAME

    def __init__(
        self,
        client: Any,
        *,
        owner_tag_key: str = "Owner",
        use_resource_level: bool = True,
        resource_level_services: Sequence[str] = (EC2_COMPUTE,),
        resource_window_days: int = 14,
        non_usage_second_key: Literal["service", "owner"] = "service",
        today: date | None = None,
        max_attempts: int = 8,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        max_pages: int = 10_000,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self.owner_tag_key = owner_tag_key
        self.use_resource_level = use_resource_level and bool(resource_level_services)
        self.resource_level_services = tuple(resource_level_services)
        self.resource_window_days = resource_window_days
        self.non_usage_second_key = non_usage_second_key
        self._today = today
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep
        self._rng = rng
        self._max_pages = max_pages

    # -- public -------------------------------------------------------------------------

    def fetch(self, start: date, end: date) -> CostFetch:
        """Every cost line for the UTC days ``[start, end)``, read lazily page by page."""
        queries = self.plan(start, end)

        def produce(log: FetchLog) -> Iterator[CostLine]:
            for query in queries:
                yield from self._run(query, log)

        return CostFetch(SOURCE_NAME, start, end, produce)

    def resource_window_start(self) -> date:
        """First day ``GetCostAndUsageWithResources`` may be asked for.

        The API accepts a start "no earlier than 14 days ago"; counting today as one of the
        14 keeps a day's margin, so a run that straddles midnight UTC is not rejected.
        """
        today = self._today or datetime.now(UTC).date()
        return today - timedelta(days=self.resource_window_days - 1)

    def plan(self, start: date, end: date) -> list[_Query]:
        """The requests a fetch of ``[start, end)`` makes (each followed through its pages)."""
        if end <= start:
            raise ValueError(f"empty or reversed range: {start} .. {end}")
        usage = _dimension("RECORD_TYPE", USAGE_RECORD_TYPES)
        queries: list[_Query] = []

        recent_start = max(start, self.resource_window_start()) if self.use_resource_level else end
        if recent_start < end:
            for service in self.resource_level_services:
                queries.append(self._resource_query(service, recent_start, end, usage))
            not_resource_level = {"Not": _dimension("SERVICE", self.resource_level_services)}
            queries.append(self._usage_query(recent_start, end, _all_of(usage, not_resource_level)))
        if start < recent_start:
            queries.append(self._usage_query(start, min(recent_start, end), usage))
        queries.append(self._non_usage_query(start, end, {"Not": usage}))
        return queries

    # -- requests -----------------------------------------------------------------------

    def _base(self, start: date, end: date, filter_: dict[str, Any]) -> dict[str, Any]:
        return {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": list(METRICS),
            "Filter": filter_,
        }

    def _owner_group(self) -> dict[str, str]:
        return {"Type": "TAG", "Key": self.owner_tag_key}

    def _resource_query(
        self, service: str, start: date, end: date, usage: dict[str, Any]
    ) -> _Query:
        # The API requires a SERVICE filter; grouping by RESOURCE_ID then loses the service,
        # so each resource-level service is its own request and names its lines.
        params = self._base(start, end, _all_of(_dimension("SERVICE", [service]), usage))
        params["GroupBy"] = [{"Type": "DIMENSION", "Key": "RESOURCE_ID"}, self._owner_group()]

        def read(
            day: date, est: bool, keys: Sequence[str], m: Mapping[str, Any]
        ) -> CostLine | None:
            resource_id = keys[0] if keys and keys[0] else None
            tags = parse_tag_key(keys[1], self.owner_tag_key) if len(keys) > 1 else {}
            return self._line(day, est, service, resource_id, "Usage", tags, m)

        return _Query("get_cost_and_usage_with_resources", params, start, end, read)

    def _usage_query(self, start: date, end: date, filter_: dict[str, Any]) -> _Query:
        params = self._base(start, end, filter_)
        params["GroupBy"] = [{"Type": "DIMENSION", "Key": "SERVICE"}, self._owner_group()]

        def read(
            day: date, est: bool, keys: Sequence[str], m: Mapping[str, Any]
        ) -> CostLine | None:
            service = keys[0] if keys else ""
            tags = parse_tag_key(keys[1], self.owner_tag_key) if len(keys) > 1 else {}
            return self._line(day, est, service, None, "Usage", tags, m)

        return _Query("get_cost_and_usage", params, start, end, read)

    def _non_usage_query(self, start: date, end: date, filter_: dict[str, Any]) -> _Query:
        by_owner = self.non_usage_second_key == "owner"
        second = self._owner_group() if by_owner else {"Type": "DIMENSION", "Key": "SERVICE"}
        params = self._base(start, end, filter_)
        params["GroupBy"] = [{"Type": "DIMENSION", "Key": "RECORD_TYPE"}, second]

        def read(
            day: date, est: bool, keys: Sequence[str], m: Mapping[str, Any]
        ) -> CostLine | None:
            record_type = keys[0] if keys else ""
            second_key = keys[1] if len(keys) > 1 else ""
            if by_owner:
                # Grouped by owner, the service is unknown; the record type names the line.
                service, tags = record_type, parse_tag_key(second_key, self.owner_tag_key)
            else:
                service, tags = second_key, {}
            category = category_for_record_type(record_type)
            return self._line(day, est, service, None, category, tags, m)

        return _Query("get_cost_and_usage", params, start, end, read)

    # -- reading ------------------------------------------------------------------------

    def _line(
        self,
        day: date,
        estimated: bool,
        service: str,
        resource_id: str | None,
        category: str,
        tags: dict[str, str],
        metrics: Mapping[str, Any],
    ) -> CostLine | None:
        billed, billed_unit = _amount(metrics, "UnblendedCost")
        effective, effective_unit = _amount(metrics, "AmortizedCost")
        quantity, quantity_unit = _amount(metrics, "UsageQuantity")
        if not billed and not effective and not quantity:
            return None  # Cost Explorer lists empty groups; they would only be noise records
        return CostLine(
            day=day,
            service=service,
            resource_id=resource_id,
            billed_cost=billed,
            effective_cost=effective,
            # Cost Explorer always names the unit; USD is its reporting currency otherwise.
            currency=billed_unit or effective_unit or "USD",
            usage_quantity=quantity,
            usage_unit=quantity_unit,
            charge_category=category,
            estimated=estimated,
            tags=tags,
        )

    def _run(self, query: _Query, log: FetchLog) -> Iterator[CostLine]:
        try:
            for page in self._pages(query, log):
                for period in page.get("ResultsByTime", []):
                    day = date.fromisoformat(period["TimePeriod"]["Start"])
                    if not query.start <= day < query.end:
                        continue
                    estimated = bool(period.get("Estimated", False))
                    log.returned(day, estimated=estimated)
                    for group in period.get("Groups", []):
                        line = query.read_group(
                            day, estimated, group.get("Keys", []), group.get("Metrics", {})
                        )
                        if line is not None:
                            yield line
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != DATA_UNAVAILABLE:
                raise
            # "No data yet" for this range: nothing to replace, and not a failure.
            log.unavailable(query.start, query.end)

    def _pages(self, query: _Query, log: FetchLog) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        token: str | None = None
        for _ in range(self._max_pages):
            params = dict(query.params)
            if token:
                params["NextPageToken"] = token
            page = self._call(query.operation, params)
            log.requests += 1
            yield page
            token = page.get("NextPageToken") or None
            if token is None:
                return
            if token in seen:
                raise PaginationLoopError(
                    f"{query.operation} returned page token {token!r} twice; stopping"
                )
            seen.add(token)
        raise PaginationLoopError(f"{query.operation} exceeded {self._max_pages} pages")

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self._client, operation)
        for attempt in range(self._max_attempts):
            try:
                response: dict[str, Any] = method(**params)
                return response
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code not in RETRYABLE_CODES or attempt == self._max_attempts - 1:
                    raise
                # Exponential backoff with full jitter: spreads retries of concurrent runs.
                ceiling = min(self._max_delay, self._base_delay * (2**attempt))
                self._sleep(self._rng() * ceiling)
        raise AssertionError("unreachable")  # pragma: no cover
