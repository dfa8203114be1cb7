"""GET /api/billing/organisation/chargeback/journal: JSON and CSV carry the same balanced
entries, for whoever reads the chargeback (an admin, finance) and no one else."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tally.identity import Caller
from tally.models import AuditEntry
from tally.org.model import ORG_SCOPE, Grant
from tally.tables import USER_GROUP
from tests.chargeback.world import EDGE_DAYS, MONTH, NOW, world
from tests.conftest import ADMIN, ALICE
from tests.harness import Api
from tests.payments.test_journal import amount, parse_csv

URL = "/api/billing/organisation/chargeback/journal"
FIONA = Caller("u-fiona", "fiona", "fiona@example.com", frozenset({USER_GROUP}))


@pytest.fixture
def org(api: Api) -> Api:
    world(api.stores, days=EDGE_DAYS)
    access = api.stores.access
    audit = AuditEntry("u-fiona", NOW, "u-admin", "roles.assigned", "u-fiona", {})
    access.set_grants(
        "u-fiona",
        (Grant("finance", ORG_SCOPE),),
        previous=None,
        snapshot=access.snapshot(),
        audit=audit,
    )
    return api


def test_json_and_csv_agree_and_balance(org: Api) -> None:
    reply = org.call("GET", f"{URL}?month={MONTH}&groupBy=costCenter", FIONA)
    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["month"], body["groupBy"], body["currencies"]) == (
        MONTH,
        "costCenter",
        ["EUR", "USD"],
    )
    assert body["accounts"] == {"expense": "6100", "cloud": "6190"}
    chargeback = org.call(
        "GET", f"/api/billing/organisation/chargeback?month={MONTH}&groupBy=costCenter", FIONA
    ).body
    org_total = {m["currency"]: Decimal(m["amount"]) for m in chargeback["organisationTotal"]}
    for total in body["totals"]:
        assert total["debit"] == total["credit"]
    lines = [
        (
            e["entryId"],
            line["account"],
            line["amount"]["currency"],
            line["side"],
            Decimal(line["amount"]["amount"]),
        )
        for e in body["entries"]
        for line in e["lines"]
    ]
    for currency, total in org_total.items():
        assert total == sum(
            (a if side == "debit" else -a)
            for _, account, cur, side, a in lines
            if cur == currency and account == "6100"
        )
    csv_reply = org.call("GET", f"{URL}?month={MONTH}&groupBy=costCenter&format=csv", FIONA)
    assert csv_reply.status == 200
    assert csv_reply.headers["Content-Type"].startswith("text/csv")
    assert f"tally-journal-{MONTH}-costCenter.csv" in csv_reply.headers["Content-Disposition"]
    rows = parse_csv(csv_reply.body)
    assert [
        (
            r["entry_id"],
            r["account"],
            r["currency"],
            "debit" if r["debit"] else "credit",
            amount(r["debit"] or r["credit"]),
        )
        for r in rows
    ] == lines


def test_account_codes_come_from_the_settings(org: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALLY_JOURNAL_EXPENSE_ACCOUNT", "6420")
    monkeypatch.setenv("TALLY_JOURNAL_CLOUD_ACCOUNT", "6499")
    body = org.call("GET", f"{URL}?month={MONTH}", ADMIN).body
    assert {line["account"] for e in body["entries"] for line in e["lines"]} == {"6420", "6499"}


def test_a_member_is_refused(org: Api) -> None:
    assert org.call("GET", f"{URL}?month={MONTH}", ALICE).status == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [("month=2026-13", "month"), ("month=2026-12", "month"), ("format=xlsx", "format")],
)
def test_bad_input(org: Api, query: str, field: str) -> None:
    reply = org.call("GET", f"{URL}?{query}", ADMIN)
    assert reply.status == 422
    assert field in str(reply.body)
