// Cost details: the user's daily cost lines (one per day, service, resource and charge), from
// GET cost-lines, which filters by service, searches resource names and ids, sorts (cost high to low by
// default, or by date) and pages on the server. Pages go forward with the API's nextToken;
// the tokens already seen take the user back. The default range is the last 30 complete days
// (today never has figures yet), counted from the API's business date. Each line shows its
// resource by name with the id as a copyable detail, its usage and, for usage, the cost of a
// unit (the API's costPerUnit); on a phone each line becomes a card of labelled cells.

import { emptyState, errorState, field, h, replace } from "../dom.js";
import { addDays, daysFrom } from "../calendar.js";
import { METRIC_HINT, longDay, metricText, money, quantity, serviceName, share, unitPrice } from "../format.js";
import { jobButton } from "../jobs.js";
import { resourceLabel } from "../resource-name.js";
import { pageHead, sortableHeader, tableSkeleton, utcNote } from "./common.js";

const PAGE_SIZE = 20;
const DEFAULT_DAYS = 30;
const SEARCH_DELAY_MS = 300;

const SORTS = {
  "-cost": { key: "cost", dir: "desc", label: "Cost, high to low" },
  cost: { key: "cost", dir: "asc", label: "Cost, low to high" },
  "-date": { key: "date", dir: "desc", label: "Date, newest first" },
  date: { key: "date", dir: "asc", label: "Date, oldest first" },
};

const COLUMNS = [
  { key: "date", label: "Date (UTC)", sortable: true },
  { key: "service", label: "Service" },
  { key: "resource", label: "Resource" },
  { key: "category", label: "Charge" },
  { key: "usage", label: "Usage", numeric: true },
  { key: "unitPrice", label: "Cost per unit", numeric: true },
  { key: "cost", label: "Cost", numeric: true, sortable: true },
];

