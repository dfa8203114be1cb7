// Teams: the organisation's tree (departments and the teams under them) with members,
// managers, cost center and the roles given to each team; with teams:write, teams are created,
// changed and deleted here. A team manager sees the teams they manage ("My teams").
// #/teams/<id>: a team's month (GET /api/billing/team/{id}/summary) with its members' costs,
// and the team's budget, set and changed with the budget routes and `teamId`; figures also in
// the team's display currency (else the organisation's), which its managers, finance and
// admins choose here (PATCH /api/teams/{id}).

import {
  announce,
  confirmDialog,
  emptyState,
  errorState,
  field,
  h,
  openDialog,
  replace,
  skeleton,
  uid,
  whileBusy,
} from "../dom.js";
import { money, percent } from "../format.js";
import { scopeText } from "../access.js";
import { knownNames } from "./anomalies.js";
import { openBudgetModal } from "./budget.js";
import { loadingCard, statusBadge } from "./common.js";
import { CURRENCIES, convertedNote, judgedNote, teamDisplayCurrency } from "../currency.js";
import { isForbidden, noAccessPage } from "./noaccess.js";

const KIND_TEXT = { department: "Department", team: "Team" };
const FIELDS = ["name", "teamId", "kind", "parentId", "costCenter", "members", "managers", "roles"];

