"""The permission catalog and the built-in roles, from ``policies/roles.json``.

The file is the one source: the Cedar schema's actions, the role templates, the API's route
table and the dashboard all name these permissions. In Lambda the ``policies`` folder is
shipped in the shared layer at ``/opt/policies``, three folders above this module's copy at
``/opt/python/tally/authz/`` (as ``templates/`` is for the email renderer), so the same
relative path finds it in the repository and in the layer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tally.org.model import OrgSnapshot, RoleDef

POLICIES_DIR = Path(__file__).resolve().parents[3] / "policies"
ROLES_FILE = POLICIES_DIR / "roles.json"

ADMIN = "admin"
FINANCE = "finance"
TEAM_MANAGER = "team-manager"
MEMBER = "member"
AUDITOR = "auditor"


@dataclass(frozen=True)
class PermissionInfo:
    description: str
    read_only: bool


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON lets a key repeat (the last wins): a merge that leaves two "description"s or two
    # roles of one name must fail here, not go quietly unnoticed.
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise RuntimeError(f"a key repeats in the permission catalog: {sorted(keys)}")
    return dict(pairs)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique)
    return data


def _infos(raw: Mapping[str, Any]) -> dict[str, PermissionInfo]:
    return {
        name: PermissionInfo(description=info["description"], read_only=bool(info["readOnly"]))
        for name, info in raw.items()
    }


_CATALOG = _load(ROLES_FILE)

# Grantable permissions, in the catalog's order (the order the API and dashboard list them).
PERMISSIONS: dict[str, PermissionInfo] = _infos(_CATALOG["permissions"])
# Everyone's, on their own data only; never part of a role.
SELF_SERVICE: dict[str, PermissionInfo] = _infos(_CATALOG["selfService"])
# Every Cedar action: grantable first, then self-service.
ACTIONS: tuple[str, ...] = (*PERMISSIONS, *SELF_SERVICE)

BUILTIN_ROLES: dict[str, RoleDef] = {
    role_id: RoleDef(
        role_id=role_id,
        name=role["name"],
        description=role["description"],
        permissions=frozenset(role["permissions"]),
        builtin=True,
    )
    for role_id, role in _CATALOG["roles"].items()
}


def _check_catalog() -> None:
    # A typo in roles.json would otherwise surface as a Cedar parse error in every request.
    unknown = {
        (role_id, p)
        for role_id, role in BUILTIN_ROLES.items()
        for p in role.permissions
        if p not in PERMISSIONS
    }
    if unknown:
        raise RuntimeError(f"{ROLES_FILE}: roles name unknown permissions: {sorted(unknown)}")
    if set(PERMISSIONS) & set(SELF_SERVICE):
        raise RuntimeError(f"{ROLES_FILE}: a permission is both grantable and self-service")
    if set(BUILTIN_ROLES) != {ADMIN, FINANCE, TEAM_MANAGER, MEMBER, AUDITOR}:
        raise RuntimeError(f"{ROLES_FILE}: the built-in roles changed; update the constants")


_check_catalog()


def all_roles(snapshot: OrgSnapshot) -> dict[str, RoleDef]:
    """Built-in and custom roles by id (a custom role never shadows a built-in one)."""
    return {**snapshot.roles, **BUILTIN_ROLES}


def role_of(snapshot: OrgSnapshot, role_id: str) -> RoleDef | None:
    """The role ``role_id`` names, or None for a deleted (or never created) one."""
    return BUILTIN_ROLES.get(role_id) or snapshot.roles.get(role_id)
