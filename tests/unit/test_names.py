"""Resource names (tally.names): where a name comes from, what an id gives when nothing
better is known, and what a unit of usage cost. Hand-written examples, each a rule."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from tally.allocation import allocate
from tally.ingest.codec import line_of, line_row, record_of, record_row
from tally.models import CostLine
from tally.names import best_name, cost_per_unit, derived_name, display_name
from tally.rollups import compute_rollup
from tally.store.codec import section_from_doc, section_to_doc

NOW = datetime(2026, 11, 20, 8, 0)


@pytest.mark.parametrize(
    ("resource_id", "name"),
    [
        ("arn:aws:s3:::tally-reports", "tally-reports"),
        ("tally-reports", "tally-reports"),
        ("arn:aws:lambda:eu-west-1:111122223333:function:checkout", "checkout"),
        ("arn:aws:lambda:eu-west-1:111122223333:function:checkout:prod", "checkout"),
        ("arn:aws:lambda:eu-west-1:111122223333:function:checkout:$LATEST", "checkout"),
        ("arn:aws:rds:eu-west-1:111122223333:db:orders-db", "orders-db"),
        ("arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc1234", "i-0abc1234"),
        ("i-0abc1234", "i-0abc1234"),
        ("arn:aws:dynamodb:eu-west-1:111122223333:table/sessions", "sessions"),
        ("  i-0abc1234 ", "i-0abc1234"),
    ],
)
def test_an_id_gives_the_name_people_use(resource_id: str, name: str) -> None:
    assert derived_name(resource_id) == name


def test_no_id_no_name() -> None:
    assert derived_name(None) is None
    assert derived_name("  ") is None
    assert best_name(None, resource_name="web", tags={"Name": "x"}) is None


def test_resource_name_comes_before_the_name_tag_which_comes_before_the_id() -> None:
    rid = "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc1234"
    assert best_name(rid, resource_name="web-1", tags={"Name": "web-tag"}) == "web-1"
    assert best_name(rid, resource_name=" ", tags={"Name": "web-tag"}) == "web-tag"
    assert best_name(rid, tags={"user:Name": "web-user-tag"}) == "web-user-tag"
    assert best_name(rid, tags={"Owner": "alice"}) is None
    assert display_name(rid, None) == "i-0abc1234"
    assert display_name(rid, "web-1") == "web-1"


def _line(**kw: object) -> CostLine:
    fields: dict[str, object] = {
        "day": date(2026, 11, 3),
        "service": "AmazonEC2",
        "resource_id": "i-0abc1234",
        "billed_cost": Decimal("10.00"),
        "effective_cost": Decimal("10.00"),
        "currency": "USD",
        "usage_quantity": Decimal("24"),
        "usage_unit": "Hrs",
    }
    return CostLine(**{**fields, **kw})  # type: ignore[arg-type]


def test_a_lines_name_reaches_every_record_and_the_rollups_top_resources() -> None:
    line = _line(tags={"Name": "web-1", "Owner": "alice"})
    records = allocate(
        [line],
        assignments=[],
        tag_owners={"alice": "u-alice"},
        owner_tag_key="Owner",
        source="focus",
        fetched_at=NOW,
    )
    assert [(r.owner, r.resource_name) for r in records] == [("u-alice", "web-1")]
    rollup = compute_rollup("u-alice", "2026-11", records, now=NOW)
    top = rollup.sections["USD"].top_resources
    assert [(t.resource_id, t.name) for t in top] == [("i-0abc1234", "web-1")]
    # The roll-up's document keeps the name, and reads an item stored before it existed.
    doc = section_to_doc(rollup.sections["USD"])
    assert section_from_doc(doc).top_resources[0].name == "web-1"
    del doc["top_resources"][0]["name"]
    assert section_from_doc(doc).top_resources[0].name is None


def test_names_cross_the_fan_out_codec_and_old_rows_still_read() -> None:
    line = _line(resource_name="web-1")
    assert line_of(line_row(line)).resource_name == "web-1"
    assert line_of(line_row(line)[:13]).resource_name is None
    (record,) = allocate(
        [line], assignments=[], tag_owners={}, owner_tag_key="Owner", source="t", fetched_at=NOW
    )
    assert record_of(record_row(record)) == record
    assert record_of(record_row(record)[:16]).resource_name is None


@pytest.mark.parametrize(
    ("cost", "quantity", "unit", "category", "expected"),
    [
        ("0.9984", "24", "Hrs", "Usage", "0.0416 USD per Hrs"),
        ("2.30", "100", "GB-Mo", "Usage", "0.023 USD per GB-Mo"),
        ("1.00", "3", "Requests", "Usage", "0.333333 USD per Requests"),
        ("0.20", "12000", "Lambda-GB-Second", "Usage", "0.0000166667 USD per Lambda-GB-Second"),
        ("1234567.89", "1", "Hrs", "Usage", "1234568 USD per Hrs"),
        ("300", "3", "Hrs", "Usage", "100 USD per Hrs"),
    ],
)
def test_cost_per_unit_of_usage(
    cost: str, quantity: str, unit: str, category: str, expected: str
) -> None:
    price = cost_per_unit(Decimal(cost), Decimal(quantity), unit, "USD", category)
    assert price is not None and str(price) == expected


@pytest.mark.parametrize(
    ("quantity", "unit", "category"),
    [
        ("24", "Hrs", "Tax"),
        ("24", "Hrs", "Credit"),
        ("1", "Hrs", "Purchase"),
        ("0", "Hrs", "Usage"),
        ("-1", "Hrs", "Usage"),
        ("24", None, "Usage"),
        ("24", " ", "Usage"),
    ],
)
def test_no_cost_per_unit_where_it_would_mean_nothing(
    quantity: str, unit: str | None, category: str
) -> None:
    assert cost_per_unit(Decimal("5"), Decimal(quantity), unit, "USD", category) is None


def test_a_renamed_resource_keeps_its_line_and_the_latest_name() -> None:
    lines = [_line(resource_name="web-old"), _line(resource_name="web-new", billed_cost=Decimal(1))]
    records = allocate(
        lines, assignments=[], tag_owners={}, owner_tag_key="Owner", source="t", fetched_at=NOW
    )
    assert len(records) == 1 and records[0].resource_name == "web-old"
