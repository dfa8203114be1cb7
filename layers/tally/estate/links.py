"""Which Tally user an IAM user is, as an admin says (issue 15): the mapping that wins over
the owner tag.

The inventory links an IAM user to the Tally user its owner tag names
(``tally.estate.ownership``), recomputed and replaced on every run. A mapping an admin sets
must survive those runs, so it lives in a partition of its own, ``(account, "global",
"iam-links")``, one item per IAM user (``link#<name>``), that no refresh writes and whose items
never expire (``tally.store.estate.KEPT_FAMILIES``). The IAM views read it beside the owners
partition (one Query more, whatever the number of users) and let it win.

Setting or removing a mapping needs ``estate:iam:link`` at the organisation (the admin role's),
is idempotent (the same mapping again writes nothing and audits nothing) and is audited with
its before and after, like every other admin write.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tally.access import require
from tally.authz import Target
from tally.errors import NotFound
from tally.estate.inventory import GLOBAL, scope_of
from tally.estate.models import EstateRecord, EstateScope
from tally.models import ORG, AuditEntry
from tally.view import View

LINK = "estate:iam:link"
AUDIT_SET = "estate.iam-link.set"
AUDIT_REMOVED = "estate.iam-link.removed"


def links_scope(account: str) -> EstateScope:
    return EstateScope(account, GLOBAL, "iam-links")


def link_key(name: str) -> str:
    return f"link#{name}"


def read_links(records: Iterable[EstateRecord]) -> dict[str, str]:
    """IAM user name -> the Tally user id an admin mapped it to."""
    return {
        r.key.removeprefix("link#"): r.document["userId"]
        for r in records
        if r.key.startswith("link#") and r.document.get("userId")
    }


def set_link(view: View, account: str, name: str, user_id: str, now: datetime) -> bool:
    """Map the cached IAM user ``name`` to the directory's user ``user_id``; True when that
    changed anything. ``NotFound`` for an IAM user the inventory has not read or a user the
    directory does not know (nothing written)."""
    require(view.caller, LINK, Target.org())
    store = view.stores.estate
    if store.get(scope_of(account, GLOBAL, "iam"), f"user#{name}") is None:
        raise NotFound(f"no IAM user {name}")
    if view.stores.users.get(user_id) is None:
        raise NotFound(f"no Tally user {user_id}")
    scope = links_scope(account)
    current = store.get(scope, link_key(name))
    if current is not None and current.document.get("userId") == user_id:
        return False
    after = {"iamUser": name, "userId": user_id, "setBy": view.caller.user_id}
    store.put(scope, EstateRecord(link_key(name), after, now))
    _audit(view, AUDIT_SET, name, user_id, current, after, now)
    return True


def remove_link(view: View, account: str, name: str, now: datetime) -> bool:
    """Remove the admin's mapping of ``name`` (the owner tag's link, if any, shows again); True
    when there was one. ``NotFound`` when the IAM user is neither cached nor mapped (a mapping
    of a user deleted from AWS since can still be removed)."""
    require(view.caller, LINK, Target.org())
    store = view.stores.estate
    scope = links_scope(account)
    current = store.get(scope, link_key(name))
    if current is None:
        if store.get(scope_of(account, GLOBAL, "iam"), f"user#{name}") is None:
            raise NotFound(f"no IAM user {name}")
        return False
    store.delete(scope, link_key(name))
    _audit(view, AUDIT_REMOVED, name, current.document.get("userId"), current, None, now)
    return True


def _audit(
    view: View,
    action: str,
    name: str,
    subject: str | None,
    before: EstateRecord | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> None:
    view.stores.audit.record(
        AuditEntry(
            # The Tally user the change is about (the one linked, or unlinked), so their own
            # audit trail shows it.
            subject_user_id=subject or ORG,
            at=now,
            actor=view.caller.user_id,
            action=action,
            entity_id=f"iam-user#{name}",
            details={
                "before": json.dumps(before.document if before else None, sort_keys=True),
                "after": json.dumps(after, sort_keys=True),
            },
        )
    )
