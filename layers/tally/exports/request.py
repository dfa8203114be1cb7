"""What may be exported, and by whom: the export's access and range rules, checked when the
export is asked for (the API) so the background job only ever writes what was allowed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from tally.access import require_admin, require_owner_access
from tally.errors import Invalid
from tally.reports.periods import resolve_range
from tally.view import View

COSTS = "costs"
ALL_USERS = "all-users"
EXPORT_KINDS = (COSTS, ALL_USERS)


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


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def validate_export(view: View, body: ExportRequest) -> ExportRequest:
    """The request as it will run: the owner of a "costs" export defaults to the caller,
    blank filters are none. Raises ``Forbidden`` (another user's costs without being an
    admin; an "all-users" export without being one) or ``Invalid`` (kind, range: at most
    366 days, start not after end; filters an "all-users" export cannot apply)."""
    if body.kind not in EXPORT_KINDS:
        raise Invalid.field("kind", f"kind is one of {', '.join(EXPORT_KINDS)}")
    request = replace(
        body,
        user_id=_blank_to_none(body.user_id),
        service=_blank_to_none(body.service),
        resource_id=_blank_to_none(body.resource_id),
        search=_blank_to_none(body.search),
    )
    if request.kind == COSTS:
        owner = request.user_id or view.caller.user_id
        require_owner_access(view.caller, owner)
        request = replace(request, user_id=owner)
    else:
        require_admin(view.caller)
        if request.user_id is not None:
            raise Invalid.field("userId", "an all-users export covers every user: no userId")
        # Roll-ups hold costs per owner and service, not per resource.
        for name, value in (("resourceId", request.resource_id), ("search", request.search)):
            if value is not None:
                raise Invalid.field(name, "an all-users export filters by service only")
    start, end = resolve_range(request.start, request.end, view.today)
    return replace(request, start=start, end=end)
