"""Every key the stores write, in one place: partition (pk) and sort (sk) keys and the values
of index keys that have a format.

The strings are the stored data: changing one orphans every item already written with it
(tests/store/test_keys.py pins each against the literal it has always been). Index keys that
are a plain id (``listed_user``, ``claimant``, ``approver``, ``owner``, ``day``, ``month``)
need no format and are written as the id.

| table       | pk                     | sk                                 |
| ----------- | ---------------------- | ---------------------------------- |
| users       | USER#<user>            | PROFILE                            |
| assignments | ASSIGNMENT#<id>        | ASSIGNMENT                         |
|             | RES#<resource key>     | USER#<user> (guard), #SHARES       |
| budgets     | USER#<user>            | (none)                             |
|             | BUDGET#<id>            | (none)                             |
| costs       | OWNER#<owner>          | <YYYY-MM-DD>#<line id>             |
|             | NAME#<match key>       | NAME (a resource's name)           |
| rollups     | OWNER#<owner>          | MONTH#<YYYY-MM>                    |
| claims      | CLAIM#<id>             | CLAIM, APPROVER#<user>             |
| audit       | USER#<subject user>    | <ISO time>#<unique id>             |
| notifications | USER#<user>          | NOTE#<notification id>             |
| preferences | USER#<user>            | (none)                             |
| alerts      | USER#<user>            | ALERT#<period>#<level>             |
| anomalies   | USER#<user>            | ANOMALY#<first day>#<cause>        |
|             | RUN#<run id>           | SLOTS (a run's email counter)      |
| recommendations | OWNER#<owner>      | REC#<recommendation id>            |
| reports     | JOB#<job id>           | JOB                                |
|             | INVOICE#<subject>#<YYYY-MM> | REV#<nnnn> (an issued revision) |
|             | TAX#ORG                | RULE#<rule id>, RULES, SETTINGS    |
|             | TEMPLATE#<template id> | V#<nnnn> (a template version)      |
|             | INVOICETEMPLATES       | <template id> (its latest version) |
|             | INVOICESEQ#<prefix>#<YYYY> | SEQ#<nnnnnn> (a number given)  |
| access      | USER#<user>            | ACCESS (grants, teams, manages)    |
|             | TEAM#<team id>         | TEAM                               |
|             | ROLE#<role id>         | ROLE (a custom role)               |
|             | ORG                    | SNAPSHOT                           |
| ratelimits  | USER#<user>            | LIMIT#<bucket name>                |
| billing     | RATE#<base>#<quote>    | <YYYY-MM-DD>#<source>              |
|             | SETTINGS               | SECTION#<section name>             |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True)
class Prefixed:
    """A key that is a fixed prefix and an id: ``user("u-1") == "USER#u-1"``."""

    prefix: str

    def __call__(self, entity_id: str) -> str:
        return f"{self.prefix}{entity_id}"

    def id_of(self, key: str) -> str:
        """The id a key was built from."""
        return key.removeprefix(self.prefix)


# A user's partition (users, budgets, audit), and a guard's sort key (assignments).
user = Prefixed("USER#")
assignment = Prefixed("ASSIGNMENT#")
# The partition of a resource's guards and share counter, by the resource's ``match_key``.
resource = Prefixed("RES#")
budget = Prefixed("BUDGET#")
# The partition of an owner's cost lines and roll-ups (a user, ORG or UNALLOCATED).
owner = Prefixed("OWNER#")
# The name directory's entry of a resource (costs table), by its ``match_key``.
resource_name = Prefixed("NAME#")
month = Prefixed("MONTH#")  # of YYYY-MM
claim = Prefixed("CLAIM#")
approver = Prefixed("APPROVER#")

notification = Prefixed("NOTE#")
run = Prefixed("RUN#")  # an alert evaluation run's send-slot counter
recommendation = Prefixed("REC#")  # under its owner's OWNER#<owner>
job = Prefixed("JOB#")  # a report job (an export or an invoice)
team = Prefixed("TEAM#")  # the access table's team items
role = Prefixed("ROLE#")  # the access table's custom roles
rate_limit = Prefixed("LIMIT#")  # a user's token bucket of a rate limit, by its name
tax_rule = Prefixed("RULE#")  # a tax rule, in the reports table's TAX_PARTITION
section = Prefixed("SECTION#")  # a billing settings section, under SETTINGS

PROFILE = "PROFILE"
# The organisation's tax partition (reports table): its rules, their revision, the settings.
TAX_PARTITION = "TAX#ORG"
TAX_RULES = "RULES"
TAX_SETTINGS = "SETTINGS"
ASSIGNMENT = "ASSIGNMENT"
SHARES = "#SHARES"
CLAIM = "CLAIM"
NAME = "NAME"
# Constant partitions of sparse indexes: the whole user directory, the admins' claim queue.
DIRECTORY = "ALL"
PENDING = "PENDING"
DEFERRED = "DEFERRED"  # the alert ledger's deferred entries
RUN_SLOTS = "SLOTS"
JOB = "JOB"
# The access table: a user's profile, a team, a custom role, and the organisation's snapshot
# (one item, pk ORG sk SNAPSHOT). Team items carry TEAMS_LISTED in their "teams" index; every
# audit entry carries DIRECTORY ("ALL") in the audit log's "all" index.
ACCESS = "ACCESS"
TEAM = "TEAM"
ROLE = "ROLE"
ORG = "ORG"
SNAPSHOT = "SNAPSHOT"
# The billing table: the settings' partition and the rates' listing partition ("listed").
SETTINGS = "SETTINGS"
RATES_LISTED = "RATE"
TEAMS_LISTED = "TEAM"
# Sorts after every line id's first character: "<day>#~" closes a day's lines in a BETWEEN.
_LAST = "~"


def cost_line(day: date, line_id: str) -> str:
    return f"{day.isoformat()}#{line_id}"


def cost_resource(owner: str, match_key: str) -> str:
    """A cost line's ``resource_key`` (the "by-resource" index): its owner and its resource's
    match key (``tally.resources.line_match_key``), so the index answers one owner's lines of
    one resource."""
    return f"{owner}#{match_key}"


def cost_days(first: date, last: date) -> tuple[str, str]:
    """The sort-key bounds (for BETWEEN) of every cost line from ``first`` to ``last``
    inclusive."""
    return first.isoformat(), f"{last.isoformat()}#{_LAST}"


def cost_line_range(day: date, low: str, high: str) -> tuple[str, str]:
    """The sort-key bounds (for BETWEEN) of the cost lines of ``day`` whose line id starts
    with a prefix from ``low`` to ``high`` inclusive (line ids are lowercase hex)."""
    return f"{day.isoformat()}#{low}", f"{day.isoformat()}#{high}{_LAST}"


def sort_name(username: str, user_id: str) -> str:
    """The directory index's sort key: by name, then id (unique)."""
    return f"{username.lower()}#{user_id}"


