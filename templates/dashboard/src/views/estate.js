// The AWS estate (issue 15): #/estate (Lambda functions), #/estate/lambda/<name> (a function),
// #/estate/network and #/estate/iam. Each screen reads the inventory's cache through the API and
// says when it was read ("as of"). What a tab needs: Lambda estate:read (a member sees their own
// functions), the network estate:read at the organisation, IAM users estate:iam:read at the
// organisation; the API decides every call on its own, this only decides what to show.

import { usageCostChart } from "../charts.js";
import { announce, confirmDialog, emptyState, errorState, h, openDialog, replace, skeleton } from "../dom.js";
import { dateTime, knownToday, money, shortDay } from "../format.js";
import { dailySums, flags, lastDays, meanOf, metricRange, reservedText, runtimeFlag, trend } from "../estate.js";
import { functionActions, refreshAction } from "../estate-actions.js";
import { alarmRule, alarmSeverity } from "../resource-metrics.js";
import { knownNames } from "./anomalies.js";
import { noAccessPage } from "./noaccess.js";
import { iamView } from "./estate-iam.js";
import { networkView } from "./estate-network.js";
import { TABS, estateAllowed } from "../estate-tabs.js";

const DENIED = {
  lambda: { permission: "estate:read" },
  network: { permission: "estate:read", scope: "org" },
  iam: { permission: "estate:iam:read", scope: "org" },
};

/** Whether the menu shows the estate at all (estate-tabs.js: main.js reads it without this screen). */
export { estateAllowed };

export function estateView(view) {
  const access = view.ctx.access();
  const [first = "lambda", name] = view.path;
  const tab = TABS.find((t) => t.key === first) || TABS[0];
  const tabs = h(
    "nav",
    { class: "estate-tabs", "aria-label": "AWS estate" },
    h(
      "ul",
      {},
      TABS.filter((t) => t.allowed(access)).map((t) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: `#/estate/${t.key}`, "aria-current": t.key === tab.key ? "page" : null, dataset: { tab: t.key } },
            t.title,
          ),
        ),
      ),
    ),
  );
  if (!tab.allowed(access)) {
    return noAccessPage(view.container, { title: tab.title, username: view.user.username, ...DENIED[tab.key] });
  }
  if (tab.key === "network") return networkView(view, tabs);
  if (tab.key === "iam") return iamView(view, tabs);
  if (name) return functionDetailView(view, tabs, name);
  return functionsView(view, tabs);
}

/** "as of 2 Dec 2026, 17:38" (when the inventory read what the screen shows). */
export function asOf(readAt, refresh = null) {
  const text = h(
    "p",
    { class: "as-of", dataset: { testid: "as-of", readAt: readAt || "" } },
    readAt ? `As of ${dateTime(readAt)}` : "Not read yet: the inventory has not run",
  );
  return refresh ? h("div", { class: "as-of-row" }, text, refresh) : text;
}

/**
 * The Refresh button of an estate screen (tally:RefreshInventory on `target`), which tells
 * `notice` what happened and reloads the screen with `load`; null without estate:refresh.
 */
export function refreshButton(view, { target, family, scope, notice, load }) {
  return refreshAction(view, {
    target,
    family,
    scope,
    onDone: (message) => {
      notice.textContent = message;
      load();
    },
    onError: (error) => {
      notice.textContent = `Could not refresh: ${error.message}`;
    },
  });
}

export function flagList(findings, { compact = false } = {}) {
  const items = flags(findings);
  if (!items.length) return null;
  return h(
    "ul",
    { class: `flags${compact ? " compact" : ""}`, dataset: { testid: "flags" } },
    items.map((f) =>
      h(
        "li",
        { class: `flag flag-${f.severity}`, dataset: { code: f.code }, title: f.message },
        h("span", { class: "flag-icon", "aria-hidden": "true" }, f.severity === "high" ? "✕" : "!"),
        compact ? f.label : `${f.label}: ${f.message}`,
      ),
    ),
  );
}

