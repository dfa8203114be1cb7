// #/users/<id>/access?name=<username>: a user's roles (with roles:assign, given and taken away
// here, each with its scope: the organisation, a team, or their own data) and their effective
// access: every permission they hold, where, and which role or team gives it (the policies
// that decided, as Cedar reports them through GET /api/users/{id}/access).

import { announce, emptyState, errorState, h, replace, skeleton, whileBusy } from "../dom.js";
import { scopeText, teamOfScope } from "../access.js";
import { isForbidden, noAccessPage } from "./noaccess.js";

const VIA_TEXT = {
  direct: "given to them",
  default: "by default",
  team: "through team",
  manager: "as manager of",
};

/** "Finance for the organisation, given to them" / "Member for team payments, through team data". */
export function grantText(source, roleName) {
  const team = source.teamId || teamOfScope(source.scope);
  const via =
    source.via === "team" || source.via === "manager"
      ? `${VIA_TEXT[source.via]} ${source.teamId || team || ""}`.trim()
      : VIA_TEXT[source.via] || source.via;
  return `${roleName(source.roleId)} for ${scopeText(source.scope)}, ${via}`;
}

export function userAccessView(view) {
  const { ctx, user, container, signal, params } = view;
  const { api } = ctx;
  const userId = view.path[0];
  if (!userId) {
    // #/users alone names no one: the directory is All users.
    window.location.replace("#/admin");
    return Promise.resolve();
  }
  const username = userId === user.userId ? user.username : params.get("name") || userId;
  const access = ctx.access();
  const assignable = access.can("roles:assign", "org");
  const state = { roles: [], catalog: [], teams: [], grants: null, version: null };
  const rolesBody = h("div", { class: "card-body", "aria-live": "polite" }, skeleton(3, "Loading roles"));
  const accessBody = h("div", { class: "card-body", "aria-live": "polite" }, skeleton(6, "Loading access"));
  replace(
    container,
    access.can("users:read", "org") ? h("p", {}, h("a", { href: "#/admin" }, "← All users")) : null,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, `Access: ${username}`),
        h("p", {}, "Roles held, and what they allow: each permission with where it applies and what gives it."),
      ),
    ),
    h(
      "div",
      { class: "grid" },
      h(
        "section",
        { class: "card span-12", "aria-labelledby": "user-roles-title", dataset: { testid: "user-roles" } },
        h("div", { class: "card-head" }, h("h2", { id: "user-roles-title" }, "Roles")),
        rolesBody,
      ),
      h(
        "section",
        { class: "card span-12", "aria-labelledby": "effective-title", dataset: { testid: "effective-access" } },
        h(
          "div",
          { class: "card-head" },
          h("h2", { id: "effective-title" }, "Effective access"),
          h("p", {}, "From the policies that decided"),
        ),
        accessBody,
      ),
    ),
  );

  function roleName(roleId) {
    const role = state.roles.find((r) => r.roleId === roleId);
    // Roles deleted since they were given grant nothing, and say so.
    if (role) return role.name;
    return state.roles.length ? `${roleId} (deleted role)` : roleId;
  }

  function description(permission) {
    return state.catalog.find((p) => p.id === permission)?.description || "";
  }

  function scopeOptions(selected) {
    return [
      h("option", { value: "org", selected: selected === "org" }, "The organisation"),
      ...state.teams.map((t) =>
        h("option", { value: `team:${t.teamId}`, selected: selected === `team:${t.teamId}` }, `Team ${t.name}`),
      ),
      h("option", { value: "self", selected: selected === "self" }, "Their own data"),
    ];
  }

  function showRoles(data, effective) {
    state.grants = data ? data.roles.map((r) => ({ ...r })) : null;
    state.version = data ? data.version : null;
    // Held through a team or as a manager: shown, changed on the team's page.
    const inherited = (effective?.roles || []).filter((r) => r.via === "team" || r.via === "manager");
    const formError = h("p", { class: "form-error", role: "alert", dataset: { testid: "form-error" } });
    const list = h("ul", { class: "grant-list", dataset: { testid: "grants" } });
    const drawList = () =>
      replace(
        list,
        (state.grants || []).map((grant, index) =>
          h(
            "li",
            { dataset: { grant: `${grant.roleId}@${grant.scope}` } },
            h("strong", {}, roleName(grant.roleId)),
            ` for ${scopeText(grant.scope)}`,
            data && !data.explicit ? h("span", { class: "muted" }, " (by default)") : null,
            assignable
              ? h(
                  "button",
                  {
                    type: "button",
                    class: "button small danger-text",
                    "aria-label": `Remove ${roleName(grant.roleId)} for ${scopeText(grant.scope)}`,
                    onclick: () => {
                      state.grants.splice(index, 1);
                      drawList();
                    },
                  },
                  "Remove",
                )
              : null,
          ),
        ),
        inherited.map((r) =>
          h(
            "li",
            { class: "muted", dataset: { grant: `${r.roleId}@${r.scope}` } },
            h("strong", {}, roleName(r.roleId)),
            ` for ${scopeText(r.scope)}, ${r.via === "manager" ? "as the team's manager" : `through team ${r.teamId}`}`,
          ),
        ),
        !(state.grants || []).length && !inherited.length ? h("li", { class: "muted" }, "No roles.") : null,
      );
    drawList();
    if (!assignable || !data) {
      replace(rolesBody, list);
      return;
    }
    const roleSelect = h(
      "select",
      { id: "grant-role", name: "roleId" },
      state.roles.map((r) => h("option", { value: r.roleId }, r.name)),
    );
    const scopeSelect = h("select", { id: "grant-scope", name: "scope" }, scopeOptions("org"));
    const add = h(
      "form",
      {
        class: "grant-add",
        dataset: { testid: "grant-add" },
        onsubmit(event) {
          event.preventDefault();
          const grant = { roleId: roleSelect.value, scope: scopeSelect.value };
          if (!state.grants.some((g) => g.roleId === grant.roleId && g.scope === grant.scope)) state.grants.push(grant);
          drawList();
        },
      },
      h("div", { class: "field" }, h("label", { for: "grant-role" }, "Role"), roleSelect),
      h("div", { class: "field" }, h("label", { for: "grant-scope" }, "For"), scopeSelect),
      h("button", { type: "submit", class: "button" }, "Add role"),
    );
    const save = h(
      "button",
      { type: "button", class: "button primary", dataset: { testid: "save-roles" } },
      "Save roles",
    );
    save.addEventListener("click", async () => {
      formError.textContent = "";
      await whileBusy(save, "Saving…", async () => {
        try {
          await api.setUserRoles(
            userId,
            state.grants.map(({ roleId, scope }) => ({ roleId, scope })),
          );
          announce("Roles saved.");
          await load();
        } catch (error) {
          const fields = Object.entries(error.fieldErrors || {});
          formError.textContent = fields.length
            ? fields.map(([name, message]) => `${name}: ${message}`).join(" ")
            : error.message;
        }
      });
    });
    replace(
      rolesBody,
      formError,
      list,
      add,
      h(
        "p",
        { class: "muted" },
        "Changes take effect on their next request, within the API's access cache time. You can only give permissions you hold yourself, and the last admin cannot be removed.",
      ),
      h("div", { class: "summary-actions" }, save),
    );
  }

  function showAccess(data) {
    const lines = data.permissions || [];
    if (!lines.length) {
      replace(accessBody, emptyState("No permissions.", "This user can do nothing beyond their own account."));
      return;
    }
    replace(
      accessBody,
      h(
        "div",
        { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Effective access" },
        h(
          "table",
          { dataset: { testid: "access-table" } },
          h("caption", { class: "visually-hidden" }, `What ${username} may do, and what gives it`),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Permission"),
              h("th", { scope: "col" }, "Where"),
              h("th", { scope: "col" }, "Granted by"),
            ),
          ),
          h(
            "tbody",
            {},
            lines.map((line) =>
              h(
                "tr",
                { dataset: { permission: line.permission, scope: line.scope } },
                h(
                  "th",
                  { scope: "row" },
                  h("code", {}, line.permission),
                  description(line.permission)
                    ? h("div", { class: "muted" }, h("small", {}, description(line.permission)))
                    : null,
                ),
                h("td", {}, scopeText(line.scope)),
                h(
                  "td",
                  { dataset: { testid: "granted-by" } },
                  (line.grantedBy || []).length
                    ? h(
                        "ul",
                        { class: "plain-list" },
                        line.grantedBy.map((g) => h("li", {}, grantText(g, roleName))),
                      )
                    : h("span", { class: "muted" }, "everyone, on their own account"),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  async function load() {
    try {
      const canReadRoles = access.can("roles:read", "org");
      const [effective, roles, held, teams] = await Promise.all([
        api.userAccess(userId),
        canReadRoles ? api.roles() : Promise.resolve({ items: [], permissions: [] }),
        canReadRoles ? api.userRoles(userId) : Promise.resolve(null),
        access.can("teams:read", "org") ? api.teams().then((t) => t.items || []) : Promise.resolve([]),
      ]);
      if (signal.aborted) return;
      state.roles = roles.items || [];
      state.catalog = roles.permissions || [];
      state.teams = teams;
      showRoles(
        held || { roles: effective.roles.filter((r) => r.via === "direct" || r.via === "default"), explicit: true },
        effective,
      );
      showAccess(effective);
    } catch (error) {
      if (signal.aborted) return;
      if (isForbidden(error)) {
        noAccessPage(container, { title: `Access: ${username}`, permission: "roles:read", username: user.username });
        return;
      }
      replace(rolesBody, errorState(error, load, "the roles"));
      replace(accessBody, h("p", { class: "muted" }, "The effective access shows once the roles above have loaded."));
    }
  }
  return load();
}
