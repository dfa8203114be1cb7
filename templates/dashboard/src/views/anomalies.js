// Anomalies: days whose cost was well above the usual for a service or resource (GET
// /api/anomalies), each with what was expected, what came, the impact, and its state, which the
// owner or an admin moves on (acknowledge, resolve: PATCH). Admins see the organisation's, with
// the user column; everyone can filter by state. The notification of a new anomaly links here.

import { announce, emptyState, errorState, h, replace, skeleton } from "../dom.js";
import { longDay, moneyNumber, serviceName } from "../format.js";
import { ANOMALY_STATUS_TEXT, anomalyActions } from "../reports.js";
import { pageHead } from "./common.js";

const ACTION_TEXT = { acknowledged: "Acknowledge", resolved: "Resolve" };
const DONE_TEXT = { acknowledged: "Acknowledged", resolved: "Resolved" };

/** Names for user ids (admins): the all-users list of the current month, asked once a page. */
export async function knownNames(ctx, user) {
  const names = ctx.usernames;
  names.set(user.userId, user.username);
  if (!ctx.can().viewAllUsers || names.size > 1) return names;
  try {
    let nextToken = null;
    do {
      const page = await ctx.api.allUsers({ nextToken });
      for (const row of page.users || []) names.set(row.userId, row.username);
      nextToken = page.nextToken;
    } while (nextToken);
  } catch {
    // Ids stand in for names.
  }
  return names;
}

