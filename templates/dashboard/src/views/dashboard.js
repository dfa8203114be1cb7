// Dashboard: the month's summary card, this month by service (doughnut), the daily trend with
// forecast and budget pace, and the top cost drivers. Three API calls before the first chart:
// the summary and the trend (the API's last 30 complete days) leave at once; this month's
// costs leave with them when the business date is known, else as soon as the summary says it.
// In the first days of a month the summary explains the empty month and shows last month's
// result beside it. A "month" is the organisation's billing period (calendar.js): until the
// page knows the definition (asked after the first chart, see main.js) the summary's
// periodStart and periodEnd say the days, and the cards are drawn again if it changes them.

import { doughnutChart, trendChart } from "../charts.js";
import { emptyState, h, replace } from "../dom.js";
import { firstDay, monthOf, periods } from "../calendar.js";
import {
  METRIC_HINT,
  dateTime,
  knownToday,
  longDay,
  metricText,
  money,
  moneyNumber,
  monthName,
  percent,
  serviceName,
  showLastMonth,
} from "../format.js";
import { trendSeries } from "../trend.js";
import { afterFirstChart, convertedNote, displayCurrency, judgedNote } from "../currency.js";
import { openBudgetModal } from "./budget.js";
import { loadingCard, pageHead, statusBadge } from "./common.js";
import { resourceLabel } from "../resource-name.js";

function figure(label, value, key, extra = null) {
  return h(
    "div",
    { class: "figure", dataset: { figure: key } },
    h("dt", {}, label),
    h("dd", { dataset: { value: key } }, value, extra),
  );
}

function meterOf(summary, budget) {
  const used = Number(summary.percentUsed);
  const fill = h("span", { class: `meter-fill ${summary.status || ""}` });
  fill.style.width = `${Math.min(100, Math.max(0, used))}%`;
  const mark = h("span", { class: "meter-threshold", title: `Alert at ${budget.alertThreshold}%` });
  mark.style.left = `${budget.alertThreshold}%`;
  return h(
    "div",
    {},
    h(
      "div",
      {
        class: "meter",
        role: "meter",
        "aria-label": "Budget used",
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-valuenow": String(Math.min(100, Math.max(0, used))),
        "aria-valuetext": `${percent(summary.percentUsed)} of the budget used`,
      },
      fill,
      mark,
    ),
    h(
      "div",
      { class: "meter-caption" },
      h("span", {}, `${percent(summary.percentUsed)} of the budget used`),
      h("span", {}, `Alert at ${budget.alertThreshold}%`),
    ),
  );
}

/** A month without figures: nothing to judge, so say why, and when figures will come. */
function awaitingCosts(summary) {
  const expected = summary.firstCostsExpected;
  // Before the expected day the figures are on their way; after it there simply were none.
  return h(
    "p",
    { class: "notice", role: "note", dataset: { testid: "no-costs-yet" } },
    expected
      ? [
          h("strong", {}, `No costs for ${monthName(summary.month, summary)} have arrived yet.`),
          ` AWS reports each day's costs after the day ends: the first are expected on ${longDay(expected)}.`,
        ]
      : [
          h("strong", {}, `No costs for ${monthName(summary.month, summary)} so far.`),
          " Costs appear here a day or two after they are incurred, once the daily import has run.",
        ],
  );
}

/** Last month's result against the budget in force then, while this month has little data. */
function lastMonth(previous) {
  const budget = previous.budget;
  const remaining = previous.remaining ? Number(previous.remaining.amount) : null;
  let difference = "—";
  if (previous.remaining && remaining < 0) {
    difference = `${money({ ...previous.remaining, amount: previous.remaining.amount.replace(/^-/, "") })} over`;
  } else if (previous.remaining) {
    difference = `${money(previous.remaining)} left`;
  }
  return h(
    "section",
    { class: "last-month", "aria-labelledby": "last-month-title", dataset: { testid: "previous-month" } },
    h(
      "h3",
      { id: "last-month-title" },
      `Last month: ${monthName(previous.month)}`,
      h(
        "span",
        { class: `tag ${previous.final ? "tag-final" : ""}`, dataset: { value: "previous-final" } },
        previous.final ? "Final" : "Provisional",
      ),
    ),
    h(
      "dl",
      { class: "last-month-figures" },
      figure("Total", money(previous.total), "previous-total"),
      figure("Budget", budget ? money(budget.monthlyLimit) : "Not set", "previous-budget"),
      figure("Result", budget ? statusBadge(previous.status, { compact: true }) : "No budget", "previous-status"),
      figure(
        "Against the budget",
        difference,
        "previous-difference",
        previous.percentUsed !== null && previous.percentUsed !== undefined
          ? h("small", {}, ` (${percent(previous.percentUsed)} used)`)
          : null,
      ),
    ),
    h(
      "p",
      { class: "chart-note" },
      previous.final
        ? "Final: AWS no longer restates these days."
        : "Provisional: AWS may still restate the month's last days; the result becomes final in a few days.",
    ),
  );
}