/** A team id the API would make from a name (SLUG), to scope a new team's roles to it. */
export function slugOf(name) {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** Teams as a tree: [{team, children: [...]}], roots (no parent, or an unknown one) first. */
export function teamTree(teams) {
  const byId = new Map(teams.map((t) => [t.teamId, { team: t, children: [] }]));
  const roots = [];
  for (const node of byId.values()) {
    const parent = node.team.parentId && byId.get(node.team.parentId);
    (parent ? parent.children : roots).push(node);
  }
  const order = (nodes) => {
    nodes.sort(
      (a, b) =>
        (a.team.kind === "department" ? 0 : 1) - (b.team.kind === "department" ? 0 : 1) ||
        a.team.name.localeCompare(b.team.name),
    );
    for (const node of nodes) order(node.children);
    return nodes;
  };
  return order(roots);
}

function nameOf(names, userId) {
  return names.get(userId) || userId;
}

function people(names, ids, testid) {
  if (!ids || !ids.length) return h("span", { class: "muted" }, "none");
  return h(
    "span",
    { dataset: { testid } },
    ids
      .map((id) => nameOf(names, id))
      .sort()
      .join(", "),
  );
}

// The people a picker lists before a filter is typed, besides those chosen: an organisation's
// hundreds of users are found by typing, not by scrolling.
export const PICKER_SHOWN = 40;

/**
 * What a people picker shows for `filter` (matched against names and ids, any case): the
 * chosen first, then the others, each group by name; every chosen match, at most `limit` of
 * the others. `more`: the matches left out.
 */
export function pickerRows(ids, { names, chosen, filter = "", limit = PICKER_SHOWN }) {
  const needle = filter.trim().toLowerCase();
  const found = needle
    ? ids.filter((id) => id.toLowerCase().includes(needle) || nameOf(names, id).toLowerCase().includes(needle))
    : ids;
  const byName = (a, b) => nameOf(names, a).localeCompare(nameOf(names, b)) || a.localeCompare(b);
  const first = found.filter((id) => chosen.has(id)).sort(byName);
  const others = found.filter((id) => !chosen.has(id)).sort(byName);
  return {
    shown: [...first, ...others.slice(0, limit)],
    matched: found.length,
    more: Math.max(0, others.length - limit),
  };
}

/** How many are chosen and what the list shows, for the picker's live status line. */
export function pickerStatus({ chosen, matched, more, filter }) {
  const picked = `${chosen} selected`;
  if (filter.trim()) {
    if (!matched) return `${picked} · no one matches “${filter.trim()}”`;
    return `${picked} · ${matched} ${matched === 1 ? "person matches" : "people match"}${more ? `, ${more} more not shown: type more of the name` : ""}`;
  }
  return more ? `${picked} · type a name to find the ${more} others` : picked;
}

/**
 * People to choose from (or ids typed, without the directory): a filter field over a list of
 * checkboxes, the chosen first. The choice lives in a set, so people the filter hides stay
 * chosen; the order is made afresh when the filter changes, never under the pointer.
 */
function peoplePicker({ label, name, names, chosen }) {
  const error = h("p", { class: "field-error", dataset: { field: name } });
  if (names.size <= 1) {
    const input = h("input", { type: "text", name, autocomplete: "off", value: [...chosen].join(", ") });
    const f = field({ label: `${label} (user ids, separated by commas)`, name, control: input });
    return {
      element: f.element,
      value: () =>
        input.value
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      setError: f.setError,
    };
  }
  const selected = new Set(chosen);
  const ids = [...new Set([...names.keys(), ...chosen])];
  const listId = uid(`${name}-list`);
  const statusId = uid(`${name}-status`);
  const filter = h("input", {
    type: "search",
    id: uid(`${name}-filter`),
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Name or user id",
    "aria-controls": listId,
    "aria-describedby": statusId,
    dataset: { testid: `${name}-filter` },
  });
  const status = h("p", { class: "field-hint", id: statusId, "aria-live": "polite" });
  const list = h("div", { class: "people-grid people-list", id: listId, dataset: { testid: `${name}-list` } });
  const boxes = new Map();

  function box(id) {
    if (!boxes.has(id)) {
      const input = h("input", {
        type: "checkbox",
        name,
        value: id,
        id: uid(`${name}-person`),
        checked: selected.has(id),
        onchange: (event) => {
          if (event.target.checked) selected.add(id);
          else selected.delete(id);
          showStatus();
        },
      });
      boxes.set(id, h("div", { class: "field-check" }, input, h("label", { for: input.id }, nameOf(names, id))));
    }
    return boxes.get(id);
  }

  let rows = { shown: [], matched: 0, more: 0 };
  function showStatus() {
    status.textContent = pickerStatus({
      chosen: selected.size,
      matched: rows.matched,
      more: rows.more,
      filter: filter.value,
    });
  }
  function render() {
    rows = pickerRows(ids, { names, chosen: selected, filter: filter.value });
    replace(list, rows.shown.map(box));
    showStatus();
  }

  filter.addEventListener("input", render);
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      // Enter in the filter must not submit the team form half done.
      event.preventDefault();
      list.querySelector("input")?.focus();
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      list.querySelector("input")?.focus();
    } else if (event.key === "Escape" && filter.value) {
      // Clears the filter; the next Escape closes the dialog.
      event.preventDefault();
      event.stopPropagation();
      filter.value = "";
      render();
    }
  });
  render();
  return {
    element: h(
      "fieldset",
      { class: "people-picker", dataset: { field: name } },
      h("legend", {}, label),
      h(
        "div",
        { class: "field picker-filter" },
        h("label", { for: filter.id }, `Find ${label.toLowerCase()}`),
        filter,
        status,
      ),
      list,
      error,
    ),
    value: () => ids.filter((id) => selected.has(id)),
    setError: (message) => {
      error.textContent = message || "";
    },
  };
}

