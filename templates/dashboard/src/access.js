// What the signed-in person may do, from GET /api/me: `permissions.granted` ([{permission,
// scope}], scope "org", "team:<id>" or "self") and `permissions.roles` ([{roleId, scope, via,
// teamId}]).
// The nav and the views ask this one helper; it only decides what to show: the API decides
// every call on its own.

export const ORG = "org";
export const TEAM_MANAGER = "team-manager";

/** "team:payments" -> "payments"; anything else -> null. */
export function teamOfScope(scope) {
  return typeof scope === "string" && scope.startsWith("team:") ? scope.slice(5) : null;
}

/** How a scope reads: "the organisation", "team “payments”", "their own data". */
export function scopeText(scope) {
  if (scope === ORG) return "the organisation";
  if (scope === "self") return "their own data";
  const team = teamOfScope(scope);
  return team ? `team “${team}”` : String(scope);
}

/**
 * access(me).can(permission, scope?): without a scope, held anywhere; "org": held
 * organisation-wide; "team:<id>": held at the organisation or for that team (or, with
 * `teams` given as [{teamId, parentId}], for a team above it); "self": held at any scope.
 */
export function createAccess(me, teams = []) {
  const granted = Array.isArray(me?.permissions?.granted) ? me.permissions.granted : [];
  // The roles sit beside `granted` in `permissions` (read at the top level too, to be lenient).
  const listed = me?.permissions?.roles ?? me?.roles;
  const roles = Array.isArray(listed) ? listed : [];
  const parents = new Map(teams.map((t) => [t.teamId, t.parentId || null]));

  function teamAndAbove(teamId) {
    const chain = [];
    const seen = new Set();
    for (let id = teamId; id && !seen.has(id); id = parents.get(id)) {
      seen.add(id);
      chain.push(`team:${id}`);
    }
    return chain;
  }

  function can(permission, scope) {
    const held = granted.filter((g) => g.permission === permission);
    if (!scope || scope === "self") return held.length > 0;
    if (held.some((g) => g.scope === ORG)) return true;
    const team = teamOfScope(scope);
    if (!team) return false;
    const wanted = new Set(teamAndAbove(team));
    return held.some((g) => wanted.has(g.scope));
  }

  /** The teams the person manages (team-manager scoped to a team, held directly or derived). */
  function managedTeams() {
    const ids = roles
      .filter((r) => r.roleId === TEAM_MANAGER)
      .map((r) => r.teamId || teamOfScope(r.scope))
      .filter(Boolean);
    return [...new Set(ids)].sort();
  }

  return {
    can,
    managedTeams,
    /** Whether the permission is held for some team (which teams sit under it, the API knows). */
    teamScoped: (permission) => granted.some((g) => g.permission === permission && teamOfScope(g.scope)),
    roles: () => roles,
    known: Boolean(me),
    /** Whether the person may open a team's page (its managers, or teams:read + costs:read). */
    canSeeTeam: (teamId) =>
      managedTeams().includes(teamId) || (can("teams:read", `team:${teamId}`) && can("costs:read", `team:${teamId}`)),
  };
}