function renderSummary(body, summary, { onEditBudget, changesHref }) {
  const currency = summary.total.currency;
  const budget = summary.budget;
  // An empty month is not "under budget at 0%": there is nothing to judge yet.
  const empty = summary.noCostsYet === true;
  const hasUsed = summary.percentUsed !== null && summary.percentUsed !== undefined;
  const figures = h(
    "dl",
    { class: "summary-figures", dataset: { testid: "summary" } },
    // Judged in the budget's currency on converted costs: the converted spend, marked "≈".
    summary.budgetJudgedIn
      ? figure("Total This Month", `≈ ${money(summary.budgetJudgedIn.spent)}`, "total")
      : figure("Total This Month", money(summary.total), "total"),
    figure("Budget", budget ? money(budget.monthlyLimit) : "Not set", "budget"),
    figure(
      "Remaining",
      summary.remaining ? money(summary.remaining) : "—",
      "remaining",
      summary.remainingPct !== null && summary.remainingPct !== undefined
        ? h("small", { dataset: { value: "remainingPct" } }, ` (${percent(summary.remainingPct)})`)
        : null,
    ),
    h(
      "div",
      { class: "figure", dataset: { figure: "status" } },
      h("dt", {}, "Status"),
      h("dd", { dataset: { value: "status" } }, statusBadge(empty && budget ? "pending" : summary.status)),
    ),
  );

  const meter = budget && hasUsed && !empty ? meterOf(summary, budget) : null;

  const notes = [];
  const forecast = summary.forecast;
  if (forecast) {
    const above = budget && Number(forecast.monthEnd.amount) > Number(budget.monthlyLimit.amount);
    notes.push(
      h(
        "li",
        { dataset: { testid: "projection" } },
        "Month-end projection: ",
        h("strong", { dataset: { value: "projection" } }, money(forecast.monthEnd)),
        h(
          "span",
          { class: "muted" },
          ` (80% likely between ${money(forecast.monthEndLower80)} and ${money(forecast.monthEndUpper80)})`,
        ),
        above ? h("span", { class: "tag" }, "above budget") : null,
      ),
    );
  } else {
    notes.push(
      h(
        "li",
        { dataset: { testid: "projection" } },
        "Month-end projection: not available yet (it needs a few days of costs).",
      ),
    );
  }
  if (summary.estimated || Number(summary.total.amount) !== 0) {
    notes.push(
      h(
        "li",
        { dataset: { testid: "estimated" } },
        summary.estimated
          ? [h("span", { class: "tag" }, "Estimated"), " Recent days are still estimated: AWS may restate them."]
          : "Final figures: no day of this month is still estimated.",
      ),
    );
  }
  if (summary.lastUpdated) notes.push(h("li", {}, `Last updated ${dateTime(summary.lastUpdated)}.`));
  const judged = summary.budgetJudgedIn;
  if (judged) {
    // Judged on the month converted into the budget's currency, as the alerts judge it.
    notes.push(h("li", {}, judgedNote(summary)));
  } else if (summary.currencyMismatch) {
    const billed = (summary.otherCurrencies || []).map((other) => other.currency).join(" and ") || currency;
    notes.push(
      h(
        "li",
        { role: "note", dataset: { testid: "currency-mismatch" } },
        `The budget is in ${budget.monthlyLimit.currency} but costs are billed in ${billed}, and there is no exchange rate for every day yet: they cannot be compared.`,
      ),
    );
  }
  for (const other of summary.otherCurrencies || []) {
    notes.push(
      h(
        "li",
        {},
        judged
          ? `Billed ${money(other)} in ${other.currency} (converted above, never replaced).`
          : `Also billed ${money(other)} in ${other.currency} (not in the total).`,
      ),
    );
  }
  for (const change of summary.restatements || []) {
    notes.push(
      h(
        "li",
        {},
        `${monthName(change.month)} was restated by AWS: ${money(change.previous)} → ${money(change.current)}.`,
      ),
    );
  }

  replace(
    body,
    figures,
    empty ? awaitingCosts(summary) : null,
    meter,
    showLastMonth(summary) ? lastMonth(summary.previousMonth) : null,
    h("ul", { class: "summary-notes" }, notes),
    h(
      "div",
      { class: "summary-actions" },
      h(
        "button",
        { type: "button", class: "button primary", onclick: onEditBudget, dataset: { testid: "edit-budget" } },
        budget ? "Edit budget" : "Set a budget",
      ),
      changesHref ? h("a", { class: "button", href: changesHref }, "Why did my bill change?") : null,
    ),
  );
  if (!budget) {
    body.prepend(
      h(
        "p",
        { class: "notice", dataset: { testid: "no-budget" } },
        "No budget yet: set one to get alerts before costs run over.",
      ),
    );
  }
}

