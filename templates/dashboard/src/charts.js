// The charts, with Chart.js registered piece by piece so the bundle keeps only what they
// use (doughnut, line, filler for the forecast band, tooltip, legend). Only the screens that
// draw charts import this module, so Chart.js is in their chunks, never in the app's entry.
//
// Accessibility (docs/decision_log.md, issue 16): a chart's canvas is one image to assistive
// technology (role="img", a label that summarises it), and its figures are a table right after
// it, behind a "Show the figures as a table" disclosure; the points are not keyboard stops.
// Animation follows prefers-reduced-motion (none when it asks for reduce), also when it changes
// while the page is open; each canvas says which in data-animation ("on"/"off").

import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { h } from "./dom.js";
import { moneyNumber, shortDay, longDay } from "./format.js";

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

const FIRST_CHART_MARK = "tally:first-chart";

// Marks the first chart drawn (for `make bench`) and tells tests a canvas holds a drawing.
Chart.register({
  id: "tallyDrawn",
  afterRender(chart) {
    if (performance.getEntriesByName(FIRST_CHART_MARK).length === 0) {
      performance.mark(FIRST_CHART_MARK);
    }
    const points = chart.data.datasets.reduce(
      (sum, dataset) => sum + dataset.data.filter((v) => v !== null && v !== undefined).length,
      0,
    );
    chart.canvas.dataset.drawn = "true";
    chart.canvas.dataset.points = String(points);
  },
  // What the tooltip says, on the canvas element: tests read it (the canvas itself is pixels).
  afterTooltipDraw(chart, { tooltip }) {
    const lines = [...(tooltip.title || []), ...tooltip.body.flatMap((item) => item.lines)];
    chart.canvas.dataset.tooltip = lines.join("\n").trim();
  },
});

const live = new Set();

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function palette() {
  return Array.from({ length: 8 }, (_, i) => css(`--series-${i + 1}`));
}

const motionQuery = window.matchMedia("(prefers-reduced-motion: reduce)");

function reducedMotion() {
  return motionQuery.matches;
}

function animation() {
  return reducedMotion() ? false : { duration: 400 };
}

// Someone who turns reduced motion on (or off) while a chart is shown: its next change follows.
motionQuery.addEventListener("change", () => {
  for (const entry of live) entry.motion();
});

function applyTheme() {
  Chart.defaults.color = css("--text-muted");
  Chart.defaults.borderColor = css("--grid");
  Chart.defaults.font.family = css("--font");
}

// Follow the system theme while the page is open.
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  applyTheme();
  for (const entry of live) entry.restyle();
});

/** Colours every chart takes from the theme (defaults are read once, at creation). */
function themeColours(chart) {
  const text = css("--text-muted");
  const grid = css("--grid");
  for (const scale of Object.values(chart.options.scales || {})) {
    if (scale.ticks) scale.ticks.color = text;
    if (scale.grid) scale.grid.color = grid;
    if (scale.border) scale.border.color = grid;
  }
  const legend = chart.options.plugins && chart.options.plugins.legend;
  if (legend && legend.labels) legend.labels.color = text;
}

function markMotion(chart) {
  chart.canvas.dataset.animation = chart.options.animation === false ? "off" : "on";
}

/**
 * The chart's figures as a table behind a disclosure, put right after the chart's box (after
 * the doughnut's box and legend); `figures`: {caption, head: [text], rows: [[text]]}. A view
 * that puts its own table there (details.data-table, the dashboard's trend) keeps it.
 */
function figuresTable(canvas, figures) {
  const box = canvas.closest(".doughnut-layout") || canvas.closest(".chart-box") || canvas;
  const next = box.nextElementSibling;
  if (!box.parentNode || (next && next.matches("details.data-table"))) return null;
  const table = h(
    "details",
    { class: "data-table", dataset: { chartTable: canvas.dataset.chart || "chart" } },
    h("summary", {}, "Show the figures as a table"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, figures.caption),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            figures.head.map((text, i) => h("th", { scope: "col", class: i ? "num" : null }, text)),
          ),
        ),
        h(
          "tbody",
          {},
          figures.rows.map(([first, ...rest]) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, first),
              rest.map((text) => h("td", { class: "num" }, text)),
            ),
          ),
        ),
      ),
    ),
  );
  box.after(table);
  return table;
}

