"""Custom roles: created, changed and deleted by admins from the permission catalog, each
change in the audit log; built-in roles fixed; no one writes into a role a permission they do
not hold."""

from __future__ import annotations

import json

import pytest

from tally.authz.permissions import BUILTIN_ROLES
from tally.errors import Conflict, Forbidden, Invalid, NotFound
from tally.org import grants, roles
from tally.org.roles import RoleInput
from tally.store import Stores
from tests.org.conftest import clock, view_of

VIEWER = RoleInput("Cost viewer", frozenset({"costs:read", "budgets:read"}), "reads costs")


def test_admin_creates_a_custom_role_listed_after_the_built_in_ones(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    created = roles.create_role(admin, VIEWER, clock=clock)
    assert (created.role_id, created.version, created.builtin) == ("cost-viewer", 1, False)
    assert [r.role_id for r in roles.list_roles(admin)] == [*BUILTIN_ROLES, "cost-viewer"]
    assert roles.get_role(admin, "cost-viewer") == created
    assert roles.get_role(admin, "finance") == BUILTIN_ROLES["finance"]
    with pytest.raises(NotFound):
        roles.get_role(admin, "nope")

    # The change is in the log, before and after, for the auditor to read
    (entry,) = org_stores.audit.list_all(10).items
    assert (entry.subject_user_id, entry.action, entry.actor) == (
        "role:cost-viewer",
        "role.created",
        "u-admin",
    )
    assert json.loads(entry.details["before"]) is None
    assert json.loads(entry.details["after"])["permissions"] == ["budgets:read", "costs:read"]


@pytest.mark.parametrize(
    ("role", "field"),
    [
        (RoleInput("x" * 81, frozenset({"costs:read"})), "name"),
        (RoleInput("  ", frozenset({"costs:read"})), "name"),
        (RoleInput("Viewer", frozenset({"costs:read", "costs:delete"})), "permissions"),
        (RoleInput("Viewer", frozenset({"account:use"})), "permissions"),  # self-service
        (RoleInput("Viewer", frozenset()), "permissions"),
        (RoleInput("Viewer", frozenset({"costs:read"}), role_id="Bad Id"), "roleId"),
        (RoleInput("!!!", frozenset({"costs:read"})), "roleId"),  # the name makes no id
        (RoleInput("Viewer", frozenset({"costs:read"}), "d" * 501), "description"),
    ],
)
def test_bad_roles_are_refused_on_their_field(
    org_stores: Stores, role: RoleInput, field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        roles.create_role(view_of(org_stores, "u-admin"), role, clock=clock)
    assert refused.value.errors[0].field == field
    assert org_stores.audit.list_all(10).items == []


def test_taken_ids_and_built_in_roles(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    roles.create_role(admin, VIEWER, clock=clock)
    for taken in ("cost-viewer", "finance"):
        with pytest.raises(Conflict):
            roles.create_role(
                admin, RoleInput("Other", frozenset({"costs:read"}), role_id=taken), clock=clock
            )
    with pytest.raises(Conflict):
        roles.update_role(admin, "admin", VIEWER, clock=clock)
    with pytest.raises(Conflict):
        roles.delete_role(admin, "member", clock=clock)
    with pytest.raises(NotFound):
        roles.update_role(admin, "nope", VIEWER, clock=clock)


def test_update_is_versioned_and_delete_leaves_grants_inert(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    roles.create_role(admin, VIEWER, clock=clock)
    changed = roles.update_role(
        admin,
        "cost-viewer",
        RoleInput("Cost viewer", frozenset({"costs:read"})),
        expected_version=1,
        clock=clock,
    )
    assert changed.version == 2 and changed.permissions == {"costs:read"}
    with pytest.raises(Conflict):
        roles.update_role(admin, "cost-viewer", VIEWER, expected_version=1, clock=clock)

    # Given bob holds it, when it is deleted, his grant stays but gives nothing
    grants.set_user_roles(admin, "u-bob", [("cost-viewer", "org")], clock=clock)
    roles.delete_role(admin, "cost-viewer", expected_version=2, clock=clock)
    assert "cost-viewer" not in org_stores.access.snapshot().roles
    kept = grants.get_user_roles(admin, "u-bob")
    assert [g.role_id for g in kept.grants] == ["cost-viewer"]
    actions = [e.action for e in org_stores.audit.list_for_user("role:cost-viewer", 10).items]
    assert actions == ["role.deleted", "role.updated", "role.created"]


def test_members_and_finance_cannot_write_roles(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    grants.set_user_roles(admin, "u-fiona", [("finance", "org")], clock=clock)
    for who in ("u-alice", "u-fiona"):
        with pytest.raises(Forbidden):
            roles.create_role(view_of(org_stores, who), VIEWER, clock=clock)
    # finance reads roles, a member does not
    assert roles.list_roles(view_of(org_stores, "u-fiona"))
    with pytest.raises(Forbidden):
        roles.list_roles(view_of(org_stores, "u-alice"))


def test_no_one_writes_into_a_role_what_they_do_not_hold(org_stores: Stores) -> None:
    # Given carol may write roles but holds nothing else
    admin = view_of(org_stores, "u-admin")
    roles.create_role(
        admin, RoleInput("Role writer", frozenset({"roles:write", "roles:read"})), clock=clock
    )
    grants.set_user_roles(admin, "u-carol", [("role-writer", "org")], clock=clock)
    carol = view_of(org_stores, "u-carol")

    # Then she cannot make a role that reads costs, nor widen one to it
    with pytest.raises(Forbidden) as refused:
        roles.create_role(carol, VIEWER, clock=clock)
    assert "budgets:read, costs:read" in refused.value.detail
    with pytest.raises(Forbidden):
        roles.update_role(carol, "role-writer", VIEWER, clock=clock)
    # But what she holds herself she may write
    made = roles.create_role(carol, RoleInput("Readers", frozenset({"roles:read"})), clock=clock)
    assert made.permissions == {"roles:read"}
