// The audit log (audit:read, auditors and admins): every change to roles, teams and grants, and
// the other audited changes, newest first, with who made it and what it was before and after.
// A subject filter (a user id, "team:<id>" or "role:<id>") narrows it; pages load on demand.

import { emptyState, errorState, h, replace, skeleton } from "../dom.js";
import { knownNames } from "./anomalies.js";
import { isForbidden, noAccessPage } from "./noaccess.js";

const PAGE_SIZE = 25;

/** A detail value as JSON text or an object -> an object (or the text itself). */
function parsed(value) {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

// Renders a value; `name` turns a user id into a name (ids stand in when unknown).
function plain(value, name = (v) => v) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) {
    return value.length
      ? value.map((v) => (typeof v === "object" ? plain(v, name) : name(String(v)))).join(", ")
      : "none";
  }
  if (typeof value === "object") {
    // A grant or a role given to a team: "finance@org".
    if ("roleId" in value && "scope" in value && Object.keys(value).length === 2)
      return `${value.roleId}@${value.scope}`;
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${plain(v, name)}`)
      .join("; ");
  }
  return name(String(value));
}

/**
 * The changes between `before` and `after` (JSON texts or objects): [{key, before, after}],
 * one line per top-level key whose value changed (all keys of a creation or a deletion).
 */
export function changes(before, after, { label = "value", name } = {}) {
  const a = parsed(before);
  const b = parsed(after);
  const isObject = (v) => v && typeof v === "object" && !Array.isArray(v);
  if (!isObject(a) && !isObject(b)) {
    return JSON.stringify(a) === JSON.stringify(b)
      ? []
      : [{ key: label, before: a === null ? "—" : plain(a, name), after: b === null ? "—" : plain(b, name) }];
  }
  const keys = [...new Set([...Object.keys(isObject(a) ? a : {}), ...Object.keys(isObject(b) ? b : {})])];
  return keys
    .filter((key) => key !== "version")
    .filter(
      (key) => JSON.stringify(isObject(a) ? a[key] : undefined) !== JSON.stringify(isObject(b) ? b[key] : undefined),
    )
    .map((key) => ({
      key,
      before: isObject(a) && key in a ? plain(a[key], name) : "—",
      after: isObject(b) && key in b ? plain(b[key], name) : "—",
    }));
}

function detailsOf(details, action, name) {
  if (!details || typeof details !== "object") return details ? h("span", {}, String(details)) : null;
  if ("before" in details || "after" in details) {
    // A person's roles are a list: named as such rather than "value".
    const label = String(action).startsWith("roles.") ? "roles" : "value";
    const lines = changes(details.before ?? null, details.after ?? null, { label, name });
    if (!lines.length) return h("span", { class: "muted" }, "no change");
    return h(
      "dl",
      { class: "audit-changes" },
      lines.map((line) =>
        h(
          "div",
          { dataset: { key: line.key } },
          h("dt", {}, line.key),
          h(
            "dd",
            {},
            line.before === "—" ? h("span", { class: "muted" }, "—") : h("del", {}, line.before),
            " → ",
            line.after === "—" ? h("span", { class: "muted" }, "removed") : h("ins", {}, line.after),
          ),
        ),
      ),
    );
  }
  return h("span", {}, plain(details, name));
}

export function auditView(view) {
  const { ctx, user, container, signal, params } = view;
  const { api } = ctx;
  const state = { subject: params.get("subject") || "", items: [], nextToken: null, names: ctx.usernames };
  const input = h("input", {
    type: "search",
    id: "audit-subject",
    name: "subject",
    value: state.subject,
    placeholder: "user id, team:<id> or role:<id>",
    autocomplete: "off",
  });
  const filter = h(
    "form",
    {
      class: "audit-filter",
      role: "search",
      onsubmit(event) {
        event.preventDefault();
        state.subject = input.value.trim();
        load(false);
      },
    },
    h("div", { class: "field" }, h("label", { for: "audit-subject" }, "Subject"), input),
    h("button", { type: "submit", class: "button" }, "Filter"),
  );
  const body = h("div", { class: "card-body", "aria-live": "polite" }, skeleton(6, "Loading the audit log"));
  const foot = h("p", { role: "status" });
  const more = h("button", { type: "button", class: "button", hidden: true, onclick: () => load(true) }, "Load more");
  replace(
    container,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, "Audit log"),
        h(
          "p",
          {},
          "Who changed what, and what it was before and after: roles, teams, grants and the other audited changes.",
        ),
      ),
      filter,
    ),
    h("section", { class: "card", "aria-label": "Audit entries" }, body, h("div", { class: "table-foot" }, foot, more)),
  );

  const who = (id) => (id ? state.names.get(id) || id : "—");

  function show() {
    if (!state.items.length) {
      replace(
        body,
        emptyState(
          "No entries.",
          state.subject
            ? `Nothing recorded about ${state.subject}. Clear the filter to see every entry.`
            : "Changes to roles, teams and settings will appear here as they are made.",
        ),
      );
      foot.textContent = "";
      more.hidden = true;
      return;
    }
    replace(
      body,
      h(
        "div",
        { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Audit log" },
        h(
          "table",
          { dataset: { testid: "audit-table" } },
          h("caption", { class: "visually-hidden" }, "Audit entries, newest first"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["When", "Who", "Action", "Subject", "Before → after"].map((label) => h("th", { scope: "col" }, label)),
            ),
          ),
          h(
            "tbody",
            {},
            state.items.map((item) =>
              h(
                "tr",
                { dataset: { action: item.action } },
                h(
                  "td",
                  { class: "nowrap" },
                  item.at
                    ? item.at
                        .replace("T", " ")
                        .replace(/\.\d+/, "")
                        .replace(/\+00:00$|Z$/, " UTC")
                    : "—",
                ),
                h("td", {}, who(item.actor)),
                h("td", {}, h("code", {}, item.action)),
                h(
                  "td",
                  {},
                  h(
                    "button",
                    {
                      type: "button",
                      class: "button link",
                      title: "Show only this subject",
                      onclick: () => {
                        input.value = item.subject;
                        state.subject = item.subject;
                        load(false);
                      },
                    },
                    who(item.subject),
                  ),
                ),
                h(
                  "td",
                  {},
                  detailsOf(item.details, item.action, (v) => state.names.get(v) || v),
                ),
              ),
            ),
          ),
        ),
      ),
    );
    foot.textContent = `${state.items.length} entr${state.items.length === 1 ? "y" : "ies"}${state.nextToken ? " so far" : ""}.`;
    more.hidden = !state.nextToken;
  }

  let loadId = 0;
  async function load(append) {
    const mine = ++loadId;
    if (!append) {
      state.items = [];
      state.nextToken = null;
      body.setAttribute("aria-busy", "true");
    }
    more.disabled = true;
    try {
      const [page, names] = await Promise.all([
        api.audit({ subject: state.subject, limit: PAGE_SIZE, nextToken: append ? state.nextToken : null }),
        knownNames(ctx, user),
      ]);
      if (signal.aborted || mine !== loadId) return;
      state.names = names;
      state.items = state.items.concat(page.items || []);
      state.nextToken = page.nextToken || null;
      show();
    } catch (error) {
      if (signal.aborted || mine !== loadId) return;
      if (isForbidden(error)) {
        noAccessPage(container, { title: "Audit log", permission: "audit:read", username: user.username });
        return;
      }
      if (append) foot.textContent = `Could not load more: ${error.message}`;
      else
        replace(
          body,
          errorState(error, () => load(false), "the audit log"),
        );
    } finally {
      if (mine === loadId) body.removeAttribute("aria-busy");
      more.disabled = false;
    }
  }
  return load(false);
}
