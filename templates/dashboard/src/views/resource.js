// One assigned resource's page (issue 15): #/resources/<encoded resource id>, from the Resources
// screen (an admin's ?user=<id>&name=<name> too). What the list shows of it (type, id, cost
// center, share, daily cost, last 30 days), and for an EC2 instance, an RDS DB instance, a
// Lambda function or an S3 bucket its metrics panel (GET /api/estate/metrics): one chart per
// metric with the resource's daily cost on the same day axis, a 7/14/30-day range, the
// CloudWatch alarms on it, and "Create alarm" on the metrics a Tally alarm can watch.

import { usageCostChart } from "../charts.js";
import { emptyState, errorState, h, replace, skeleton } from "../dom.js";
import { dateTime, knownToday, longDay, money, moneyNumber, quantity, share, shortDay } from "../format.js";
import { metricRange } from "../estate.js";
import { alarmAction } from "../estate-actions.js";
import { dailyValues, panelArn, panelArnOfId, resourceHref, resourceName, seriesInfo } from "../resource-metrics.js";
import { copyIdButton } from "../resource-name.js";
import { alarmList, chosenRange, figure, rangePicker } from "./estate.js";
import { pageHead } from "./common.js";

const PAGE_SIZE = 100;
const MAX_PAGES = 10; // an assignment list longer than 1,000 is not looked through here

/** The subject's assignment of `resourceId`, looked for page by page (the API answers only
 * that resource's, by any of its names); null when not there. */
async function findAssignment(api, userId, resourceId, signal) {
  let nextToken = null;
  for (let n = 0; n < MAX_PAGES && !signal.aborted; n++) {
    const page = await api.resources(userId, { limit: PAGE_SIZE, nextToken, resourceId });
    const found = page.items.find((item) => item.resourceId === resourceId) || page.items[0];
    if (found) return found;
    nextToken = page.nextToken;
    if (!nextToken) break;
  }
  return null;
}

