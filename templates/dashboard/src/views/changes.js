// "Why did my bill change?": a month against the one before (GET month-over-month). Three
// figures (this month to date, the same days of last month, all of last month), a waterfall
// from last month's total as first reported to this month's (new and removed resources, usage
// and price changes, credits, refunds, restatements) drawn as SVG with the table behind it,
// the change by service, and the month's invoice (a PDF job, optionally emailed).

import { monthOf } from "../calendar.js";
import { append, h, replace, uid } from "../dom.js";
import { jobButton } from "../jobs.js";
import { METRIC_HINT, metricText, moneyNumber, monthName, serviceName } from "../format.js";
import {
  STEP_TEXT,
  changePercentText,
  chartLabel,
  compareDecimals,
  negateDecimal,
  signedMoney,
  sumDecimals,
  waterfallBars,
  waterfallLayout,
} from "../reports.js";
import { loadingCard, pageHead } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
const ROW = 34;
const NARROW_ROW = 40;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** Roughly how many characters of 13px text fit in `width` pixels. */
function fit(text, width) {
  const room = Math.max(4, Math.floor(width / 7.2));
  return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
}

function barAmountText(bar, currency) {
  return bar.direction === "total" ? moneyNumber(bar.amount, currency) : signedMoney(bar.amount, currency);
}

/** The chart's accessible name: where it starts and ends, and how much went up and down. */
export function waterfallSummary(bars, currency) {
  const steps = bars.slice(1, -1);
  const ups = steps.filter((bar) => bar.direction === "up");
  const downs = steps.filter((bar) => bar.direction === "down");
  const start = bars[0];
  const end = bars[bars.length - 1];
  const part = (list, word) =>
    list.length
      ? `${word} ${moneyNumber(sumDecimals(list.map((bar) => bar.amount)).replace(/^-/, ""), currency)} in ${list.length} step${list.length === 1 ? "" : "s"}`
      : null;
  const moves = [part(ups, "up"), part(downs, "down")].filter(Boolean).join(", ");
  return `Waterfall from ${moneyNumber(start.amount, currency)} (${start.label}) to ${moneyNumber(end.amount, currency)} (${end.label})${moves ? `: ${moves}` : ": no change"}.`;
}

/** The waterfall as an SVG `width` pixels wide: one row per bar, label left, amount right. */
function drawWaterfall(bars, currency, width) {
  // On a phone the label and the amount go on a line above a bar of the full width.
  const narrow = width < 520;
  const row = narrow ? NARROW_ROW : ROW;
  const labelWidth = narrow ? width - 100 : 230;
  const layout = narrow
    ? waterfallLayout(bars, { width, labelWidth: 0, valueWidth: 0, row, barHeight: 14 })
    : waterfallLayout(bars, { width, labelWidth: labelWidth + 8, valueWidth: 128, row });
  const textY = (index) => (narrow ? index * row + 10 : index * row + row / 2);
  const barY = (layoutRow) => (narrow ? layoutRow.y + 9 : layoutRow.y);
  const chart = svg("svg", {
    class: "waterfall",
    width,
    height: layout.height,
    viewBox: `0 0 ${width} ${layout.height}`,
    role: "img",
    "aria-label": waterfallSummary(bars, currency),
  });
  chart.dataset.testid = "waterfall";
  chart.append(svg("line", { class: "wf-zero", x1: layout.zeroX, x2: layout.zeroX, y1: 0, y2: layout.height }));
  layout.rows.forEach((place, index) => {
    const { bar } = place;
    const middle = textY(index);
    const group = svg("g", { class: `wf-row wf-${bar.direction}` });
    group.append(
      svg("title", {}, `${bar.label}: ${barAmountText(bar, currency)}`),
      svg(
        "text",
        { class: "wf-label", x: 0, y: middle, "dominant-baseline": "middle" },
        fit(chartLabel(bar), labelWidth),
      ),
      svg("rect", { class: "wf-bar", x: place.x, y: barY(place), width: place.w, height: place.h, rx: 2 }),
      svg(
        "text",
        { class: "wf-value", x: width, y: middle, "text-anchor": "end", "dominant-baseline": "middle" },
        barAmountText(bar, currency),
      ),
    );
    const next = layout.rows[index + 1];
    if (next && !narrow) {
      // The connector: where this bar ends, the next one starts.
      group.append(
        svg("line", { class: "wf-link", x1: place.edge, x2: place.edge, y1: barY(place) + place.h, y2: barY(next) }),
      );
    }
    chart.append(group);
  });
  return chart;
}

