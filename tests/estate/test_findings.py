"""The CIS-style findings as pure functions, at their calendar edges (no clock but the one
passed in)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tally.estate.findings import (
    metric_findings,
    runtime_findings,
    security_group_findings,
    user_findings,
)
from tally.estate.models import (
    AccessKey,
    FunctionMetrics,
    IamUser,
    LambdaFunction,
    SecurityGroup,
    SecurityRule,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def user(**overrides: object) -> IamUser:
    values: dict[str, object] = {
        "name": "alice",
        "arn": "arn:aws:iam::123456789012:user/alice",
        "path": "/",
        "created": NOW - timedelta(days=400),
        "password_last_used": NOW - timedelta(days=1),
        "console_access": True,
        "mfa_devices": ("arn:aws:iam::123456789012:mfa/alice",),
        "access_keys": (),
        "groups": (),
        "attached_policies": (),
        "inline_policies": (),
    }
    values.update(overrides)
    return IamUser(**values)  # type: ignore[arg-type]


def key(created: datetime, last_used: datetime | None, status: str = "Active") -> AccessKey:
    return AccessKey("AKIAEXAMPLE", status, created, last_used)


def codes(findings: list) -> list[str]:  # type: ignore[type-arg]
    return [f.code for f in findings]


def test_a_healthy_user_has_no_finding() -> None:
    assert user_findings(user(), NOW) == []


def test_console_user_without_mfa() -> None:
    assert codes(user_findings(user(mfa_devices=()), NOW)) == ["iam.console-without-mfa"]
    # No console access: MFA is not asked for.
    assert user_findings(user(mfa_devices=(), console_access=False), NOW) == []


@pytest.mark.parametrize(
    ("days", "found"),
    [(timedelta(days=45) - timedelta(seconds=1), False), (timedelta(days=45), True)],
)
def test_password_unused_from_exactly_45_days(days: timedelta, found: bool) -> None:
    assert (
        "iam.password-unused" in codes(user_findings(user(password_last_used=NOW - days), NOW))
    ) is found


def test_a_password_never_used_counts_from_creation() -> None:
    fresh = user(password_last_used=None, created=NOW - timedelta(days=44))
    old = user(password_last_used=None, created=NOW - timedelta(days=45))
    assert user_findings(fresh, NOW) == []
    assert codes(user_findings(old, NOW)) == ["iam.password-unused"]


@pytest.mark.parametrize(("age", "found"), [(90, False), (91, True)])
def test_access_key_older_than_90_days(age: int, found: bool) -> None:
    k = key(created=NOW - timedelta(days=age), last_used=NOW - timedelta(days=1))
    assert ("iam.access-key-not-rotated" in codes(user_findings(user(access_keys=(k,)), NOW))) is (
        found
    )


def test_an_inactive_key_raises_nothing() -> None:
    k = key(created=NOW - timedelta(days=300), last_used=None, status="Inactive")
    assert user_findings(user(access_keys=(k,)), NOW) == []


def test_a_key_never_used_counts_from_its_creation() -> None:
    k = key(created=NOW - timedelta(days=60), last_used=None)
    assert codes(user_findings(user(access_keys=(k,)), NOW)) == ["iam.access-key-unused"]


def test_across_a_leap_day_45_days_are_45_days() -> None:
    # 2028-02-29 is in the window: 2028-01-30 + 45 days = 2028-03-15 (not 03-16).
    now = datetime(2028, 3, 15, tzinfo=UTC)
    last = datetime(2028, 1, 30, tzinfo=UTC)
    assert codes(user_findings(user(password_last_used=last), now)) == ["iam.password-unused"]
    assert user_findings(user(password_last_used=last), now - timedelta(seconds=1)) == []
    # A key made on the leap day is 90 days old on 2028-05-29, 91 on 05-30.
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    k = key(created=leap, last_used=datetime(2028, 5, 28, tzinfo=UTC))
    api_user = user(access_keys=(k,), console_access=False)
    assert user_findings(api_user, datetime(2028, 5, 29, tzinfo=UTC)) == []
    assert codes(user_findings(api_user, datetime(2028, 5, 30, tzinfo=UTC))) == [
        "iam.access-key-not-rotated"
    ]


EVERY_RISKY_PORT = ["22", "1433", "1521", "3306", "3389", "5432", "5439", "6379", "9200", "27017"]


def group(*rules: SecurityRule) -> SecurityGroup:
    return SecurityGroup("sg-1", "web", "vpc-1", "", inbound=rules, outbound=())


@pytest.mark.parametrize(
    ("rule", "ports"),
    [
        (SecurityRule("tcp", 22, 22, ("0.0.0.0/0",), ()), ["22"]),
        (SecurityRule("tcp", 3389, 3389, ("::/0",), ()), ["3389"]),
        (SecurityRule("tcp", 0, 65535, ("0.0.0.0/0",), ()), EVERY_RISKY_PORT),
        (SecurityRule("-1", None, None, ("0.0.0.0/0",), ()), EVERY_RISKY_PORT),
        # the database engines' default ports
        (SecurityRule("tcp", 3306, 3306, ("0.0.0.0/0",), ()), ["3306"]),
        (SecurityRule("tcp", 5432, 5432, ("::/0",), ()), ["5432"]),
        (SecurityRule("tcp", 1433, 1433, ("0.0.0.0/0",), ()), ["1433"]),
        (SecurityRule("tcp", 1521, 1521, ("0.0.0.0/0",), ()), ["1521"]),
        (SecurityRule("tcp", 27017, 27017, ("0.0.0.0/0",), ()), ["27017"]),
        (SecurityRule("tcp", 6379, 6379, ("::/0",), ()), ["6379"]),
        (SecurityRule("tcp", 5439, 5439, ("0.0.0.0/0",), ()), ["5439"]),
        (SecurityRule("tcp", 9200, 9200, ("0.0.0.0/0",), ()), ["9200"]),
        (SecurityRule("tcp", 5400, 5500, ("0.0.0.0/0",), ()), ["5432", "5439"]),  # a range
        (SecurityRule("6", 6379, 6379, ("0.0.0.0/0",), ()), ["6379"]),  # protocol by number
        (SecurityRule("tcp", 3306, 3306, ("10.0.0.0/8", "172.16.0.0/12"), ()), []),
        (SecurityRule("tcp", 5433, 5438, ("0.0.0.0/0",), ()), []),  # between two
        (SecurityRule("tcp", 22, 22, ("10.0.0.0/8",), ()), []),
        (SecurityRule("tcp", 443, 443, ("0.0.0.0/0",), ()), []),
        (SecurityRule("udp", 22, 22, ("0.0.0.0/0",), ()), []),
    ],
)
def test_security_group_open_to_the_world(rule: SecurityRule, ports: list[str]) -> None:
    found = security_group_findings(group(rule))
    assert [f.message.split("port ")[1].split(" ")[0] for f in found] == ports
    assert {f.code for f in found} <= {"network.open-to-world"}
    assert all(f.severity == "high" for f in found)


def test_a_database_port_finding_names_the_engine() -> None:
    (found,) = security_group_findings(group(SecurityRule("tcp", 5432, 5432, ("0.0.0.0/0",), ())))
    assert found.message == "web allows port 5432 (PostgreSQL) from anywhere"


def function(runtime: str | None) -> LambdaFunction:
    return LambdaFunction("f", "arn", "us-east-1", runtime, "arm64", 128, 3, "", None)


@pytest.mark.parametrize(
    ("runtime", "today", "expected"),
    [
        ("python3.9", date(2025, 12, 15), ["lambda.runtime-deprecated"]),
        ("python3.9", date(2025, 12, 14), ["lambda.runtime-ending"]),
        ("python3.12", date(2026, 11, 20), []),
        ("python3.12", date(2028, 5, 4), ["lambda.runtime-ending"]),  # 180 days before
        ("python3.12", date(2028, 5, 3), []),
        (None, date(2026, 11, 20), []),
        ("unknown9", date(2026, 11, 20), []),
    ],
)
def test_runtime_end_of_support(runtime: str | None, today: date, expected: list[str]) -> None:
    assert codes(runtime_findings(function(runtime), today)) == expected


def metrics(invocations: int, errors: int) -> FunctionMetrics:
    return FunctionMetrics("f", NOW - timedelta(days=7), NOW, invocations, errors)


@pytest.mark.parametrize(
    ("invocations", "errors", "expected"),
    [
        (0, 0, ["lambda.idle"]),
        (100, 5, []),  # exactly 5%: not above
        (100, 6, ["lambda.erroring"]),
        (1000, 0, []),
    ],
)
def test_idle_and_erroring(invocations: int, errors: int, expected: list[str]) -> None:
    assert codes(metric_findings(metrics(invocations, errors))) == expected
