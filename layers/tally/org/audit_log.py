"""Reading the audit log (audit:read at the organisation): every change, newest first, or one
subject's (a user id, "team:<id>" or "role:<id>")."""

from __future__ import annotations

from tally.access import require
from tally.authz import Target
from tally.models import AuditEntry, Page
from tally.store import PageKey
from tally.view import View


def read_audit(
    view: View, *, subject: str | None, limit: int, start_key: PageKey | None = None
) -> Page[AuditEntry]:
    require(view.caller, "audit:read", Target.org())
    log = view.stores.audit
    if subject is None:
        return log.list_all(limit, start_key)
    return log.list_for_user(subject, limit, start_key)
