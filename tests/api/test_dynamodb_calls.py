"""Summary, costs and all-users cost a constant number of DynamoDB calls, whatever the data;
a team's summary, /api/me and a budget whatever the organisation's size; nothing on a request
path scans."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from pynamodb.connection.base import Connection

from tally.allocation import OwnerTagRule
from tally.clock import utc_now, utc_today
from tally.identity import Caller, Role
from tally.ingest import ingest_days
from tally.models import CostLine, UserProfile
from tests.conftest import ADMIN
from tests.harness import Api


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts every DynamoDB operation pynamodb sends (a meter, not a mock: calls go through)."""
    seen: Counter[str] = Counter()
    real = Connection.dispatch

    def counting(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:  # type: ignore[type-arg]
        seen[operation_name] += 1
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    yield seen


def seed(api: Api, users: int, days: int, services: int) -> None:
    for n in range(users):
        api.stores.users.put(UserProfile(f"u-{n:03}", f"user{n:03}", None, Role.USER))
    today = utc_today()
    window = [today - timedelta(days=d) for d in range(days)]
    lines = [
        CostLine(
            day,
            f"Service{s}",
            f"i-{n}-{s}",
            Decimal("1.2345"),
            Decimal("1.1"),
            "USD",
            tags={"Owner": f"user{n:03}"},
        )
        for day in window
        for n in range(users)
        for s in range(services)
    ]
    ingest_days(lines, window, stores=api.stores, rule=OwnerTagRule(), source="t", now=utc_now())


URLS = {
    "summary": "/api/billing/user/u-000/summary",
    "costs": "/api/billing/user/u-000/costs?startDate={start}",
    "all-users": "/api/billing/all-users?limit=100",
}


def measure(api: Api, calls: Counter[str]) -> dict[str, Counter[str]]:
    out = {}
    start = (utc_today() - timedelta(days=120)).isoformat()
    # The access facts decisions read (the organisation snapshot, the caller's and the path
    # user's profiles) are kept by the warm container: read here once, and counted in
    # test_access_reads_are_bounded.
    for url in URLS.values():
        api.call("GET", url.format(start=start), ADMIN)
    for name, url in URLS.items():
        calls.clear()
        reply = api.call("GET", url.format(start=start), ADMIN)
        assert reply.status == 200, reply.body
        out[name] = Counter(calls)
    return out


def test_constant_calls_whatever_the_data(api: Api, calls: Counter[str]) -> None:
    seed(api, users=2, days=2, services=1)
    small = measure(api, calls)
    seed(api, users=12, days=40, services=6)
    large = measure(api, calls)
    assert small == large
    for name, ops in large.items():
        assert "Scan" not in ops, name
    # Each also reads the organisation's billing periods (one strongly consistent GetItem per
    # request that computes a period: never kept, so every container sees a change at once).
    assert sum(large["summary"].values()) <= 2 + 1
    assert sum(large["costs"].values()) <= 1 + 1
    assert sum(large["all-users"].values()) <= 3 + 1


@pytest.mark.parametrize("caller", ["admin", "user"])
def test_access_reads_are_bounded(api: Api, calls: Counter[str], caller: str) -> None:
    """With a cold access cache, a request reads at most the organisation snapshot and, in
    one batch, the profiles it needs (the caller's and the path's user's), whatever the
    organisation's size."""
    from api import context
    from tests.conftest import ALICE

    who, url = {
        "admin": (ADMIN, "/api/billing/user/u-000/summary"),
        "user": (ALICE, "/api/billing/user/u-alice/summary"),
    }[caller]
    for users in (2, 12):
        seed(api, users=users, days=2, services=1)
        context.access_source.cache_clear()
        calls.clear()
        assert api.call("GET", url, who).status == 200
        cold = Counter(calls)
        calls.clear()
        assert api.call("GET", url, who).status == 200
        warm = Counter(calls)
        access = cold - warm
        assert sum(access.values()) <= 2, access
        assert "Scan" not in cold


def test_calls_stay_constant_with_organisation_size(api: Api, calls: Counter[str]) -> None:
    """A team manager's team summary, a member's /api/me and budget, a department manager's
    summary: the same DynamoDB requests with 5 teams as with 200 (and 40 times the people),
    with the container's access cache empty and warm. ``make bench`` prints 10 against 1,000."""
    from api import context
    from tests.bench import org_scale

    def call(method: str, url: str, caller: Caller | None, body: object) -> int:
        return api.call(method, url, caller, body=body).status

    small_org = org_scale.seed(5)
    small = org_scale.measure(call, calls, context.access_source.cache_clear)
    large_org = org_scale.seed(200)
    large = org_scale.measure(call, calls, context.access_source.cache_clear)
    assert large_org.people > 30 * small_org.people
    assert small == large
    assert len(large) == 2 * len(org_scale.REQUESTS)
    for name, ops in large.items():
        assert "Scan" not in ops, name