export function estateHead(title, description, tabs, readAt, refresh = null) {
  return [
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, title), h("p", {}, description))),
    tabs,
    asOf(readAt, refresh),
  ];
}

export function ownerText(ownership, names, me) {
  if (ownership.unowned) return "unowned";
  return ownership.owners
    .map((o) => {
      const who = o.userId === me.userId ? "you" : names.get(o.userId) || o.userId;
      return o.sharePct === "100" ? who : `${who} (${o.sharePct}%)`;
    })
    .join(", ");
}

function trendCell(cost) {
  const t = trend(cost.trendPct);
  return h(
    "span",
    { class: `trend trend-${t.direction}`, title: "Last 30 days against the 30 before", dataset: { testid: "trend" } },
    t.direction === "up" ? "▲ " : t.direction === "down" ? "▼ " : "",
    t.text,
  );
}

function runtimeCell(fn) {
  const flag = runtimeFlag(fn.findings);
  return h(
    "span",
    {},
    fn.runtime || "container image",
    h("span", { class: "muted arch" }, fn.architecture),
    flag
      ? h(
          "span",
          { class: `flag flag-${flag.severity} inline`, dataset: { code: flag.code }, title: flag.message },
          h("span", { class: "flag-icon", "aria-hidden": "true" }, "!"),
          flag.code === "lambda.runtime-deprecated" ? "end of support" : "support ends soon",
        )
      : null,
  );
}

function ownerCell(view, fn, names, onChanged) {
  const text = ownerText(fn.ownership, names, view.user);
  const actions = [];
  if (fn.ownership.actions.includes("claim")) {
    actions.push(
      h(
        "button",
        { type: "button", class: "button small", onclick: (e) => claimFunction(view, fn, e.currentTarget, onChanged) },
        "Claim",
      ),
    );
  }
  if (fn.ownership.actions.includes("assign")) {
    actions.push(
      h(
        "button",
        { type: "button", class: "button small", onclick: () => assignFunction(view, fn, names, onChanged) },
        "Assign",
      ),
    );
  }
  return h(
    "span",
    { class: "owner" },
    fn.ownership.unowned ? h("span", { class: "tag tag-unowned" }, "unowned") : text,
    actions.length ? h("span", { class: "owner-actions" }, actions) : null,
  );
}

async function claimFunction(view, fn, button, onChanged) {
  const ok = await confirmDialog({
    title: `Claim ${fn.name}?`,
    message:
      "Its costs are allocated to you from today once the claim is approved (or at once when nobody else owns it).",
    confirmLabel: "Claim",
  });
  if (!ok) return;
  button.disabled = true;
  try {
    const claim = await view.ctx.api.claim({ resourceType: "lambda", resourceId: fn.arn, sharePct: "100" });
    announce(
      claim.status === "approved" ? `${fn.name} is yours from today.` : "Claim requested, waiting for approval.",
    );
    onChanged(
      claim.status === "approved" ? `${fn.name} is yours from today.` : "Claim requested, waiting for approval.",
    );
  } catch (error) {
    onChanged(null, error);
  } finally {
    button.disabled = false;
  }
}

