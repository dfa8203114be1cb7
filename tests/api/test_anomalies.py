"""Anomalies through the handler: who sees which, the status filter and pages, the status
change, and the exact JSON shape the dashboard reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tally.anomalies.model import Anomaly, AnomalyStatus, anomaly_id, cause_key
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api

AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _add(
    api: Api,
    user_id: str,
    day: date,
    *,
    resource: str | None = "i-0abc",
    status: AnomalyStatus = AnomalyStatus.OPEN,
) -> Anomaly:
    cause = cause_key("AmazonEC2", resource, "USD")
    made = Anomaly(
        anomaly_id=anomaly_id(user_id, day, cause),
        user_id=user_id,
        day=day,
        last_day=day + timedelta(days=1),
        service="AmazonEC2",
        resource_id=resource,
        usage_unit="Hrs" if resource else None,
        currency="USD",
        expected=Decimal("11.0"),
        actual=Decimal("66.123456"),
        score=Decimal("41.27"),
        status=status,
        detected_at=AT,
        updated_at=AT,
    )
    assert api.stores.anomalies.create(made)
    return made


def test_the_json_shape(api: Api) -> None:
    made = _add(api, "u-alice", date(2026, 11, 8))
    reply = api.call("GET", "/api/anomalies", ALICE)
    assert reply.status == 200
    assert reply.body == {
        "items": [
            {
                "anomalyId": made.anomaly_id,
                "userId": "u-alice",
                "day": "2026-11-08",
                "service": "AmazonEC2",
                "resourceId": "i-0abc",
                "resourceName": "i-0abc",
                "usageUnit": "Hrs",
                "expected": "11.00",
                "actual": "66.123456",
                "impact": "55.123456",
                "currency": "USD",
                "score": 41.27,
                "status": "open",
                "detectedAt": "2026-11-20T01:00:00+00:00",
                "updatedAt": "2026-11-20T01:00:00+00:00",
            }
        ],
        "nextToken": None,
    }


def test_users_see_their_own_and_admins_the_organisations(api: Api) -> None:
    a1 = _add(api, "u-alice", date(2026, 11, 3))
    a2 = _add(api, "u-alice", date(2026, 11, 9), status=AnomalyStatus.RESOLVED)
    b1 = _add(api, "u-bob", date(2026, 11, 6), resource=None)

    def ids(caller: object, query: str = "") -> list[str]:
        reply = api.call("GET", f"/api/anomalies{query}", caller)  # type: ignore[arg-type]
        assert reply.status == 200, reply.body
        return [a["anomalyId"] for a in reply.body["items"]]

    assert ids(ALICE) == [a2.anomaly_id, a1.anomaly_id]
    assert ids(ALICE, "?status=open") == [a1.anomaly_id]
    assert ids(BOB) == [b1.anomaly_id]
    assert api.call("GET", "/api/anomalies?userId=u-alice", BOB).status == 403
    assert ids(ADMIN) == [a2.anomaly_id, b1.anomaly_id, a1.anomaly_id]
    assert ids(ADMIN, "?status=resolved") == [a2.anomaly_id]
    assert ids(ADMIN, "?userId=u-bob") == [b1.anomaly_id]


def test_pages_follow_the_token_which_is_bound_to_the_listing(api: Api) -> None:
    made = [_add(api, "u-alice", date(2026, 11, 1) + timedelta(days=n)) for n in range(5)]
    seen: list[str] = []
    token = None
    while True:
        url = "/api/anomalies?limit=2" + (f"&nextToken={token}" if token else "")
        body = api.call("GET", url, ALICE).body
        seen += [a["anomalyId"] for a in body["items"]]
        token = body["nextToken"]
        if not token:
            break
        # Another filter, or another caller, cannot use it.
        assert api.call("GET", f"/api/anomalies?status=open&nextToken={token}", ALICE).status == 422
        assert api.call("GET", f"/api/anomalies?nextToken={token}", BOB).status == 422
    assert seen == [a.anomaly_id for a in reversed(made)]


def test_the_owner_or_an_admin_changes_the_status_others_get_404(api: Api) -> None:
    made = _add(api, "u-alice", date(2026, 11, 8))
    url = f"/api/anomalies/{made.anomaly_id}"
    assert api.call("PATCH", url, BOB, body={"status": "resolved"}).status == 404
    reply = api.call("PATCH", url, ALICE, body={"status": "acknowledged"})
    assert reply.status == 200
    assert reply.body["status"] == "acknowledged"
    assert reply.body["updatedAt"] != "2026-11-20T01:00:00+00:00"
    assert api.call("PATCH", url, ADMIN, body={"status": "resolved"}).body["status"] == "resolved"
    stored = api.stores.anomalies.get(made.anomaly_id)
    assert stored is not None and stored.status is AnomalyStatus.RESOLVED
    assert api.call("PATCH", url, ALICE, body={"status": "open"}).status == 422
    # Bob's 404 is the same whether the anomaly exists or not.
    missing = anomaly_id("u-alice", date(2026, 11, 9), made.cause)
    other = api.call("PATCH", f"/api/anomalies/{missing}", BOB, body={"status": "resolved"})
    mine = api.call("PATCH", url, BOB, body={"status": "resolved"})
    assert (other.status, other.body["detail"]) == (mine.status, mine.body["detail"])
