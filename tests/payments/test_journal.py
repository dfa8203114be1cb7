"""The chargeback journal on plain values: every entry, hence every currency, balances; the
expense account's net debit is the organisation total; a negative unit swaps sides; the CSV
carries exactly the JSON's lines. On the chargeback tests' world (two currencies, a credit,
nested teams, shared and unallocated costs) and on a month of the demo organisation."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tally.chargeback import GroupBy, UnallocatedRule, build_chargeback
from tally.chargeback.model import Chargeback, ChargebackUnit, Figures
from tally.models import Metric
from tally.payments.journal import (
    CREDIT,
    DEBIT,
    Journal,
    JournalAccounts,
    build_journal,
    journal_csv,
)
from tally.settings import ConfigurationError
from tally.store import Stores
from tests.chargeback.world import MONTH, NOW, TODAY, world
from tests.demo_org import demo_export, demo_stores, ingest_export

ZERO = Decimal(0)
ACCOUNTS = JournalAccounts()


@pytest.fixture(scope="module")
def stores() -> Stores:
    return world()


def report(
    stores: Stores,
    group_by: GroupBy,
    rule: UnallocatedRule,
    *,
    month: str = MONTH,
    today: date = TODAY,
) -> Chargeback:
    return build_chargeback(
        stores, month=month, group_by=group_by, metric=Metric.EFFECTIVE, today=today, rule=rule
    )


def net_expense(journal: Journal, currency: str) -> Decimal:
    """Debits less credits on the expense account: what the units were charged."""
    return sum(
        (
            line.amount if line.side == DEBIT else -line.amount
            for e in journal.entries
            if e.currency == currency
            for line in e.lines
            if line.account == journal.accounts.expense
        ),
        ZERO,
    )


def assert_balanced(journal: Journal, report: Chargeback) -> None:
    assert journal.currencies == report.currencies
    for entry in journal.entries:
        assert entry.total(DEBIT) == entry.total(CREDIT) > 0, entry
        assert {line.side for line in entry.lines} == {DEBIT, CREDIT}
    for currency in report.currencies:
        debits, credits = journal.totals(currency)
        assert debits == credits
        assert net_expense(journal, currency) == report.organisation_total[currency]


@pytest.mark.parametrize("rule", list(UnallocatedRule))
@pytest.mark.parametrize("group_by", list(GroupBy))
def test_every_currency_balances_and_charges_the_organisation_total(
    stores: Stores, group_by: GroupBy, rule: UnallocatedRule
) -> None:
    chargeback = report(stores, group_by, rule)
    journal = build_journal(chargeback, ACCOUNTS)
    assert_balanced(journal, chargeback)
    assert chargeback.currencies == ("EUR", "USD")
    # One entry per unit with a figure in that currency, never two, never mixed.
    keys = [(e.unit_id, e.currency) for e in journal.entries]
    assert len(keys) == len(set(keys))
    ids = [e.entry_id for e in journal.entries]
    assert len(ids) == len(set(ids))
    separate = [e for e in journal.entries if e.unit_kind == "unallocated"]
    assert bool(separate) is (rule is UnallocatedRule.SEPARATE)


def test_an_entry_debits_the_units_cost_center_and_credits_the_central_account(
    stores: Stores,
) -> None:
    accounts = JournalAccounts(expense="6400", cloud="1999")
    journal = build_journal(report(stores, GroupBy.TEAM, UnallocatedRule.SEPARATE), accounts)
    payments = next(e for e in journal.entries if e.unit_id == "payments" and e.currency == "USD")
    debit, credit = payments.lines
    assert (debit.account, debit.side, debit.cost_center) == ("6400", DEBIT, "PAY")
    assert (credit.account, credit.side, credit.cost_center) == ("1999", CREDIT, None)
    assert payments.entry_id == f"CB-{MONTH}-team-payments-USD"
    assert payments.posting_date == date(2026, 10, 31) and payments.period == MONTH


def test_a_negative_unit_swaps_sides_and_keeps_amounts_positive() -> None:
    def unit(unit_id: str, total: str) -> ChargebackUnit:
        return ChargebackUnit(
            unit_id, unit_id, "team", None, None, 1, {"USD": Figures(allocated=Decimal(total))}
        )

    refunded = Chargeback(
        month="2026-10",
        group_by=GroupBy.TEAM,
        rule=UnallocatedRule.SEPARATE,
        metric=Metric.EFFECTIVE,
        currencies=("USD",),
        units=(unit("a", "10.00"), unit("b", "-3.50"), unit("c", "0")),
        no_team=ChargebackUnit("(no team)", "No team", "noTeam", None, None, 0, {}),
        unallocated={"USD": Decimal("0.25")},
        organisation_total={"USD": Decimal("6.75")},
        final=True,
    )
    journal = build_journal(refunded, ACCOUNTS)
    assert [e.unit_id for e in journal.entries] == ["a", "b", "(unallocated)"]
    b = journal.entries[1]
    assert [(line.account, line.side, line.amount) for line in b.lines] == [
        ("6100", CREDIT, Decimal("3.50")),
        ("6190", DEBIT, Decimal("3.50")),
    ]
    assert_balanced(journal, refunded)


def test_the_csv_has_exactly_the_lines_of_the_journal(stores: Stores) -> None:
    journal = build_journal(report(stores, GroupBy.COST_CENTER, UnallocatedRule.SEPARATE), ACCOUNTS)
    rows = parse_csv(journal_csv(journal, now=NOW))
    expected = [
        (
            e.entry_id,
            line.account,
            e.currency,
            line.amount if line.side == DEBIT else None,
            line.amount if line.side == CREDIT else None,
        )
        for e in journal.entries
        for line in e.lines
    ]
    assert [
        (r["entry_id"], r["account"], r["currency"], amount(r["debit"]), amount(r["credit"]))
        for r in rows
    ] == expected
    for currency in journal.currencies:
        mine = [r for r in rows if r["currency"] == currency]
        assert sum(amount(r["debit"]) or ZERO for r in mine) == sum(
            amount(r["credit"]) or ZERO for r in mine
        )


def amount(cell: str) -> Decimal | None:
    return Decimal(cell) if cell else None


def parse_csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text[1:], newline="")))
    blank = lines.index([])
    assert lines[0] == ["# Tally chargeback journal"]
    header = lines[blank + 1]
    return [dict(zip(header, row, strict=True)) for row in lines[blank + 2 :]]


def test_text_cells_never_run_as_formulas() -> None:
    evil = ChargebackUnit(
        "=cmd", '=HYPERLINK("x")', "team", None, "+CC", 1, {"USD": Figures(allocated=Decimal(1))}
    )
    chargeback = Chargeback(
        month="2026-10",
        group_by=GroupBy.TEAM,
        rule=UnallocatedRule.SEPARATE,
        metric=Metric.EFFECTIVE,
        currencies=("USD",),
        units=(evil,),
        no_team=ChargebackUnit("(no team)", "No team", "noTeam", None, None, 0, {}),
        unallocated={},
        organisation_total={"USD": Decimal(1)},
        final=True,
    )
    rows = parse_csv(journal_csv(build_journal(chargeback, ACCOUNTS), now=NOW))
    assert rows[0]["unit_name"] == '\'=HYPERLINK("x")' and rows[0]["cost_center"] == "'+CC"


def test_a_month_of_the_demo_organisation_balances_per_currency() -> None:
    start, end = date(2026, 10, 1), date(2026, 11, 1)
    stores = demo_stores(since=start)
    ingest_export(stores, demo_export(end=end, days=(end - start).days), start, end)
    for rule in UnallocatedRule:
        chargeback = report(
            stores, GroupBy.TEAM, rule, month="2026-10", today=end + timedelta(days=20)
        )
        assert chargeback.organisation_total  # the demo month has costs
        assert_balanced(build_journal(chargeback, ACCOUNTS), chargeback)


@pytest.mark.parametrize(
    "env",
    [
        {"TALLY_JOURNAL_EXPENSE_ACCOUNT": "=1+1"},
        {"TALLY_JOURNAL_CLOUD_ACCOUNT": "x" * 40},
        {"TALLY_JOURNAL_EXPENSE_ACCOUNT": "7000", "TALLY_JOURNAL_CLOUD_ACCOUNT": "7000"},
    ],
)
def test_bad_account_settings_fail_loudly(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="TALLY_JOURNAL_"):
        JournalAccounts.from_env(env)


def test_account_settings_and_their_defaults() -> None:
    assert JournalAccounts.from_env({}) == JournalAccounts("6100", "6190")
    assert JournalAccounts.from_env({"TALLY_JOURNAL_CLOUD_ACCOUNT": " 2190 "}).cloud == "2190"
