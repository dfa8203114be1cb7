// All users (administrators): the organisation's total and unallocated cost for a month, and
// every user's total, budget and status, sortable; each row opens that user's dashboard. The
// first load asks for the API's current month (the business date is the API's, not the
// browser's); in the first days of a month last month's results stand beside the new one.

import { monthOf } from "../calendar.js";
import { emptyState, errorState, h, openDialog, replace, skeleton } from "../dom.js";
import {
  METRIC_HINT,
  knownToday,
  longDay,
  metricText,
  money,
  monthName,
  percent,
  serviceName,
  showLastMonth,
} from "../format.js";
import { pageHead, sortableHeader, statusBadge, tableSkeleton } from "./common.js";
import { jobButton } from "../jobs.js";
import { exportRange } from "../reports.js";
import { assignForm } from "./resources.js";
import { resourceLabel } from "../resource-name.js";

const PAGE_SIZE = 50;
const STATUS_ORDER = { over: 3, warning: 2, under: 1 };

const COLUMNS = [
  { key: "user", label: "User", sortable: true },
  { key: "total", label: "Month total", numeric: true, sortable: true },
  { key: "budget", label: "Budget", numeric: true, sortable: true },
  { key: "used", label: "Used", numeric: true, sortable: true },
  { key: "status", label: "Status", sortable: true },
  { key: "previous", label: "Last month", sortable: true, early: true },
  { key: "actions", label: "Details" },
];

function used(row) {
  if (!row.budget) return null;
  const limit = Number(row.budget.amount);
  return limit > 0 ? (Number(row.total.amount) / limit) * 100 : null;
}

const KEYS = {
  user: (row) => row.username.toLowerCase(),
  total: (row) => Number(row.total.amount),
  budget: (row) => (row.budget ? Number(row.budget.amount) : -1),
  used: (row) => used(row) ?? -1,
  status: (row) => STATUS_ORDER[row.status] || 0,
  previous: (row) => (row.previousMonth ? Number(row.previousMonth.total.amount) : -1),
};

