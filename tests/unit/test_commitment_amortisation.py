"""Commitment amortisation: a Savings Plan's purchase lands on the users whose usage consumed
it, weighted by what they consumed, to the cent, and the organisation's total is unchanged
(tally.commitments.amortise)."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tally.allocation import OwnerTagRule
from tally.commitments.amortise import amortise, amortised, split
from tally.identity import Role
from tally.ingest import run_source
from tally.models import ORG, UNALLOCATED, CostLine, UserProfile
from tally.sources.focus import FocusSource
from tally.store import Stores, memory_stores
from tests.focus_files import FOCUS_SAMPLE, SAMPLE_TOTALS, needs_focus_sample

MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)
AFTER_MAY = date(2026, 7, 1)
NOW = datetime(2026, 7, 1, tzinfo=UTC)
SP = "arn:aws:savingsplans::123456789012:savingsplan/sp-0001"
ALICE_VM = "arn:aws:ec2:us-east-1:123456789012:instance/i-alice"
BOB_VM = "arn:aws:ec2:us-east-1:123456789012:instance/i-bob"
COLUMNS = (
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "ServiceName",
    "ResourceId",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    "Tags",
)


def _row(day: int, category: str, billed: str, effective: str, **more: str) -> dict[str, str]:
    return {
        "BillingPeriodStart": "2026-05-01T00:00:00Z",
        "BillingPeriodEnd": "2026-06-01T00:00:00Z",
        "ChargePeriodStart": f"2026-05-{day:02d}T00:00:00Z",
        "ChargePeriodEnd": f"2026-05-{day:02d}T01:00:00Z",
        "ChargeCategory": category,
        "BilledCost": billed,
        "EffectiveCost": effective,
        "BillingCurrency": "USD",
        "ServiceName": "AmazonEC2",
        **more,
    }


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _owner(name: str) -> str:
    return json.dumps({"Owner": name})


# A Savings Plan bought on the 1st (100.00 upfront, tagged to its buyer, Frank of finance),
# consumed by Alice's instance (30.00 of usage at the plan's rate) and Bob's (10.00), with
# 10.00 of it unused in May; plus Alice's on-demand usage and an untagged tax line.
SAVINGS_PLAN_MONTH = [
    _row(
        1,
        "Purchase",
        "100.00",
        "0",
        ResourceId=SP,
        CommitmentDiscountId=SP,
        PricingQuantity="1",
        PricingUnit="Units",
        Tags=_owner("frank"),
    ),
    _row(
        2,
        "Usage",
        "0",
        "20.00",
        ResourceId=ALICE_VM,
        CommitmentDiscountId=SP,
        CommitmentDiscountStatus="Used",
        ConsumedQuantity="200",
        ConsumedUnit="Hours",
        Tags=_owner("alice"),
    ),
    _row(
        9,
        "Usage",
        "0",
        "10.00",
        ResourceId=ALICE_VM,
        CommitmentDiscountId=SP,
        CommitmentDiscountStatus="Used",
        ConsumedQuantity="100",
        ConsumedUnit="Hours",
        Tags=_owner("alice"),
    ),
    _row(
        3,
        "Usage",
        "0",
        "10.00",
        ResourceId=BOB_VM,
        CommitmentDiscountId=SP,
        CommitmentDiscountStatus="Used",
        ConsumedQuantity="100",
        ConsumedUnit="Hours",
        Tags=_owner("bob"),
    ),
    _row(
        31,
        "Usage",
        "0",
        "10.00",
        ResourceId=SP,
        CommitmentDiscountId=SP,
        CommitmentDiscountStatus="Unused",
        ConsumedQuantity="100",
        ConsumedUnit="Hours",
        Tags=_owner("frank"),
    ),
    _row(
        4,
        "Usage",
        "7.25",
        "7.25",
        ResourceId=ALICE_VM,
        ConsumedQuantity="10",
        ConsumedUnit="Hours",
        Tags=_owner("alice"),
    ),
    _row(5, "Tax", "3.10", "3.10"),
]


def _stores(*names: str) -> Stores:
    stores = memory_stores()
    for name in names:
        stores.users.put(UserProfile(name, name, None, Role.USER))
    return stores


def _totals(stores: Stores, owners: tuple[str, ...]) -> dict[str, Decimal]:
    return {
        owner: sum((r.billed_cost for r in stores.costs.for_owner(owner, MAY, JUNE)), Decimal(0))
        for owner in owners
    }


def _sum_by_currency(lines: list[CostLine]) -> dict[str, tuple[Decimal, Decimal]]:
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in lines:
        sums[line.currency][0] += line.billed_cost
        sums[line.currency][1] += line.effective_cost
    return {c: (b, e) for c, (b, e) in sums.items()}


def test_a_savings_plan_purchase_lands_on_its_consumers_by_what_they_consumed() -> None:
    # Given the month of a Savings Plan consumed by Alice (30.00) and Bob (10.00), 10.00 unused
    stores = _stores("alice", "bob", "frank")
    source = FocusSource.from_bytes(_csv(SAVINGS_PLAN_MONTH), today=AFTER_MAY)

    # When it is ingested
    result, _ = run_source(source, MAY, JUNE, stores=stores, rule=OwnerTagRule(), now=NOW)

    # Then the 100.00 purchase is 60.00 Alice's, 20.00 Bob's, and the unused fifth stays with
    # the plan's holder (its owner tag: Frank); the day of the purchase keeps it all
    totals = _totals(stores, ("alice", "bob", "frank", UNALLOCATED))
    assert totals == {
        "alice": Decimal("67.25"),
        "bob": Decimal("20.00"),
        "frank": Decimal("20.00"),
        UNALLOCATED: Decimal("3.10"),
    }
    purchases = {
        r.owner: (r.day, r.billed_cost, r.resource_id, r.charge_category)
        for owner in ("alice", "bob", "frank")
        for r in stores.costs.for_owner(owner, MAY, JUNE)
        if r.charge_category == "Purchase"
    }
    assert purchases == {
        "alice": (MAY, Decimal("60.00"), ALICE_VM, "Purchase"),
        "bob": (MAY, Decimal("20.00"), BOB_VM, "Purchase"),
        "frank": (MAY, Decimal("20.00"), SP, "Purchase"),
    }
    # And the organisation's total is what the file says, to the cent
    assert result.totals == {"USD": Decimal("110.35")}
    assert sum(totals.values()) == Decimal("110.35")
    org = sum(r.billed_cost for r in stores.costs.for_owner(ORG, MAY, JUNE))
    assert org == Decimal("110.35")


def test_without_an_unused_part_the_whole_purchase_goes_to_the_consumers() -> None:
    rows = [r for r in SAVINGS_PLAN_MONTH if r.get("CommitmentDiscountStatus") != "Unused"]
    stores = _stores("alice", "bob", "frank")
    source = FocusSource.from_bytes(_csv(rows), today=AFTER_MAY)
    run_source(source, MAY, JUNE, stores=stores, rule=OwnerTagRule(), now=NOW)
    assert _totals(stores, ("alice", "bob", "frank")) == {
        "alice": Decimal("82.25"),  # 75.00 of the purchase + 7.25 on demand
        "bob": Decimal("25.00"),
        "frank": Decimal("0"),
    }


def test_a_purchase_nobody_consumed_stays_where_it_was_bought() -> None:
    rows = [SAVINGS_PLAN_MONTH[0], SAVINGS_PLAN_MONTH[-1]]
    lines = list(FocusSource.from_bytes(_csv(rows), today=AFTER_MAY).fetch(MAY, JUNE))
    assert sorted(amortise(lines), key=repr) == sorted(lines, key=repr)


def test_consumption_of_another_month_does_not_weigh() -> None:
    fee = CostLine(
        MAY,
        "AmazonEC2",
        SP,
        Decimal("90"),
        Decimal(0),
        "USD",
        charge_category="Purchase",
        commitment_id=SP,
    )
    june_use = CostLine(
        JUNE,
        "AmazonEC2",
        BOB_VM,
        Decimal(0),
        Decimal("5"),
        "USD",
        commitment_id=SP,
        commitment_status="Used",
    )
    may_use = CostLine(
        date(2026, 5, 20),
        "AmazonEC2",
        ALICE_VM,
        Decimal(0),
        Decimal("1"),
        "USD",
        commitment_id=SP,
        commitment_status="Used",
    )
    out = list(amortise([fee, june_use, may_use]))
    shares = [line for line in out if line.charge_category == "Purchase"]
    assert [(s.day, s.resource_id, s.billed_cost) for s in shares] == [
        (MAY, ALICE_VM, Decimal("90"))
    ]


def test_the_remainder_goes_to_the_largest_consumer_then_the_first() -> None:
    a, b, c = ("S", "a", ()), ("S", "b", ()), ("S", "c", ())
    # Equal weights: the first in key order takes the remainder.
    assert split(Decimal("100.00"), {c: Decimal(1), a: Decimal(1), b: Decimal(1)}) == {
        a: Decimal("33.3333333334"),
        b: Decimal("33.3333333333"),
        c: Decimal("33.3333333333"),
    }
    # The largest weight takes it, whatever the order.
    shares = split(Decimal("0.01"), {a: Decimal(1), b: Decimal(2), c: Decimal(1)})
    assert shares == {a: Decimal("0.0025000000"), b: Decimal("0.0050000000"), c: Decimal("0.0025")}
    assert sum(shares.values()) == Decimal("0.01")


@given(
    st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=6),
    st.lists(
        st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("10000"), places=6),
        min_size=1,
        max_size=12,
    ),
)
def test_shares_always_add_up_to_the_fee_exactly(amount: Decimal, weights: list[Decimal]) -> None:
    keyed = {("S", f"r{n:02d}", ()): w for n, w in enumerate(weights)}
    assert sum(split(amount, dict(keyed)).values()) == amount


def test_the_amortised_read_covers_the_same_days() -> None:
    source = FocusSource.from_bytes(_csv(SAVINGS_PLAN_MONTH), today=date(2026, 5, 20))
    plain, wrapped = source.fetch(MAY, JUNE), amortised(source.fetch(MAY, JUNE))
    plain_lines, wrapped_lines = list(plain), list(wrapped)
    assert wrapped.covered_days == plain.covered_days and len(plain.covered_days) == 31
    assert wrapped.estimated_days == plain.estimated_days
    assert _sum_by_currency(wrapped_lines) == _sum_by_currency(plain_lines)


def test_ingesting_twice_replaces_the_shares() -> None:
    stores = _stores("alice", "bob", "frank")
    source = FocusSource.from_bytes(_csv(SAVINGS_PLAN_MONTH), today=AFTER_MAY)
    run_source(source, MAY, JUNE, stores=stores, rule=OwnerTagRule(), now=NOW)
    first = {o: stores.costs.for_owner(o, MAY, JUNE) for o in ("alice", "bob", "frank", ORG)}
    run_source(source, MAY, JUNE, stores=stores, rule=OwnerTagRule(), now=NOW)
    again = {o: stores.costs.for_owner(o, MAY, JUNE) for o in ("alice", "bob", "frank", ORG)}
    assert again == first


@needs_focus_sample
def test_the_samples_savings_plans_are_amortised_and_the_total_is_unchanged() -> None:
    # Given the shared FOCUS sample: every Savings Plan and reservation bought on one line
    # tagged to the buyer, its usage on lines of several teams
    source = FocusSource.from_path(FOCUS_SAMPLE, today=AFTER_MAY)
    read = list(source.fetch(MAY, JUNE))
    fees = [line for line in read if line.charge_category == "Purchase" and line.commitment_id]
    savings_plans = {f.commitment_id for f in fees if ":savingsplan/" in str(f.commitment_id)}
    assert len(savings_plans) >= 1

    # When the read is amortised
    out = list(amortise(read))

    # Then the organisation's total is unchanged, exactly, per currency (and is the sample's)
    assert _sum_by_currency(out) == _sum_by_currency(read)
    assert _sum_by_currency(out)["USD"] == (SAMPLE_TOTALS["billed"], SAMPLE_TOTALS["effective"])
    # And each fee is now on the resources that consumed its commitment, in proportion
    for fee in fees:
        used = defaultdict(Decimal)
        for line in read:
            if line.commitment_id == fee.commitment_id and line.commitment_status == "Used":
                used[line.resource_id] += line.effective_cost
        shares = defaultdict(Decimal)
        for line in out:
            if line.charge_category == "Purchase" and line.commitment_id == fee.commitment_id:
                shares[line.resource_id] += line.billed_cost
        assert set(shares) == set(used)
        assert sum(shares.values()) == fee.billed_cost
        whole = sum(used.values())
        for resource, share in shares.items():
            assert abs(share - fee.billed_cost * used[resource] / whole) < Decimal("0.000001")


@needs_focus_sample
def test_the_samples_purchases_move_from_the_buyers_to_the_consumers_after_ingest() -> None:
    stores = memory_stores()
    rule = OwnerTagRule()  # the team tags stay unmapped: per-tag totals through unallocated
    teams = ("team-data", "team-platform", "team-payments")
    for team in teams:
        stores.users.put(UserProfile(team, team, None, Role.USER))
    source = FocusSource.from_path(FOCUS_SAMPLE, today=AFTER_MAY)
    result, _ = run_source(source, MAY, JUNE, stores=stores, rule=rule, now=NOW)

    owners = (*teams, UNALLOCATED)
    totals = _totals(stores, owners)
    assert sum(totals.values()) == SAMPLE_TOTALS["billed"] == result.totals["USD"]
    # The purchases as the file books them (on the buyer's tag) and as the teams now carry
    # them: the same total, on other shoulders.
    rows = list(csv.DictReader(FOCUS_SAMPLE.open(encoding="utf-8")))
    bought: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row["ChargeCategory"] == "Purchase":
            bought[json.loads(row["Tags"] or "{}").get("Owner", UNALLOCATED)] += Decimal(
                row["BilledCost"]
            )
    carried = {
        owner: sum(
            (
                r.billed_cost
                for r in stores.costs.for_owner(owner, MAY, JUNE)
                if r.charge_category == "Purchase"
            ),
            Decimal(0),
        )
        for owner in owners
    }
    assert sum(carried.values()) == sum(bought.values())
    assert carried != {owner: bought.get(owner, Decimal(0)) for owner in owners}
