// Chargeback (costs:read at the organisation): a month's costs per team, department or cost
// center. Each unit's allocated cost, its share of the shared costs (split assignments) and of
// the unallocated cost, and its total; the rows add up to the organisation's total to the
// cent (every figure is in cents). Exports: the CSV, or a PDF statement per unit, through the
// reports jobs (jobs.js). The ledger journal (payments): the month's entries per unit and
// currency, debits equal to credits, and its CSV for an accounting system.

import { monthOf } from "../calendar.js";
import { emptyState, errorState, h, replace, skeleton } from "../dom.js";
import { knownToday, metricText, money, monthName } from "../format.js";
import { jobButton } from "../jobs.js";
import { costCenterBudgets, costCenterCodes } from "./cost-centers.js";

export const GROUPINGS = [
  ["team", "Team"],
  ["department", "Department"],
  ["costCenter", "Cost center"],
];

const KINDS = {
  team: "Team",
  department: "Department",
  costCenter: "Cost center",
  none: "—",
  noTeam: "People in no team",
};

const COLUMNS = [
  ["allocated", "Allocated"],
  ["shared", "Shared"],
  ["unallocated", "Unallocated"],
  ["total", "Total"],
];

/** The amount of `list` (one Money per currency, in `currencies` order) in `currency`. */
export function amountIn(list, currencies, currency) {
  const index = currencies.indexOf(currency);
  return index >= 0 && Array.isArray(list) ? list[index] : null;
}

/** Exact sum of decimal strings with up to two decimals (the chargeback's cents), as cents. */
export function cents(amount) {
  const [whole, frac = ""] = String(amount).replace(/^-/, "").split(".");
  const value = BigInt(whole || "0") * 100n + BigInt((frac + "00").slice(0, 2));
  return String(amount).startsWith("-") ? -value : value;
}

/**
 * The rows a table shows for `currency`: the units, the "no team" line and, when something is
 * left unallocated, its line; and whether they add up to the organisation total exactly.
 */
export function chargebackRows(data, currency) {
  const { currencies } = data;
  const line = (unit) => ({
    id: unit.unitId,
    name: unit.name,
    kind: KINDS[unit.kind] || unit.kind,
    people: unit.people,
    ...Object.fromEntries(COLUMNS.map(([key]) => [key, amountIn(unit[key], currencies, currency)])),
  });
  const rows = data.units.map(line);
  const noTeam = line(data.noTeam);
  if (noTeam.people || cents(noTeam.total?.amount ?? "0") !== 0n) rows.push(noTeam);
  const left = amountIn(data.unallocated, currencies, currency);
  if (left && cents(left.amount) !== 0n) {
    const zero = { amount: "0.00", currency };
    rows.push({
      id: "(unallocated)",
      name: "Unallocated (not charged to a unit)",
      kind: "—",
      people: null,
      allocated: zero,
      shared: zero,
      unallocated: left,
      total: left,
    });
  }
  const total = amountIn(data.organisationTotal, currencies, currency);
  const sum = rows.reduce((acc, row) => acc + cents(row.total?.amount ?? "0"), 0n);
  return { rows, total, addsUp: total ? sum === cents(total.amount) : rows.length === 0 };
}