function track(chart, restyle, figures) {
  themeColours(chart);
  chart.update("none");
  markMotion(chart);
  const { canvas } = chart;
  // One image with a summary to assistive technology (the views label their charts).
  if (!canvas.getAttribute("role")) canvas.setAttribute("role", "img");
  if (!canvas.getAttribute("aria-label")) canvas.setAttribute("aria-label", figures.caption);
  const table = figuresTable(canvas, figures);
  const entry = {
    restyle() {
      restyle(chart);
      themeColours(chart);
      chart.update("none");
    },
    motion() {
      chart.options.animation = animation();
      chart.update("none");
      markMotion(chart);
    },
  };
  live.add(entry);
  const destroy = chart.destroy.bind(chart);
  chart.destroy = () => {
    live.delete(entry);
    table?.remove();
    destroy();
  };
  return chart;
}

/** A cell's text: "—" where a series has no value that day. */
function cell(value, format) {
  return value === null || value === undefined ? "—" : format(value);
}

function tooltipStyle() {
  return {
    backgroundColor: css("--tooltip-bg"),
    titleColor: css("--tooltip-text"),
    bodyColor: css("--tooltip-text"),
    borderColor: css("--border"),
    borderWidth: 1,
    padding: 10,
  };
}

/**
 * This month's cost by service. `items`: [{label, value}] with value > 0.
 * Tooltips show the amount and the share of the month's total.
 */
