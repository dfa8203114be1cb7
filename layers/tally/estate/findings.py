"""CIS-style findings on what the inventory read: pure functions of the models and "now"
(callers pass ``tally.clock.utc_now()``; tests pin it).

IAM checks follow the CIS AWS Foundations Benchmark (v3.0): 1.10 MFA for every user with a
console password; 1.12 credentials unused for 45 days or more are disabled; 1.14 access keys
rotated every 90 days or less. Ages are exact durations (``now - moment``), so "45 days"
means 45 * 24 hours, whatever the months or a leap day in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from tally.estate.models import FunctionMetrics, IamUser, LambdaFunction, SecurityGroup

Severity = Literal["high", "medium", "low"]

UNUSED_AFTER = timedelta(days=45)  # CIS 1.12: unused for 45 days or more
ROTATE_AFTER = timedelta(days=90)  # CIS 1.14: rotated within 90 days; older is a finding
RUNTIME_WARNING = timedelta(days=180)  # "near" end of support: within about six months
ERROR_RATE_THRESHOLD = Decimal("0.05")
# Ports never to open to the whole internet: remote administration (SSH, RDP) and the
# default ports of the database engines AWS runs, from each engine's AWS documentation (the
# default port of an RDS DB instance of MySQL/MariaDB/Aurora MySQL, PostgreSQL/Aurora
# PostgreSQL, SQL Server and Oracle; DocumentDB's; ElastiCache for Redis'; Amazon Redshift's;
# OpenSearch/Elasticsearch's REST port). 1433, 3306, 5432 and 9200 are also among AWS Security
# Hub control EC2.19's "high-risk ports".
RISKY_PORTS: dict[int, str] = {
    22: "SSH",
    3389: "RDP",
    1433: "SQL Server",
    1521: "Oracle",
    3306: "MySQL",
    5432: "PostgreSQL",
    5439: "Redshift",
    6379: "Redis",
    9200: "Elasticsearch/OpenSearch",
    27017: "MongoDB/DocumentDB",
}
WORLD = ("0.0.0.0/0", "::/0")

# Lambda runtime deprecation dates (after which AWS no longer patches the runtime), from
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html ("Supported runtimes" and
# "Deprecated runtimes"), as read on 2026-12-02. A runtime not listed raises no finding.
RUNTIME_DEPRECATION: dict[str, date] = {
    "python3.7": date(2023, 12, 4),
    "python3.8": date(2024, 10, 14),
    "python3.9": date(2025, 12, 15),
    "python3.10": date(2026, 6, 30),
    "python3.11": date(2026, 6, 30),
    "python3.12": date(2028, 10, 31),
    "python3.13": date(2029, 6, 30),
    "python3.14": date(2030, 6, 30),
    "nodejs16.x": date(2024, 6, 12),
    "nodejs18.x": date(2025, 9, 1),
    "nodejs20.x": date(2026, 4, 30),
    "nodejs22.x": date(2027, 4, 30),
    "nodejs24.x": date(2028, 4, 30),
    "go1.x": date(2024, 1, 8),
    "java8": date(2024, 1, 8),
    "provided": date(2024, 1, 8),
    "ruby3.2": date(2026, 3, 31),
    "dotnet6": date(2024, 12, 20),
    "dotnet8": date(2026, 11, 10),
}


@dataclass(frozen=True)
class Finding:
    code: str  # stable: the API and the dashboard key on it
    severity: Severity
    resource: str  # the user's, function's or group's name or id
    message: str


def _age(now: datetime, moment: datetime) -> timedelta:
    return now - moment


# ---- IAM ---------------------------------------------------------------------------------


def user_findings(user: IamUser, now: datetime) -> list[Finding]:
    """Every IAM finding on one user."""
    out: list[Finding] = []
    if user.console_access and not user.mfa_devices:
        out.append(
            Finding("iam.console-without-mfa", "high", user.name, "console access without MFA")
        )
    if user.console_access:
        # A password never used counts from the user's creation (as AWS's credential report).
        since = user.password_last_used or user.created
        if _age(now, since) >= UNUSED_AFTER:
            out.append(
                Finding(
                    "iam.password-unused",
                    "medium",
                    user.name,
                    f"password unused for {_age(now, since).days} days",
                )
            )
    for key in user.access_keys:
        if key.status != "Active":
            continue
        since = key.last_used or key.created
        if _age(now, since) >= UNUSED_AFTER:
            out.append(
                Finding(
                    "iam.access-key-unused",
                    "medium",
                    user.name,
                    f"access key {key.key_id} unused for {_age(now, since).days} days",
                )
            )
        if _age(now, key.created) > ROTATE_AFTER:
            out.append(
                Finding(
                    "iam.access-key-not-rotated",
                    "medium",
                    user.name,
                    f"access key {key.key_id} is {_age(now, key.created).days} days old",
                )
            )
    return out


# ---- network -----------------------------------------------------------------------------


def _covers(protocol: str, low: int | None, high: int | None, port: int) -> bool:
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6") or low is None or high is None:
        return False
    return low <= port <= high


def security_group_findings(group: SecurityGroup) -> list[Finding]:
    """An inbound rule open to the whole internet (IPv4 or IPv6) on SSH, RDP or a database
    port (``RISKY_PORTS``): one finding per port, in port order."""
    ports = sorted(
        {
            port
            for rule in group.inbound
            if any(c in WORLD for c in rule.cidrs)
            for port in RISKY_PORTS
            if _covers(rule.protocol, rule.from_port, rule.to_port, port)
        }
    )
    return [
        Finding(
            "network.open-to-world",
            "high",
            group.group_id,
            f"{group.name} allows port {port} ({RISKY_PORTS[port]}) from anywhere",
        )
        for port in ports
    ]


# ---- Lambda ------------------------------------------------------------------------------


def runtime_findings(function: LambdaFunction, today: date) -> list[Finding]:
    deprecated = RUNTIME_DEPRECATION.get(function.runtime or "")
    if deprecated is None:
        return []
    if today >= deprecated:
        return [
            Finding(
                "lambda.runtime-deprecated",
                "high",
                function.name,
                f"{function.runtime} reached end of support on {deprecated.isoformat()}",
            )
        ]
    if deprecated - today <= RUNTIME_WARNING:
        return [
            Finding(
                "lambda.runtime-ending",
                "medium",
                function.name,
                f"{function.runtime} reaches end of support on {deprecated.isoformat()}",
            )
        ]
    return []


def metric_findings(
    metrics: FunctionMetrics, threshold: Decimal = ERROR_RATE_THRESHOLD
) -> list[Finding]:
    """Idle (no invocation in the range) or erroring (errors / invocations above threshold)."""
    if metrics.invocations == 0:
        return [
            Finding(
                "lambda.idle",
                "low",
                metrics.function,
                f"no invocations from {metrics.start.date()} to {metrics.end.date()}",
            )
        ]
    # Exact: compare errors with threshold * invocations, no float division.
    if Decimal(metrics.errors) > threshold * metrics.invocations:
        return [
            Finding(
                "lambda.erroring",
                "high",
                metrics.function,
                f"{metrics.errors} errors in {metrics.invocations} invocations",
            )
        ]
    return []


def all_findings(
    *,
    now: datetime,
    functions: Iterable[LambdaFunction] = (),
    metrics: Iterable[FunctionMetrics] = (),
    users: Iterable[IamUser] = (),
    security_groups: Iterable[SecurityGroup] = (),
) -> list[Finding]:
    out: list[Finding] = []
    for f in functions:
        out += runtime_findings(f, now.date())
    for m in metrics:
        out += metric_findings(m)
    for u in users:
        out += user_findings(u, now)
    for g in security_groups:
        out += security_group_findings(g)
    return out
