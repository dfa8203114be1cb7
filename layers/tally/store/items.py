"""pynamodb items: the persistence shape. Converted to and from domain models in ``dynamodb``.

Table names and the endpoint are bound at run time (``bind_items``), never at import, so
tests and tools can import this module without AWS settings.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from tally import tables
from tally.settings import Settings
from tally.store.attributes import DecimalAttribute, DecimalJSONAttribute


class _Base(Model):
    class Meta:
        table_name = "unbound"
        region = "us-east-1"


# --- users directory -------------------------------------------------------------------


class UserNameIndex(GlobalSecondaryIndex["UserItem"]):
    class Meta:
        index_name = "by-name"
        projection = AllProjection()

    directory = UnicodeAttribute(hash_key=True)
    sort_name = UnicodeAttribute(range_key=True)


class UserItem(_Base):
    spec = tables.USERS

    pk = UnicodeAttribute(hash_key=True)  # USER#<sub>
    sk = UnicodeAttribute(range_key=True)  # PROFILE
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    role = UnicodeAttribute()
    directory = UnicodeAttribute(default="ALL")
    sort_name = UnicodeAttribute()
    by_name = UserNameIndex()


# --- assignments -----------------------------------------------------------------------


class AssignmentUserIndex(GlobalSecondaryIndex["AssignmentItem"]):
    class Meta:
        index_name = tables.ASSIGNMENTS.indexes[0].name
        projection = AllProjection()

    listed_user = UnicodeAttribute(hash_key=True)
    assigned_at = UnicodeAttribute(range_key=True)


class AssignmentItem(_Base):
    """pk ASSIGNMENT#<id>, sk ASSIGNMENT: the assignment itself (read by id, listed by user
    until it ends, kept after that for the ingest)."""

    spec = tables.ASSIGNMENTS

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    assignment_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    listed_user = UnicodeAttribute(null=True)  # = user_id until the assignment ends
    resource_type = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    resource_key = UnicodeAttribute()
    share_pct = DecimalAttribute()
    cost_center = UnicodeAttribute(null=True)
    assigned_by = UnicodeAttribute()
    assigned_at = UnicodeAttribute()  # ISO timestamp + id: sorts by time, unique
    # YYYY-MM-DD. effective_from is absent on items written before assignments had time:
    # read as the day of assigned_at.
    effective_from = UnicodeAttribute(null=True)
    effective_to = UnicodeAttribute(null=True)  # exclusive; absent until the assignment ends
    by_user = AssignmentUserIndex()


class AssignmentGuardItem(_Base):
    """pk RES#<resource key>, sk USER#<user>: one assignment not ended per resource and user
    (deleted when it ends, so the user may be assigned the resource again)."""

    spec = tables.ASSIGNMENTS

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    assignment_id = UnicodeAttribute()


class ResourceSharesItem(_Base):
    """pk RES#<resource key>, sk #SHARES: the sum of the shares of a resource's assignments
    not ended, kept <= 100, and ``last_end``, the latest day one of them ended: a new
    assignment starts on or after it (see ``AssignmentStore``)."""

    spec = tables.ASSIGNMENTS

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    share_total = DecimalAttribute(null=True)
    last_end = UnicodeAttribute(null=True)  # YYYY-MM-DD


# --- budgets ---------------------------------------------------------------------------


class BudgetItem(_Base):
    """pk USER#<user>: the user's one budget and its history, read in one GetItem by the
    summary."""

    spec = tables.BUDGETS

    pk = UnicodeAttribute(hash_key=True)
    budget_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    monthly_limit = DecimalAttribute()
    alert_threshold = NumberAttribute()
    currency = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
    # Every change with its effective month, oldest first: [{effectiveFrom, monthlyLimit,
    # alertThreshold, currency}]. Small (one entry per month changed at most), so it rides on
    # the budget item and a month's terms cost no extra read. Absent on items stored before
    # history was kept.
    history = DecimalJSONAttribute(null=True)


class BudgetPointerItem(_Base):
    """pk BUDGET#<id>: resolves a budget id to its user with a strongly consistent read."""

    spec = tables.BUDGETS

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


# --- cost records and roll-ups ---------------------------------------------------------