/** "November 2026 · Amortized cost": the month and which cost every figure on the card is. */
function summarySubtitle(slot, summary) {
  const metric = metricText(summary.metric);
  replace(
    slot,
    monthName(summary.month, summary),
    metric
      ? [
          " · ",
          h("span", { class: "metric", title: METRIC_HINT[summary.metric], dataset: { testid: "metric" } }, metric),
        ]
      : null,
  );
}

function renderDoughnut(body, costs, signal) {
  const currency = costs.total.currency;
  const positive = costs.byService.filter((s) => Number(s.cost.amount) > 0);
  const credits = costs.byService.filter((s) => Number(s.cost.amount) < 0);
  if (positive.length === 0) {
    replace(
      body,
      h(
        "div",
        { class: "chart-box" },
        emptyState(
          `No costs for ${monthName(monthOf(costs.startDate))} yet.`,
          "Costs appear a day or two after they are incurred, once the daily import has run.",
        ),
      ),
    );
    return null;
  }
  const total = positive.reduce((sum, s) => sum + Number(s.cost.amount), 0);
  const items = positive.map((s) => ({ label: serviceName(s.service), value: Number(s.cost.amount) }));
  const canvas = h("canvas", {
    role: "img",
    "aria-label": `This month's cost by service: ${positive
      .map((s) => `${serviceName(s.service)} ${money(s.cost)}`)
      .join(", ")}.`,
    dataset: { chart: "by-service" },
  });
  const legend = h(
    "ul",
    { class: "legend-list", "aria-label": "Cost by service" },
    positive.map((s, i) => {
      // A class, not a colour: the swatch follows the theme like the chart does.
      const swatch = h("span", { class: `legend-swatch series-${(i % 8) + 1}`, "aria-hidden": "true" });
      return h(
        "li",
        { dataset: { service: s.service } },
        swatch,
        h("span", { class: "legend-name" }, serviceName(s.service)),
        h(
          "span",
          { class: "legend-value" },
          money(s.cost),
          h("small", {}, `${((Number(s.cost.amount) / total) * 100).toFixed(1)}%`),
        ),
      );
    }),
  );
  replace(body, h("div", { class: "doughnut-layout" }, h("div", { class: "chart-box" }, canvas), legend));
  if (credits.length) {
    body.append(
      h(
        "p",
        { class: "chart-note" },
        `Credits not drawn: ${credits.map((s) => `${serviceName(s.service)} ${money(s.cost)}`).join(", ")}.`,
      ),
    );
  }
  return signal.aborted ? null : doughnutChart(canvas, { items, currency });
}

function dataTable(series, currency) {
  const rows = series.days.map((day, i) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, longDay(day)),
      h("td", { class: "num" }, series.actual[i] !== null ? moneyNumber(series.actual[i], currency) : "—"),
      h(
        "td",
        { class: "num" },
        series.forecast[i] !== null && series.actual[i] === null ? moneyNumber(series.forecast[i], currency) : "—",
      ),
      h("td", { class: "num" }, series.pace[i] !== null ? moneyNumber(series.pace[i], currency) : "—"),
    ),
  );
  return h(
    "details",
    { class: "data-table" },
    h("summary", {}, "Show the figures as a table"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Day (UTC)"),
            h("th", { scope: "col", class: "num" }, "Actual"),
            h("th", { scope: "col", class: "num" }, "Forecast"),
            h("th", { scope: "col", class: "num" }, "Budget pace"),
          ),
        ),
        h("tbody", {}, rows),
      ),
    ),
  );
}