export function anomaliesView(view) {
  const { ctx, user, can, container, signal } = view;
  const { api } = ctx;
  const org = can.viewAllUsers;
  const state = { status: view.params.get("status") || "", items: [], nextToken: null, names: new Map() };
  const statusSelect = h(
    "select",
    { id: "anomaly-status", name: "status" },
    h("option", { value: "" }, "Any state"),
    Object.entries(ANOMALY_STATUS_TEXT).map(([value, text]) =>
      h("option", { value, selected: value === state.status }, text),
    ),
  );
  const filters = h(
    "form",
    { class: "month-picker", onsubmit: (e) => e.preventDefault() },
    h("div", { class: "field" }, h("label", { for: "anomaly-status" }, "State"), statusSelect),
  );
  const body = h("div", { class: "card-body", "aria-live": "polite" });
  const problem = h("p", { class: "form-error", role: "alert" });
  const more = h("button", { type: "button", class: "button", hidden: true }, "Load more");
  const summary = h("p", { role: "status", dataset: { testid: "anomalies-summary" } });
  replace(
    container,
    pageHead(
      view,
      "Anomalies",
      org
        ? "Days when someone's cost for a service or resource was well above its usual, across the organisation."
        : "Days when your cost for a service or resource was well above its usual.",
      filters,
    ),
    problem,
    h(
      "section",
      { class: "card", "aria-labelledby": "anomalies-title" },
      h(
        "div",
        { class: "card-head" },
        h("h2", { id: "anomalies-title" }, org ? "The organisation's anomalies" : "Your anomalies"),
        h("p", { class: "card-subtitle" }, "Expected is the usual cost of that weekday over the previous weeks"),
      ),
      body,
      h("div", { class: "table-foot" }, summary, more),
    ),
  );

  const who = (id) => (id === user.userId ? "You" : state.names.get(id) || id);

  function actions(item) {
    return anomalyActions(item.status).map((next) =>
      h(
        "button",
        {
          type: "button",
          class: "button small",
          dataset: { action: next },
          "aria-label": `${ACTION_TEXT[next]}: ${serviceName(item.service)} on ${longDay(item.day)}`,
          onclick: (event) => change(item, next, event.currentTarget),
        },
        ACTION_TEXT[next],
      ),
    );
  }

  function row(item) {
    const money = (amount) => moneyNumber(amount, item.currency);
    return h(
      "tr",
      { dataset: { id: item.anomalyId, status: item.status, impact: item.impact } },
      h("td", { "data-label": "Day" }, h("time", { datetime: item.day }, longDay(item.day))),
      org ? h("td", { "data-label": "User" }, who(item.userId)) : null,
      h("th", { scope: "row", "data-label": "Service" }, serviceName(item.service)),
      h(
        "td",
        { class: "id", "data-label": "Resource" },
        h(
          "span",
          {},
          item.resourceId || h("span", { class: "muted" }, "whole service"),
          item.usageUnit ? h("small", { class: "muted" }, ` · ${item.usageUnit}`) : null,
        ),
      ),
      h("td", { class: "num", "data-label": "Expected" }, money(item.expected)),
      h("td", { class: "num", "data-label": "Actual" }, money(item.actual)),
      h("td", { class: "num wf-change-up", "data-label": "Impact" }, `+${money(item.impact)}`),
      h(
        "td",
        { "data-label": "State" },
        h(
          "span",
          { class: `tag anomaly-${item.status}`, dataset: { testid: "anomaly-status" } },
          ANOMALY_STATUS_TEXT[item.status] || item.status,
        ),
      ),
      h("td", { class: "row-actions", "data-label": "Actions" }, actions(item)),
    );
  }

  function show() {
    if (!state.items.length) {
      replace(
        body,
        emptyState(
          state.status ? `No ${ANOMALY_STATUS_TEXT[state.status].toLowerCase()} anomalies.` : "No anomalies.",
          "Tally compares each day's cost with the usual for that weekday and tells you when one is well above it.",
        ),
      );
    } else {
      const head = [
        "Day (UTC)",
        org ? "User" : null,
        "Service",
        "Resource",
        "Expected",
        "Actual",
        "Impact",
        "State",
        "Actions",
      ].filter(Boolean);
      const numeric = new Set(["Expected", "Actual", "Impact"]);
      replace(
        body,
        h(
          "div",
          { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Anomalies" },
          h(
            "table",
            { class: "stack", dataset: { testid: "anomalies" } },
            h("caption", { class: "visually-hidden" }, "Anomalies, newest first"),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                head.map((name) => h("th", { scope: "col", class: numeric.has(name) ? "num" : null }, name)),
              ),
            ),
            h("tbody", {}, state.items.map(row)),
          ),
        ),
      );
    }
    more.hidden = !state.nextToken;
    summary.textContent = state.items.length
      ? `${state.items.length} anomal${state.items.length === 1 ? "y" : "ies"}${state.nextToken ? " so far" : ""}.`
      : "";
  }

  async function change(item, status, button) {
    problem.textContent = "";
    button.disabled = true;
    try {
      const updated = await api.updateAnomaly(item.anomalyId, status);
      if (signal.aborted) return;
      // Filtered by state, the row leaves the list once its state no longer matches.
      state.items = state.items
        .map((one) => (one.anomalyId === updated.anomalyId ? updated : one))
        .filter((one) => !state.status || one.status === state.status);
      show();
      announce(`${DONE_TEXT[status]}: ${serviceName(item.service)} on ${longDay(item.day)}.`);
      body.querySelector(`tr[data-id="${CSS.escape(updated.anomalyId)}"] button`)?.focus();
    } catch (error) {
      if (signal.aborted) return;
      button.disabled = false;
      problem.textContent = `Could not change it: ${error.message}`;
    }
  }

  // Only the latest request's answer is shown: answers can arrive out of order.
  let loadId = 0;
  async function load(append) {
    const mine = ++loadId;
    problem.textContent = "";
    if (!append) {
      state.items = [];
      state.nextToken = null;
      replace(body, skeleton(4, "Loading anomalies"));
      body.setAttribute("aria-busy", "true");
    }
    more.disabled = true;
    try {
      const [page, names] = await Promise.all([
        api.anomalies({ status: state.status || null, nextToken: append ? state.nextToken : null }),
        org ? knownNames(ctx, user) : Promise.resolve(ctx.usernames),
      ]);
      if (signal.aborted || mine !== loadId) return;
      state.names = names;
      state.items = state.items.concat(page.items);
      state.nextToken = page.nextToken || null;
      show();
    } catch (error) {
      if (signal.aborted || mine !== loadId) return;
      if (append) summary.textContent = `Could not load more: ${error.message}`;
      else
        replace(
          body,
          errorState(error, () => load(false), "the anomalies"),
        );
    } finally {
      if (mine === loadId) {
        body.removeAttribute("aria-busy");
        more.disabled = false;
      }
    }
  }

  statusSelect.addEventListener("change", () => {
    state.status = statusSelect.value;
    load(false);
  });
  more.addEventListener("click", () => load(true));
  return load(false);
}