function waterfallTable(bars, currency, caption) {
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Waterfall steps" },
    h(
      "table",
      { class: "stack", dataset: { testid: "waterfall-table" } },
      h("caption", {}, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Step"),
          h("th", { scope: "col", class: "num" }, "Change"),
          h("th", { scope: "col", class: "num" }, "Running total"),
        ),
      ),
      h(
        "tbody",
        {},
        bars.map((bar) =>
          h(
            "tr",
            { class: bar.direction === "total" ? "totals-row" : null, dataset: { kind: bar.kind, amount: bar.amount } },
            h(
              "th",
              { scope: "row", "data-label": "Step" },
              bar.label,
              bar.direction !== "total" && bar.label !== STEP_TEXT[bar.kind] && STEP_TEXT[bar.kind]
                ? h("small", { class: "muted" }, ` · ${STEP_TEXT[bar.kind]}`)
                : null,
              bar.resourceId && bar.resourceId !== bar.label
                ? h("span", { class: "id-text wf-resource" }, bar.resourceId)
                : null,
            ),
            h(
              "td",
              { class: `num wf-change-${bar.direction}`, "data-label": "Change", dataset: { value: "change" } },
              bar.direction === "total" ? "" : barAmountText(bar, currency),
            ),
            h("td", { class: "num", "data-label": "Running total" }, moneyNumber(bar.running, currency)),
          ),
        ),
      ),
    ),
  );
}

function servicesTable(data) {
  const { currency } = data;
  const cell = (amount, label, extra = {}) =>
    h("td", { class: "num", "data-label": label, ...extra }, moneyNumber(amount, currency));
  const rows = data.services.map((row) =>
    h(
      "tr",
      { dataset: { service: row.service } },
      h("th", { scope: "row", "data-label": "Service" }, serviceName(row.service)),
      cell(row.current, "This month"),
      cell(row.previousSameDays, "Same days last month"),
      h(
        "td",
        {
          class: `num wf-change-${compareDecimals(row.change, "0") > 0 ? "up" : compareDecimals(row.change, "0") < 0 ? "down" : "flat"}`,
          "data-label": "Change",
        },
        // One element, so a phone's stacked row keeps the amount and its percentage together.
        h(
          "span",
          {},
          signedMoney(row.change, currency),
          h("small", { class: "muted" }, ` (${changePercentText(row.changePct)})`),
        ),
      ),
      cell(row.previous, "All last month"),
    ),
  );
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Change by service" },
    h(
      "table",
      { class: "stack", dataset: { testid: "changes-by-service" } },
      h(
        "caption",
        { class: "visually-hidden" },
        `Cost by service, ${monthName(data.month)} against ${monthName(data.previousMonth)}`,
      ),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Service"),
          h("th", { scope: "col", class: "num" }, "This month"),
          h("th", { scope: "col", class: "num" }, "Same days last month"),
          h("th", { scope: "col", class: "num" }, "Change"),
          h("th", { scope: "col", class: "num" }, "All last month"),
        ),
      ),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: "5" }, "No costs in either month."))),
    ),
  );
}

