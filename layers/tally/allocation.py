"""Allocating the organisation's cost lines to users.

Order, per line: the assignments of its resource in force on the line's day (split by share)
-> the owner tag, mapped to a user -> ``UNALLOCATED``. Each day is allocated by its own
assignments, so re-ingesting a window never moves a day's cost to an owner who took over
later. Invariant: for every day, the allocated records plus the unallocated ones add up
exactly to the lines read (the last portion takes the remainder, so rounding can never lose
or invent a fraction of a cent).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tally.models import UNALLOCATED, Assignment, CostLine, CostRecord, UserProfile
from tally.money import quantize_storage
from tally.names import record_name
from tally.resources import line_match_key, match_key

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class OwnerTagRule:
    """How an owner tag's value names a user: by email, username, user id, or a mapping."""

    key: str = "Owner"
    explicit: Mapping[str, str] = field(default_factory=dict)  # tag value -> id, name or email

    def resolver(self, users: Iterable[UserProfile]) -> dict[str, str]:
        table: dict[str, str] = {}
        for u in users:
            table[u.user_id.lower()] = u.user_id
            table[u.username.lower()] = u.user_id
            if u.email:
                table[u.email.lower()] = u.user_id
        # An explicit entry may name its user by id, username or email; one naming nobody
        # known is dropped, so the line stays visibly unallocated rather than lost.
        for tag_value, user in self.explicit.items():
            resolved = table.get(user.lower())
            if resolved:
                table[tag_value.lower()] = resolved
        return table


def line_identity(line: CostLine, tag_value: str | None) -> tuple[str, ...]:
    return (
        line.day.isoformat(),
        line.service,
        line.resource_id or "",
        line.charge_category,
        line.currency,
        line.usage_unit or "",
        tag_value or "",
    )


def merge_lines(lines: Iterable[CostLine], owner_tag_key: str) -> dict[tuple[str, ...], CostLine]:
    """Lines with the same identity (e.g. hourly FOCUS rows of a day) become one."""
    merged: dict[tuple[str, ...], CostLine] = {}
    for line in lines:
        key = line_identity(line, line.tags.get(owner_tag_key))
        prev = merged.get(key)
        if prev is None:
            merged[key] = line
        else:
            merged[key] = CostLine(
                day=prev.day,
                service=prev.service,
                resource_id=prev.resource_id,
                billed_cost=prev.billed_cost + line.billed_cost,
                effective_cost=prev.effective_cost + line.effective_cost,
                currency=prev.currency,
                usage_quantity=prev.usage_quantity + line.usage_quantity,
                usage_unit=prev.usage_unit,
                charge_category=prev.charge_category,
                estimated=prev.estimated or line.estimated,
                tags=prev.tags,
                resource_name=prev.resource_name or line.resource_name,
            )
    return merged


def _line_id(identity: tuple[str, ...], owner: str) -> str:
    return hashlib.sha256("\x1f".join((*identity, owner)).encode()).hexdigest()[:24]


def allocate(
    lines: Iterable[CostLine],
    *,
    assignments: Iterable[Assignment],
    tag_owners: Mapping[str, str],
    owner_tag_key: str,
    source: str,
    fetched_at: datetime,
) -> list[CostRecord]:
    """Turn the organisation's lines into per-owner records (see the module docstring).

    ``assignments`` may hold every assignment ever made, ended ones included: each line is
    allocated by those in force on its day."""
    return allocate_merged(
        merge_lines(lines, owner_tag_key),
        assignments=assignments,
        tag_owners=tag_owners,
        owner_tag_key=owner_tag_key,
        source=source,
        fetched_at=fetched_at,
    )


def allocate_merged(
    merged: Mapping[tuple[str, ...], CostLine],
    *,
    assignments: Iterable[Assignment],
    tag_owners: Mapping[str, str],
    owner_tag_key: str,
    source: str,
    fetched_at: datetime,
) -> list[CostRecord]:
    """``allocate`` of lines already merged (``merge_lines``): the ingest's partition stage
    merges a slice once for the allocated and the organisation's records alike."""
    by_resource: dict[str, list[Assignment]] = defaultdict(list)
    for a in assignments:
        by_resource[match_key(a.resource_type, a.resource_id)].append(a)
    for group in by_resource.values():
        group.sort(key=lambda a: (a.assigned_at, a.assignment_id))

    records: list[CostRecord] = []
    for identity, line in merged.items():
        portions: list[tuple[str, Decimal, str]] = []  # (owner, share pct, how)
        assigned = (
            [
                a
                for a in by_resource.get(line_match_key(line.service, line.resource_id), [])
                if a.in_force(line.day)
            ]
            if line.resource_id
            else []
        )
        for a in assigned:
            portions.append((a.user_id, a.share_pct, "assignment"))
        rest = HUNDRED - sum((p[1] for p in portions), Decimal(0))
        if rest > 0:
            tag_value = line.tags.get(owner_tag_key)
            tag_owner = tag_owners.get(tag_value.strip().lower()) if tag_value else None
            if tag_owner:
                portions.append((tag_owner, rest, "tag"))
            else:
                portions.append((UNALLOCATED, rest, "unallocated"))
        # The same user may appear twice (assignment and tag): merge per owner and method.
        remaining_billed, remaining_effective, remaining_qty = (
            line.billed_cost,
            line.effective_cost,
            line.usage_quantity,
        )
        for n, (owner, share, how) in enumerate(portions):
            last = n == len(portions) - 1
            if last:
                billed, effective, qty = remaining_billed, remaining_effective, remaining_qty
            else:
                billed = quantize_storage(line.billed_cost * share / HUNDRED)
                effective = quantize_storage(line.effective_cost * share / HUNDRED)
                qty = quantize_storage(line.usage_quantity * share / HUNDRED)
                remaining_billed -= billed
                remaining_effective -= effective
                remaining_qty -= qty
            records.append(
                CostRecord(
                    owner=owner,
                    day=line.day,
                    line_id=_line_id(identity, f"{owner}#{how}"),
                    service=line.service,
                    resource_id=line.resource_id,
                    usage_quantity=qty,
                    usage_unit=line.usage_unit,
                    billed_cost=billed,
                    effective_cost=effective,
                    currency=line.currency,
                    charge_category=line.charge_category,
                    estimated=line.estimated,
                    source=source,
                    fetched_at=fetched_at,
                    allocation=how,
                    share_pct=share,
                    resource_name=record_name(line),
                )
            )
    return records
