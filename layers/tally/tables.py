"""The DynamoDB tables, defined once.

CDK (``infra/``), the local stack (``infra/local``) and the pynamodb items all read these
definitions, so table keys, indexes and TTL cannot drift between AWS and the laptop.
Every key attribute is a string.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: str
    range_key: str | None = None
    # KEYS_ONLY where the reader only needs keys; ALL where the index is read as the item.
    projection: str = "ALL"


@dataclass(frozen=True)
class TableSpec:
    key: str  # short name: environment variable TALLY_TABLE_<KEY>, CDK construct id
    hash_key: str
    range_key: str | None = None
    indexes: tuple[IndexSpec, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None
    holds_billing_data: bool = True  # PITR, deletion protection, retain on delete

    @property
    def env_var(self) -> str:
        return f"TALLY_TABLE_{self.key.upper()}"

    def local_name(self, prefix: str = "tally-local") -> str:
        return f"{prefix}-{self.key}"


USERS = TableSpec(
    key="users",
    hash_key="pk",
    range_key="sk",
    # Sparse, one partition: the directory in name order, for the admin all-users view.
    indexes=(IndexSpec("by-name", hash_key="directory", range_key="sort_name"),),
)
ASSIGNMENTS = TableSpec(
    key="assignments",
    hash_key="pk",
    range_key="sk",
    # Sparse: only an assignment item not yet ended carries listed_user (the guard and share
    # counter items never do), so a user's list holds each current assignment once and an
    # ended one leaves it while its record stays for the ingest.
    indexes=(IndexSpec("listed-by-user", hash_key="listed_user", range_key="assigned_at"),),
)
BUDGETS = TableSpec(key="budgets", hash_key="pk")
# Cost records (pk OWNER#<owner>, sk <day>#<line id>) and the name directory (pk NAME#<match
# key>, sk NAME: tally.store.names). "by-day" is sparse: only records carry day.
COSTS = TableSpec(
    key="costs",
    hash_key="pk",
    range_key="sk",
    indexes=(
        IndexSpec("by-day", hash_key="day", range_key="pk", projection="KEYS_ONLY"),
        # Sparse: a line with a resource id carries resource_key (<owner>#<match key>), so one
        # resource's page reads its own lines, not the owner's (the organisation's) every line.
        IndexSpec("by-resource", hash_key="resource_key", range_key="sk"),
    ),
)
ROLLUPS = TableSpec(
    key="rollups",
    hash_key="pk",
    range_key="sk",
    indexes=(IndexSpec("by-month", hash_key="month", range_key="pk"),),
)
# The audit log (pk USER#<subject>, sk <ISO time>#<unique id>). Every entry written since the
# organisation's log was added carries listed = "ALL", so "all" lists the whole log newest first
# with one Query (entries written before it stay in their subject's partition only).
AUDIT = TableSpec(
    key="audit",
    hash_key="pk",
    range_key="sk",
    indexes=(IndexSpec("all", hash_key="listed", range_key="sk"),),
)
# Claims of resources (pk CLAIM#<id>): the claim item (sk CLAIM) is listed by its claimant and,
# while pending, in the admins' queue (sparse "pending"); one item per approver (sk
# APPROVER#<user>, deleted on decision) lists it for that approver. Keys only there: the
# claim is read back by key.
CLAIMS = TableSpec(
    key="claims",
    hash_key="pk",
    range_key="sk",
    indexes=(
        IndexSpec("by-claimant", hash_key="claimant", range_key="created"),
        IndexSpec("by-approver", hash_key="approver", range_key="created", projection="KEYS_ONLY"),
        IndexSpec("pending", hash_key="pending", range_key="created"),
    ),
)

# In-app notifications (pk USER#<user>, sk NOTE#<notification id>: the id is the producer's
# idempotency key, so a conditional put adds each once). Listed newest first by "by-created";
# "unread" is sparse (only unread items carry unread_user), so the unread count is a keys-only
# Query of that user's unread items, exact whatever marks or TTL deletions happen. Notifications
# expire 90 days after they were created.
NOTIFICATIONS = TableSpec(
    key="notifications",
    hash_key="pk",
    range_key="sk",
    indexes=(
        IndexSpec("by-created", hash_key="listed_user", range_key="created"),
        IndexSpec("unread", hash_key="unread_user", range_key="created", projection="KEYS_ONLY"),
    ),
    ttl_attribute="expires",
)
# One item per user (pk USER#<user>), versioned like a budget. "by-digest" is sparse: only an
# item whose digest is not off carries digest_listed (its cadence), so the digest run reads the
# subscribers of a cadence with a keys-only Query, never a Scan of everyone's preferences.
PREFERENCES = TableSpec(
    key="preferences",
    hash_key="pk",
    indexes=(
        IndexSpec(
            "by-digest", hash_key="digest_listed", range_key="user_id", projection="KEYS_ONLY"
        ),
    ),
)
# The alert ledger (pk USER#<user>, sk ALERT#<YYYY-MM>#<level>): which levels of a budget period
# were claimed or sent, for exactly-once alerts. Kept about 400 days (TTL), past a year's
# comparisons; a restore matters (a lost ledger re-sends alerts), so it keeps PITR.
# "deferred" is sparse: only a deferred entry carries ``deferred`` (a constant) and
# ``deferred_order`` (first due time, then the entry), so the drain reads them oldest first
# without a Scan. The table also holds one send-slot counter per run (pk RUN#<run id>).
ALERTS = TableSpec(
    key="alerts",
    hash_key="pk",
    range_key="sk",
    indexes=(IndexSpec("deferred", hash_key="deferred", range_key="deferred_order"),),
    ttl_attribute="expires",
)
# Cost anomalies (pk USER#<user>, sk ANOMALY#<first day>#<cause>): one item per episode, kept
# about 400 days (TTL). Admins list them newest first without a Scan: the whole organisation
# ("by-org", a constant partition) or one status ("by-status").
ANOMALIES = TableSpec(
    key="anomalies",
    hash_key="pk",
    range_key="sk",
    indexes=(
        IndexSpec("by-org", hash_key="org", range_key="listed"),
        IndexSpec("by-status", hash_key="status", range_key="listed"),
    ),
    ttl_attribute="expires",
)

# Powertools idempotency records of the ingest job: ephemeral, so TTL and no PITR.
IDEMPOTENCY = TableSpec(
    key="idempotency", hash_key="id", ttl_attribute="expiration", holds_billing_data=False
)

# Background report jobs (exports, invoices; pk JOB#<id>, sk JOB): what was asked, by whom,
# and where the file is once made; they expire 30 days after creation (TTL). The invoice
# numbers (pk INVOICE#..., never expiring) live here too and must survive a restore or a
# stack deletion, so the table keeps PITR and is retained like the billing tables.
REPORTS = TableSpec(key="reports", hash_key="pk", range_key="sk", ttl_attribute="expires")

# Savings recommendations (pk OWNER#<owner>, sk REC#<recommendation id>): each owner's set,
# replaced whole by every refresh. Every item carries listed = "ALL", so the organisation's
# listing and the refresh's diff are one Query of the "all" index, never a Scan (a few items
# per resource at most: one partition holds them). Derived and recomputed daily: no PITR.
RECOMMENDATIONS = TableSpec(
    key="recommendations",
    hash_key="pk",
    range_key="sk",
    indexes=(IndexSpec("all", hash_key="listed", range_key="sk"),),
    holds_billing_data=False,
)

# Who may do what (pk USER#<user> sk ACCESS: a user's grants, teams and managed teams;
# TEAM#<id> TEAM; ROLE#<id> ROLE: custom roles; ORG SNAPSHOT: the organisation's roles, team
# tree and admins, read whole by every decision). "teams" is sparse (only team items carry
# listed = "TEAM"): the teams in name order without a Scan. Access is what the organisation
# decided: it keeps PITR and is retained like the billing tables.
ACCESS = TableSpec(
    key="access",
    hash_key="pk",
    range_key="sk",
    indexes=(IndexSpec("teams", hash_key="listed", range_key="sort_name"),),
)

# Per-user rate limits of the expensive routes (pk USER#<user>, sk LIMIT#<bucket>): one token
# bucket item each, taken with conditional UpdateItems and never read first (one, or two inside
# a burst: tally/store/rate_limits.py). A bucket is only
# worth keeping while it is not full again, so its TTL is that moment; a table of its own keeps
# these hot, throwaway writes out of the tables that keep PITR, and the API's grant to exactly
# UpdateItem on it.
RATE_LIMITS = TableSpec(
    key="ratelimits",
    hash_key="pk",
    range_key="sk",
    ttl_attribute="expires",
    holds_billing_data=False,
)

# Fan-out ingest runs (tally.ingest.runs): pk RUN#<run id>, sk RUN (the header) and
# PART#<partition> (a partition's state). Working state, not billing data: it expires after 14
# days, like the work bucket's partitions.
INGEST_RUNS = TableSpec(
    key="ingestruns",
    hash_key="pk",
    range_key="sk",
    ttl_attribute="expires",
    holds_billing_data=False,
)

# The estate inventory's cache (tally.estate; functions/inventory): pk
# ESTATE#<account>#<region>#<family>, sk <kind>#<name or id>, each item one resource's JSON
# document and its read_at, so a view of one region and family is one Query. A refresh of
# (region, family) replaces that partition's set (items no longer read are deleted). Read
# from AWS again every hour: no PITR; items expire a week after their read (TTL), so a
# region dropped from the settings leaves nothing behind.
ESTATE = TableSpec(
    key="estate",
    hash_key="pk",
    range_key="sk",
    ttl_attribute="expires",
    holds_billing_data=False,
)

# Enterprise billing's organisation data (tally.rates, tally.billing_settings): exchange rates
# (pk RATE#<base>#<quote>, sk <YYYY-MM-DD>#<source>: a pair's days in order, so the rates of a
# range are one Query of the pair) and the billing settings (pk SETTINGS, sk SECTION#<name>:
# one item per section, read whole with one Query). Every rate carries listed = "RATE" and
# listed_order = <day>#<base>#<quote>#<source>, so the organisation's list is one Query of
# "listed" newest first, never a Scan. Manual rates are finance's decisions: PITR, retained.
BILLING = TableSpec(
    key="billing",
    hash_key="pk",
    range_key="sk",
    indexes=(IndexSpec("listed", hash_key="listed", range_key="listed_order"),),
)

# Reserved capacity (tally.commitments; read by the reports function's refresh, never on a
# request path): pk COMMITMENTS, sk SNAPSHOT (the latest read: utilisation and coverage by
# month, the commitments with their end dates, purchase recommendations, one JSON document
# replaced whole) and NOTICE#<commitment id>#<end date>#<days> (an expiry notice claimed by a
# conditional write, so each is sent once). Read from Cost Explorer again every day: no PITR.
COMMITMENTS = TableSpec(
    key="commitments",
    hash_key="pk",
    range_key="sk",
    holds_billing_data=False,
)

ALL_TABLES: tuple[TableSpec, ...] = (
    USERS,
    ASSIGNMENTS,
    BUDGETS,
    COSTS,
    ROLLUPS,
    AUDIT,
    IDEMPOTENCY,
    CLAIMS,
    NOTIFICATIONS,
    PREFERENCES,
    ALERTS,
    ANOMALIES,
    REPORTS,
    RECOMMENDATIONS,
    ACCESS,
    RATE_LIMITS,
    INGEST_RUNS,
    ESTATE,
    BILLING,
    COMMITMENTS,
)

# Cognito groups. Membership is matched exactly: "admins-readonly" is not "admins".
ADMIN_GROUP = "admins"
USER_GROUP = "users"


def create_table_request(spec: TableSpec, table_name: str) -> dict[str, object]:
    """The boto3 ``create_table`` arguments for ``spec``: used by the local stack and tests
    (CDK builds the same tables from the same specs in ``infra/``)."""
    keys = {spec.hash_key, *(k for k in [spec.range_key] if k)}
    for ix in spec.indexes:
        keys |= {ix.hash_key, *(k for k in [ix.range_key] if k)}

    def schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
        out = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        if range_key:
            out.append({"AttributeName": range_key, "KeyType": "RANGE"})
        return out

    request: dict[str, object] = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in sorted(keys)],
        "KeySchema": schema(spec.hash_key, spec.range_key),
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": ix.name,
                "KeySchema": schema(ix.hash_key, ix.range_key),
                "Projection": {"ProjectionType": ix.projection},
            }
            for ix in spec.indexes
        ]
    return request