function renderTrend(body, [costs, summary, today], signal) {
  const currency = costs.total.currency;
  const series = trendSeries(costs, summary, today);
  if (series.actualTotal === 0 && !summary.forecast) {
    replace(
      body,
      h(
        "div",
        { class: "chart-box" },
        emptyState("No spending in the last 30 days.", "The trend appears once costs have been imported."),
      ),
    );
    return null;
  }
  const pace = series.pace.some((v) => v !== null) ? series.pace : null;
  const canvas = h("canvas", {
    role: "img",
    "aria-label": `Daily spending from ${longDay(series.days[0])} to ${longDay(series.lastActual)}, ${moneyNumber(series.actualTotal, currency)} in all${
      summary.forecast ? `, with the forecast to ${longDay(series.days[series.days.length - 1])}` : ""
    }${pace ? ` and the budget pace of about ${moneyNumber(pace[pace.length - 1], currency)} a day` : ""}.`,
    dataset: { chart: "trend" },
  });
  replace(body, h("div", { class: "chart-box" }, canvas), dataTable(series, currency));
  return signal.aborted ? null : trendChart(canvas, { ...series, pace, currency });
}

function renderDrivers(body, summary) {
  if (!summary.topDrivers.length) {
    replace(body, emptyState("No resource costs this month yet.", null));
    return;
  }
  replace(
    body,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, "The resources that cost the most this month"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Resource"),
            h("th", { scope: "col" }, "Service"),
            h("th", { scope: "col", class: "num" }, "This month"),
          ),
        ),
        h(
          "tbody",
          {},
          summary.topDrivers.map((d) =>
            h(
              "tr",
              {},
              h("td", { class: "resource-cell" }, resourceLabel(d.resourceId, d.resourceName)),
              h("td", {}, serviceName(d.service)),
              h("td", { class: "num" }, money(d.cost)),
            ),
          ),
        ),
      ),
    ),
  );
}