class CostDayIndex(GlobalSecondaryIndex["CostRecordItem"]):
    class Meta:
        index_name = "by-day"
        projection = KeysOnlyProjection()

    day = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class CostRecordItem(_Base):
    """pk OWNER#<owner>, sk <day>#<line id>: one allocated cost line."""

    spec = tables.COSTS

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    owner = UnicodeAttribute()
    day = UnicodeAttribute()
    billing_period = UnicodeAttribute()
    line_id = UnicodeAttribute()
    service = UnicodeAttribute()
    resource_id = UnicodeAttribute(null=True)
    usage_quantity = DecimalAttribute()
    usage_unit = UnicodeAttribute(null=True)
    billed_cost = DecimalAttribute()
    effective_cost = DecimalAttribute()
    currency = UnicodeAttribute()
    charge_category = UnicodeAttribute()
    estimated = BooleanAttribute()
    source = UnicodeAttribute()
    fetched_at = UTCDateTimeAttribute()
    allocation = UnicodeAttribute()
    share_pct = DecimalAttribute()
    by_day = CostDayIndex()


class RollupMonthIndex(GlobalSecondaryIndex["RollupItem"]):
    class Meta:
        index_name = "by-month"
        projection = AllProjection()

    month = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class RollupItem(_Base):
    """pk OWNER#<owner>, sk MONTH#<YYYY-MM>: a month's figures for a user, ORG or UNALLOCATED."""

    spec = tables.ROLLUPS

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    owner = UnicodeAttribute()
    month = UnicodeAttribute()
    sections = DecimalJSONAttribute()
    estimated = BooleanAttribute()
    record_count = NumberAttribute()
    updated_at = UTCDateTimeAttribute()
    forecast = DecimalJSONAttribute(null=True)
    restatements = DecimalJSONAttribute(null=True)
    estimated_days = DecimalJSONAttribute(null=True)
    by_month = RollupMonthIndex()


# --- claims ----------------------------------------------------------------------------


class ClaimClaimantIndex(GlobalSecondaryIndex["ClaimItem"]):
    class Meta:
        index_name = tables.CLAIMS.indexes[0].name
        projection = AllProjection()

    claimant = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class ClaimPendingIndex(GlobalSecondaryIndex["ClaimItem"]):
    class Meta:
        index_name = tables.CLAIMS.indexes[2].name
        projection = AllProjection()

    pending = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class ClaimItem(_Base):
    """pk CLAIM#<id>, sk CLAIM: the claim. ``pending`` ("PENDING") only while undecided."""

    spec = tables.CLAIMS

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    claim_id = UnicodeAttribute()
    claimant = UnicodeAttribute()
    created = UnicodeAttribute()  # ISO timestamp + id: sorts by time, unique
    pending = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    resource_type = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    share_pct = DecimalAttribute()
    note = UnicodeAttribute(null=True)
    approver_ids = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()
    decided_at = UTCDateTimeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    assignment_id = UnicodeAttribute(null=True)
    by_claimant = ClaimClaimantIndex()
    pending_index = ClaimPendingIndex()


class ClaimApproverIndex(GlobalSecondaryIndex["ClaimApproverItem"]):
    class Meta:
        index_name = tables.CLAIMS.indexes[1].name
        projection = KeysOnlyProjection()

    approver = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class ClaimApproverItem(_Base):
    """pk CLAIM#<id>, sk APPROVER#<user>: lists a pending claim for one approver; deleted
    when the claim is decided."""

    spec = tables.CLAIMS

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    approver = UnicodeAttribute()
    created = UnicodeAttribute()
    by_approver = ClaimApproverIndex()


# --- audit -----------------------------------------------------------------------------


class AuditItem(_Base):
    """pk USER#<subject user>, sk <ISO time>#<uuid>: who changed what of that user's, when."""

    spec = tables.AUDIT

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    details = DecimalJSONAttribute()


ALL_ITEMS: tuple[type[_Base], ...] = (
    UserItem,
    AssignmentItem,
    AssignmentGuardItem,
    ResourceSharesItem,
    BudgetItem,
    BudgetPointerItem,
    CostRecordItem,
    RollupItem,
    AuditItem,
    ClaimItem,
    ClaimApproverItem,
)


def bind_items(settings: Settings) -> None:
    """Point every item class at its physical table (and at the emulator, locally)."""
    for item in ALL_ITEMS:
        spec: tables.TableSpec = item.spec  # type: ignore[attr-defined]
        # A Meta of its own per class: the items share _Base's otherwise.
        item.Meta = type(  # type: ignore[misc,assignment]
            "Meta",
            (item.Meta,),
            {
                "table_name": settings.table_names[spec.key],
                "region": settings.region,
                "host": settings.aws_endpoint_url,
            },
        )
        item._connection = None  # drop a connection bound to a previous table or endpoint
