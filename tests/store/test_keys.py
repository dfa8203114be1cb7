"""Key formats are stored data: each is pinned to the literal string items were written with
before ``tally.store.keys`` existed, so existing DynamoDB items still read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tally.store import keys

AT = datetime(2026, 11, 20, 12, 0, 5, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("built", "literal"),
    [
        (keys.user("u-alice"), "USER#u-alice"),
        (keys.PROFILE, "PROFILE"),
        (keys.DIRECTORY, "ALL"),
        (keys.sort_name("Alice", "u-1"), "alice#u-1"),
        (keys.assignment("a1"), "ASSIGNMENT#a1"),
        (keys.ASSIGNMENT, "ASSIGNMENT"),
        (keys.resource("ec2:i-0abc"), "RES#ec2:i-0abc"),
        (keys.SHARES, "#SHARES"),
        (keys.budget("b1"), "BUDGET#b1"),
        (keys.owner("u-alice"), "OWNER#u-alice"),
        (keys.resource_name("ec2:i-0abc"), "NAME#ec2:i-0abc"),
        (keys.NAME, "NAME"),
        (keys.cost_line(date(2026, 11, 3), "l1"), "2026-11-03#l1"),
        (keys.month("2026-11"), "MONTH#2026-11"),
        (keys.claim("c1"), "CLAIM#c1"),
        (keys.CLAIM, "CLAIM"),
        (keys.approver("u-bob"), "APPROVER#u-bob"),
        (keys.PENDING, "PENDING"),
        (keys.timed(AT, "a1"), "2026-11-20T12:00:05.123456+00:00#a1"),
        (keys.notification("2026-11#threshold"), "NOTE#2026-11#threshold"),
        (keys.alert("2026-11", "threshold"), "ALERT#2026-11#threshold"),
        (keys.alert_period("2026-11"), "ALERT#2026-11#"),
        (keys.DEFERRED, "DEFERRED"),
        (keys.run("evt-1"), "RUN#evt-1"),
        (keys.RUN_SLOTS, "SLOTS"),
        (keys.TAX_PARTITION, "TAX#ORG"),
        (keys.tax_rule("vat-de"), "RULE#vat-de"),
        (keys.TAX_RULES, "RULES"),
        (keys.TAX_SETTINGS, "SETTINGS"),
        (keys.anomaly_prefix(), "ANOMALY#"),
        (keys.invoice("user:u-alice", "2026-11"), "INVOICE#user:u-alice#2026-11"),
        (keys.revision(2), "REV#0002"),
        (keys.template("org"), "TEMPLATE#org"),
        (keys.template_version(3), "V#0003"),
        (keys.invoice_sequence("ACME-", 2026), "INVOICESEQ#ACME-#2026"),
        (keys.sequence(12), "SEQ#000012"),
        (keys.job("e-1"), "JOB#e-1"),
        (keys.JOB, "JOB"),
        (keys.team("payments"), "TEAM#payments"),
        (keys.role("viewer"), "ROLE#viewer"),
        (keys.rate_limit("reports"), "LIMIT#reports"),
        (keys.ACCESS, "ACCESS"),
        (keys.TEAM, "TEAM"),
        (keys.ROLE, "ROLE"),
        (keys.ORG, "ORG"),
        (keys.SNAPSHOT, "SNAPSHOT"),
        (keys.TEAMS_LISTED, "TEAM"),
        (
            keys.deferred_order(AT, "u-alice", "2026-11", "threshold"),
            "2026-11-20T12:00:05.123456Z#u-alice#2026-11#threshold",
        ),
    ],
)
def test_each_key_is_the_string_it_always_was(built: str, literal: str) -> None:
    assert built == literal


def test_a_guard_sorts_under_the_user_prefix() -> None:
    assert keys.user("u-alice").startswith(keys.user.prefix)


PREFIXED = [keys.user, keys.assignment, keys.resource, keys.budget, keys.owner, keys.month]
PREFIXED += [keys.claim, keys.approver, keys.notification]


@pytest.mark.parametrize("key", PREFIXED, ids=lambda k: k.prefix)
@pytest.mark.parametrize("entity_id", ["u-alice", "ORG", "ec2:i-0abc", "2026-11", "with#hash"])
def test_the_id_is_read_back_from_its_key(key: keys.Prefixed, entity_id: str) -> None:
    assert key.id_of(key(entity_id)) == entity_id


@pytest.mark.parametrize(
    "at",
    [
        AT,
        datetime(2026, 11, 20, tzinfo=UTC),  # no microseconds: isoformat leaves them out
        datetime(2028, 2, 29, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
@pytest.mark.parametrize("unique", ["a1", "c#with#hash", "0" * 32])
def test_the_time_is_read_back_from_a_timed_key(at: datetime, unique: str) -> None:
    assert keys.time_of(keys.timed(at, unique)) == at


def test_the_cost_day_bounds_take_every_line_of_the_first_and_last_day_only() -> None:
    first, last = keys.cost_days(date(2026, 2, 28), date(2026, 3, 1))
    inside = [keys.cost_line(date(2026, 2, 28), "0"), keys.cost_line(date(2026, 3, 1), "zz-9")]
    outside = [keys.cost_line(date(2026, 2, 27), "z"), keys.cost_line(date(2026, 3, 2), "0")]
    assert all(first <= k <= last for k in inside)
    assert not any(first <= k <= last for k in outside)
    assert (first, last) == ("2026-02-28", "2026-03-01#~")


def test_a_period_prefix_takes_only_its_own_period() -> None:
    prefix = keys.alert_period("2026-1")
    assert keys.alert("2026-1", "exceeded").startswith(prefix)
    assert not keys.alert("2026-11", "exceeded").startswith(prefix)


def test_timed_keys_sort_by_time() -> None:
    earlier = keys.timed(AT, "zzz")
    later = keys.timed(AT + timedelta(seconds=1), "aaa")
    assert earlier < later


@pytest.mark.parametrize(
    ("period", "level"),
    [
        ("2026-11", "threshold"),
        ("2026-W48", "digest"),
        ("2026-10", "restated#USD#2026-11-03T00:00:00Z"),
    ],
)
def test_an_alert_key_reads_back(period: str, level: str) -> None:
    assert keys.alert_of(keys.alert(period, level)) == (period, level)


def test_deferred_order_sorts_by_time_whatever_the_zone_or_fraction() -> None:
    earlier = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
    later = datetime(2026, 11, 20, 13, 0, 0, 1, tzinfo=timezone(timedelta(hours=1)))
    assert keys.deferred_order(earlier, "u-b", "p", "l") < keys.deferred_order(
        later + timedelta(hours=1), "u-a", "p", "l"
    )
    assert keys.deferred_order(later, "u-a", "p", "l") > keys.deferred_order(
        earlier, "u-b", "p", "l"
    )
