"""Who owns what the inventory read: worked out off the request path, cached beside it.

A function's owners are whoever the ingest would give a cost line of it dated today (its
assignments in force, split by share, then its owner tag mapped to a user, else nobody), the
rule ``tally.recommendations.refresh.owners_of`` applies to a finding. An IAM user is linked
to the Tally user its owner tag names (the same tag key and mapping as costs).

Computing it needs every assignment and the user directory (a Scan and a paged Query): never
on a request path. The inventory run does it after the families it refreshed and caches the
result under the scope ``(account, "global", "owners")``: one item per resource, key
``owner#<match key>`` (a function) or ``iam-user#<name>``. The views read that partition with
one Query, so a view's DynamoDB requests do not grow with the resources or the owners.

Assignments change between runs: every write of one (assign, unassign, a claim's decision)
recomputes that function's record at once (``follow_assignment``: the resource's assignments,
one Query, and the tag owner the run recorded), so the views never wait for the hourly run to
show a new owner. The run recomputes everything anyway, which heals a missed update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from tally.allocation import allocate
from tally.estate.models import EstateRecord, EstateScope
from tally.models import UNALLOCATED, Assignment, CostLine
from tally.resources import arn_account, line_match_key, match_key

OWNERS_REGION = "global"
OWNERS_FAMILY = "owners"
LAMBDA_SERVICE = "AWSLambda"
_PROBE = Decimal(100)
# The tag owner a function's record carries is replayed through the allocation under this
# stand-in tag (the deployment's own tag key and mapping are not needed to replay it).
_TAG = "tally:owner"


def owners_scope(account: str) -> EstateScope:
    return EstateScope(account, OWNERS_REGION, "owners")


def function_key(arn: str) -> str:
    """The match key a function's cost lines and assignments meet under (``lambda:<name>``)."""
    return line_match_key(LAMBDA_SERVICE, arn)


@dataclass(frozen=True)
class Owners:
    """owner id -> share percent (adds up to at most 100; the rest is nobody's)."""

    shares: Mapping[str, Decimal]

    @property
    def unowned(self) -> bool:
        return not self.shares

    def share_of(self, owner: str) -> Decimal:
        return self.shares.get(owner, Decimal(0))


NOBODY = Owners({})


def resource_owners(
    service: str,
    resource_id: str,
    tags: Mapping[str, str],
    *,
    today: date,
    assignments: Iterable[Assignment],
    tag_owners: Mapping[str, str],
    owner_tag_key: str,
) -> Owners:
    """The owners a cost line of the resource dated ``today`` would be allocated to."""
    probe = CostLine(
        day=today,
        service=service,
        resource_id=resource_id,
        billed_cost=_PROBE,
        effective_cost=_PROBE,
        currency="USD",
        tags=dict(tags),
    )
    shares: dict[str, Decimal] = defaultdict(Decimal)
    for r in allocate(
        [probe],
        assignments=assignments,
        tag_owners=tag_owners,
        owner_tag_key=owner_tag_key,
        source="estate",
        fetched_at=datetime.combine(today, time(), tzinfo=UTC),
    ):
        if r.owner != UNALLOCATED:
            shares[r.owner] += r.share_pct
    return Owners(dict(shares))


def owners_records(
    *,
    functions: Iterable[tuple[str, Mapping[str, str]]],
    iam_users: Iterable[tuple[str, Mapping[str, str]]],
    today: date,
    now: datetime,
    assignments: Iterable[Assignment],
    tag_owners: Mapping[str, str],
    owner_tag_key: str,
) -> list[EstateRecord]:
    """The cached ownership: one record per function (by ARN) and per IAM user (by name)."""
    held = list(assignments)
    out = []
    for arn, tags in functions:
        owners = resource_owners(
            LAMBDA_SERVICE,
            arn,
            tags,
            today=today,
            assignments=held,
            tag_owners=tag_owners,
            owner_tag_key=owner_tag_key,
        )
        value = tags.get(owner_tag_key)
        out.append(
            _owner_record(
                arn, owners, tag_owners.get(value.strip().lower()) if value else None, now
            )
        )
    for name, tags in iam_users:
        value = tags.get(owner_tag_key)
        user = tag_owners.get(value.lower()) if value else None
        out.append(EstateRecord(f"iam-user#{name}", {"user": user, "tag": value}, now))
    return out