/** Create or change a team; resolves the saved team or null. */
export function openTeamForm({ api, team = null, teams, roles, names }) {
  const textField = (label, key, value, hint) =>
    field({
      label,
      name: key,
      hint,
      control: h("input", { type: "text", name: key, autocomplete: "off", value: value || "" }),
    });
  const name = textField("Name", "name", team?.name);
  const teamId = team
    ? null
    : textField(
        "Team id (optional)",
        "teamId",
        "",
        "Lower-case letters, digits and dashes. Made from the name when left empty; it cannot change later.",
      );
  const kind = field({
    label: "Kind",
    name: "kind",
    control: h(
      "select",
      { name: "kind" },
      Object.entries(KIND_TEXT).map(([value, text]) =>
        h("option", { value, selected: (team?.kind || "team") === value }, text),
      ),
    ),
  });
  const parent = field({
    label: "Part of",
    name: "parentId",
    control: h(
      "select",
      { name: "parentId" },
      h("option", { value: "" }, "The organisation (no parent)"),
      teams
        .filter((t) => !team || t.teamId !== team.teamId)
        .map((t) =>
          h(
            "option",
            { value: t.teamId, selected: team?.parentId === t.teamId },
            `${t.name} (${KIND_TEXT[t.kind] || t.kind})`,
          ),
        ),
    ),
  });
  const costCenter = textField("Cost center (optional)", "costCenter", team?.costCenter);
  const members = peoplePicker({ label: "Members", name: "members", names, chosen: new Set(team?.members || []) });
  const managers = peoplePicker({ label: "Managers", name: "managers", names, chosen: new Set(team?.managers || []) });
  // Roles given to the team apply to its members (and the members of the teams under it).
  const given = new Map((team?.roles || []).map((r) => [r.roleId, r.scope]));
  const roleRows = roles
    .filter((r) => r.roleId !== "admin")
    .map((role) => {
      const box = h("input", {
        type: "checkbox",
        name: "roles",
        value: role.roleId,
        id: `team-role-${role.roleId}`,
        checked: given.has(role.roleId),
      });
      const scope = h(
        "select",
        { name: `scope-${role.roleId}`, "aria-label": `Scope of ${role.name}` },
        h("option", { value: "team", selected: given.get(role.roleId) !== "org" }, "for this team"),
        h("option", { value: "org", selected: given.get(role.roleId) === "org" }, "for the organisation"),
      );
      return {
        role,
        box,
        scope,
        element: h("div", { class: "field-check role-row" }, box, h("label", { for: box.id }, role.name), scope),
      };
    });
  const rolesError = h("p", { class: "field-error", dataset: { field: "roles" } });
  const rolesSet = h(
    "fieldset",
    { class: "people-picker", dataset: { field: "roles" } },
    h("legend", {}, "Roles given to the team's members"),
    h(
      "div",
      { class: "role-rows" },
      roleRows.map((r) => r.element),
    ),
    rolesError,
  );
  const fields = {
    name,
    teamId,
    kind,
    parentId: parent,
    costCenter,
    members,
    managers,
    roles: { setError: (m) => (rolesError.textContent = m || "") },
  };
  const formError = h("p", { class: "form-error", role: "alert", dataset: { testid: "form-error" } });
  const label = team ? "Save team" : "Create team";
  const save = h("button", { type: "submit", class: "button primary" }, label);

  function showProblem(error) {
    const messages = error.fieldErrors || {};
    let shown = false;
    for (const [key, message] of Object.entries(messages)) {
      const base = key.split(/[.[]/)[0];
      if (fields[base]) {
        fields[base].setError(message);
        shown = true;
      }
    }
    const others = Object.entries(messages).filter(([key]) => !FIELDS.includes(key.split(/[.[]/)[0]));
    if (!shown || others.length)
      formError.textContent = others.length ? others.map(([, m]) => m).join(" ") : error.message;
  }

  const { done } = openDialog({
    title: team ? `Edit ${team.name}` : "New team",
    className: "dialog-wide",
    build: (close) =>
      h(
        "form",
        {
          novalidate: true,
          dataset: { testid: "team-form" },
          async onsubmit(event) {
            event.preventDefault();
            formError.textContent = "";
            for (const f of Object.values(fields)) f?.setError("");
            const title = name.control.value.trim();
            if (!title) {
              name.setError("Enter a name.");
              name.control.focus();
              return;
            }
            const id = team ? team.teamId : teamId.control.value.trim() || slugOf(title);
            const body = {
              name: title,
              kind: kind.control.value,
              parentId: parent.control.value || null,
              costCenter: costCenter.control.value.trim() || null,
              members: members.value(),
              managers: managers.value(),
              roles: roleRows
                .filter((r) => r.box.checked)
                .map((r) => ({ roleId: r.role.roleId, scope: r.scope.value === "org" ? "org" : `team:${id}` })),
            };
            if (!team) body.teamId = id;
            await whileBusy(save, "Saving…", async () => {
              try {
                const saved = team ? await api.updateTeam(team.teamId, body) : await api.createTeam(body);
                announce(`Team ${saved.name} saved.`);
                close(saved);
              } catch (error) {
                showProblem(error);
              }
            });
          },
        },
        formError,
        h(
          "div",
          { class: "form-columns" },
          name.element,
          teamId ? teamId.element : null,
          kind.element,
          parent.element,
          costCenter.element,
        ),
        members.element,
        managers.element,
        rolesSet,
        h(
          "div",
          { class: "dialog-actions" },
          h("button", { type: "button", class: "button", onclick: () => close(null) }, "Cancel"),
          save,
        ),
      ),
  });
  name.control.focus();
  return done.then((value) => value || null);
}

export function teamsView(view) {
  const { ctx, user, container, signal } = view;
  const { api } = ctx;
  const access = ctx.access();
  const writable = access.can("teams:write", "org");
  const orgWide = access.can("teams:read", "org");
  const state = { teams: [], roles: [], names: ctx.usernames };
  const tree = h("div", { class: "team-tree-wrap", "aria-live": "polite" }, skeleton(6, "Loading teams"));
  const newButton = writable
    ? h(
        "button",
        { type: "button", class: "button primary", dataset: { testid: "new-team" }, onclick: () => edit(null) },
        "New team",
      )
    : null;
  replace(
    container,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, orgWide ? "Teams" : "My teams"),
        h(
          "p",
          {},
          orgWide
            ? "Departments and the teams under them: members, managers, cost center and the roles each team gives its members."
            : "The teams you manage or belong to. Open one for its costs and budget.",
        ),
      ),
      newButton ? h("div", { class: "summary-actions" }, newButton) : null,
    ),
    h("section", { class: "card", "aria-label": "Team tree" }, tree),
  );

  async function edit(team) {
    const saved = await openTeamForm({ api, team, teams: state.teams, roles: state.roles, names: state.names });
    if (saved && !signal.aborted) await load();
  }

  async function remove(team) {
    const sure = await confirmDialog({
      title: `Delete ${team.name}?`,
      message:
        "Its members and managers stay users; the roles the team gave them end. A department with teams under it cannot be deleted.",
      confirmLabel: "Delete team",
      danger: true,
    });
    if (!sure) return;
    try {
      await api.deleteTeam(team.teamId);
      announce(`Team ${team.name} deleted.`);
      await load();
    } catch (error) {
      tree.prepend(errorState(error, null, `delete ${team.name}`));
    }
  }

  function roleName(roleId) {
    const role = state.roles.find((r) => r.roleId === roleId);
    return role ? role.name : roleId;
  }

  function node({ team, children }) {
    const canOpen = ctx.access(state.teams).canSeeTeam(team.teamId);
    return h(
      "li",
      { dataset: { team: team.teamId } },
      h(
        "div",
        { class: `team-node team-${team.kind}` },
        h(
          "div",
          { class: "team-title" },
          canOpen
            ? h("a", { href: `#/teams/${encodeURIComponent(team.teamId)}` }, team.name)
            : h("strong", {}, team.name),
          " ",
          h("span", { class: "tag tag-final" }, KIND_TEXT[team.kind] || team.kind),
          team.costCenter ? h("span", { class: "muted" }, ` · cost center ${team.costCenter}`) : null,
          team.managers?.includes(user.userId) ? h("span", { class: "role-badge" }, "you manage") : null,
        ),
        h(
          "dl",
          { class: "team-facts" },
          h("div", {}, h("dt", {}, "Managers"), h("dd", {}, people(state.names, team.managers, "managers"))),
          h("div", {}, h("dt", {}, "Members"), h("dd", {}, people(state.names, team.members, "members"))),
          team.roles?.length
            ? h(
                "div",
                {},
                h("dt", {}, "Roles"),
                h("dd", {}, team.roles.map((r) => `${roleName(r.roleId)} for ${scopeText(r.scope)}`).join("; ")),
              )
            : null,
        ),
        writable
          ? h(
              "div",
              { class: "summary-actions" },
              h(
                "button",
                { type: "button", class: "button small", "aria-label": `Edit ${team.name}`, onclick: () => edit(team) },
                "Edit",
              ),
              h(
                "button",
                {
                  type: "button",
                  class: "button small danger",
                  "aria-label": `Delete ${team.name}`,
                  onclick: () => remove(team),
                },
                "Delete",
              ),
            )
          : null,
      ),
      children.length ? h("ul", { class: "team-tree" }, children.map(node)) : null,
    );
  }

  async function load() {
    tree.setAttribute("aria-busy", "true");
    try {
      const [data, roles, names] = await Promise.all([
        api.teams(),
        access.can("roles:read", "org")
          ? api
              .roles()
              .then((r) => r.items || [])
              .catch(() => [])
          : Promise.resolve([]),
        knownNames(ctx, user),
      ]);
      if (signal.aborted) return;
      state.teams = data.items || [];
      state.roles = roles;
      state.names = names;
      replace(
        tree,
        state.teams.length
          ? h("ul", { class: "team-tree", dataset: { testid: "team-tree" } }, teamTree(state.teams).map(node))
          : emptyState("No teams yet.", writable ? "Create a department or a team to group people." : null),
      );
    } catch (error) {
      if (signal.aborted) return;
      if (isForbidden(error)) {
        noAccessPage(container, { title: "Teams", permission: "teams:read", username: user.username });
        return;
      }
      replace(tree, errorState(error, load, "the teams"));
    } finally {
      tree.removeAttribute("aria-busy");
    }
  }
  return load();
}