export function costsView(view) {
  const { ctx, subject, container, signal } = view;
  const { api } = ctx;
  const state = {
    start: null, // the last 30 complete days, once the business date is known
    end: null,
    service: "",
    q: "",
    sort: "-cost",
    page: 0,
    tokens: [null], // tokens[i] fetches page i
    services: [],
  };
  const serviceSelect = h("select", { name: "service" }, h("option", { value: "" }, "All services"));
  const fromInput = h("input", { type: "date", name: "from" });
  const toInput = h("input", { type: "date", name: "to" });
  const searchInput = h("input", {
    type: "search",
    name: "q",
    placeholder: "Resource name, ID or service",
    autocomplete: "off",
    spellcheck: "false",
  });
  const sortSelect = h(
    "select",
    { name: "sort" },
    Object.entries(SORTS).map(([value, sort]) => h("option", { value, selected: value === state.sort }, sort.label)),
  );
  const serviceField = field({ label: "Service", name: "service", control: serviceSelect });
  const fromField = field({ label: "From", name: "startDate", control: fromInput });
  const toField = field({ label: "To", name: "endDate", control: toInput });
  const searchField = field({ label: "Search", name: "q", control: searchInput });
  searchField.element.classList.add("search");
  const sortField = field({ label: "Sort by", name: "sort", control: sortSelect });
  const fields = { service: serviceField, startDate: fromField, endDate: toField, q: searchField, sort: sortField };
  const filters = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter cost lines", onsubmit: (e) => e.preventDefault() },
    serviceField.element,
    fromField.element,
    toField.element,
    searchField.element,
    sortField.element,
  );

  const table = h("table", { class: "stack cost-lines", dataset: { testid: "cost-lines" } });
  const tableBox = h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Cost lines" }, table);
  const summary = h("p", { role: "status", dataset: { testid: "lines-summary" } });
  const prev = h("button", { type: "button", class: "button small", "aria-label": "Previous page" }, "‹ Previous");
  const pageLabel = h("span", { dataset: { testid: "page-label" } });
  const next = h("button", { type: "button", class: "button small", "aria-label": "Next page" }, "Next ›");
  // The export takes the range and filters shown (not the sort or the page): every line.
  const exporter = jobButton({
    label: "Export CSV",
    what: "CSV export",
    idKey: "exportId",
    testid: "export-csv",
    signal,
    start: () =>
      api.createExport({
        kind: "costs",
        startDate: state.start,
        endDate: state.end,
        userId: subject.userId,
        service: state.service || undefined,
        search: state.q || undefined,
      }),
    get: (id) => api.exportJob(id),
  });
  const card = h(
    "section",
    { class: "card span-12", "aria-labelledby": "lines-title" },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "lines-title" }, "Daily cost lines"),
      h("p", { class: "card-subtitle" }, "One line per day, service and resource"),
    ),
    filters,
    // The range's days (and the export's, which takes the same range) are UTC days.
    utcNote("Days are UTC (AWS bills by the UTC day): the range and the export cover whole UTC days."),
    exporter.element,
    tableBox,
    h("div", { class: "table-foot" }, summary, h("div", { class: "pager" }, prev, pageLabel, next)),
  );

  replace(
    container,
    pageHead(
      view,
      "Costs",
      subject.isSelf
        ? "Every cost line of your resources, day by day."
        : `Every cost line of ${subject.username}'s resources, day by day.`,
    ),
    h("div", { class: "grid" }, card),
  );

  function onHeaderSort(key) {
    const current = SORTS[state.sort];
    const dir = current.key === key ? (current.dir === "desc" ? "asc" : "desc") : "desc";
    state.sort = dir === "desc" ? `-${key}` : key;
    sortSelect.value = state.sort;
    restart().then(() => table.querySelector(`button[data-sort="${key}"]`)?.focus());
  }

  function fillServices() {
    const services = [...state.services];
    if (state.service && !services.includes(state.service)) services.push(state.service);
    services.sort((a, b) => serviceName(a).localeCompare(serviceName(b)));
    replace(
      serviceSelect,
      h("option", { value: "" }, "All services"),
      services.map((s) => h("option", { value: s, selected: s === state.service }, serviceName(s))),
    );
  }

  function show(data) {
    const rows = data.lines.map((line) =>
      h(
        "tr",
        {
          dataset: {
            date: line.date,
            service: line.service,
            resource: line.resourceId || "",
            amount: line.cost.amount,
          },
        },
        h("td", { "data-label": "Date" }, h("time", { datetime: line.date }, longDay(line.date))),
        h("td", { "data-label": "Service" }, serviceName(line.service)),
        h(
          "td",
          { class: "resource-cell", "data-label": "Resource" },
          resourceLabel(line.resourceId, line.resourceName),
        ),
        h(
          "td",
          { "data-label": "Charge" },
          line.chargeCategory,
          line.allocation === "assignment" && Number(line.sharePct) < 100
            ? h("small", { class: "muted" }, ` · ${share(line.sharePct)} share`)
            : null,
        ),
        h(
          "td",
          { class: "num", "data-label": "Usage", dataset: { testid: "usage" } },
          quantity(line.usageQuantity, line.usageUnit),
        ),
        h(
          "td",
          { class: "num", "data-label": "Cost per unit", dataset: { testid: "unit-price" } },
          unitPrice(line.costPerUnit),
        ),
        h(
          "td",
          { class: "num", "data-label": "Cost" },
          money(line.cost),
          line.estimated
            ? [" ", h("span", { class: "tag", title: "Estimated: AWS may still restate it" }, "est.")]
            : null,
        ),
      ),
    );
    const body = rows.length
      ? h("tbody", {}, rows)
      : h(
          "tbody",
          {},
          h(
            "tr",
            {},
            h(
              "td",
              { colspan: String(COLUMNS.length) },
              state.service || state.q
                ? emptyState("No lines match.", "Change the service, the dates or the search.")
                : emptyState(
                    "No costs in this date range.",
                    "Costs appear the day after they are incurred, once the daily import has run.",
                  ),
            ),
          ),
        );
    replace(
      table,
      h(
        "caption",
        { class: "visually-hidden" },
        `Cost lines from ${longDay(data.startDate)} to ${longDay(data.endDate)}, ${SORTS[state.sort].label.toLowerCase()}`,
      ),
      sortableHeader(COLUMNS, SORTS[state.sort], onHeaderSort),
      body,
    );
    const pages = Math.max(1, Math.ceil(data.totalCount / PAGE_SIZE));
    const first = data.totalCount ? state.page * PAGE_SIZE + 1 : 0;
    const last = state.page * PAGE_SIZE + data.lines.length;
    summary.textContent = data.totalCount
      ? `Showing ${first}–${last} of ${data.totalCount} line${data.totalCount === 1 ? "" : "s"}`
      : "No lines";
    pageLabel.textContent = `Page ${state.page + 1} of ${pages}`;
    prev.disabled = state.page === 0;
    next.disabled = !state.tokens[state.page + 1];
  }

  let loadId = 0;
  async function load() {
    const mine = ++loadId;
    replace(
      table,
      sortableHeader(COLUMNS, SORTS[state.sort], () => {}),
      tableSkeleton(COLUMNS.length, 8),
    );
    table.setAttribute("aria-busy", "true");
    summary.textContent = "Loading cost lines…";
    prev.disabled = true;
    next.disabled = true;
    for (const f of Object.values(fields)) f.setError("");
    try {
      const data = await api.costLines(subject.userId, {
        startDate: state.start,
        endDate: state.end,
        service: state.service || null,
        q: state.q || null,
        sort: state.sort,
        limit: PAGE_SIZE,
        nextToken: state.tokens[state.page],
      });
      if (signal.aborted || mine !== loadId) return;
      state.tokens[state.page + 1] = data.nextToken;
      const metric = metricText(data.metric);
      if (metric) {
        replace(
          card.querySelector(".card-subtitle"),
          "One line per day, service and resource · ",
          h("span", { class: "metric", title: METRIC_HINT[data.metric], dataset: { testid: "metric" } }, metric),
        );
      }
      state.services = data.services;
      fillServices();
      show(data);
    } catch (error) {
      if (signal.aborted || mine !== loadId) return;
      const named = Object.entries(error.fieldErrors || {}).filter(([name]) => fields[name]);
      for (const [name, message] of named) fields[name].setError(message);
      replace(
        table,
        h(
          "tbody",
          {},
          h("tr", {}, h("td", { colspan: String(COLUMNS.length) }, errorState(error, load, "the cost lines"))),
        ),
      );
      summary.textContent = "";
    } finally {
      if (mine === loadId) table.removeAttribute("aria-busy");
    }
  }

  /** Filters or sorting changed: back to the first page (tokens are bound to the filters). */
  function restart() {
    state.page = 0;
    state.tokens = [null];
    return load();
  }

  function onDates() {
    fromField.setError("");
    toField.setError("");
    const start = fromInput.value;
    const end = toInput.value;
    if (!start || !end) {
      (start ? toField : fromField).setError("Choose a date.");
      return;
    }
    if (start > end) {
      toField.setError("The end is before the start.");
      return;
    }
    // The API's bound for cost lines (GET /api/me's limits); the API checks it too.
    const maxDays = ctx.limits()?.costLinesMaxDays;
    if (maxDays && daysFrom(start, end) + 1 > maxDays) {
      toField.setError(`Choose at most ${maxDays} days.`);
      return;
    }
    state.start = start;
    state.end = end;
    restart();
  }

  serviceSelect.addEventListener("change", () => {
    state.service = serviceSelect.value;
    restart();
  });
  let searchTimer = null;
  searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const q = searchInput.value.trim();
      if (q === state.q) return;
      state.q = q;
      restart();
    }, SEARCH_DELAY_MS);
  });
  sortSelect.addEventListener("change", () => {
    state.sort = sortSelect.value;
    restart();
  });
  fromInput.addEventListener("change", onDates);
  toInput.addEventListener("change", onDates);
  prev.addEventListener("click", () => {
    state.page -= 1;
    load().then(() => (prev.disabled ? next : prev).focus());
  });
  next.addEventListener("click", () => {
    state.page += 1;
    load().then(() => (next.disabled ? prev : next).focus());
  });

  // The page and its heading are up before the first await (the router focuses the heading).
  async function begin() {
    replace(
      table,
      sortableHeader(COLUMNS, SORTS[state.sort], () => {}),
      tableSkeleton(COLUMNS.length, 8),
    );
    table.setAttribute("aria-busy", "true");
    let today;
    try {
      today = await ctx.today();
    } catch (error) {
      if (!signal.aborted) {
        table.removeAttribute("aria-busy");
        replace(
          table,
          h(
            "tbody",
            {},
            h("tr", {}, h("td", { colspan: String(COLUMNS.length) }, errorState(error, begin, "the cost lines"))),
          ),
        );
      }
      return;
    }
    if (signal.aborted) return;
    state.end = addDays(today, -1);
    state.start = addDays(today, -DEFAULT_DAYS);
    fromInput.value = state.start;
    toInput.value = state.end;
    fromInput.max = today;
    toInput.max = today;
    await load();
  }
  return begin();
}