async function assignFunction(view, fn, names, onChanged) {
  const users = [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  const select = h(
    "select",
    { id: "assign-owner", name: "userId" },
    users.map(([id, name]) => h("option", { value: id }, name)),
  );
  const problem = h("p", { class: "form-error", role: "alert" });
  const { close } = openDialog({
    title: `Assign ${fn.name}`,
    build: (closeIt) =>
      h(
        "form",
        {
          async onsubmit(event) {
            event.preventDefault();
            try {
              await view.ctx.api.assign({
                userId: select.value,
                resourceType: "lambda",
                resourceId: fn.arn,
                sharePct: "100",
              });
              closeIt(true);
              onChanged(`Assigned ${fn.name} to ${select.selectedOptions[0]?.textContent}.`);
            } catch (error) {
              problem.textContent = error.message;
            }
          },
        },
        h("div", { class: "field" }, h("label", { for: "assign-owner" }, "Owner"), select),
        problem,
        h(
          "div",
          { class: "dialog-actions" },
          h("button", { type: "button", class: "button", onclick: () => closeIt(false) }, "Cancel"),
          h("button", { type: "submit", class: "button primary" }, "Assign"),
        ),
      ),
  });
  return close;
}

function functionsView(view, tabs) {
  const { ctx, container, signal } = view;
  const body = h("div", { class: "estate-body", "aria-live": "polite" }, skeleton(6, "Loading functions"));
  const notice = h("p", { class: "form-done", role: "status", dataset: { testid: "estate-notice" } });
  const head = h("div", {});
  replace(container, head, notice, body);
  replace(
    head,
    estateHead("AWS estate", "Lambda functions with their owner, configuration and what they cost.", tabs, null),
  );
  container.setAttribute("aria-busy", "true");

  async function load() {
    container.setAttribute("aria-busy", "true");
    try {
      const [listed, names] = await Promise.all([ctx.api.estateFunctions(), knownNames(ctx, view.user)]);
      if (signal.aborted) return;
      replace(
        head,
        estateHead(
          "AWS estate",
          listed.scope === "own"
            ? `Your Lambda functions in ${listed.region}, with their configuration and what they cost you.`
            : `Every Lambda function in ${listed.region}, with its owner, configuration and cost.`,
          tabs,
          listed.readAt,
          refreshButton(view, { target: `region:${listed.region}`, family: "lambda", scope: "org", notice, load }),
        ),
      );
      show(listed, names);
    } catch (error) {
      if (!signal.aborted) replace(body, errorState(error, load, "the functions"));
    } finally {
      container.removeAttribute("aria-busy");
    }
  }

  function changed(message, error) {
    notice.textContent = error ? "" : message || "";
    if (error) replace(body, errorState(error, load, "the change"));
    else load();
  }

  function show(listed, names) {
    if (!listed.items.length) {
      replace(
        body,
        emptyState(
          "No functions to show.",
          listed.scope === "own"
            ? "None of the region's functions is yours: claim one from the Resources page, or ask an admin."
            : "The inventory found no Lambda function in this region.",
        ),
      );
      return;
    }
    // Ten columns fit a laptop; the flags sit under the function's name, where the eye starts.
    const columns = [
      "Function",
      "Owner",
      "Runtime",
      "Memory · timeout",
      "Modified",
      "Reserved",
      "Last 30 days",
      "This month",
      "Per 1M invocations",
    ];
    const numeric = new Set(["Reserved", "Last 30 days", "This month", "Per 1M invocations"]);
    const rows = listed.items.map((fn) => {
      const behaviour = fn.findings.filter((f) => !f.code.startsWith("lambda.runtime-"));
      const cells = [
        ["Owner", ownerCell(view, fn, names, changed)],
        ["Runtime", runtimeCell(fn)],
        ["Memory · timeout", `${fn.memoryMb} MB · ${fn.timeoutSeconds} s`],
        ["Modified", shortDay(fn.lastModified.slice(0, 10))],
        ["Reserved", reservedText(fn.reservedConcurrency)],
        ["Last 30 days", h("span", { class: "cost-cell" }, money(fn.cost.last30Days), trendCell(fn.cost))],
        ["This month", money(fn.cost.monthToDate)],
        ["Per 1M invocations", fn.costPerMillionInvocations ? money(fn.costPerMillionInvocations) : "—"],
      ];
      return h(
        "tr",
        { dataset: { function: fn.name } },
        h(
          "th",
          { scope: "row" },
          h("a", { class: "fn-name", href: `#/estate/lambda/${encodeURIComponent(fn.name)}` }, fn.name),
          flagList(behaviour, { compact: true }),
        ),
        cells.map(([label, value]) =>
          h("td", { class: numeric.has(label) ? "num" : null, "data-label": label }, value),
        ),
      );
    });
    replace(
      body,
      h(
        "div",
        { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Lambda functions" },
        h(
          "table",
          { class: "stack estate-table", dataset: { testid: "functions" } },
          h("caption", { class: "visually-hidden" }, "Lambda functions with owner, configuration, cost and flags"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              columns.map((c) => h("th", { scope: "col", class: numeric.has(c) ? "num" : null }, c)),
            ),
          ),
          h("tbody", {}, rows),
        ),
      ),
      h(
        "p",
        { class: "chart-note" },
        `Costs are ${listed.items[0]?.cost.metric === "billed" ? "billed" : "amortized"} cost from Tally's cost lines for each function; flags from the last 7 days' metrics (read ${dateTime(listed.metricsReadAt)}).`,
      ),
    );
  }

  return load();
}

export const RANGES = [
  { days: 7, label: "7 days" },
  { days: 14, label: "14 days" },
  { days: 30, label: "30 days" },
];

/** The 7/14/30-day radio group; `onChoose(days)` on a change. */
export function rangePicker(name, chosen, onChoose) {
  return h(
    "fieldset",
    { class: "range-picker" },
    h("legend", {}, "Range"),
    RANGES.map((r) =>
      h(
        "label",
        {},
        h("input", {
          type: "radio",
          name,
          value: String(r.days),
          checked: r.days === chosen,
          onchange: () => onChoose(r.days),
        }),
        r.label,
      ),
    ),
  );
}

/** The range a `?days=` asks for, 30 unless it is one of `RANGES`. */
export function chosenRange(params) {
  const days = Number(params.get("days"));
  return RANGES.some((r) => r.days === days) ? days : 30;
}

function functionDetailView(view, tabs, name) {
  const { ctx, container, signal, params } = view;
  const body = h("div", { class: "estate-body", "aria-live": "polite" }, skeleton(8, "Loading the function"));
  const head = h("div", {});
  replace(container, head, body);
  // The back link is there from the start (nothing moves down when the function arrives).
  replace(
    head,
    h("p", { class: "back-link" }, h("a", { href: "#/estate/lambda" }, "← All functions")),
    estateHead(name, "A Lambda function's configuration, usage and cost.", tabs, null),
  );
  container.setAttribute("aria-busy", "true");
  let chart = null;
  signal.addEventListener("abort", () => chart?.destroy());

  async function load(message) {
    container.setAttribute("aria-busy", "true");
    try {
      const fn = await ctx.api.estateFunction(name);
      if (signal.aborted) return;
      // The owners' names (an admin's list of users) never hold the page back, nor compete
      // with its one call: asked once it has answered, the owner figure fills in with them.
      const names = knownNames(ctx, view.user);
      replace(
        head,
        h("p", { class: "back-link" }, h("a", { href: "#/estate/lambda" }, "← All functions")),
        estateHead(
          fn.name,
          `${fn.runtime || "Container image"} · ${fn.architecture} · ${fn.region}`,
          tabs,
          fn.readAt,
          // A member refreshes their own function; the API decides on its owners.
          refreshAction(view, {
            target: fn.name,
            family: "lambda",
            onDone: (text) => load(text),
            onError: (error) => load(`Could not refresh: ${error.message}`),
          }),
        ),
      );
      await show(fn, names, message);
    } catch (error) {
      if (signal.aborted) return;
      replace(
        body,
        error.status === 404
          ? emptyState(
              "This function is not in the estate you can see.",
              "Either the inventory has not read it, or it is not yours.",
              h("a", { class: "button", href: "#/estate/lambda" }, "All functions"),
            )
          : errorState(error, () => load(), "the function"),
      );
    } finally {
      container.removeAttribute("aria-busy");
    }
  }

  async function show(fn, names, message) {
    const chosen = chosenRange(params);
    const canvas = h("canvas", { dataset: { chart: "usage-cost" }, role: "img", "aria-label": "Cost per day" });
    const picker = rangePicker("estate-range", chosen, (days) => draw(days));
    const owner = h("span", { dataset: { testid: "function-owner" } }, "…");
    names.then((known) => {
      if (!signal.aborted) owner.textContent = ownerText(fn.ownership, known, view.user);
    });
    const figures = h(
      "dl",
      { class: "figures estate-figures" },
      figure("Owner", owner),
      figure("Memory", `${fn.memoryMb} MB`),
      figure("Timeout", `${fn.timeoutSeconds} s`),
      figure("Reserved concurrency", reservedText(fn.reservedConcurrency)),
      figure("Last modified", dateTime(fn.lastModified)),
      figure("Last 30 days", money(fn.cost.last30Days)),
      figure("This month", money(fn.cost.monthToDate)),
      figure("Trend", trendCell(fn.cost)),
      figure("Per 1M invocations", fn.costPerMillionInvocations ? money(fn.costPerMillionInvocations) : "—"),
      figure(
        "Invocations, errors (7 days)",
        fn.metrics
          ? `${fn.metrics.invocations.toLocaleString()} · ${fn.metrics.errors.toLocaleString()}`
          : "not read yet",
      ),
    );
    const notice = h("p", { class: "form-done", role: "status", dataset: { testid: "estate-notice" } }, message || "");
    const metricsNote = h("p", { class: "chart-note", dataset: { testid: "metrics-note" } });
    const extra = h("div", { class: "metrics-extra" });
    const chartCard = h(
      "section",
      { class: "card span-12", "aria-labelledby": "usage-cost-title" },
      h("div", { class: "card-head" }, h("h2", { id: "usage-cost-title" }, "Usage and cost"), picker),
      h("div", { class: "chart-box" }, canvas),
      metricsNote,
      extra,
    );
    replace(
      body,
      notice,
      flagList(fn.findings),
      h("section", { class: "card span-12", "aria-label": "Configuration and cost" }, figures),
      functionActions(view, fn, (text) => load(text)),
      chartCard,
    );
    const currency = fn.cost.last30Days.currency;
    const today = knownToday() || (await ctx.today());
    let drawing = 0;
    // The range's metrics, daily cost and recent errors from GET /api/estate/lambda/<name>
    // ?start&end (one call a range; the API keeps CloudWatch's answers a minute); without
    // them, the cached daily cost alone.
    async function draw(days) {
      const mine = ++drawing;
      const range = metricRange(today, days);
      // The daily cost is in the function's answer already: drawn at once, and CloudWatch's
      // invocations and errors join it when they come (the chart waited ~1 s for them).
      render(range, days, null, null);
      // The range is part of the address, so a reload or a shared link keeps it.
      const hash = `#/estate/lambda/${encodeURIComponent(fn.name)}${days === 30 ? "" : `?days=${days}`}`;
      if (window.location.hash !== hash) window.history.replaceState(null, "", hash);
      let panel = null;
      let problem = null;
      try {
        // The detail over the range: its metrics panel and the recent errors from the logs.
        panel = (await ctx.api.estateFunction(fn.name, { start: range.start, end: range.end })).range;
        if (!panel) throw new Error("the API answered no range");
      } catch (error) {
        problem = error;
      }
      if (signal.aborted || mine !== drawing) return;
      render(range, days, panel, problem);
    }
    // Without a panel or a problem, CloudWatch has not answered yet.
    function render(range, days, panel, problem) {
      const byId = new Map((panel?.series || []).map((s) => [s.id, s]));
      const costByDay = new Map(
        (panel ? panel.dailyCost : lastDays(fn.cost.daily, days)).map((d) => [d.day, Number(d.cost.amount)]),
      );
      const series = panel
        ? [
            { label: "Invocations", data: dailySums(byId.get("invocations")?.points, range.days) },
            { label: "Errors", data: dailySums(byId.get("errors")?.points, range.days) },
          ]
        : [];
      chart?.destroy();
      chart = usageCostChart(canvas, {
        days: range.days,
        cost: range.days.map((d) => costByDay.get(d) ?? null),
        series,
        currency,
      });
      canvas.setAttribute(
        "aria-label",
        `Cost per day${panel ? ", invocations and errors" : ""} over the ${days} days to ${range.days.at(-1)}`,
      );
      if (!panel && !problem) {
        metricsNote.textContent = "Daily cost from Tally's cost lines; reading invocations and errors from CloudWatch…";
      } else {
        metricsNote.textContent = panel
          ? `Daily cost from Tally's cost lines; invocations and errors per day from CloudWatch (asked ${dateTime(panel.readAt)}, ${panel.periodSeconds / 60}-minute datapoints).`
          : `Daily cost from Tally's cost lines. CloudWatch's metrics could not be read: ${problem?.message || "unknown error"}`;
      }
      replace(extra, panel ? metricsExtra(panel, byId) : null);
    }
    if (!signal.aborted) await draw(chosen);
  }

  return load();
}

function metricsExtra(panel, byId) {
  const ms = (id) => {
    const mean = meanOf(byId.get(id)?.points);
    return mean === null ? "—" : `${Math.round(mean).toLocaleString()} ms`;
  };
  const total = (id) => (byId.get(id)?.points || []).reduce((sum, p) => sum + p.value, 0).toLocaleString();
  return [
    h(
      "dl",
      { class: "figures estate-figures", dataset: { testid: "metric-figures" } },
      figure("Invocations", total("invocations")),
      figure("Errors", total("errors")),
      figure("Throttles", total("throttles")),
      figure(
        "Duration p50 · p95 · p99",
        ["durationP50", "durationP95", "durationP99"].some((id) => byId.get(id)?.points.length)
          ? `${ms("durationP50")} · ${ms("durationP95")} · ${ms("durationP99")}`
          : "no datapoints in the range",
      ),
    ),
    alarmList(panel.alarms, "No CloudWatch alarm on this function."),
    recentErrors(panel),
  ];
}

/** The CloudWatch alarms on a resource with their state (a panel's `alarms`). */
export function alarmList(alarms, emptyText) {
  return h(
    "div",
    { dataset: { testid: "alarms" } },
    h("h3", {}, "Alarms"),
    alarms.length
      ? h(
          "ul",
          { class: "plain-list" },
          alarms.map((a) =>
            h(
              "li",
              { dataset: { alarm: a.name, state: a.state } },
              h("span", { class: `flag flag-${alarmSeverity(a.state)} inline` }, a.state),
              h("span", { class: "alarm-name" }, a.name),
              h("span", { class: "muted" }, ` ${alarmRule(a)}`),
            ),
          ),
        )
      : h("p", { class: "muted" }, emptyText),
  );
}

function recentErrors(panel) {
  if (!panel.recentErrors) return null;
  return h(
    "div",
    { dataset: { testid: "recent-errors" } },
    h("h3", {}, "Recent errors"),
    panel.recentErrors.length
      ? h(
          "ul",
          { class: "error-lines" },
          panel.recentErrors.map((e) =>
            h("li", {}, h("span", { class: "muted" }, `${dateTime(e.at)} · ${e.logStream}`), h("code", {}, e.message)),
          ),
        )
      : h("p", { class: "muted" }, `No error lines since ${dateTime(panel.errorsSince)}.`),
    panel.errorsTruncated ? h("p", { class: "muted" }, "More lines matched than are shown (the newest 20).") : null,
  );
}

export function figure(label, value) {
  return h("div", { class: "figure" }, h("dt", {}, label), h("dd", {}, value));
}
