"""/api/tax-rules through the API: finance and admins add, list and end rules and change the
settings; bad input is 422 with the field and changes nothing; an overlapping rule is 409;
every change is audited; the chargeback JSON carries a unit's tax."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tally.identity import Caller
from tally.models import AuditEntry
from tally.org.model import ORG_SCOPE, Grant
from tally.tables import USER_GROUP
from tests.api.test_exports import reports  # noqa: F401  (the fixture)
from tests.conftest import ADMIN, ALICE, NOW
from tests.harness import Api

URL = "/api/tax-rules"
FIONA = Caller("u-fiona", "fiona", "fiona@example.com", frozenset({USER_GROUP}))
VAT: dict[str, Any] = {
    "name": "VAT",
    "jurisdiction": "de",
    "rate": "19",
    "unit": "org",
    "effectiveFrom": "2026-01-01",
}


@pytest.fixture
def finance(api: Api) -> Api:
    access = api.stores.access
    audit = AuditEntry("u-fiona", NOW, "u-admin", "roles.assigned", "u-fiona", {})
    access.set_grants("u-fiona", (Grant("finance", ORG_SCOPE),), previous=None,
                      snapshot=access.snapshot(), audit=audit)  # fmt: skip
    return api


def test_finance_adds_lists_and_ends_a_rule(finance: Api) -> None:
    made = finance.call("POST", URL, FIONA, body=VAT)
    assert made.status == 201, made.body
    rule = made.body
    assert (rule["jurisdiction"], rule["rate"], rule["unit"], rule["inForce"]) == (
        "DE", "19", "org", True,
    )  # fmt: skip
    assert rule["effectiveTo"] is None and rule["createdBy"] == "u-fiona"
    listed = finance.call("GET", URL, FIONA).body["items"]
    assert [r["ruleId"] for r in listed] == [rule["ruleId"]]
    ended = finance.call(
        "POST", f"{URL}/{rule['ruleId']}/end", FIONA, body={"effectiveTo": "2026-12-01"}
    )
    assert ended.status == 200, ended.body
    assert (ended.body["effectiveTo"], ended.body["inForce"]) == ("2026-12-01", True)
    # the 19% from December is a new rule: no overlap with the ended one
    again = finance.call("POST", URL, FIONA, body=VAT | {"effectiveFrom": "2026-12-01"})
    assert again.status == 201, again.body
    entries = finance.call("GET", "/api/audit?limit=100", ADMIN).body["items"]
    actions = sorted(e["action"] for e in entries if e["action"].startswith("tax."))
    assert actions == ["tax.rule.created", "tax.rule.created", "tax.rule.ended"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rate": "100.01"}, "rate"),
        ({"rate": "-1"}, "rate"),
        ({"rate": "19.12345"}, "rate"),
        ({"rate": True}, "rate"),
        ({"effectiveFrom": "2026-13-01"}, "effectiveFrom"),
        ({"effectiveTo": "2026-01-01"}, "effectiveTo"),
        ({"unit": "team:nobody"}, "unit"),
        ({"unit": "department:x"}, "unit"),
        ({"jurisdiction": "D E"}, "jurisdiction"),
        ({"treatment": "zero-rated", "rate": "0"}, "reason"),
        ({"treatment": "exempt", "rate": "19", "reason": "Art. 135"}, "rate"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_rules_are_422_with_the_field_and_change_nothing(
    api: Api, change: dict[str, Any], field: str
) -> None:
    reply = api.call("POST", URL, ADMIN, body=VAT | change)
    assert reply.status == 422, reply.body
    assert field in [e["field"].split(".")[-1] for e in reply.problem["errors"]]
    assert api.stores.tax.rules().rules == ()


def test_an_overlapping_rule_for_the_same_unit_and_jurisdiction_is_409(api: Api) -> None:
    assert api.call("POST", URL, ADMIN, body=VAT).status == 201
    clash = api.call("POST", URL, ADMIN, body=VAT | {"rate": "16", "effectiveFrom": "2026-07-01"})
    assert clash.status == 409
    assert "end it first" in clash.problem["detail"]
    # another jurisdiction, or a unit of its own, is not a clash
    assert api.call("POST", URL, ADMIN, body=VAT | {"jurisdiction": "AT"}).status == 201
    zero = VAT | {"unit": "costCenter:CC-1", "rate": "0", "treatment": "zero-rated",
                  "reason": "Export"}  # fmt: skip
    assert api.call("POST", URL, ADMIN, body=zero).status == 201
    assert len(api.stores.tax.rules().rules) == 3


def test_ending_in_the_past_is_refused(api: Api) -> None:
    rule = api.call("POST", URL, ADMIN, body=VAT).body["ruleId"]
    past = api.call("POST", f"{URL}/{rule}/end", ADMIN, body={"effectiveTo": "2026-11-19"})
    assert past.status == 422
    assert past.problem["errors"][0]["field"] == "effectiveTo"
    old = VAT | {"jurisdiction": "FR", "effectiveTo": "2026-06-01"}
    ended = api.call("POST", URL, ADMIN, body=old).body["ruleId"]
    assert (
        api.call("POST", f"{URL}/{ended}/end", ADMIN, body={"effectiveTo": "2027-01-01"}).status
        == 409
    )
    assert (
        api.call(
            "POST", f"{URL}/tr-000000000000/end", ADMIN, body={"effectiveTo": "2027-01-01"}
        ).status
        == 404
    )
    assert (
        api.call("POST", f"{URL}/not-an-id/end", ADMIN, body={"effectiveTo": "2027-01-01"}).status
        == 422
    )


def test_settings_default_and_change_with_if_match(finance: Api) -> None:
    first = finance.call("GET", f"{URL}/settings", FIONA)
    assert first.body == {"mode": "add", "rounding": "total", "roundingMethod": "half-up",
                          "version": 0, "updatedAt": None, "updatedBy": None}  # fmt: skip
    changed = finance.call(
        "PUT", f"{URL}/settings", FIONA, body={"mode": "replace", "rounding": "line"},
        headers={"If-Match": '"0"'},
    )  # fmt: skip
    assert changed.status == 200, changed.body
    assert (changed.body["mode"], changed.body["version"]) == ("replace", 1)
    assert changed.headers["ETag"] == '"1"'
    stale = finance.call(
        "PUT", f"{URL}/settings", FIONA, body={"mode": "add", "rounding": "line"},
        headers={"If-Match": '"0"'},
    )  # fmt: skip
    assert stale.status == 409
    bad = finance.call(
        "PUT", f"{URL}/settings", FIONA, body={"mode": "sometimes", "rounding": "line"}
    )
    assert bad.status == 422
    assert finance.stores.tax.settings().mode.value == "replace"


def test_a_member_may_not_read_or_change_them(api: Api) -> None:
    assert api.call("GET", URL, ALICE).status == 403
    assert api.call("POST", URL, ALICE, body=VAT).status == 403
    assert (
        api.call("PUT", f"{URL}/settings", ALICE, body={"mode": "add", "rounding": "line"}).status
        == 403
    )
    assert api.stores.tax.rules().rules == ()


def test_the_chargeback_json_carries_each_units_tax(api: Api) -> None:
    from tests.chargeback.world import EDGE_DAYS, MONTH, world

    world(api.stores, days=EDGE_DAYS)
    assert api.call("POST", URL, ADMIN, body=VAT | {"rate": "10"}).status == 201
    body = api.call("GET", f"/api/billing/organisation/chargeback?month={MONTH}", ADMIN).body
    for unit in body["units"]:
        total = {m["currency"]: Decimal(m["amount"]) for m in unit["total"]}
        for tax in unit["tax"]:
            net = Decimal(tax["net"]["amount"])
            assert net == total[tax["currency"]].quantize(Decimal("0.01"))
            assert Decimal(tax["gross"]["amount"]) == net + Decimal(tax["tax"]["amount"])
            assert [r["rate"] for r in tax["rows"]] == ["10"]
    assert any(u["tax"] for u in body["units"])


@pytest.mark.usefixtures("reports")
def test_a_ready_invoice_shows_its_tax_totals(api: Api) -> None:
    from datetime import UTC, datetime

    from tally.models import JobStatus, ReportJob

    job = ReportJob(
        "j-tax", "invoice", "u-alice", {"month": "2026-10"}, JobStatus.PENDING, NOW, NOW
    )
    api.stores.report_jobs.create(job)
    totals = '[{"currency": "EUR", "net": "100.00", "tax": "19.00", "gross": "119.00"}]'
    api.stores.report_jobs.complete(
        "j-tax", object_key="reports/invoices/u-alice/j-tax.pdf", rows=1,
        details={"invoiceNumber": "INV-1", "tax": totals}, at=datetime(2026, 11, 20, tzinfo=UTC),
    )  # fmt: skip
    body = api.call("GET", "/api/invoices/j-tax", ALICE).body
    assert body["tax"] == [
        {
            "currency": "EUR",
            "net": {"amount": "100.00", "currency": "EUR"},
            "tax": {"amount": "19.00", "currency": "EUR"},
            "gross": {"amount": "119.00", "currency": "EUR"},
        }
    ]
