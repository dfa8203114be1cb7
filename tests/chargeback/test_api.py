"""GET /api/billing/organisation/chargeback and the chargeback export through the API: the
JSON's amounts add up to the organisation total per currency, for whoever reads every cost
(an admin, finance) and for no one else; the export is queued as a job."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tally.identity import Caller
from tally.models import AuditEntry
from tally.org.model import ORG_SCOPE, Grant
from tally.tables import USER_GROUP
from tests.api.test_exports import reports  # noqa: F401  (the fixture)
from tests.chargeback.world import EDGE_DAYS, MONTH, NOW, world
from tests.conftest import ADMIN, ALICE
from tests.harness import Api

URL = "/api/billing/organisation/chargeback"
FIONA = Caller("u-fiona", "fiona", "fiona@example.com", frozenset({USER_GROUP}))


@pytest.fixture
def org(api: Api) -> Api:
    world(api.stores, days=EDGE_DAYS)
    access = api.stores.access
    audit = AuditEntry("u-fiona", NOW, "u-admin", "roles.assigned", "u-fiona", {})
    access.set_grants("u-fiona", (Grant("finance", ORG_SCOPE),), previous=None,
                      snapshot=access.snapshot(), audit=audit)  # fmt: skip
    return api


def amounts(items: list[dict[str, str]], currencies: list[str]) -> dict[str, Decimal]:
    assert [m["currency"] for m in items] == currencies
    return {m["currency"]: Decimal(m["amount"]) for m in items}


@pytest.mark.parametrize("group_by", ["team", "department", "costCenter"])
def test_the_units_add_up_to_the_organisation_total(org: Api, group_by: str) -> None:
    reply = org.call("GET", f"{URL}?month={MONTH}&groupBy={group_by}", ADMIN)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    assert (body["month"], body["groupBy"], body["rule"], body["final"]) == (
        MONTH, group_by, "proportional", True,
    )  # fmt: skip
    currencies = body["currencies"]
    assert currencies == ["EUR", "USD"]
    total = amounts(body["organisationTotal"], currencies)
    left = amounts(body["unallocated"], currencies)
    for currency in currencies:
        units = sum((amounts(u["total"], currencies)[currency] for u in body["units"]), Decimal(0))
        no_team = amounts(body["noTeam"]["total"], currencies)[currency]
        assert units + no_team + left[currency] == total[currency]
    assert total["USD"] == org.stores.rollups.get("ORG", MONTH).sections["USD"].totals.effective  # type: ignore[union-attr]
    unit = body["units"][0]
    assert set(unit) == {"unitId", "name", "kind", "parentId", "costCenter", "people",
                         "allocated", "shared", "unallocated", "total", "tax"}  # fmt: skip
    assert unit["tax"] == []  # no tax rule: no tax


def test_the_separate_rule_and_the_default_grouping(
    org: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_CHARGEBACK_UNALLOCATED", "separate")
    body = org.call("GET", f"{URL}?month={MONTH}", FIONA).body
    assert (body["groupBy"], body["rule"]) == ("team", "separate")
    assert amounts(body["unallocated"], body["currencies"])["USD"] > 0
    payments = next(u for u in body["units"] if u["unitId"] == "payments")
    assert (payments["kind"], payments["parentId"], payments["costCenter"]) == (
        "team", "engineering", "PAY",
    )  # fmt: skip
    assert (
        amounts(payments["shared"], body["currencies"])["USD"]
        == Decimal("0.7") * Decimal("0.6") * 4
    )


def test_a_member_is_refused(org: Api) -> None:
    reply = org.call("GET", f"{URL}?month={MONTH}", ALICE)
    assert reply.status == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [("month=2026-13", "month"), ("month=2026-12", "month"), ("groupBy=person", "groupBy")],
)
def test_bad_input(org: Api, query: str, field: str) -> None:
    reply = org.call("GET", f"{URL}?{query}", ADMIN)
    assert reply.status == 422
    assert field in str(reply.body)


def test_the_export_is_queued_with_its_parameters(org: Api, reports: str) -> None:  # noqa: F811
    body = {"kind": "chargeback", "month": MONTH, "groupBy": "costCenter", "format": "pdf",
            "unit": "PAY"}  # fmt: skip
    reply = org.call("POST", "/api/exports", FIONA, body=body)
    assert reply.status == 202, reply.body
    assert reply.body["kind"] == "chargeback"
    job = org.stores.report_jobs.get(reply.body["exportId"])
    assert job is not None and job.kind == "export"
    assert job.params == {
        "kind": "chargeback",
        "startDate": "2026-10-01",
        "endDate": "2026-10-31",
        "month": MONTH,
        "groupBy": "costCenter",
        "format": "pdf",
        "unit": "PAY",
    }
    got = org.call("GET", f"/api/exports/{job.job_id}", FIONA)
    assert got.status == 200 and got.body["kind"] == "chargeback"


def test_a_member_cannot_export_it(org: Api, reports: str) -> None:  # noqa: F811
    body = {"kind": "chargeback", "month": MONTH, "groupBy": "team"}
    assert org.call("POST", "/api/exports", ALICE, body=body).status == 403