def timed(at: datetime, unique: str) -> str:
    """``<ISO time>#<unique>``: sorts by time and never collides. The assignments' and claims'
    index sort keys (unique = the entity id) and the audit log's sort key (a random id)."""
    return f"{at.isoformat()}#{unique}"


def time_of(key: str) -> datetime:
    """The time a ``timed`` key was built from."""
    return datetime.fromisoformat(key.split("#")[0])


def alert(period: str, level: str) -> str:
    """The alert ledger's sort key of a (budget period, level)."""
    return f"{alert_period(period)}{level}"


def alert_period(period: str) -> str:
    """The prefix (for begins_with) of every alert ledger entry of a budget period."""
    return f"ALERT#{period}#"


def alert_of(sort_key: str) -> tuple[str, str]:
    """The (period, level) an ``alert`` sort key was built from (a level may hold ``#``, a
    period never does)."""
    period, level = sort_key.removeprefix("ALERT#").split("#", 1)
    return period, level


def deferred_order(due_at: datetime, user_id: str, period: str, level: str) -> str:
    """The deferred index's sort key: by first deferral time, then the entry (unique)."""
    # One fixed width in UTC, so the strings sort as the times do.
    return f"{due_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}#{user_id}#{period}#{level}"


REVISION_PREFIX = "REV#"


def invoice(subject: str, month: str) -> str:
    """The partition of a subject's (``user:<id>``, ``cost-center:<name>``) invoice revisions
    for a month (YYYY-MM)."""
    return f"INVOICE#{subject}#{month}"


def revision(number: int) -> str:
    """An invoice revision's sort key: four digits, so the last sorts last."""
    return f"{REVISION_PREFIX}{number:04d}"


# Invoice templates (reports table): each version under its template's partition, and the
# latest of every template in one partition, listed by one Query.
template = Prefixed("TEMPLATE#")
TEMPLATES = "INVOICETEMPLATES"
SEQUENCE_PREFIX = "SEQ#"


def template_version(number: int) -> str:
    """A template version's sort key: four digits, so the last sorts last."""
    return f"V#{number:04d}"


def invoice_sequence(prefix: str, year: int) -> str:
    """The partition of a numbering scheme's per-year sequence (a template's prefix)."""
    return f"INVOICESEQ#{prefix}#{year:04d}"


def sequence(number: int) -> str:
    """A sequence number's sort key: six digits, so the last sorts last."""
    return f"{SEQUENCE_PREFIX}{number:06d}"


def anomaly_prefix() -> str:
    """The prefix of every anomaly episode's sort key (``ANOMALY#<first day>#<cause>``)."""
    return "ANOMALY#"


def rate_pair(base: str, quote: str) -> str:
    """A currency pair's partition of the billing table."""
    return f"RATE#{base}#{quote}"


def rate_day(day: date, source: str) -> str:
    """A rate's sort key: its day, then its source (one rate per pair, day and source)."""
    return f"{day.isoformat()}#{source}"


def rate_listed(day: date, base: str, quote: str, source: str) -> str:
    """The rates' listing order ("listed" index): newest day first, then pair and source."""
    return f"{day.isoformat()}#{base}#{quote}#{source}"


def rates_through(last: date) -> str:
    """The upper bound (<=) of a pair's sort keys on or before ``last``."""
    return f"{last.isoformat()}#{_LAST}"