export function adminView(view) {
  const { ctx, container, signal, routeHref } = view;
  const { api } = ctx;
  const known = knownToday();
  // Roles and effective access of each user (issue 13), for those who may read them.
  const readsRoles = ctx.access().can("roles:read", "org");
  // null: the API's current month (its answer names it).
  const state = {
    month: null,
    rows: [],
    nextToken: null,
    sort: { key: "total", dir: "desc" },
    data: null,
    assigned: new Set(),
  };

  const monthInput = h("input", { type: "month", id: "admin-month", "aria-describedby": "admin-month-hint" });
  if (known) {
    monthInput.value = monthOf(known);
    monthInput.max = monthOf(known);
  }
  const picker = h(
    "div",
    { class: "month-picker" },
    h(
      "div",
      { class: "field" },
      h("label", { for: "admin-month" }, "Month"),
      monthInput,
      h("p", { class: "visually-hidden", id: "admin-month-hint" }, "Choose the month to show"),
    ),
  );

  const figures = h("div", { class: "org-figures", "aria-live": "polite" });
  // The largest resources no one owns, each one click from the assign form.
  const unowned = h("section", {
    class: "card span-12",
    "aria-labelledby": "unowned-title",
    dataset: { testid: "unowned" },
    hidden: true,
  });
  const table = h("table", { dataset: { testid: "all-users" } });
  const foot = h("p", { role: "status" });
  const more = h("button", { type: "button", class: "button", hidden: true }, "Load more users");
  // Every user's cost per service for the month shown (to yesterday in the current month).
  const exporter = jobButton({
    label: "Export all users (CSV)",
    what: "CSV export",
    idKey: "exportId",
    testid: "export-all-users",
    signal,
    start: async () => {
      const range = state.month && exportRange(state.month, knownToday() || (await ctx.today()));
      if (!range) throw new Error("This month has no complete day of costs yet.");
      return api.createExport({ kind: "all-users", ...range });
    },
    get: (id) => api.exportJob(id),
  });
  const card = h(
    "section",
    { class: "card span-12", "aria-labelledby": "users-title" },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "users-title" }, "Users"),
      h("p", {}, "Select a column heading to sort"),
    ),
    h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "All users" }, table),
    h("div", { class: "table-foot" }, foot, more),
    exporter.element,
  );

  replace(
    container,
    pageHead(view, "All users", "Every user's costs against their budget, and what no one owns.", picker),
    figures,
    h("div", { class: "grid" }, unowned, card),
  );

  function figure(label, value, note, key) {
    return h(
      "section",
      { class: "card", "aria-label": label },
      h(
        "dl",
        { class: "figure", dataset: { figure: key } },
        h("dt", {}, label),
        h("dd", { dataset: { value: key } }, value),
      ),
      note ? h("p", { class: "chart-note" }, note) : null,
    );
  }

  /** Last month beside this one: in its first days, or while last month is provisional. */
  function lastMonthShown() {
    const data = state.data;
    return Boolean(data && showLastMonth(data));
  }

  function columns() {
    return COLUMNS.filter((c) => !c.early || lastMonthShown());
  }

  function showFigures(data) {
    const empty = data.noCostsYet === true;
    const previous = lastMonthShown() ? data.previousMonth : null;
    // With no costs yet this month, the month worth counting is the last one.
    const judged = empty && previous ? state.rows.map((r) => r.previousMonth || {}) : state.rows;
    const over = judged.filter((r) => r.status === "over").length;
    const warning = judged.filter((r) => r.status === "warning").length;
    const metric = metricText(data.metric);
    const totalNote = [
      monthName(data.month),
      metric
        ? h(
            "span",
            { class: "metric", title: METRIC_HINT[data.metric], dataset: { testid: "metric" } },
            metric.toLowerCase(),
          )
        : null,
      data.estimated ? "estimated" : null,
    ]
      .filter(Boolean)
      .flatMap((part, i) => (i ? [" · ", part] : [part]));
    replace(
      figures,
      figure("Organisation total", money(data.organisationTotal), totalNote, "org-total"),
      empty
        ? figure(
            "This month",
            "No costs yet",
            data.firstCostsExpected
              ? `The first are expected on ${longDay(data.firstCostsExpected)}.`
              : "They appear after the next daily import.",
            "no-costs-yet",
          )
        : null,
      previous
        ? figure(
            `Last month: ${monthName(previous.month)}`,
            money(previous.organisationTotal),
            `Unallocated ${money(previous.unallocated)} · ${previous.final ? "final" : "provisional"}`,
            "previous-org-total",
          )
        : null,
      empty
        ? null
        : figure(
            "Unallocated",
            money(data.unallocated),
            "Cost no assignment or owner tag gives to a user",
            "unallocated",
          ),
      !empty && data.attribution && data.attribution.coverage !== null ? coverageFigure(data.attribution) : null,
      figure(
        "Over or near budget",
        `${over} over · ${warning} near`,
        empty && previous
          ? `In ${monthName(previous.month)}, ${state.rows.length} users listed`
          : `${state.rows.length} users listed`,
        "alerts",
      ),
    );
  }

  /** Coverage: how much of the month's cost has an owner (assignment or owner tag). */
  function coverageFigure(attribution) {
    const value = Number(attribution.coverage);
    const fill = h("span", { class: `meter-fill ${value < 80 ? "warning" : ""}` });
    fill.style.width = `${Math.min(100, Math.max(0, value))}%`;
    return h(
      "section",
      { class: "card", "aria-label": "Attribution coverage", dataset: { testid: "coverage" } },
      h(
        "dl",
        { class: "figure", dataset: { figure: "coverage" } },
        h("dt", {}, "Attribution coverage"),
        h("dd", { dataset: { value: "coverage" } }, percent(attribution.coverage)),
      ),
      h(
        "div",
        {
          class: "meter",
          role: "meter",
          "aria-label": "Share of the month's cost that has an owner",
          "aria-valuemin": "0",
          "aria-valuemax": "100",
          "aria-valuenow": String(Math.min(100, Math.max(0, value))),
          "aria-valuetext": `${percent(attribution.coverage)} owned`,
        },
        fill,
      ),
      h("p", { class: "chart-note" }, `${money(attribution.owned)} owned · ${money(attribution.unallocated)} unowned`),
    );
  }

  function openAssign(resource) {
    const subject = { userId: view.user.userId, username: view.user.username, isSelf: true };
    const { close } = openDialog({
      title: "Assign a resource",
      className: "dialog-wide",
      build: () =>
        h(
          "div",
          {},
          h(
            "p",
            { class: "dialog-lead" },
            `${serviceName(resource.service)} · ${money(resource.cost)} this month, owned by no one.`,
          ),
          assignForm({
            api,
            types: ctx.types(),
            subject,
            signal,
            bare: true,
            prefill: {
              resourceType: ctx.types().typeOf(resource.resourceId, resource.service),
              resourceId: resource.resourceId,
            },
            onAssigned: () => {
              close(true);
              // The figures change with the next import; say so where the row was.
              state.assigned.add(resource.resourceId);
              showUnowned(state.data);
            },
          }),
          h(
            "div",
            { class: "dialog-actions" },
            h("button", { type: "button", class: "button", onclick: () => close(false) }, "Cancel"),
          ),
        ),
    });
    // The user to give it to is the one choice left: start there.
    setTimeout(() => document.querySelector("dialog select[name=userId]")?.focus(), 0);
  }

  function showUnowned(data) {
    const top = data.attribution ? data.attribution.topUnowned : [];
    unowned.hidden = !top.length;
    if (!top.length) return;
    replace(
      unowned,
      h(
        "div",
        { class: "card-head" },
        h("h2", { id: "unowned-title" }, "Largest unowned resources"),
        h("p", {}, `${monthName(data.month)} · no assignment or owner tag`),
      ),
      h(
        "div",
        { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Largest unowned resources" },
        h(
          "table",
          {},
          h("caption", { class: "visually-hidden" }, "The month's largest resources that no one owns"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Resource"),
              h("th", { scope: "col" }, "Service"),
              h("th", { scope: "col", class: "num" }, "Cost this month"),
              h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
            ),
          ),
          h(
            "tbody",
            {},
            top.map((r) =>
              h(
                "tr",
                { dataset: { resource: r.resourceId } },
                h("td", { class: "resource-cell" }, resourceLabel(r.resourceId, r.resourceName)),
                h("td", {}, serviceName(r.service)),
                h("td", { class: "num" }, money(r.cost)),
                h(
                  "td",
                  {},
                  state.assigned.has(r.resourceId)
                    ? h(
                        "span",
                        { class: "muted", dataset: { testid: "assigned-note" } },
                        "Assigned · from the next import",
                      )
                    : h(
                        "button",
                        {
                          type: "button",
                          class: "button small",
                          "aria-label": `Assign ${r.resourceId}`,
                          onclick: () => openAssign(r),
                        },
                        "Assign",
                      ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  function onSort(key) {
    state.sort = {
      key,
      dir:
        state.sort.key === key && state.sort.dir === "desc"
          ? "asc"
          : key === "user" && state.sort.key !== key
            ? "asc"
            : "desc",
    };
    showTable();
    table.querySelector(`button[data-sort="${key}"]`)?.focus();
  }

  function showTable() {
    const { key, dir } = state.sort;
    const sign = dir === "asc" ? 1 : -1;
    const rows = [...state.rows].sort((a, b) => {
      const x = KEYS[key](a);
      const y = KEYS[key](b);
      const primary = typeof x === "string" ? x.localeCompare(y) : x - y;
      return sign * primary || a.username.localeCompare(b.username);
    });
    const body = rows.length
      ? rows.map((row) => {
          const subject = { userId: row.userId, username: row.username, isSelf: false };
          const empty = state.data.noCostsYet === true;
          const pct = empty ? null : used(row);
          const previous = row.previousMonth;
          return h(
            "tr",
            { dataset: { user: row.username } },
            h(
              "th",
              { scope: "row" },
              h("a", { href: routeHref("dashboard", subject) }, row.username),
              row.role === "admin" ? [" ", h("span", { class: "role-badge" }, "admin")] : null,
              row.email ? h("div", { class: "muted" }, h("small", {}, row.email)) : null,
            ),
            h("td", { class: "num" }, money(row.total)),
            h("td", { class: "num" }, row.budget ? money(row.budget) : "Not set"),
            h("td", { class: "num" }, pct === null ? "—" : percent(pct.toFixed(1))),
            h("td", {}, statusBadge(empty && row.budget ? "pending" : row.status, { compact: true })),
            lastMonthShown()
              ? h(
                  "td",
                  { class: "last-month-cell", dataset: { value: "previous" } },
                  previous
                    ? [
                        money(previous.total),
                        " ",
                        statusBadge(previous.budget ? previous.status : null, { compact: true }),
                      ]
                    : "—",
                )
              : null,
            h(
              "td",
              {},
              h(
                "a",
                {
                  class: "button small",
                  href: routeHref("dashboard", subject),
                  // The visible words first (WCAG 2.5.3, label in name), then whose.
                  "aria-label": `View dashboard of ${row.username}`,
                },
                "View dashboard",
              ),
              readsRoles
                ? [
                    " ",
                    h(
                      "a",
                      {
                        class: "button small",
                        href: `#/users/${encodeURIComponent(row.userId)}/access?${new URLSearchParams({ name: row.username })}`,
                        "aria-label": `${row.username}'s roles and access`,
                        dataset: { testid: "user-access" },
                      },
                      "Roles and access",
                    ),
                  ]
                : null,
            ),
          );
        })
      : [
          h(
            "tr",
            {},
            h(
              "td",
              { colspan: String(columns().length) },
              emptyState("No users yet.", "Users appear here after their first sign-in or the daily sync."),
            ),
          ),
        ];
    replace(
      table,
      h(
        "caption",
        { class: "visually-hidden" },
        `Users in ${monthName(state.month)}, sorted by ${COLUMNS.find((c) => c.key === key).label.toLowerCase()}`,
      ),
      sortableHeader(columns(), state.sort, onSort),
      h("tbody", {}, body),
    );
    foot.textContent = `${state.rows.length} user${state.rows.length === 1 ? "" : "s"}${state.nextToken ? " so far" : ""}.`;
    more.hidden = !state.nextToken;
  }

  let loadId = 0;
  async function load(append) {
    const mine = ++loadId;
    if (!append) {
      state.rows = [];
      state.nextToken = null;
      replace(
        figures,
        [0, 1, 2].map(() => h("section", { class: "card" }, skeleton(2, "Loading organisation figures"))),
      );
      replace(
        table,
        sortableHeader(columns(), state.sort, () => {}),
        tableSkeleton(columns().length, 5),
      );
      table.setAttribute("aria-busy", "true");
    }
    more.disabled = true;
    try {
      const data = await api.allUsers({
        month: state.month,
        limit: PAGE_SIZE,
        nextToken: append ? state.nextToken : null,
      });
      if (signal.aborted || mine !== loadId) return;
      state.rows = state.rows.concat(data.users);
      state.nextToken = data.nextToken;
      state.data = data;
      if (!state.month) {
        // The API's current month: the latest one to choose.
        state.month = data.month;
        monthInput.value = data.month;
        monthInput.max = data.month;
      }
      if (knownToday()) monthInput.max = monthOf(knownToday());
      showFigures(data);
      showUnowned(data);
      showTable();
    } catch (error) {
      if (signal.aborted || mine !== loadId) return;
      if (append) {
        foot.textContent = `Could not load more users: ${error.message}`;
      } else {
        replace(figures);
        unowned.hidden = true;
        replace(
          table,
          h(
            "tbody",
            {},
            h(
              "tr",
              {},
              h(
                "td",
                {},
                errorState(error, () => load(false), "the users"),
              ),
            ),
          ),
        );
      }
    } finally {
      if (mine === loadId) table.removeAttribute("aria-busy");
      more.disabled = false;
    }
  }

  monthInput.addEventListener("change", () => {
    if (/^\d{4}-\d{2}$/.test(monthInput.value) && (!monthInput.max || monthInput.value <= monthInput.max)) {
      state.month = monthInput.value;
      load(false);
    }
  });
  more.addEventListener("click", () => load(true));
  return load(false);
}
