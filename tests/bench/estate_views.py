"""``make bench SECTIONS=estate-views``: the estate's read views (issue 15), AWS calls and
DynamoDB requests per request, on a small and a large estate (3 and 40 functions), through
the API handler on moto. Constant is the point: a view never grows with the estate (figures
only; tests/api/test_estate_views.py asserts it). The metrics panel and a function's detail
over a range are measured cold (CloudWatch asked) and warm (the one-minute cache)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

REGION = "us-east-1"


class _Counting:
    def __init__(self, client: Any, seen: Counter[str]) -> None:
        self._client, self._seen = client, seen

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("get_", "describe_", "filter_", "list_")):
            self._seen[name] += 1
        return getattr(self._client, name)


def run(
    moto_tables: Callable[[], AbstractContextManager[Any]],
    counting_dynamodb: Callable[[], AbstractContextManager[Counter[str]]],
) -> Iterator[tuple[str, str]]:
    from tests.api.test_estate_views import ACCOUNT, seed_estate
    from tests.conftest import ADMIN

    os.environ.update({"TALLY_ESTATE_ACCOUNT": ACCOUNT, "TALLY_ESTATE_REGIONS": REGION})
    with moto_tables() as settings:
        from api import context
        from api.handler import lambda_handler
        from api.routes import estate as routes
        from tally.clock import utc_today
        from tally.store import dynamodb_stores
        from tests.api.events import rest_event
        from tests.harness import LambdaContext, profile

        stores = dynamodb_stores(settings)
        context.stores.cache_clear()
        stores.users.put(profile(ADMIN))
        aws: Counter[str] = Counter()
        real = context.aws_client
        context.aws_client = lambda service, region=None: _Counting(real(service, region), aws)  # type: ignore[assignment]
        today = utc_today()
        window = f"start={today - timedelta(days=7)}T00:00:00Z&end={today}T00:00:00Z"
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:busy"
        views = (
            ("GET /api/estate/lambda", "/api/estate/lambda"),
            ("GET /api/estate/lambda/{name}", "/api/estate/lambda/busy"),
            ("GET /api/estate/network", "/api/estate/network"),
            ("GET /api/estate/iam/users", "/api/estate/iam/users"),
            ("GET /api/estate/iam/users/{name}", "/api/estate/iam/users/no-mfa"),
            ("GET /api/estate/metrics (cold)", f"/api/estate/metrics?resourceArn={arn}&{window}"),
            ("GET /api/estate/metrics (warm)", f"/api/estate/metrics?resourceArn={arn}&{window}"),
            ("GET /api/estate/lambda/{name}?start&end (cold)", f"/api/estate/lambda/busy?{window}"),
            ("GET /api/estate/lambda/{name}?start&end (warm)", f"/api/estate/lambda/busy?{window}"),
        )

        class Harness:
            pass

        harness = Harness()
        harness.stores = stores  # type: ignore[attr-defined]
        measured: dict[str, dict[str, tuple[int, int, Counter[str]]]] = {}
        try:
            for label, functions in (("3 functions", 3), ("40 functions", 40)):
                seed_estate(harness, functions=functions)  # type: ignore[arg-type]
                lambda_handler(
                    rest_event("GET", "/api/estate/lambda", caller=ADMIN), LambdaContext()
                )
                for name, url in views:
                    if name.endswith("(cold)"):
                        routes.metrics_cache.cache_clear()
                    aws.clear()
                    with counting_dynamodb() as calls:
                        out = lambda_handler(rest_event("GET", url, caller=ADMIN), LambdaContext())
                    assert out["statusCode"] == 200, out
                    measured.setdefault(name, {})[label] = (
                        sum(aws.values()),
                        sum(calls.values()),
                        Counter(calls),
                    )
        finally:
            context.aws_client = real  # type: ignore[assignment]
        for name, _ in views:
            small, large = measured[name]["3 functions"], measured[name]["40 functions"]
            yield (
                f"{name}: AWS calls / DynamoDB requests",
                f"{small[0]} / {small[1]} (3 functions), {large[0]} / {large[1]} (40)  "
                f"{dict(large[2])}",
            )
