"""The schema, the base policies and every generated policy set agree with the catalog."""

from __future__ import annotations

import json
import re

import cedarpy
import pytest

from tally.authz import permissions
from tally.authz.engine import PolicyEngine, _org_entities
from tally.authz.permissions import ACTIONS, BUILTIN_ROLES, PERMISSIONS, SELF_SERVICE
from tally.authz.policies import base_text, role_templates, schema_text, templates_of
from tally.estate.actions.catalog import ACTIONS as ESTATE_ACTIONS
from tally.org.model import ORG_SCOPE, SELF_SCOPE, AccessProfile, Grant, RoleDef

from .org import org_snapshot, team_scope


def _schema_actions() -> set[str]:
    declared = re.findall(r'action\s+((?:"[^"]+"\s*,?\s*)+)appliesTo', schema_text())
    return {name for group in declared for name in re.findall(r'"([^"]+)"', group)}


def _valid(text: str) -> None:
    result = cedarpy.validate_policies(text, schema_text())
    assert result.validation_passed, [str(e) for e in result.errors]


def test_the_schema_has_one_action_per_permission_of_the_catalog() -> None:
    assert _schema_actions() == set(PERMISSIONS) | set(SELF_SERVICE)
    assert set(ACTIONS) == set(PERMISSIONS) | set(SELF_SERVICE)


def test_the_builtin_roles_are_the_catalogs() -> None:
    raw = json.loads(permissions.ROLES_FILE.read_text())
    assert set(BUILTIN_ROLES) == set(raw["roles"])
    # Everything but the estate's IAM actions, which no built-in role holds (issue 15): even
    # an admin acts on IAM users only once granted each of them.
    iam = {spec.permission for spec in ESTATE_ACTIONS.values() if spec.family == "iam"}
    assert len(iam) == 8 and iam <= set(PERMISSIONS)
    assert BUILTIN_ROLES["admin"].permissions == frozenset(PERMISSIONS) - iam
    assert not any(iam & role.permissions for role in BUILTIN_ROLES.values())
    assert all(role.builtin for role in BUILTIN_ROLES.values())
    # The auditor changes nothing; finance changes only billing's own rules, as issue 17 gives
    # it ("finance and admins"), nothing of people, budgets or resources.
    assert all(PERMISSIONS[p].read_only for p in BUILTIN_ROLES["auditor"].permissions)
    finance = BUILTIN_ROLES["finance"].permissions
    assert {p for p in finance if not PERMISSIONS[p].read_only} == {
        "tax:write",
        "invoices:templates",
        "rates:write",
        "billing:settings",
        "payments:issue",
    }


def test_base_policies_and_builtin_templates_validate() -> None:
    _valid(base_text())
    _valid(base_text() + templates_of(BUILTIN_ROLES.values()))


def test_custom_role_templates_validate_and_grant_only_catalog_permissions() -> None:
    custom = RoleDef("cost-viewer", "Cost viewer", "", frozenset({"costs:read", "gone:perm"}))
    text = role_templates(custom)
    _valid(base_text() + text)
    assert "gone:perm" not in text
    assert 'Tally::Action::"costs:read"' in text
    # A role without a permission has no templates (it grants nothing).
    assert role_templates(RoleDef("empty", "Empty", "", frozenset())) == ""
    # Nor has a role whose id is not a slug: it is written into Cedar text.
    forged = RoleDef('x", action, resource); permit(principal', "X", "", frozenset({"costs:read"}))
    assert role_templates(forged) == ""


def test_every_linked_policy_set_validates_against_the_schema() -> None:
    roles = {
        f"custom-{n}": RoleDef(
            f"custom-{n}", f"Custom {n}", "", frozenset(list(PERMISSIONS)[: n + 1])
        )
        for n in range(5)
    }
    snapshot = org_snapshot(roles=roles, payments=(Grant("custom-2", team_scope("payments")),))
    engine = PolicyEngine(snapshot)
    grants = tuple(
        Grant(role_id, scope)
        for role_id in [*BUILTIN_ROLES, *roles]
        for scope in (ORG_SCOPE, SELF_SCOPE, team_scope("engineering"))
    )
    profile = AccessProfile(
        "u", grants=grants, teams=frozenset({"payments"}), manages=frozenset({"data"})
    )
    sources = engine.sources(profile)
    linked = engine._policies_for(sources)
    text = str(linked)
    _valid(text)
    # One linked policy per grant held (admin only at the organisation).
    for key in sources:
        assert f'Tally::Role::"{key}"' in text
    assert 'Tally::Role::"admin@self"' not in text


def test_the_organisations_entities_conform_to_the_schema() -> None:
    snapshot = org_snapshot(engineering=(Grant("auditor", team_scope("engineering")),))
    cedarpy.Entities.from_json_str(json.dumps(_org_entities(snapshot)), schema_text())


def test_a_permission_outside_the_catalog_is_a_programming_error() -> None:
    engine = PolicyEngine(org_snapshot())
    from tally.authz import Target

    with pytest.raises(ValueError, match="not a permission"):
        engine.decide(AccessProfile("u"), "costs:delete", Target.org())


def test_cedarpys_syntax_tree_module_waits_until_it_is_used() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = """
import sys
import tally.authz.engine as engine
held = sys.modules["cedarpy.pst"].__dict__
assert "PolicySet" not in held, "cedarpy.pst was loaded at import"
nodes = engine.cedarpy.policies_to_pst("permit (principal, action, resource);")
assert type(nodes).__module__ == "cedarpy.pst", type(nodes)
assert engine.cedarpy.pst.PolicySet is type(nodes)
from tally.authz import Target
from tally.org.model import AccessProfile, OrgSnapshot
decided = engine.PolicyEngine(OrgSnapshot()).decide(
    AccessProfile("u"), "account:use", Target.user("u")
)
assert decided.allowed
print("ok")
"""
    root = Path(__file__).resolve().parents[2]
    path = os.pathsep.join(str(root / p) for p in ("layers", "functions", "."))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert out.stdout.strip() == "ok", out.stderr