export function dashboardView(view) {
  const { ctx, subject, container, signal } = view;
  const { api } = ctx;
  const known = knownToday();

  // The summary and the trend leave at once; the trend asks for the API's default window, the
  // last 30 complete days, so it needs no date. This month's costs need the business date: on
  // the first screen the summary brings it (no extra call before the first chart).
  let summaryPromise;
  let monthPromise;
  let trendPromise;
  const loadSummary = () => (summaryPromise = api.summary(subject.userId));
  const today = () =>
    knownToday()
      ? Promise.resolve(knownToday())
      : summaryPromise.then(
          (summary) => summary.today || ctx.today(),
          () => ctx.today(),
        );
  // This period's first day: the definition's once the page knows it, else the summary's.
  const periodStart = (day) =>
    ctx.periodsKnown()
      ? firstDay(monthOf(day))
      : summaryPromise.then(
          (summary) => summary.periodStart || firstDay(monthOf(day)),
          () => firstDay(monthOf(day)),
        );
  const loadMonth = () =>
    (monthPromise = today().then(async (day) => api.costs(subject.userId, await periodStart(day), day)));
  const loadTrend = () => (trendPromise = api.costs(subject.userId));
  loadSummary();
  loadTrend();
  loadMonth();

  const knownName = known && ctx.periodsKnown() ? monthName(monthOf(known)) : null;
  const monthSlot = h("span", {}, knownName || "this month");
  const summaryCard = loadingCard({
    title: "This month",
    subtitle: knownName || "",
    className: "span-12",
    bodyClass: "summary-body",
    lines: 6,
    id: "summary-title",
  });
  const doughnutCard = loadingCard({ title: "This month by service", className: "span-5", lines: 8 });
  const trendCard = loadingCard({
    title: "Daily spending",
    subtitle: "Last 30 days, forecast to the month's end; days are UTC",
    className: "span-7",
    lines: 8,
  });
  const driversCard = loadingCard({ title: "Top resources this month", className: "span-12", lines: 4 });
  // Chart boxes keep their height while loading: nothing below moves when the charts arrive.
  doughnutCard.body.classList.add("chart-body");
  trendCard.body.classList.add("chart-body");

  replace(
    container,
    pageHead(view, "Dashboard", [
      // The month last: its name arriving with the summary moves no text after it.
      `${subject.isSelf ? "Your" : `${subject.username}'s`} AWS costs, updated daily, for `,
      monthSlot,
    ]),
    h("div", { class: "grid" }, summaryCard.element, doughnutCard.element, trendCard.element, driversCard.element),
  );

  // A retry asks again: a card's loader reuses the request already on its way the first time
  // and starts a fresh one after a failure.
  const retrying = (load, get) => {
    let firstTry = true;
    return () => {
      if (!firstTry) load();
      firstTry = false;
      return get();
    };
  };

  const charts = {};
  signal.addEventListener("abort", () => {
    for (const chart of Object.values(charts)) chart.destroy();
  });
  const keep = (name, chart) => {
    if (charts[name]) charts[name].destroy();
    if (chart) charts[name] = chart;
  };

  const showSummary = (body, summary) => {
    monthSlot.textContent = monthName(summary.month, summary);
    summarySubtitle(summaryCard.element.querySelector(".card-subtitle"), summary);
    renderSummary(body, summary, {
      onEditBudget: () => editBudget(summary),
      changesHref: view.routeHref("changes", subject),
    });
    shown = { body, summary };
    if (converting) showConverted(body, summary);
  };
  // The conversion waits for the first chart: its calls (preferences, settings, the converted
  // summary) never delay the figures (at most three API calls before the first chart).
  let shown = null;
  let converting = false;
  const startConverting = () =>
    afterFirstChart().then(() => {
      converting = true;
      if (shown && !signal.aborted) showConverted(shown.body, shown.summary);
    });
  // In a display currency other than the one billed (the person's, else the organisation's):
  // the month converted day by day by the API, beside the billed figure, with its rates' days.
  async function showConverted(body, summary) {
    try {
      const wanted = await displayCurrency(api, ctx.billingSettings);
      if (!wanted || wanted === summary.total.currency || signal.aborted) return;
      const converted = await api.summary(subject.userId, wanted);
      const note = convertedNote(converted.converted);
      if (note && !signal.aborted && body.isConnected) body.append(note);
    } catch {
      // No rate to convert at (or no answer): the billed figures stand alone, as before.
    }
  }
  let trendShown = null;
  const showTrend = (body, data) => {
    trendShown = { body, data };
    keep("trend", renderTrend(body, data, signal));
  };
  // The organisation's periods, when the page learns them after this view was drawn (the
  // first screen): the cards that do period arithmetic are drawn again from the same answers.
  const drawnWith = periods();
  const redrawForPeriods = () => {
    if (signal.aborted || periods() === drawnWith) return;
    if (shown?.body.isConnected) showSummary(shown.body, shown.summary);
    if (trendShown?.body.isConnected) showTrend(trendShown.body, trendShown.data);
  };
  const showDoughnut = (body, data) => keep("doughnut", renderDoughnut(body, data, signal));

  const runSummary = () =>
    summaryCard.run(
      retrying(loadSummary, () => summaryPromise),
      showSummary,
      signal,
      "the summary",
    );
  const runTrend = () =>
    trendCard.run(
      retrying(
        () => {
          loadTrend();
          loadSummary();
        },
        () => Promise.all([trendPromise, summaryPromise, today()]),
      ),
      showTrend,
      signal,
      "the daily trend",
    );

  async function editBudget(summary) {
    const saved = await openBudgetModal({ api, subject, summary });
    if (saved && !signal.aborted) {
      // The status, remaining amount and budget pace all change with the budget.
      loadSummary();
      await Promise.all([runSummary(), runTrend()]);
      const edit = container.querySelector("[data-testid=edit-budget]");
      if (edit) edit.focus();
    }
  }

  const all = Promise.all([
    runSummary(),
    doughnutCard.run(
      retrying(loadMonth, () => monthPromise),
      showDoughnut,
      signal,
      "costs by service",
    ),
    runTrend(),
    driversCard.run(
      retrying(loadSummary, () => summaryPromise),
      renderDrivers,
      signal,
      "top resources",
    ),
  ]);
  all.then(startConverting, startConverting);
  if (!ctx.periodsKnown()) {
    afterFirstChart()
      .then(() => ctx.billingSettings())
      .then(redrawForPeriods, () => {});
  }
  return all;
}
