"""Roles: the built-in ones (``policies/roles.json``, fixed) and the organisation's custom
roles, named sets of grantable permissions. Admins (roles:write) create, change and delete
custom roles; no one writes into a role a permission they do not hold themselves."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tally.access import require
from tally.authz import Target
from tally.authz.permissions import BUILTIN_ROLES, PERMISSIONS, role_of
from tally.clock import Clock, utc_now
from tally.errors import Conflict, Invalid, NotFound
from tally.org.common import audit_entry, check_name, new_id, require_change
from tally.org.model import ORG_SCOPE, Grant, OrgSnapshot, RoleDef
from tally.org.snapshots import with_role
from tally.view import View

DESCRIPTION_MAX = 500
NO_SUCH_ROLE = "no such role"


@dataclass(frozen=True)
class RoleInput:
    name: str
    permissions: frozenset[str]
    description: str = ""
    role_id: str | None = None  # a new role's id; made from the name when not given


def role_doc(role: RoleDef) -> dict[str, object]:
    """A role as the audit log keeps it."""
    return {
        "roleId": role.role_id,
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.permissions),
    }


def _permissions(given: Iterable[str]) -> frozenset[str]:
    permissions = frozenset(given)
    unknown = sorted(permissions - PERMISSIONS.keys())
    if unknown:
        raise Invalid.field("permissions", f"unknown permissions: {', '.join(unknown)}")
    if not permissions:
        raise Invalid.field("permissions", "a role gives at least one permission")
    return permissions


def _description(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > DESCRIPTION_MAX:
        raise Invalid.field("description", f"at most {DESCRIPTION_MAX} characters")
    return cleaned


def list_roles(view: View) -> list[RoleDef]:
    """Every role: the built-in ones in the catalog's order, then the custom ones by name."""
    require(view.caller, "roles:read", Target.org())
    custom = view.stores.access.snapshot().roles.values()
    return [*BUILTIN_ROLES.values(), *sorted(custom, key=lambda r: (r.name.lower(), r.role_id))]


def get_role(view: View, role_id: str) -> RoleDef:
    require(view.caller, "roles:read", Target.org())
    role = role_of(view.stores.access.snapshot(), role_id)
    if role is None:
        raise NotFound(NO_SUCH_ROLE)
    return role


def create_role(view: View, role: RoleInput, *, clock: Clock = utc_now) -> RoleDef:
    caller, store = view.caller, view.stores.access
    require(caller, "roles:write", Target.org())
    name = check_name(role.name)
    role_id = new_id(role.role_id, name, field="roleId")
    permissions = _permissions(role.permissions)
    description = _description(role.description)
    snapshot = store.snapshot()
    if role_of(snapshot, role_id) is not None:
        raise Conflict(f"the role id {role_id!r} is taken")
    now = clock()
    new = RoleDef(role_id, name, description, permissions, updated_at=now)
    _require_holds(view, new, snapshot)
    return store.save_role(
        new,
        previous=None,
        snapshot=snapshot,
        audit=audit_entry(
            caller, f"role:{role_id}", "role.created", role_id, None, role_doc(new), now
        ),
    )


def _to_change(snapshot: OrgSnapshot, role_id: str, expected_version: int | None) -> RoleDef:
    """The custom role a change or deletion applies to, as the caller last read it (If-Match)."""
    current = _custom(snapshot.roles.get(role_id), role_id)
    if expected_version is not None and expected_version != current.version:
        raise Conflict("the role was changed by someone else; reload and retry")
    return current


def update_role(
    view: View,
    role_id: str,
    changes: RoleInput,
    *,
    expected_version: int | None = None,
    clock: Clock = utc_now,
) -> RoleDef:
    """Replace a custom role's name, description and permissions (built-in ones: 409). The
    change applies to everyone holding it from the next decision on."""
    caller, store = view.caller, view.stores.access
    require(caller, "roles:write", Target.org())
    snapshot = store.snapshot()
    current = _to_change(snapshot, role_id, expected_version)
    now = clock()
    changed = RoleDef(
        role_id,
        check_name(changes.name),
        _description(changes.description),
        _permissions(changes.permissions),
        version=current.version,
        updated_at=now,
    )
    _require_holds(view, changed, snapshot)
    return store.save_role(
        changed,
        previous=current,
        snapshot=snapshot,
        audit=audit_entry(
            caller,
            f"role:{role_id}",
            "role.updated",
            role_id,
            role_doc(current),
            role_doc(changed),
            now,
        ),
    )


def delete_role(
    view: View, role_id: str, *, expected_version: int | None = None, clock: Clock = utc_now
) -> None:
    """Delete a custom role. Grants of it stay where they are and give nothing (access views
    show them as a deleted role); a role made again with the same id gives its own permissions
    to them."""
    caller, store = view.caller, view.stores.access
    require(caller, "roles:write", Target.org())
    snapshot = store.snapshot()
    current = _to_change(snapshot, role_id, expected_version)
    store.delete_role(
        current,
        snapshot=snapshot,
        audit=audit_entry(
            caller, f"role:{role_id}", "role.deleted", role_id, role_doc(current), None, clock()
        ),
    )


def _custom(role: RoleDef | None, role_id: str) -> RoleDef:
    if role_id in BUILTIN_ROLES:
        raise Conflict("built-in roles cannot be changed or deleted")
    if role is None:
        raise NotFound(NO_SUCH_ROLE)
    return role


def _require_holds(view: View, role: RoleDef, snapshot: OrgSnapshot) -> None:
    # Writing a permission into a role grants it to everyone who holds the role, anywhere:
    # the writer must hold it at the organisation.
    require_change(
        view.caller,
        "roles:write",
        Target.org(),
        with_role(snapshot, role),
        granted=[Grant(role.role_id, ORG_SCOPE)],
    )