export function chargebackView(view) {
  const { ctx, container, signal } = view;
  const { api } = ctx;
  const known = knownToday();
  const state = { month: known ? monthOf(known) : null, groupBy: "team", currency: null, data: null };

  const monthInput = h("input", { type: "month", id: "chargeback-month", name: "month" });
  if (known) {
    monthInput.value = state.month;
    monthInput.max = state.month;
  }
  const grouping = h(
    "select",
    { id: "chargeback-group", name: "groupBy" },
    GROUPINGS.map(([value, label]) => h("option", { value }, label)),
  );
  const currencyPick = h("select", { id: "chargeback-currency", name: "currency" });
  const currencyField = h(
    "div",
    { class: "field", hidden: true },
    h("label", { for: "chargeback-currency" }, "Currency"),
    currencyPick,
  );
  const controls = h(
    "div",
    { class: "month-picker" },
    h("div", { class: "field" }, h("label", { for: "chargeback-month" }, "Month"), monthInput),
    h("div", { class: "field" }, h("label", { for: "chargeback-group" }, "Group by"), grouping),
    currencyField,
  );
  const note = h("p", { class: "muted", dataset: { testid: "chargeback-note" } });
  const body = h("div", { class: "card-body", "aria-live": "polite" }, skeleton(6, "Loading the chargeback"));

  function exporter(format, label, what) {
    return jobButton({
      label,
      what,
      idKey: "exportId",
      testid: `export-chargeback-${format}`,
      signal,
      start: () => {
        if (!state.data) throw new Error("Load a month first.");
        return api.createExport({ kind: "chargeback", month: state.data.month, groupBy: state.groupBy, format });
      },
      get: (id) => api.exportJob(id),
    });
  }
  // Grouped by cost center: each one's budget status (cost-centers.js), for budgets:read holders.
  const budgets = h("div", { class: "cost-center-budgets" });
  const csv = exporter("csv", "Export CSV", "CSV export");
  const pdf = exporter("pdf", "PDF statements", "PDF statements");
  const journal = journalCard({ api, state, signal });

  replace(
    container,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, "Chargeback"),
        h(
          "p",
          {},
          "Each team's, department's or cost center's share of the month: its own costs, its share of shared " +
            "resources and of what no one owns. The rows add up to the organisation's total.",
        ),
      ),
      controls,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "chargeback-title" },
      h("div", { class: "card-head" }, h("h2", { id: "chargeback-title" }, "Units"), note),
      body,
      h("div", { class: "job-row" }, csv.element, pdf.element),
    ),
    journal.element,
    budgets,
  );

  function showBudgets(data) {
    const access = ctx.access?.();
    const codes = costCenterCodes(data);
    if (state.groupBy !== "costCenter" || !codes.length || !access?.can("budgets:read", "org")) {
      replace(budgets);
      return;
    }
    const card = costCenterBudgets({
      api,
      codes,
      month: data.month,
      writable: access.can("budgets:write", "org"),
      signal,
    });
    replace(budgets, card.element);
  }

  function table(data) {
    const { rows, total, addsUp } = chargebackRows(data, state.currency);
    const cell = (value) => h("td", { class: "numeric", dataset: { amount: value ? value.amount : "" } }, money(value));
    return h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Chargeback" },
      h(
        "table",
        { dataset: { testid: "chargeback-table", currency: state.currency, addsUp: String(addsUp) } },
        h("caption", { class: "visually-hidden" }, `Chargeback for ${monthName(data.month)} in ${state.currency}`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Unit"),
            h("th", { scope: "col" }, "Kind"),
            h("th", { scope: "col", class: "numeric" }, "People"),
            COLUMNS.map(([, label]) => h("th", { scope: "col", class: "numeric" }, label)),
          ),
        ),
        h(
          "tbody",
          {},
          rows.map((row) =>
            h(
              "tr",
              { dataset: { unit: row.id } },
              h("th", { scope: "row" }, row.name),
              h("td", {}, row.kind),
              h("td", { class: "numeric" }, row.people === null ? "" : String(row.people)),
              COLUMNS.map(([key]) => cell(row[key])),
            ),
          ),
        ),
        h(
          "tfoot",
          {},
          h(
            "tr",
            { dataset: { unit: "total" } },
            h("th", { scope: "row", colspan: "6" }, "Organisation total"),
            cell(total),
          ),
        ),
      ),
    );
  }

  function show() {
    const data = state.data;
    if (!data.currencies.length) {
      replace(body, emptyState("No costs for this month.", `Nothing was billed in ${monthName(data.month)} yet.`));
      note.textContent = "";
      return;
    }
    if (!data.currencies.includes(state.currency)) state.currency = data.currencies[0];
    replace(currencyPick, ...data.currencies.map((c) => h("option", { value: c, selected: c === state.currency }, c)));
    currencyField.hidden = data.currencies.length < 2;
    const rule =
      data.rule === "proportional"
        ? "Unallocated cost spread in proportion to each unit's total."
        : "Unallocated cost kept on its own line.";
    note.textContent = `${monthName(data.month)} · ${metricText(data.metric)} · ${rule} · ${
      data.final ? "Final" : "Provisional: AWS may still revise this month"
    }`;
    replace(body, table(data));
  }

  // The API answers concurrently (several Lambda containers), so an earlier request's answer
  // may arrive after a later one's: only the latest request's answer is shown.
  let latest = 0;
  async function load() {
    const mine = ++latest;
    replace(body, skeleton(6, "Loading the chargeback"));
    replace(budgets);
    try {
      const data = await api.chargeback({ month: state.month || undefined, groupBy: state.groupBy });
      if (signal.aborted || mine !== latest) return;
      state.data = data;
      if (!state.month) {
        state.month = state.data.month;
        monthInput.value = state.month;
        monthInput.max = state.month;
      }
      show();
      showBudgets(state.data);
      journal.load();
    } catch (error) {
      if (signal.aborted || mine !== latest) return;
      replace(body, errorState(error, load, "the chargeback"));
      journal.waiting();
    }
  }

  monthInput.addEventListener("change", () => {
    if (!monthInput.value) return;
    state.month = monthInput.value;
    load();
  });
  grouping.addEventListener("change", () => {
    state.groupBy = grouping.value;
    load();
  });
  currencyPick.addEventListener("change", () => {
    state.currency = currencyPick.value;
    show();
  });
  return load();
}

