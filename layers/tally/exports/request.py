"""What may be exported, and by whom: the export's access and range rules, checked when the
export is asked for (the API) so the background job only ever writes what was allowed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from tally.access import require
from tally.authz import Target
from tally.calendar import month_days
from tally.errors import Invalid
from tally.reports.periods import resolve_range
from tally.view import View

COSTS = "costs"
ALL_USERS = "all-users"
CHARGEBACK = "chargeback"
EXPORT_KINDS = (COSTS, ALL_USERS, CHARGEBACK)


@dataclass(frozen=True)
class ExportRequest:
    """An export asked for: ``start`` to ``end`` inclusive. ``user_id`` is the owner of a
    "costs" export (a user, or ``ORG``/``UNALLOCATED`` for admins); an "all-users" export
    has none. The filters (``service`` exact, ``resource_id`` exact, ``search`` a
    case-insensitive part of the resource id or service) select cost lines."""

    kind: str
    start: date
    end: date
    user_id: str | None = None
    service: str | None = None
    resource_id: str | None = None
    search: str | None = None
    # A chargeback's: its month (``start``/``end`` are then the month's days), grouping,
    # file format (csv | pdf) and, optionally, its one unit.
    month: str | None = None
    group_by: str | None = None
    format: str = "csv"
    unit: str | None = None


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def validate_export(view: View, body: ExportRequest) -> ExportRequest:
    """The request as it will run: the owner of a "costs" export defaults to the caller,
    blank filters are none. Raises ``Forbidden`` (another user's costs without being an
    admin; an "all-users" export without being one) or ``Invalid`` (kind, range: at most
    366 days, start not after end; filters an "all-users" export cannot apply)."""
    if body.kind not in EXPORT_KINDS:
        raise Invalid.field("kind", f"kind is one of {', '.join(EXPORT_KINDS)}")
    if body.kind == CHARGEBACK:
        return _chargeback(view, body)
    for name, given in (("month", body.month), ("groupBy", body.group_by), ("unit", body.unit)):
        if given is not None:
            raise Invalid.field(name, "only a chargeback export takes month, groupBy and unit")
    if body.format != "csv":
        raise Invalid.field("format", "a costs or all-users export is a CSV file")
    request = replace(
        body,
        user_id=_blank_to_none(body.user_id),
        service=_blank_to_none(body.service),
        resource_id=_blank_to_none(body.resource_id),
        search=_blank_to_none(body.search),
    )
    if request.kind == COSTS:
        owner = request.user_id or view.caller.user_id
        require(view.caller, "exports:create", Target.owner(owner))
        request = replace(request, user_id=owner)
    else:
        for action in ("exports:create", "users:read"):
            require(view.caller, action, Target.org())
        if request.user_id is not None:
            raise Invalid.field("userId", "an all-users export covers every user: no userId")
        # Roll-ups hold costs per owner and service, not per resource.
        for name, value in (("resourceId", request.resource_id), ("search", request.search)):
            if value is not None:
                raise Invalid.field(name, "an all-users export filters by service only")
    start, end = resolve_range(request.start, request.end, view.today)
    return replace(request, start=start, end=end)


def export_range(
    kind: str, start: date | None, end: date | None, month: str | None
) -> tuple[date, date]:
    """The days an export asks for: a chargeback's month, else ``start``..``end`` (both
    needed: 422 on the missing one)."""
    if kind == CHARGEBACK:
        if month is None:
            raise Invalid.field("month", "a chargeback export names its month (YYYY-MM)")
        try:
            first, after = month_days(month)
        except ValueError:
            raise Invalid.field("month", "a month as YYYY-MM") from None
        return first, after - timedelta(days=1)
    if start is None:
        raise Invalid.field("startDate", "the first day of the export is required")
    if end is None:
        raise Invalid.field("endDate", "the last day of the export is required")
    return start, end


def _chargeback(view: View, body: ExportRequest) -> ExportRequest:
    """A chargeback export covers the whole organisation: exports:create and costs:read at
    its scope. It takes a month that has begun, a grouping and optionally one of its units."""
    from tally.chargeback import NO_TEAM, NO_UNIT, GroupBy, check_month
    from tally.org.model import TeamKind

    for action in ("exports:create", "costs:read"):
        require(view.caller, action, Target.org())
    for name, value in (
        ("userId", body.user_id),
        ("service", body.service),
        ("resourceId", body.resource_id),
        ("search", body.search),
    ):
        if _blank_to_none(value) is not None:
            raise Invalid.field(name, "a chargeback export takes month, groupBy, format and unit")
    if body.month is None:
        raise Invalid.field("month", "a chargeback export names its month (YYYY-MM)")
    check_month(body.month, view.today)
    if body.group_by not in tuple(GroupBy):
        raise Invalid.field("groupBy", "groupBy is team, department or costCenter")
    if body.format not in ("csv", "pdf"):
        raise Invalid.field("format", "format is csv or pdf")
    unit = _blank_to_none(body.unit)
    if unit is not None:
        group_by = GroupBy(body.group_by)
        teams = view.stores.access.list_teams()
        if group_by is GroupBy.TEAM:
            known = {t.team_id for t in teams}
        elif group_by is GroupBy.DEPARTMENT:
            known = {t.team_id for t in teams if t.kind is TeamKind.DEPARTMENT} | {NO_UNIT}
        else:
            known = {t.cost_center for t in teams if t.cost_center} | {NO_UNIT}
        if body.format == "csv":
            known.add(NO_TEAM)  # the people in no team have a line, not a statement
        if unit not in known:
            raise Invalid.field("unit", f"no unit {unit!r} when grouping by {group_by.value}")
    first, after = month_days(body.month)
    return replace(body, unit=unit, start=first, end=after - timedelta(days=1))
