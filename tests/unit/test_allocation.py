"""Allocation: assignments (by share) -> owner tag -> unallocated, and nothing lost."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.allocation import OwnerTagRule, allocate
from tally.models import UNALLOCATED, Assignment, CostLine
from tests.conftest import ALICE, BOB, NOW, profile

DAY = date(2026, 11, 3)
RULE = OwnerTagRule()
TAGS = RULE.resolver([profile(ALICE), profile(BOB)])


def line(
    rid: str | None,
    billed: str,
    *,
    owner: str | None = None,
    service: str = "AmazonEC2",
    day: date = DAY,
) -> CostLine:
    return CostLine(
        day=day,
        service=service,
        resource_id=rid,
        billed_cost=Decimal(billed),
        effective_cost=Decimal(billed) / 2,
        currency="USD",
        usage_quantity=Decimal(24),
        usage_unit="Hrs",
        tags={"Owner": owner} if owner else {},
    )


def assign(
    user: str,
    rid: str,
    share: str,
    n: int = 0,
    *,
    start: date = date(2026, 1, 1),
    end: date | None = None,
) -> Assignment:
    return Assignment(
        f"a-{user}-{rid}-{n}", user, "ec2", rid, Decimal(share), None, "u-admin", NOW, start, end
    )


def run(lines: list[CostLine], assignments: list[Assignment]) -> dict[str, Decimal]:
    records = allocate(
        lines,
        assignments=assignments,
        tag_owners=TAGS,
        owner_tag_key="Owner",
        source="t",
        fetched_at=NOW,
    )
    out: dict[str, Decimal] = defaultdict(Decimal)
    for r in records:
        out[r.owner] += r.billed_cost
    return dict(out)


def test_assignment_beats_tag_and_splits_by_share() -> None:
    got = run([line("i-1", "10.00", owner="bob")], [assign("u-alice", "i-1", "70")])
    assert got == {"u-alice": Decimal("7.00"), "u-bob": Decimal("3.00")}


def test_tag_maps_username_email_or_id_case_insensitively() -> None:
    got = run(
        [
            line("i-1", "1", owner="ALICE"),
            line("i-2", "2", owner="bob@example.com"),
            line("i-3", "4", owner="u-bob"),
        ],
        [],
    )
    assert got == {"u-alice": Decimal(1), "u-bob": Decimal(6)}


def test_unknown_tag_and_untagged_are_unallocated() -> None:
    got = run([line("i-1", "1", owner="team-data"), line(None, "2")], [])
    assert got == {UNALLOCATED: Decimal(3)}


def test_arn_cost_line_meets_instance_id_assignment() -> None:
    arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-1"
    assert run([line(arn, "5")], [assign("u-alice", "i-1", "100")]) == {"u-alice": Decimal(5)}


def test_hourly_lines_of_a_day_merge_into_one_record() -> None:
    records = allocate(
        [line("i-1", "1"), line("i-1", "2")],
        assignments=[],
        tag_owners=TAGS,
        owner_tag_key="Owner",
        source="t",
        fetched_at=NOW,
    )
    assert len(records) == 1 and records[0].billed_cost == Decimal(3)


def test_credits_stay_apart_from_usage() -> None:
    credit = CostLine(
        day=DAY,
        service="AmazonEC2",
        resource_id="i-1",
        billed_cost=Decimal("-1"),
        effective_cost=Decimal("-1"),
        currency="USD",
        charge_category="Credit",
    )
    records = allocate(
        [line("i-1", "5"), credit],
        assignments=[assign("u-alice", "i-1", "100")],
        tag_owners=TAGS,
        owner_tag_key="Owner",
        source="t",
        fetched_at=NOW,
    )
    assert sorted((r.charge_category, r.billed_cost) for r in records) == [
        ("Credit", Decimal(-1)),
        ("Usage", Decimal(5)),
    ]


def test_each_day_follows_the_assignments_in_force_that_day() -> None:
    change = date(2026, 11, 10)
    history = [
        assign("u-alice", "i-1", "100", start=date(2026, 11, 1), end=change),
        assign("u-bob", "i-1", "100", start=change),
    ]
    lines = [line("i-1", "3.00", day=date(2026, 11, d)) for d in (1, 9, 10, 11)]
    lines.append(line("i-1", "5.00", day=date(2026, 10, 31)))  # before either: the tag rule
    records = allocate(
        lines,
        assignments=history,
        tag_owners=TAGS,
        owner_tag_key="Owner",
        source="t",
        fetched_at=NOW,
    )
    by_day = {(r.day.day, r.owner) for r in records}
    assert by_day == {
        (31, UNALLOCATED),
        (1, "u-alice"),
        (9, "u-alice"),
        (10, "u-bob"),
        (11, "u-bob"),
    }


def test_an_assignment_ended_before_it_began_allocates_nothing() -> None:
    never = assign("u-alice", "i-1", "100", start=DAY, end=DAY)
    assert run([line("i-1", "4")], [never]) == {UNALLOCATED: Decimal(4)}


money = st.decimals(min_value=Decimal("-50"), max_value=Decimal("5000"), places=6)
shares = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("60"), places=2),
        st.integers(min_value=0, max_value=6),  # first day in force, from DAY
        st.one_of(st.none(), st.integers(min_value=0, max_value=6)),  # days in force, or open
    ),
    max_size=4,
)
WEEK = [DAY + timedelta(days=n) for n in range(7)]


@settings(max_examples=150, deadline=None)
@given(
    amounts=st.lists(
        st.tuples(
            st.sampled_from(["i-1", "i-2", "i-3", None]),
            money,
            st.sampled_from([None, "alice", "bob", "nobody"]),
            st.sampled_from(WEEK),
        ),
        min_size=1,
        max_size=25,
    ),
    split=shares,
)
def test_allocated_plus_unallocated_equals_ingested_exactly(amounts: list, split: list) -> None:
    # Shares over 100 on any day are refused at assignment time; keep the generated ones legal.
    legal: list[Assignment] = []
    for n, (s, first, length) in enumerate(split):
        candidate = assign(
            ["u-alice", "u-bob", "u-carol", "u-dave"][n],
            "i-1",
            str(s),
            n,
            start=WEEK[first],
            end=None if length is None else WEEK[first] + timedelta(days=length),
        )
        if all(
            sum((a.share_pct for a in [*legal, candidate] if a.in_force(d)), Decimal(0)) <= 100
            for d in WEEK
        ):
            legal.append(candidate)
    lines = [line(rid, str(a), owner=o, day=d) for rid, a, o, d in amounts]
    records = allocate(
        lines, assignments=legal, tag_owners=TAGS, owner_tag_key="Owner", source="t", fetched_at=NOW
    )
    for day in WEEK:
        mine = [r for r in records if r.day == day]
        theirs = [x for x in lines if x.day == day]
        assert sum(r.billed_cost for r in mine) == sum(x.billed_cost for x in theirs)
        assert sum(r.effective_cost for r in mine) == sum(x.effective_cost for x in theirs)
        # Nobody is allocated a day their assignment was not in force.
        in_force = {
            a.user_id
            for a in legal
            if a.effective_from <= day and (a.effective_to is None or day < a.effective_to)
        }
        assert {r.owner for r in mine if r.allocation == "assignment"} <= in_force
    assert len({(r.owner, r.line_id) for r in records}) == len(records)  # ids never collide


def test_explicit_tag_mapping_by_name_email_or_id() -> None:
    rule = OwnerTagRule(
        explicit={
            "team-data": "alice",
            "team-web": "bob@example.com",
            "team-x": "u-bob",
            "team-gone": "nobody",
        }
    )
    tags = rule.resolver([profile(ALICE), profile(BOB)])
    records = allocate(
        [
            line("i-1", "1", owner="team-data"),
            line("i-2", "2", owner="team-web"),
            line("i-3", "4", owner="team-x"),
            line("i-4", "8", owner="team-gone"),
        ],
        assignments=[],
        tag_owners=tags,
        owner_tag_key="Owner",
        source="t",
        fetched_at=NOW,
    )
    got: dict[str, Decimal] = defaultdict(Decimal)
    for r in records:
        got[r.owner] += r.billed_cost
    assert dict(got) == {"u-alice": Decimal(1), "u-bob": Decimal(6), UNALLOCATED: Decimal(8)}
