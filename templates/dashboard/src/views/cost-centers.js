// Cost center budgets, on the chargeback page grouped by cost center: each cost center's month
// against its budget, and the budget form of views/budget.js for whoever holds budgets:write at
// the organisation. A cost center spans the teams that name it, so its budget is read and
// written at the organisation only; the managers of those teams are alerted as it fills.

import { h, replace } from "../dom.js";
import { money, percent } from "../format.js";
import { openBudgetModal } from "./budget.js";
import { statusBadge } from "./common.js";

// At most this many summaries are asked for at once (one per cost center).
const PARALLEL = 6;

/** The cost centers of a chargeback grouped by cost center (not the "(none)" unit). */
export function costCenterCodes(data) {
  return (data?.units || []).filter((u) => u.kind === "costCenter").map((u) => u.unitId);
}

/**
 * What a cost center's row says, from its summary: the status badge's key ("none" without a
 * budget that month, "pending" before the month's first costs), the limit and the spend.
 */
export function budgetLine(summary) {
  const budget = summary?.budget || null;
  let status = "none";
  if (budget) status = summary.noCostsYet ? "pending" : summary.status || "none";
  const used = budget && summary.percentUsed !== null && summary.percentUsed !== undefined ? summary.percentUsed : null;
  return { status, limit: budget ? budget.monthlyLimit : null, spent: summary?.total || null, used };
}

/** The budget form's API for a cost center: the user budget's form on the cost center's routes. */
export function costCenterBudgetApi(api, code) {
  return {
    budget: () => api.costCenterBudget(code),
    createBudget: (body) => {
      const { userId, ...rest } = body;
      void userId; // the form names its subject userId; a cost center's budget names costCenter
      return api.createBudget({ ...rest, costCenter: code });
    },
    updateBudget: api.updateBudget,
  };
}

/**
 * The "Cost center budgets" card for `codes` in `month`. `writable`: the person may set budgets
 * for the organisation (the API decides anyway).
 */
export function costCenterBudgets({ api, codes, month, writable, signal }) {
  const rows = h("tbody", {});
  const card = h(
    "section",
    { class: "card", "aria-labelledby": "cost-center-budgets-title", dataset: { testid: "cost-center-budgets" } },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "cost-center-budgets-title" }, "Cost center budgets"),
      h(
        "p",
        { class: "muted" },
        "A cost center's budget is judged on the costs of the teams that name it, each person once. " +
          "The managers of those teams are alerted as it fills.",
      ),
    ),
    h(
      "div",
      { class: "card-body" },
      h(
        "div",
        { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Cost center budgets" },
        h(
          "table",
          {},
          h("caption", { class: "visually-hidden" }, "Each cost center's month against its budget"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Cost center"),
              h("th", { scope: "col", class: "numeric" }, "Monthly limit"),
              h("th", { scope: "col", class: "numeric" }, "This month"),
              h("th", { scope: "col" }, "Status"),
              writable ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")) : null,
            ),
          ),
          rows,
        ),
      ),
    ),
  );

  function fill(tr, code, summary) {
    const line = budgetLine(summary);
    const edit = async (event) => {
      const saved = await openBudgetModal({
        api: costCenterBudgetApi(api, code),
        subject: { userId: code, whose: "The cost center's" },
        summary,
      });
      if (saved && !signal?.aborted) {
        await loadRow(tr, code);
        tr.querySelector("button")?.focus();
      } else {
        event.target.focus();
      }
    };
    replace(
      tr,
      h("th", { scope: "row" }, code),
      h("td", { class: "numeric", dataset: { value: "limit" } }, line.limit ? money(line.limit) : "No budget"),
      h(
        "td",
        { class: "numeric", dataset: { value: "spent" } },
        line.spent ? money(line.spent) : "",
        line.used !== null ? h("small", {}, ` (${percent(line.used)})`) : null,
      ),
      h(
        "td",
        { dataset: { value: "status" } },
        line.status === "none" ? "—" : statusBadge(line.status, { compact: true }),
      ),
      writable
        ? h(
            "td",
            {},
            h(
              "button",
              {
                type: "button",
                class: "button",
                dataset: { testid: "edit-cost-center-budget" },
                // The visible words first (WCAG 2.5.3, label in name), then whose.
                "aria-label": `${line.limit ? "Edit budget" : "Set a budget"} of cost center ${code}`,
                onclick: edit,
              },
              line.limit ? "Edit budget" : "Set a budget",
            ),
          )
        : null,
    );
  }

  async function loadRow(tr, code) {
    try {
      const summary = await api.costCenterSummary(code, month);
      if (!signal?.aborted) fill(tr, code, summary);
    } catch (error) {
      if (signal?.aborted) return;
      replace(
        tr,
        h("th", { scope: "row" }, code),
        h("td", { colspan: writable ? "4" : "3", class: "muted" }, `Could not load: ${error.message}`),
      );
    }
  }

  const pending = codes.map((code) => {
    const tr = h(
      "tr",
      { dataset: { costCenter: code } },
      h("th", { scope: "row" }, code),
      h("td", { colspan: writable ? "4" : "3", class: "muted" }, "Loading…"),
    );
    rows.append(tr);
    return [tr, code];
  });
  const done = (async () => {
    for (let i = 0; i < pending.length && !signal?.aborted; i += PARALLEL) {
      await Promise.all(pending.slice(i, i + PARALLEL).map(([tr, code]) => loadRow(tr, code)));
    }
  })();
  return { element: card, done };
}