export function changesView(view) {
  const { ctx, subject, container, signal } = view;
  const { api } = ctx;
  const state = { month: null, current: null };
  const monthInput = h("input", { type: "month", id: uid("changes-month"), name: "month" });
  const picker = h(
    "form",
    { class: "month-picker", onsubmit: (e) => e.preventDefault() },
    h("div", { class: "field" }, h("label", { for: monthInput.id }, "Month"), monthInput),
  );
  const figures = loadingCard({ title: "Month to date", subtitle: "", className: "span-12", lines: 2 });
  const waterfall = loadingCard({
    title: "Why did the bill change?",
    subtitle: "From last month's total to this month's, step by step",
    className: "span-12",
    lines: 6,
  });
  const services = loadingCard({ title: "By service", subtitle: "", className: "span-12", lines: 5 });
  const invoiceCard = h("section", { class: "card span-12", "aria-labelledby": "invoice-title" });

  replace(
    container,
    pageHead(
      view,
      "Why did my bill change?",
      subject.isSelf
        ? "Your month against the one before: by service, and each step between the two totals."
        : `${subject.username}'s month against the one before.`,
      picker,
    ),
    h("div", { class: "grid" }, figures.element, waterfall.element, services.element, invoiceCard),
  );

  function showFigures(body, data) {
    const current = data.month === state.current;
    figures.setSubtitle(
      [
        current && data.daysCompared
          ? `${monthName(data.month)}, first ${data.daysCompared} day${data.daysCompared === 1 ? "" : "s"}`
          : current
            ? `${monthName(data.month)}, no complete day yet`
            : monthName(data.month),
        metricText(data.metric),
        data.estimated ? "includes estimated costs" : null,
      ]
        .filter(Boolean)
        .join(" · "),
    );
    const figure = (key, label, amount, note) =>
      h(
        "div",
        { class: "figure", dataset: { figure: key } },
        h("dt", {}, label),
        h("dd", { dataset: { amount } }, moneyNumber(amount, data.currency), note ? h("small", {}, note) : null),
      );
    const change = sumDecimals([data.currentTotal, negateDecimal(data.previousSameDaysTotal)]);
    body.append(
      h(
        "dl",
        { class: "summary-figures changes-figures", title: METRIC_HINT[data.metric] || null },
        figure("current", current ? "This month to date" : monthName(data.month), data.currentTotal, null),
        figure(
          "same-days",
          `Same days of ${monthName(data.previousMonth)}`,
          data.previousSameDaysTotal,
          `${signedMoney(change, data.currency)} since then`,
        ),
        figure("previous", `All of ${monthName(data.previousMonth)}`, data.previousTotal, null),
      ),
    );
  }

  let resizer = null;
  function showWaterfall(body, data) {
    const { currency } = data;
    const current = data.month === state.current;
    const { bars, balanced } = waterfallBars(data.waterfall, {
      startLabel: `${monthName(data.previousMonth)} as first reported`,
      endLabel: current ? `${monthName(data.month)} to date` : monthName(data.month),
    });
    const box = h("div", { class: "waterfall-box" });
    const nothing = !data.waterfall.steps.length && bars.every((bar) => compareDecimals(bar.amount, "0") === 0);
    append(body, [
      nothing ? h("p", { class: "chart-note" }, "No costs in either month: nothing has changed.") : null,
      box,
      balanced
        ? null
        : h(
            "p",
            { class: "form-error", role: "alert" },
            "The steps do not add up to the month's total; please report this.",
          ),
      h("p", { class: "chart-note" }, "Red bars raised the bill, green bars lowered it."),
      waterfallTable(bars, currency, `Every step from ${bars[0].label} to ${bars[bars.length - 1].label}`),
    ]);
    let drawnWidth = 0;
    const draw = () => {
      const width = Math.max(260, Math.floor(box.clientWidth));
      if (width === drawnWidth) return;
      drawnWidth = width;
      replace(box, drawWaterfall(bars, currency, width));
    };
    draw();
    resizer?.disconnect();
    resizer = new ResizeObserver(draw);
    resizer.observe(box);
  }
  signal.addEventListener("abort", () => resizer?.disconnect());

  function showServices(body, data) {
    services.setSubtitle(`${monthName(data.month)} against ${monthName(data.previousMonth)}`);
    body.append(servicesTable(data));
  }

  function showInvoice() {
    const month = state.month;
    const email = h("input", { type: "checkbox", id: uid("invoice-email"), name: "email" });
    const job = jobButton({
      label: "Download invoice",
      what: "invoice",
      idKey: "invoiceId",
      testid: "invoice",
      signal,
      start: () => api.createInvoice({ userId: subject.userId, month, email: email.checked }),
      get: (id) => api.invoiceJob(id),
      // Issue for payment: offered when the API has a payment provider (GET /me) and the
      // person holds payments:issue (finance, admins); the API decides the call itself.
      payment: {
        allowed: async () => {
          const me = await ctx.me();
          return Boolean(me.paymentProvider) && ctx.access().can("payments:issue", "org");
        },
        issue: (id) => api.issuePayment(id),
      },
      extra: h(
        "div",
        { class: "field-check" },
        email,
        h("label", { for: email.id }, subject.isSelf ? "Email it to me too" : `Email it to ${subject.username} too`),
      ),
    });
    replace(
      invoiceCard,
      h(
        "div",
        { class: "card-head" },
        h("h2", { id: "invoice-title" }, "Invoice"),
        h("p", { class: "card-subtitle" }, `${monthName(month)} · PDF, itemised by service and resource`),
      ),
      job.element,
    );
  }

  // Answers can arrive out of order (the API runs in several containers at once): a month
  // switched away from never paints over the one asked for last.
  let loadId = 0;
  function load() {
    const mine = ++loadId;
    const month = state.month;
    const asked = api.monthOverMonth(subject.userId, month);
    const data = asked.then(
      (answer) => (mine === loadId ? answer : new Promise(() => {})),
      (error) => (mine === loadId ? Promise.reject(error) : new Promise(() => {})),
    );
    // One request for the three cards; each shows its part, or the error with Try again. The
    // answer is kept, so Try again after a failure asks again (for all three cards: this
    // card's run gives way to the new one) instead of showing the same failure.
    let failed = false;
    const part = () => {
      if (!failed) return data;
      load();
      return new Promise(() => {});
    };
    data.catch(() => {
      failed = true;
    });
    figures.run(part, showFigures, signal, "the month's figures");
    waterfall.run(part, showWaterfall, signal, "the waterfall");
    services.run(part, showServices, signal, "the services");
    showInvoice();
    return data.catch(() => {});
  }

  monthInput.addEventListener("change", () => {
    if (!monthInput.value || monthInput.value === state.month) return;
    if (state.current && monthInput.value > state.current) {
      monthInput.value = state.month;
      return;
    }
    state.month = monthInput.value;
    load();
  });

  async function begin() {
    figures.loading();
    waterfall.loading();
    services.loading();
    let today;
    try {
      today = await ctx.today();
    } catch (error) {
      if (!signal.aborted)
        figures.run(
          () => Promise.reject(error),
          () => {},
          signal,
          "the business date",
        );
      return;
    }
    if (signal.aborted) return;
    state.current = monthOf(today);
    const asked = view.params.get("month");
    state.month = asked && /^\d{4}-\d{2}$/.test(asked) && asked <= state.current ? asked : state.current;
    monthInput.value = state.month;
    monthInput.max = state.current;
    await load();
  }
  return begin();
}