export function doughnutChart(canvas, { items, currency }) {
  applyTheme();
  const total = items.reduce((sum, item) => sum + item.value, 0);
  const colors = palette();
  const chart = new Chart(canvas, {
    type: "doughnut",
    data: {
      labels: items.map((item) => item.label),
      datasets: [
        {
          data: items.map((item) => item.value),
          backgroundColor: items.map((_, i) => colors[i % colors.length]),
          borderColor: css("--surface"),
          borderWidth: 2,
          hoverOffset: 6,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      cutout: "62%",
      animation: animation(),
      plugins: {
        legend: { display: false }, // the list beside the chart is the legend
        tooltip: {
          ...tooltipStyle(),
          callbacks: {
            label(context) {
              const share = total > 0 ? (context.parsed / total) * 100 : 0;
              return ` ${moneyNumber(context.parsed, currency)} (${share.toFixed(1)}%)`;
            },
          },
        },
      },
    },
  });
  const figures = {
    caption: "Cost by service",
    head: ["Service", "Cost", "Share"],
    rows: items.map((item) => [
      item.label,
      moneyNumber(item.value, currency),
      `${(total > 0 ? (item.value / total) * 100 : 0).toFixed(1)}%`,
    ]),
  };
  return track(
    chart,
    (c) => {
      const fresh = palette();
      c.data.datasets[0].backgroundColor = items.map((_, i) => fresh[i % fresh.length]);
      c.data.datasets[0].borderColor = css("--surface");
      Object.assign(c.options.plugins.tooltip, tooltipStyle());
    },
    figures,
  );
}

/**
 * Daily spending: actual days, then the forecast line with its 80% band to the month's end,
 * and the budget pace (the daily spend that would use exactly the budget).
 * Arrays are aligned with `days`; null where a series has no value.
 */
export function trendChart(canvas, { days, actual, forecast, lower, upper, pace, currency }) {
  applyTheme();
  const datasets = [
    {
      label: "Actual",
      data: actual,
      borderColor: css("--chart-actual"),
      backgroundColor: css("--chart-actual"),
      borderWidth: 2,
      pointRadius: 2,
      pointHoverRadius: 5,
      pointStyle: "circle",
      tension: 0.25,
      spanGaps: false,
    },
  ];
  if (forecast.some((v) => v !== null)) {
    datasets.push(
      {
        label: "Forecast lower bound",
        data: lower,
        borderWidth: 0,
        pointRadius: 0,
        pointHoverRadius: 0,
        fill: false,
        tension: 0.25,
        legendHidden: true,
      },
      {
        label: "Forecast, 80% interval",
        data: upper,
        borderWidth: 0,
        pointRadius: 0,
        pointHoverRadius: 0,
        backgroundColor: css("--chart-band"),
        pointStyle: "rect",
        legendStyle: "rect",
        fill: "-1",
        tension: 0.25,
      },
      {
        label: "Forecast",
        data: forecast,
        borderColor: css("--chart-forecast"),
        backgroundColor: css("--chart-forecast"),
        borderDash: [6, 4],
        borderWidth: 2,
        pointRadius: 0,
        pointHoverRadius: 4,
        pointStyle: "line",
        tension: 0.25,
      },
    );
  }
  if (pace && pace.some((v) => v !== null)) {
    datasets.push({
      label: "Budget pace",
      data: pace,
      borderColor: css("--chart-pace"),
      backgroundColor: css("--chart-pace"),
      borderDash: [2, 3],
      borderWidth: 2,
      pointRadius: 0,
      pointHoverRadius: 0,
      pointStyle: "line",
      stepped: "middle",
    });
  }
  const chart = new Chart(canvas, {
    type: "line",
    data: { labels: days, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: animation(),
      interaction: { mode: "index", intersect: false },
      scales: {
        x: {
          grid: { display: false },
          ticks: {
            maxRotation: 0,
            autoSkip: true,
            maxTicksLimit: 8,
            callback(value) {
              return shortDay(this.getLabelForValue(value));
            },
          },
        },
        y: {
          beginAtZero: true,
          ticks: {
            maxTicksLimit: 6,
            callback: (value) => moneyNumber(value, currency).replace(/\.00$/, ""),
          },
        },
      },
      plugins: {
        legend: {
          position: "bottom",
          labels: {
            usePointStyle: true,
            boxHeight: 8,
            pointStyleWidth: 22,
            // Lines look like lines in the legend, the band like an area.
            generateLabels: (chart) =>
              Legend.defaults.labels.generateLabels(chart).map((item) => ({
                ...item,
                pointStyle: chart.data.datasets[item.datasetIndex].legendStyle || "line",
              })),
            filter: (item, data) => !data.datasets[item.datasetIndex].legendHidden,
          },
        },
        tooltip: {
          ...tooltipStyle(),
          filter: (item) => !item.dataset.legendHidden && item.parsed.y !== null,
          callbacks: {
            title: (items) => (items.length ? longDay(items[0].label) : ""),
            label(context) {
              const label = context.dataset.label;
              if (label === "Forecast, 80% interval") {
                const low = lower[context.dataIndex];
                return ` 80% interval: ${moneyNumber(low, currency)} – ${moneyNumber(context.parsed.y, currency)}`;
              }
              return ` ${label}: ${moneyNumber(context.parsed.y, currency)}`;
            },
          },
        },
      },
    },
  });
  const money = (value) => moneyNumber(value, currency);
  const figures = {
    caption: "Daily spending",
    head: ["Day", "Actual", "Forecast", "Budget pace"],
    rows: days.map((day, i) => [
      longDay(day),
      cell(actual[i], money),
      actual[i] === null ? cell(forecast[i], money) : "—",
      cell(pace ? pace[i] : null, money),
    ]),
  };
  return track(
    chart,
    (c) => {
      const [actualSet, ...rest] = c.data.datasets;
      actualSet.borderColor = actualSet.backgroundColor = css("--chart-actual");
      for (const dataset of rest) {
        if (dataset.label === "Forecast") dataset.borderColor = dataset.backgroundColor = css("--chart-forecast");
        if (dataset.label === "Forecast, 80% interval") dataset.backgroundColor = css("--chart-band");
        if (dataset.label === "Budget pace") dataset.borderColor = dataset.backgroundColor = css("--chart-pace");
      }
      Object.assign(c.options.plugins.tooltip, tooltipStyle());
    },
    figures,
  );
}

/** An amount under one unit with two significant digits ($0.0042), else as money. */
function smallMoney(value, currency) {
  if (value === 0 || Math.abs(value) >= 1) return moneyNumber(value, currency);
  return new Intl.NumberFormat(navigator.language || "en-US", {
    style: "currency",
    currency,
    maximumSignificantDigits: 2,
  }).format(value);
}

/**
 * A resource's usage and cost on one time axis (the estate's function detail): `days`
 * ["YYYY-MM-DD"], `cost` [number] drawn as bars on the left axis, and `series`
 * [{label, data: [number|null]}] (metrics per day, e.g. invocations and errors) as lines on the
 * right axis, titled `usageTitle` (values shown with `usageUnit`). Without series the chart is
 * the daily cost alone.
 */
export function usageCostChart(
  canvas,
  { days, cost, series = [], currency, usageTitle = "Count per day", usageUnit = "" },
) {
  applyTheme();
  const lineColours = ["--chart-actual", "--chart-pace", "--chart-forecast"];
  const datasets = [
    {
      type: "bar",
      label: "Cost per day",
      data: cost,
      backgroundColor: css("--chart-cost-bar"),
      borderColor: css("--series-2"),
      borderWidth: 0,
      yAxisID: "y",
      order: 2,
    },
    ...series.map((s, i) => ({
      type: "line",
      label: s.label,
      data: s.data,
      borderColor: css(lineColours[i % lineColours.length]),
      backgroundColor: css(lineColours[i % lineColours.length]),
      borderWidth: 2,
      pointRadius: 2,
      tension: 0.2,
      yAxisID: "usage",
      order: 1,
    })),
  ];
  const scales = {
    x: {
      grid: { display: false },
      ticks: {
        maxRotation: 0,
        autoSkip: true,
        maxTicksLimit: 8,
        callback(value) {
          return shortDay(this.getLabelForValue(value));
        },
      },
    },
    y: {
      beginAtZero: true,
      position: "left",
      title: { display: true, text: `Cost (${currency})` },
      // A function can cost fractions of a cent a day: small ticks keep two significant digits.
      ticks: { maxTicksLimit: 6, callback: (value) => smallMoney(value, currency) },
    },
  };
  if (series.length) {
    scales.usage = {
      beginAtZero: true,
      position: "right",
      title: { display: true, text: usageTitle },
      grid: { drawOnChartArea: false },
      ticks: { maxTicksLimit: 6 },
    };
  }
  const chart = new Chart(canvas, {
    type: "bar",
    data: { labels: days, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: animation(),
      interaction: { mode: "index", intersect: false },
      scales,
      plugins: {
        legend: { position: "bottom", labels: { boxHeight: 8 } },
        tooltip: {
          ...tooltipStyle(),
          callbacks: {
            title: (items) => (items.length ? longDay(items[0].label) : ""),
            label(context) {
              const value = context.parsed.y;
              if (context.dataset.yAxisID === "y") return ` ${context.dataset.label}: ${smallMoney(value, currency)}`;
              return ` ${context.dataset.label}: ${value}${usageUnit ? ` ${usageUnit}` : ""}`;
            },
          },
        },
      },
    },
  });
  const unit = usageUnit ? ` ${usageUnit}` : "";
  const figures = {
    caption: series.length ? `Cost per day, ${series.map((s) => s.label.toLowerCase()).join(" and ")}` : "Cost per day",
    head: ["Day", `Cost (${currency})`, ...series.map((s) => s.label)],
    rows: days.map((day, i) => [
      longDay(day),
      cell(cost[i], (value) => smallMoney(value, currency)),
      ...series.map((s) =>
        cell(s.data[i], (value) => `${value.toLocaleString(undefined, { maximumFractionDigits: 2 })}${unit}`),
      ),
    ]),
  };
  return track(
    chart,
    (c) => {
      const [bars, ...lines] = c.data.datasets;
      bars.backgroundColor = css("--chart-cost-bar");
      lines.forEach((dataset, i) => {
        dataset.borderColor = dataset.backgroundColor = css(lineColours[i % lineColours.length]);
      });
      Object.assign(c.options.plugins.tooltip, tooltipStyle());
      for (const scale of Object.values(c.options.scales)) if (scale.title) scale.title.color = css("--text-muted");
    },
    figures,
  );
}