/** Debits and credits of a journal per currency, in cents (they are equal when balanced). */
export function journalTotals(data) {
  return data.totals.map((t) => ({
    currency: t.currency,
    debit: t.debit,
    credit: t.credit,
    balanced: cents(t.debit) === cents(t.credit),
  }));
}

// The month's ledger journal: its totals per currency (balanced) and its CSV, which the
// browser saves from the API's answer (the request carries the sign-in token, so a link cannot).
function journalCard({ api, state, signal }) {
  const summary = h("div", { "aria-live": "polite", dataset: { testid: "journal-summary" } });
  const status = h("span", { class: "job-note", role: "status" });
  const button = h(
    "button",
    { type: "button", class: "button", dataset: { testid: "journal-csv" } },
    "Download journal (CSV)",
  );
  const element = h(
    "section",
    { class: "card journal", "aria-labelledby": "journal-title", dataset: { testid: "journal" } },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "journal-title" }, "Ledger journal"),
      h(
        "p",
        { class: "muted" },
        "One entry per unit and currency: the unit's expense debited, the central cloud-costs account credited.",
      ),
    ),
    h("div", { class: "card-body" }, summary),
    h("div", { class: "job-row" }, h("div", { class: "job-controls" }, button, status)),
  );

  let latest = 0;
  async function load() {
    const mine = ++latest;
    replace(summary, skeleton(2, "Loading the journal"));
    try {
      const data = await api.chargebackJournal({ month: state.month || undefined, groupBy: state.groupBy });
      if (signal.aborted || mine !== latest) return;
      const totals = journalTotals(data);
      if (!totals.length) {
        replace(summary, h("p", { class: "muted" }, "No entries: nothing was billed this month."));
        return;
      }
      replace(
        summary,
        h(
          "p",
          {},
          `${data.entries.length} entries · accounts ${data.accounts.expense} (expense, per cost center) and ` +
            `${data.accounts.cloud} (central cloud costs)`,
        ),
        h(
          "ul",
          { class: "journal-totals" },
          totals.map((t) =>
            h(
              "li",
              { dataset: { currency: t.currency, balanced: String(t.balanced), debit: t.debit, credit: t.credit } },
              `${t.currency}: debits ${money({ amount: t.debit, currency: t.currency })}, credits ${money({
                amount: t.credit,
                currency: t.currency,
              })} · ${t.balanced ? "balanced" : "NOT balanced"}`,
            ),
          ),
        ),
      );
    } catch (error) {
      if (signal.aborted || mine !== latest) return;
      replace(summary, errorState(error, load, "the journal"));
    }
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Preparing the journal…";
    try {
      const month = state.month || undefined;
      const text = await api.chargebackJournalCsv({ month, groupBy: state.groupBy });
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      const link = h("a", { href: url, download: `tally-journal-${state.month}-${state.groupBy}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.textContent = "The journal was downloaded.";
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });

  /** The chargeback above could not be loaded: the journal (which follows it) says so. */
  function waiting() {
    replace(summary, h("p", { class: "muted" }, "The journal shows once the chargeback above has loaded."));
  }
  return { element, load, waiting };
}