def _owner_record(arn: str, owners: Owners, tag_owner: str | None, now: datetime) -> EstateRecord:
    return EstateRecord(
        f"owner#{function_key(arn)}",
        {
            "arn": arn,
            "owners": {o: str(s) for o, s in sorted(owners.shares.items())},
            # Who the owner tag names (None: no tag, or nobody it maps to): what an update
            # between runs falls back on without reading the directory.
            "tagOwner": tag_owner,
        },
        now,
    )


def follow_assignment(
    store: Any,
    assignments: Any,
    resource_type: str,
    resource_id: str,
    *,
    today: date,
    now: datetime,
) -> bool:
    """Recompute one function's cached owners after an assignment of it changed: its
    assignments not ended (one Query on the resource's partition) and the tag owner the last
    run recorded, allocated as ``resource_owners`` does. Two requests (GetItem, Query) and one
    write; False (nothing written) for anything but a Lambda function ARN the inventory has
    cached (the next full run covers the rest)."""
    key = match_key(resource_type, resource_id)
    account = arn_account(resource_id)
    if not key.startswith("lambda:") or account is None:
        return False
    scope = owners_scope(account)
    cached = store.get(scope, f"owner#{key}")
    if cached is None:
        return False
    arn = cached.document.get("arn") or resource_id.strip()
    tag_owner = cached.document.get("tagOwner")
    owners = resource_owners(
        LAMBDA_SERVICE,
        arn,
        {_TAG: "owner"} if tag_owner else {},
        today=today,
        assignments=assignments.for_resource(resource_type, resource_id),
        tag_owners={"owner": tag_owner} if tag_owner else {},
        owner_tag_key=_TAG,
    )
    store.put(scope, _owner_record(arn, owners, tag_owner, now))
    return True


def read_owners(records: Iterable[EstateRecord]) -> dict[str, Owners]:
    """``owners_records``' function records back: match key -> owners."""
    return {
        r.key.removeprefix("owner#"): Owners(
            {o: Decimal(s) for o, s in r.document.get("owners", {}).items()}
        )
        for r in records
        if r.key.startswith("owner#")
    }


def read_iam_links(records: Iterable[EstateRecord]) -> dict[str, str | None]:
    """IAM user name -> the Tally user id its owner tag names (None: nobody known)."""
    return {
        r.key.removeprefix("iam-user#"): r.document.get("user")
        for r in records
        if r.key.startswith("iam-user#")
    }


def refresh_owners(
    store: Any,
    stores: Any,
    *,
    account: str,
    regions: Iterable[str],
    owner_tag_key: str,
    owner_tag_map: Mapping[str, str],
    today: date,
    now: datetime,
) -> int:
    """Recompute the cached ownership from every cached function (all regions read) and IAM
    user, the assignments and the user directory; returns the records written. Off the
    request path only (it reads every assignment and the whole directory)."""
    from tally.allocation import OwnerTagRule
    from tally.users import every_user

    functions = []
    for region in regions:
        functions += [
            (r.document["arn"], r.document.get("tags") or {})
            for r in store.list(EstateScope(account, region, "lambda"))
        ]
    users = [
        (r.document["name"], r.document.get("tags") or {})
        for r in store.list(EstateScope(account, OWNERS_REGION, "iam"))
    ]
    rule = OwnerTagRule(owner_tag_key, dict(owner_tag_map))
    records = owners_records(
        functions=functions,
        iam_users=users,
        today=today,
        now=now,
        assignments=stores.assignments.all(),
        tag_owners=rule.resolver(every_user(stores.users)),
        owner_tag_key=owner_tag_key,
    )
    store.replace(owners_scope(account), records)
    return len(records)
