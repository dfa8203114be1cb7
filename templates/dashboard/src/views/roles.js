// Roles (roles:read): every role with its permissions, the built-in ones marked read-only;
// with roles:write, custom roles are created and changed from the permission catalog (each
// permission with its description) and deleted after a confirmation. The API validates: its
// problem's field errors appear next to the field, anything else above the form.

import { isForbidden, noAccessPage } from "./noaccess.js";
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
  whileBusy,
} from "../dom.js";

const FIELDS = ["name", "roleId", "description", "permissions"];

/** The permissions as the catalog describes them: [{id, description, readOnly}]. */
function permissionList(catalog, ids) {
  const known = new Map(catalog.map((p) => [p.id, p]));
  return h(
    "ul",
    { class: "permission-list" },
    ids.map((id) =>
      h(
        "li",
        { dataset: { permission: id } },
        h("code", {}, id),
        known.has(id) ? h("span", { class: "muted" }, ` ${known.get(id).description}`) : null,
      ),
    ),
  );
}

/** Open the create/edit form; resolves the saved role, or null when cancelled. */
export function openRoleForm({ api, catalog, role = null }) {
  const name = field({
    label: "Name",
    name: "name",
    control: h("input", { type: "text", name: "name", autocomplete: "off", value: role ? role.name : "" }),
  });
  const roleId = role
    ? null
    : field({
        label: "Role id (optional)",
        name: "roleId",
        hint: "Lower-case letters, digits and dashes. Made from the name when left empty; it cannot change later.",
        control: h("input", { type: "text", name: "roleId", autocomplete: "off" }),
      });
  const description = field({
    label: "Description",
    name: "description",
    control: h("textarea", { name: "description", rows: "2" }),
  });
  description.control.value = role ? role.description || "" : "";
  const chosen = new Set(role ? role.permissions : []);
  const checks = catalog.map((permission) => {
    const box = h("input", {
      type: "checkbox",
      name: "permissions",
      value: permission.id,
      id: `perm-${permission.id.replace(":", "-")}`,
      checked: chosen.has(permission.id),
    });
    return h(
      "div",
      { class: "field-check permission-check" },
      box,
      h(
        "label",
        { for: box.id },
        h("code", {}, permission.id),
        permission.readOnly ? h("span", { class: "tag tag-final" }, "read") : null,
        h("span", { class: "field-hint" }, permission.description),
      ),
    );
  });
  const permissionsError = h("p", { class: "field-error", dataset: { field: "permissions" } });
  const fieldset = h(
    "fieldset",
    { class: "permission-set", dataset: { field: "permissions" } },
    h("legend", {}, "Permissions"),
    checks,
    permissionsError,
  );
  const fields = { name, roleId, description };
  const formError = h("p", { class: "form-error", role: "alert", dataset: { testid: "form-error" } });
  const label = role ? "Save role" : "Create role";
  const save = h("button", { type: "submit", class: "button primary" }, label);

  function clearErrors() {
    formError.textContent = "";
    permissionsError.textContent = "";
    for (const f of Object.values(fields)) f?.setError("");
  }

  function showProblem(error) {
    const messages = error.fieldErrors || {};
    let shown = false;
    for (const [key, message] of Object.entries(messages)) {
      const base = key.split(/[.[]/)[0];
      if (base === "permissions") {
        permissionsError.textContent = message;
        shown = true;
      } else if (fields[base]) {
        fields[base].setError(message);
        shown = true;
      }
    }
    const others = Object.entries(messages).filter(([key]) => !FIELDS.includes(key.split(/[.[]/)[0]));
    if (!shown || others.length)
      formError.textContent = others.length ? others.map(([, m]) => m).join(" ") : error.message;
  }

  const { done } = openDialog({
    title: role ? `Edit role ${role.name}` : "New custom role",
    className: "dialog-wide",
    build: (close) =>
      h(
        "form",
        {
          novalidate: true,
          dataset: { testid: "role-form" },
          async onsubmit(event) {
            event.preventDefault();
            clearErrors();
            if (!name.control.value.trim()) {
              name.setError("Enter a name.");
              name.control.focus();
              return;
            }
            const body = {
              name: name.control.value.trim(),
              description: description.control.value.trim(),
              permissions: checks
                .map((c) => c.querySelector("input"))
                .filter((b) => b.checked)
                .map((b) => b.value),
            };
            if (roleId && roleId.control.value.trim()) body.roleId = roleId.control.value.trim();
            await whileBusy(save, "Saving…", async () => {
              try {
                const saved = role ? await api.updateRole(role.roleId, body) : await api.createRole(body);
                announce(`Role ${saved.name} saved.`);
                close(saved);
              } catch (error) {
                showProblem(error);
              }
            });
          },
        },
        formError,
        name.element,
        roleId ? roleId.element : null,
        description.element,
        fieldset,
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

export function rolesView(view) {
  const { ctx, container, signal } = view;
  const { api } = ctx;
  const writable = ctx.access().can("roles:write", "org");
  const list = h("div", { class: "role-list", "aria-live": "polite" }, skeleton(6, "Loading roles"));
  const state = { items: [], permissions: [] };
  const newButton = writable
    ? h(
        "button",
        { type: "button", class: "button primary", dataset: { testid: "new-role" }, onclick: () => edit(null) },
        "New role",
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
        h("h1", {}, "Roles"),
        h(
          "p",
          {},
          "A role is a named set of permissions, given to people or teams for the organisation, a team (and the teams under it) or their own data.",
        ),
      ),
      newButton ? h("div", { class: "summary-actions" }, newButton) : null,
    ),
    list,
  );

  async function edit(role) {
    const saved = await openRoleForm({ api, catalog: state.permissions, role });
    if (saved && !signal.aborted) await load();
  }

  async function remove(role) {
    const sure = await confirmDialog({
      title: `Delete role ${role.name}?`,
      message:
        "People and teams who hold it keep the grant, but it gives them nothing (shown as a deleted role in their access). This cannot be undone.",
      confirmLabel: "Delete role",
      danger: true,
    });
    if (!sure) return;
    try {
      await api.deleteRole(role.roleId);
      announce(`Role ${role.name} deleted.`);
      await load();
    } catch (error) {
      list.prepend(errorState(error, null, `delete ${role.name}`));
    }
  }

  function card(role) {
    return h(
      "section",
      { class: "card role-card", "aria-labelledby": `role-${role.roleId}`, dataset: { role: role.roleId } },
      h(
        "div",
        { class: "card-head" },
        h(
          "h2",
          { id: `role-${role.roleId}` },
          role.name,
          " ",
          role.builtin
            ? h(
                "span",
                { class: "tag tag-final", title: "Built in: it cannot be changed or deleted" },
                "built-in · read-only",
              )
            : h("span", { class: "tag" }, "custom"),
        ),
        h("p", {}, h("code", {}, role.roleId)),
      ),
      role.description ? h("p", {}, role.description) : null,
      role.permissions.length
        ? permissionList(state.permissions, role.permissions)
        : h("p", { class: "muted" }, "No permissions."),
      writable && !role.builtin
        ? h(
            "div",
            { class: "summary-actions" },
            h(
              "button",
              { type: "button", class: "button small", onclick: () => edit(role), "aria-label": `Edit ${role.name}` },
              "Edit",
            ),
            h(
              "button",
              {
                type: "button",
                class: "button small danger",
                onclick: () => remove(role),
                "aria-label": `Delete ${role.name}`,
              },
              "Delete",
            ),
          )
        : null,
    );
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const data = await api.roles();
      if (signal.aborted) return;
      state.items = data.items || [];
      state.permissions = data.permissions || [];
      // Built-in roles first, then custom ones by name.
      const sorted = [...state.items].sort(
        (a, b) => Number(b.builtin) - Number(a.builtin) || (a.builtin ? 0 : a.name.localeCompare(b.name)),
      );
      replace(
        list,
        sorted.length
          ? h("div", { class: "grid role-grid" }, sorted.map(card))
          : emptyState("No roles.", "Create one with New role; people get access through the roles they hold."),
      );
    } catch (error) {
      if (signal.aborted) return;
      // Taken away since /me answered: the API's refusal reads like the page's own.
      if (isForbidden(error)) {
        noAccessPage(container, { title: "Roles", permission: "roles:read", username: view.user.username });
        return;
      }
      replace(list, errorState(error, load, "the roles"));
    } finally {
      list.removeAttribute("aria-busy");
    }
  }
  return load();
}