export function resourcePageView(view) {
  const { ctx, subject, container, signal, params, routeHref } = view;
  const resourceId = view.path.join("/");
  // Its names come with /me, which the page waits for itself (see load).
  let types = ctx.types();
  const head = h("div", {});
  const notice = h("p", { class: "form-done", role: "status", dataset: { testid: "resource-notice" } });
  const body = h("div", { class: "estate-body", "aria-live": "polite" }, skeleton(6, "Loading the resource"));
  const back = h("p", { class: "back-link" }, h("a", { href: routeHref("resources", subject) }, "← All resources"));
  replace(container, back, head, notice, body);
  replace(head, pageHead(view, resourceId, "An assigned resource, its metrics and what it costs."));
  container.setAttribute("aria-busy", "true");
  const charts = [];
  signal.addEventListener("abort", () => charts.forEach((c) => c.destroy()));

  async function load() {
    container.setAttribute("aria-busy", "true");
    // An id that says its own type (an ARN, an instance id) has its metrics asked for while
    // the assignment is looked up, not after it (draw's first read takes the answer; the API
    // still decides who may read them).
    const arnOfId = panelArnOfId(resourceId);
    if (arnOfId) ctx.api.early("/estate/metrics", { resourceArn: arnOfId, days: chosenRange(params) });
    try {
      const found = findAssignment(ctx.api, subject.userId, resourceId, signal);
      // /me (a type's name, what the caller may do) beside the page's own calls, not before
      // them; without it the page still draws, with the types' own keys.
      await ctx.me().catch(() => null);
      types = ctx.types();
      const item = await found;
      if (signal.aborted) return;
      if (!item) {
        replace(
          body,
          emptyState(
            "This resource is not assigned here.",
            subject.isSelf
              ? "It is not one of your assigned resources (any more): see the Resources screen."
              : `It is not assigned to ${subject.username}.`,
            h("a", { class: "button", href: routeHref("resources", subject) }, "All resources"),
          ),
        );
        return;
      }
      replace(head, pageHead(view, item.resourceName || resourceName(item.resourceId), types.name(item.resourceType)));
      await show(item);
    } catch (error) {
      if (!signal.aborted) replace(body, errorState(error, load, "the resource"));
    } finally {
      container.removeAttribute("aria-busy");
    }
  }

  async function show(item) {
    const cost = item.cost;
    const facts = h(
      "section",
      { class: "card span-12", "aria-label": "Assignment and cost" },
      h(
        "dl",
        { class: "figures estate-figures", dataset: { testid: "resource-facts" } },
        figure("Type", types.name(item.resourceType)),
        figure(
          "Resource ID",
          h(
            "span",
            { class: "resource-id-line" },
            h("code", { class: "resource-id id-text", translate: "no" }, item.resourceId),
            copyIdButton(item.resourceId, item.resourceName || item.resourceId),
          ),
        ),
        figure("Cost center", item.costCenter || "—"),
        figure("Share", share(item.sharePct)),
        figure(
          "Daily cost",
          cost ? [money(cost.latestDaily), cost.latestDay ? ` (${shortDay(cost.latestDay)})` : ""] : "—",
        ),
        figure("Last 30 days", cost ? money(cost.last30Days) : "—"),
      ),
    );
    const arn = panelArn(item.resourceType, item.resourceId);
    if (!arn) {
      replace(body, facts, unsupported(types.name(item.resourceType)));
      return;
    }
    const panelBody = h("div", { class: "metric-panel", dataset: { testid: "metric-panel" } }, skeleton(6));
    const note = h("p", { class: "chart-note", dataset: { testid: "metrics-note" } });
    const chosen = chosenRange(params);
    const card = h(
      "section",
      { class: "card span-12", "aria-labelledby": "metrics-title" },
      h(
        "div",
        { class: "card-head" },
        h("h2", { id: "metrics-title" }, "Metrics and cost"),
        rangePicker("resource-range", chosen, (days) => draw(days)),
      ),
      note,
      panelBody,
    );
    replace(body, facts, card);
    const today = knownToday() || (await ctx.today());
    let drawing = 0;

    // One GET /api/estate/metrics per range (one GetMetricData; the API keeps it a minute).
    async function draw(days) {
      const mine = ++drawing;
      const range = metricRange(today, days);
      panelBody.setAttribute("aria-busy", "true");
      let panel;
      try {
        // By its days: the API's range from its own date, the same as range's.
        panel = await ctx.api.estateMetrics({ resourceArn: arn, days });
      } catch (error) {
        if (signal.aborted || mine !== drawing) return;
        panelBody.removeAttribute("aria-busy");
        charts.splice(0).forEach((c) => c.destroy());
        note.textContent = "";
        // 422: an ARN of a kind the panel does not draw (an EC2 volume, say).
        replace(
          panelBody,
          error.status === 422
            ? unsupported(types.name(item.resourceType), false)
            : errorState(error, () => draw(days), "the metrics"),
        );
        return;
      }
      if (signal.aborted || mine !== drawing) return;
      panelBody.removeAttribute("aria-busy");
      charts.splice(0).forEach((c) => c.destroy());
      showPanel(panel, range, days);
      const hash = resourceHref(resourceId, subject, days);
      if (window.location.hash !== hash) window.history.replaceState(null, "", hash);
    }

    function showPanel(panel, range, days) {
      const currency = panel.dailyCost[0]?.cost.currency || cost?.last30Days.currency || "USD";
      const costByDay = new Map(panel.dailyCost.map((d) => [d.day, Number(d.cost.amount)]));
      const costs = range.days.map((d) => costByDay.get(d) ?? null);
      const may = alarmAction(view, panel, (message) => {
        notice.textContent = message;
        draw(days);
      });
      const cards = panel.series.map((series) => {
        const info = seriesInfo(series.id);
        const canvas = h("canvas", {
          role: "img",
          dataset: { chart: "metric-cost", metric: series.id },
          "aria-label": `${info.label} per day (${info.unit}) and cost per day over the ${days} days to ${range.days.at(-1)}`,
        });
        const values = dailyValues(series.points, range.days, info.day, info.scale);
        const empty = values.every((v) => v === null);
        const chartCard = h(
          "figure",
          { class: "metric-card", dataset: { metric: series.id } },
          h(
            "figcaption",
            {},
            h("span", { class: "metric-title" }, info.label),
            h("span", { class: "muted" }, ` ${series.stat} · ${info.unit}`),
            may ? may.button(series) : null,
          ),
          h("div", { class: "chart-box metric-chart" }, canvas),
          empty ? h("p", { class: "muted metric-empty" }, "No datapoints in the range.") : null,
        );
        charts.push(
          usageCostChart(canvas, {
            days: range.days,
            cost: costs,
            series: [{ label: info.label, data: values }],
            currency,
            // The unit alone: the metric's name is the card's title and the legend's.
            usageTitle: info.unit === "count" ? "Count" : info.unit,
            usageUnit: info.unit === "count" ? "" : info.unit,
          }),
        );
        return chartCard;
      });
      const total = costs.reduce((sum, c) => sum + (c || 0), 0);
      note.textContent =
        `Cost over the ${days} days: ${moneyNumber(total, currency)}. ` +
        `Daily cost (bars) from Tally's cost lines; each metric a day from CloudWatch ` +
        `(${panel.periodSeconds >= 86400 ? "daily" : `${panel.periodSeconds / 60}-minute`} datapoints, asked ${dateTime(panel.readAt)}).`;
      replace(
        panelBody,
        h("div", { class: "metric-grid" }, cards),
        usageByDay(panel),
        alarmList(panel.alarms, "No CloudWatch alarm on this resource."),
      );
    }

    await draw(chosen);
  }

  return load();
}

/** The days' usage (quantity and unit) beside their cost, newest first: what the cost bought. */
function usageByDay(panel) {
  const usage = new Map();
  for (const u of panel.dailyUsage || []) {
    if (!usage.has(u.day)) usage.set(u.day, []);
    usage.get(u.day).push(quantity(u.quantity, u.unit));
  }
  const days = [...panel.dailyCost].reverse();
  return h(
    "details",
    { class: "usage-by-day", dataset: { testid: "usage-by-day" } },
    h("summary", {}, "Usage and cost by day"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "stack" },
        h("caption", { class: "visually-hidden" }, "Usage and cost of the resource each day, newest first"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Day (UTC)"),
            h("th", { scope: "col", class: "num" }, "Usage"),
            h("th", { scope: "col", class: "num" }, "Cost"),
          ),
        ),
        h(
          "tbody",
          {},
          days.map((d) =>
            h(
              "tr",
              { dataset: { day: d.day } },
              h("td", { "data-label": "Day (UTC)" }, h("time", { datetime: d.day }, longDay(d.day))),
              h("td", { class: "num", "data-label": "Usage" }, (usage.get(d.day) || ["—"]).join(", ")),
              h("td", { class: "num", "data-label": "Cost" }, money(d.cost)),
            ),
          ),
        ),
      ),
    ),
  );
}

function unsupported(typeName, card = true) {
  const state = emptyState(
    "No metrics for this type.",
    `Tally shows CloudWatch metrics for EC2 instances, RDS DB instances, Lambda functions and S3 buckets, not for ${typeName}.`,
  );
  state.dataset.testid = "metrics-unsupported";
  return card ? h("section", { class: "card span-12" }, state) : state;
}
