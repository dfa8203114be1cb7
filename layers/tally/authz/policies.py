"""The Cedar text of the roles: two templates per role, generated from its permission list.

A role is not a policy of its own: it is a pair of templates, and every grant of it links one
of them. The link's id is the grant key ("finance@org", "team-manager@team:payments",
"member@self"), which is also the id of the principal group (``Role::"<key>"``) of everyone
holding that grant, so Cedar's reasons name the grants that decided.

- scoped: ``permit(principal in ?principal, action in [..], resource in ?resource)``, linked
  with ?principal = ``Role::"<key>"`` and ?resource = ``Org::"org"`` or ``Team::"<t>"`` (a
  team and, through the team tree, the teams under it and their members);
- self: ``permit(principal in ?principal, action in [..], resource) when { resource ==
  principal }``, linked with ?principal = ``Role::"<role>@self"``.

The built-in roles' templates are generated from ``policies/roles.json`` once per process; a
custom role's from the organisation snapshot. ``policies/base.cedar`` holds the static
policies (self-service, one's own teams, the forbids) and ``policies/schema.cedarschema``
the schema every generated set is validated against (tests/authz).
"""

from __future__ import annotations

from collections.abc import Iterable

from tally.authz.permissions import PERMISSIONS, POLICIES_DIR
from tally.org.model import SLUG, Grant, RoleDef, ScopeKind

NAMESPACE = "Tally"
SCHEMA_FILE = POLICIES_DIR / "schema.cedarschema"
BASE_FILE = POLICIES_DIR / "base.cedar"


def scoped_template_id(role_id: str) -> str:
    return f"role:{role_id}:scoped"


def self_template_id(role_id: str) -> str:
    return f"role:{role_id}:self"


def _actions(role: RoleDef) -> str:
    # Catalog order, so the generated text is stable; a permission the catalog no longer has
    # (a custom role saved before it was removed) grants nothing.
    names = [p for p in PERMISSIONS if p in role.permissions]
    return ", ".join(f'{NAMESPACE}::Action::"{name}"' for name in names)


def role_templates(role: RoleDef) -> str:
    """The two templates of ``role``; empty for a role without permissions (it grants
    nothing, and Cedar's validator refuses an empty action list)."""
    actions = _actions(role)
    # The id is written into Cedar text: anything but a slug (which the use cases enforce)
    # could change the policy, so such a role grants nothing.
    if not actions or not SLUG.fullmatch(role.role_id):
        return ""
    return (
        f'@id("{scoped_template_id(role.role_id)}")\n'
        f"permit (principal in ?principal, action in [{actions}], resource in ?resource);\n"
        f'@id("{self_template_id(role.role_id)}")\n'
        f"permit (principal in ?principal, action in [{actions}], resource)\n"
        "when { resource == principal };\n"
    )


def templates_of(roles: Iterable[RoleDef]) -> str:
    return "".join(role_templates(role) for role in roles)


def base_text() -> str:
    return BASE_FILE.read_text(encoding="utf-8")


def schema_text() -> str:
    return SCHEMA_FILE.read_text(encoding="utf-8")


def uid(kind: str, entity_id: str) -> dict[str, str]:
    """A Cedar entity uid in JSON form (ids are never parsed as Cedar text)."""
    return {"type": f"{NAMESPACE}::{kind}", "id": entity_id}


ORG_UID = uid("Org", "org")


def link_of(grant: Grant, role: RoleDef) -> dict[str, object] | None:
    """The template link that gives ``grant`` (id: the grant key); None when the role
    grants nothing."""
    if not role_templates(role):
        return None
    principal = uid("Role", grant.key)
    if grant.scope.kind is ScopeKind.SELF:
        return {
            "template_id": self_template_id(role.role_id),
            "new_id": grant.key,
            "values": {"?principal": principal},
        }
    resource = (
        ORG_UID if grant.scope.kind is ScopeKind.ORG else uid("Team", grant.scope.team_id or "")
    )
    return {
        "template_id": scoped_template_id(role.role_id),
        "new_id": grant.key,
        "values": {"?principal": principal, "?resource": resource},
    }