/**
 * The team page's way back: "All teams" to those who may list every team, else their own
 * teams (the list shows those: "My teams"); null for whom neither is.
 */
export function backToTeams(access) {
  if (access.can("teams:read", "org")) return { href: "#/teams", text: "← All teams" };
  if (access.teamScoped("teams:read") || access.managedTeams().length) return { href: "#/teams", text: "← My teams" };
  return null;
}

export function teamDetailView(view) {
  const { ctx, user, container, signal } = view;
  const { api } = ctx;
  const teamId = view.path[0];
  const head = h("div", { class: "page-head" }, h("div", {}, h("h1", {}, `Team ${teamId}`), h("p", {}, "")));
  const month = loadingCard({ title: "This month", className: "span-12", lines: 3 });
  const budget = loadingCard({ title: "Team budget", className: "span-5", bodyClass: "budget-body", lines: 4 });
  const members = loadingCard({ title: "Members' costs", className: "span-7", lines: 5 });
  const back = backToTeams(ctx.access());
  replace(
    container,
    back ? h("p", {}, h("a", { href: back.href, dataset: { testid: "back-to-teams" } }, back.text)) : null,
    head,
    h("div", { class: "grid" }, month.element, budget.element, members.element),
  );
  const state = { team: null, summary: null };

  function showHead(team, names) {
    replace(
      head,
      h(
        "div",
        {},
        h("h1", {}, team.name),
        h(
          "p",
          {},
          `${KIND_TEXT[team.kind] || team.kind}`,
          team.parentId
            ? [" in ", h("a", { href: `#/teams/${encodeURIComponent(team.parentId)}` }, team.parentId)]
            : null,
          team.costCenter ? ` · cost center ${team.costCenter}` : "",
          " · managed by ",
          people(names, team.managers, "managers"),
        ),
      ),
    );
  }

  function showMonth(body, summary) {
    const figure = (label, value, key) =>
      h("div", { class: "figure" }, h("dt", {}, label), h("dd", { dataset: { value: key } }, value));
    replace(
      body,
      h(
        "dl",
        { class: "budget-facts", dataset: { testid: "team-figures" } },
        // Judged in the budget's currency on converted costs: the converted spend, marked "≈".
        summary.budgetJudgedIn
          ? figure("Total so far", `≈ ${money(summary.budgetJudgedIn.spent)}`, "total")
          : figure("Total so far", money(summary.total), "total"),
        figure("Budget", summary.budget ? money(summary.budget.monthlyLimit) : "Not set", "budget"),
        figure(
          "Used",
          summary.percentUsed !== null && summary.percentUsed !== undefined ? percent(summary.percentUsed) : "—",
          "used",
        ),
        summary.forecast?.monthEnd && summary.forecast.method !== "none"
          ? figure("Projected month end", money(summary.forecast.monthEnd), "forecast")
          : null,
      ),
      h("p", {}, "Status: ", statusBadge(summary.noCostsYet ? "pending" : summary.status, { compact: true })),
      judgedNote(summary),
      h(
        "p",
        { class: "muted" },
        "The team's costs are its members' allocated costs plus the resources assigned to the team itself. A person in two teams counts in each team, and once in a department's total.",
      ),
    );
  }

  function showBudget(body, summary) {
    const edit = async () => {
      // The budget form of a user's budget, on the team's budget routes.
      const teamApi = {
        budget: () => api.teamBudget(teamId),
        createBudget: (body) => {
          const { userId, ...rest } = body;
          void userId; // the modal names its subject userId; a team budget names teamId
          return api.createBudget({ ...rest, teamId });
        },
        updateBudget: api.updateBudget,
      };
      const saved = await openBudgetModal({
        api: teamApi,
        subject: { userId: teamId, whose: "The team's" },
        summary,
      });
      if (saved && !signal.aborted) await load();
    };
    const writable =
      ctx.access().can("budgets:write", `team:${teamId}`) || ctx.access().managedTeams().includes(teamId);
    const action = writable
      ? h(
          "button",
          { type: "button", class: "button primary", dataset: { testid: "edit-team-budget" }, onclick: edit },
          summary.budget ? "Edit budget" : "Set a budget",
        )
      : null;
    if (!summary.budget) {
      replace(
        body,
        h(
          "div",
          { class: "state state-empty", dataset: { testid: "no-budget" } },
          h("p", { class: "state-title" }, "No team budget yet."),
          h("p", { class: "state-text" }, "A monthly limit for the whole team; its managers are alerted as it fills."),
          action,
        ),
      );
      return;
    }
    replace(
      body,
      h(
        "dl",
        { class: "budget-facts", dataset: { testid: "team-budget" } },
        h(
          "div",
          { class: "figure" },
          h("dt", {}, "Monthly limit"),
          h("dd", { dataset: { value: "limit" } }, money(summary.budget.monthlyLimit)),
        ),
        h(
          "div",
          { class: "figure" },
          h("dt", {}, "Alert threshold"),
          h("dd", { dataset: { value: "threshold" } }, `${summary.budget.alertThreshold}%`),
        ),
      ),
      action ? h("div", { class: "summary-actions" }, action) : null,
    );
  }

  function showMembers(body, summary, names) {
    // Each person once (the team's and the teams under it), then what the team itself holds.
    const costOf = (row) => row.amount || row.total;
    const rows = [...(summary.members || [])].sort(
      (a, b) => Number(costOf(b)?.amount || 0) - Number(costOf(a)?.amount || 0),
    );
    if (!rows.length) {
      replace(body, emptyState("No members' costs this month.", null));
      return;
    }
    replace(
      body,
      h(
        "div",
        { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Members' costs" },
        h(
          "table",
          { dataset: { testid: "team-members" } },
          h("caption", { class: "visually-hidden" }, "Each member's cost this month"),
          h(
            "thead",
            {},
            h("tr", {}, h("th", { scope: "col" }, "Member"), h("th", { scope: "col", class: "num" }, "This month")),
          ),
          h(
            "tbody",
            {},
            rows.map((row) =>
              h(
                "tr",
                { dataset: { user: row.userId } },
                h("th", { scope: "row" }, row.username || nameOf(names, row.userId)),
                h(
                  "td",
                  { class: "num", dataset: { amount: costOf(row)?.amount } },
                  costOf(row) ? money(costOf(row)) : "—",
                ),
              ),
            ),
          ),
          summary.teamResources
            ? h(
                "tbody",
                {},
                h(
                  "tr",
                  { dataset: { testid: "team-resources" } },
                  h("th", { scope: "row" }, "Resources assigned to the team"),
                  h("td", { class: "num" }, money(summary.teamResources)),
                ),
                h(
                  "tr",
                  { class: "totals-row" },
                  h("th", { scope: "row" }, "Team total"),
                  h("td", { class: "num" }, money(summary.total)),
                ),
              )
            : null,
        ),
      ),
    );
  }

  /** Who may choose the team's display currency: as the API decides PATCH /teams/{id}. */
  function maySetCurrency() {
    const access = ctx.access();
    return (
      access.can("teams:write", `team:${teamId}`) ||
      access.can("budgets:write", `team:${teamId}`) ||
      access.can("billing:settings", "org") ||
      access.managedTeams().includes(teamId)
    );
  }

  /** The team's display currency: a select of the currencies, or the organisation's. */
  function currencyForm(team) {
    const select = h(
      "select",
      { name: "displayCurrency" },
      h("option", { value: "" }, "The organisation's"),
      CURRENCIES.map((c) => h("option", { value: c, selected: c === team.displayCurrency }, c)),
    );
    const choice = field({
      label: "Show the team's figures also in",
      name: "displayCurrency",
      hint: "Converted day by day at each day's rate, beside the billed figures (which never change).",
      control: select,
    });
    const status = h("p", { role: "status" });
    const button = h("button", { type: "submit", class: "button" }, "Save");
    return h(
      "form",
      {
        class: "team-currency",
        dataset: { testid: "team-currency" },
        async onsubmit(event) {
          event.preventDefault();
          choice.setError("");
          status.textContent = "";
          await whileBusy(button, "Saving…", async () => {
            try {
              await api.setTeamCurrency(teamId, select.value || null);
              status.textContent = "Saved.";
              announce("The team's display currency is saved.");
              showConverted({ ...team, displayCurrency: select.value || null }, state.summary);
            } catch (error) {
              choice.setError(error.fieldErrors?.displayCurrency || error.message);
            }
          });
        },
      },
      choice.element,
      h("div", { class: "form-actions" }, button, status),
    );
  }

  // The month in the team's display currency (else the organisation's), beside the billed
  // figures: the API converts day by day; nothing is converted here.
  let converting = 0;
  async function showConverted(team, summary) {
    const turn = ++converting;
    const slot = month.body.querySelector("[data-slot=converted]");
    if (!slot) return;
    replace(slot);
    try {
      const wanted = await teamDisplayCurrency(team, ctx.billingSettings);
      if (!wanted || wanted === summary.total.currency || signal.aborted) return;
      const converted = await api.teamSummary(teamId, wanted);
      if (turn === converting && !signal.aborted) replace(slot, convertedNote(converted.converted));
    } catch {
      // No rate to convert at (or no answer): the billed figures stand alone.
    }
  }

  async function load() {
    for (const card of [month, budget, members]) card.loading();
    try {
      const [team, summary] = await Promise.all([api.team(teamId), api.teamSummary(teamId)]);
      if (signal.aborted) return;
      state.team = team;
      state.summary = summary;
      document.title = `${team.name} · Tally`;
      // The summary names the members; the directory (when it may be read) the managers, later.
      const names = new Map(ctx.usernames);
      names.set(user.userId, user.username);
      for (const row of summary.members || []) if (row.username) names.set(row.userId, row.username);
      showHead(team, names);
      replace(month.body);
      showMonth(month.body, summary);
      month.body.append(h("div", { dataset: { slot: "converted" } }), maySetCurrency() ? currencyForm(team) : null);
      showConverted(team, summary);
      replace(budget.body);
      showBudget(budget.body, summary);
      replace(members.body);
      showMembers(members.body, summary, names);
      if ((team.managers || []).some((id) => !names.has(id))) {
        knownNames(ctx, user).then((known) => {
          if (!signal.aborted) showHead(team, new Map([...known, ...names]));
        });
      }
    } catch (error) {
      if (signal.aborted) return;
      if (isForbidden(error)) {
        noAccessPage(container, {
          title: `Team ${teamId}`,
          permission: "teams:read",
          scope: `team:${teamId}`,
          username: user.username,
          reason: "A team's page is for its managers and for people who read every team's costs.",
        });
        return;
      }
      for (const card of [month, budget, members]) replace(card.body, errorState(error, load, "the team"));
    } finally {
      for (const card of [month, budget, members]) card.element.removeAttribute("aria-busy");
    }
  }
  return load();
}
