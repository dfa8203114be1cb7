"""tally.estate.ownership, pure: who owns a function (assignments in force by share, else the
owner tag), the cached records and their reading back, and an assignment's change followed
on one record (in-memory stores)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tally.estate.models import EstateRecord
from tally.estate.ownership import (
    NOBODY,
    Owners,
    follow_assignment,
    function_key,
    owners_records,
    owners_scope,
    read_iam_links,
    read_owners,
    resource_owners,
)
from tally.models import Assignment, AuditEntry
from tally.store import Stores, memory_stores

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders"


def assignment(
    user: str, share: str = "100", start: date = TODAY, end: date | None = None, n: int = 1
) -> Assignment:
    return Assignment(
        f"a{n}", user, "lambda", ARN, Decimal(share), None, "u-admin", NOW, start, end
    )


def owners(*held: Assignment, tags: dict[str, str] | None = None) -> Owners:
    return resource_owners(
        "AWSLambda",
        ARN,
        tags or {},
        today=TODAY,
        assignments=held,
        tag_owners={"alice": "u-alice"},
        owner_tag_key="Owner",
    )


def test_the_owner_tag_when_nothing_is_assigned() -> None:
    assert owners(tags={"Owner": "alice"}).shares == {"u-alice": Decimal(100)}
    assert owners(tags={"Owner": "Alice "}).shares == {"u-alice": Decimal(100)}  # as costs do
    assert owners(tags={"Owner": "nobody-known"}).unowned
    assert owners().unowned and NOBODY.unowned


def test_assignments_in_force_win_over_the_tag_and_split_by_share() -> None:
    split = owners(
        assignment("u-bob", "60"), assignment("u-carol", "40", n=2), tags={"Owner": "alice"}
    )
    assert split.shares == {"u-bob": Decimal(60), "u-carol": Decimal(40)}
    assert split.share_of("u-bob") == 60 and split.share_of("u-alice") == 0


def test_only_assignments_in_force_today_count() -> None:
    ended = assignment("u-bob", end=TODAY)  # ended today: no longer its owner
    later = assignment("u-carol", start=TODAY + timedelta(days=1), n=2)
    assert owners(ended, later, tags={"Owner": "alice"}).shares == {"u-alice": Decimal(100)}


def test_records_round_trip() -> None:
    records = owners_records(
        functions=[(ARN, {"Owner": "alice"}), (ARN.replace("orders", "idle"), {})],
        iam_users=[("ci", {"Owner": "alice"}), ("root-ish", {})],
        today=TODAY,
        now=NOW,
        assignments=[],
        tag_owners={"alice": "u-alice"},
        owner_tag_key="Owner",
    )
    assert records[0].document == {
        "arn": ARN,
        "owners": {"u-alice": "100"},
        "tagOwner": "u-alice",
    }
    back = read_owners(records)
    assert back[function_key(ARN)].shares == {"u-alice": Decimal(100)}
    assert back["lambda:idle"].unowned
    assert read_iam_links(records) == {"ci": "u-alice", "root-ish": None}


def seeded(tag_owner: str | None = "u-alice") -> tuple[Stores, EstateRecord]:
    stores = memory_stores()
    (record,) = [
        r
        for r in owners_records(
            functions=[(ARN, {"Owner": "alice"} if tag_owner else {})],
            iam_users=[],
            today=TODAY,
            now=NOW - timedelta(hours=1),
            assignments=[],
            tag_owners={"alice": "u-alice"},
            owner_tag_key="Owner",
        )
    ]
    stores.estate.put(owners_scope(ACCOUNT), record)
    return stores, record


def _audit(a: Assignment) -> AuditEntry:
    return AuditEntry(a.user_id, NOW, "u-admin", "assignment.created", a.assignment_id, {})


def current(stores: Stores) -> dict[str, str]:
    record = stores.estate.get(owners_scope(ACCOUNT), f"owner#{function_key(ARN)}")
    assert isinstance(record, EstateRecord)
    return dict(record.document["owners"])


def test_follow_an_assignment_and_its_end() -> None:
    stores, _ = seeded()
    made = assignment("u-bob")
    stores.assignments.create(made, _audit(made))
    assert follow_assignment(
        stores.estate,
        stores.assignments,
        "lambda",
        ARN,
        today=TODAY,
        now=NOW,
    )
    assert current(stores) == {"u-bob": "100"}
    stores.assignments.end(made, TODAY, _audit(made))
    follow_assignment(stores.estate, stores.assignments, "lambda", ARN, today=TODAY, now=NOW)
    assert current(stores) == {"u-alice": "100"}  # the recorded tag owner again


def test_follow_without_a_tag_owner_leaves_it_unowned() -> None:
    stores, _ = seeded(tag_owner=None)
    follow_assignment(stores.estate, stores.assignments, "lambda", ARN, today=TODAY, now=NOW)
    assert current(stores) == {}


def test_follow_ignores_what_the_views_do_not_cache() -> None:
    stores, _ = seeded()
    estate, held = stores.estate, stores.assignments
    other = ARN.replace("orders", "not-inventoried")
    assert not follow_assignment(estate, held, "lambda", other, today=TODAY, now=NOW)
    assert not follow_assignment(estate, held, "lambda", "orders", today=TODAY, now=NOW)  # no ARN
    assert not follow_assignment(estate, held, "ec2", "i-0abc", today=TODAY, now=NOW)
    assert estate.get(owners_scope(ACCOUNT), "owner#lambda:not-inventoried") is None
