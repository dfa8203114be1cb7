// Savings: idle resources and savings tips (GET /api/recommendations), ranked by the monthly
// saving, highest first, each with what to do and the evidence it rests on (a definition
// list). Admins see the organisation's, with whose resource it is ("nobody" when no one owns it).

import { emptyState, errorState, h, replace, skeleton } from "../dom.js";
import { dateTime, moneyNumber, serviceName } from "../format.js";
import { evidenceName, recommendationKind } from "../reports.js";
import { pageHead } from "./common.js";
import { knownNames } from "./anomalies.js";

export function savingsView(view) {
  const { ctx, user, can, container, signal } = view;
  const { api } = ctx;
  const org = can.viewAllUsers;
  const total = h("dd", { dataset: { testid: "total-saving" } }, "—");
  const count = h("dd", { dataset: { testid: "tip-count" } }, "—");
  const body = h("div", { class: "card-body", "aria-live": "polite" });
  replace(
    container,
    pageHead(
      view,
      "Savings",
      org
        ? "Idle resources and savings tips across the organisation, largest saving first."
        : "Idle resources and savings tips for your resources, largest saving first.",
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "savings-total-title" },
      h("div", { class: "card-head" }, h("h2", { id: "savings-total-title" }, "What you could save")),
      h(
        "dl",
        { class: "summary-figures savings-figures" },
        h("div", { class: "figure" }, h("dt", {}, "Per month, if you act on every tip"), total),
        h("div", { class: "figure" }, h("dt", {}, "Tips"), count),
      ),
    ),
    h(
      "section",
      { class: "card savings-card", "aria-labelledby": "savings-list-title" },
      h(
        "div",
        { class: "card-head" },
        h("h2", { id: "savings-list-title" }, "Tips, largest saving first"),
        h("p", { class: "card-subtitle" }, "Each saving is priced from the resource's own recent costs"),
      ),
      body,
    ),
  );

  function owner(item, names) {
    if (!item.userId) return "nobody";
    if (item.userId === user.userId) return "you";
    return names.get(item.userId) || item.userId;
  }

  function tip(item, rank, names) {
    const evidence = Object.entries(item.evidence || {});
    return h(
      "li",
      { class: "tip", dataset: { kind: item.kind, saving: item.monthlySaving, id: item.recommendationId } },
      h(
        "article",
        { "aria-labelledby": `tip-${rank}` },
        h(
          "div",
          { class: "tip-head" },
          h("span", { class: "tip-rank", "aria-hidden": "true" }, String(rank)),
          h(
            "div",
            { class: "tip-what" },
            h("h3", { id: `tip-${rank}` }, h("span", { class: "visually-hidden" }, `${rank}. `), item.title),
            h(
              "p",
              { class: "tip-meta" },
              h("span", { class: "tag tip-kind" }, recommendationKind(item.kind)),
              " ",
              serviceName(item.service),
              // "ec2" beside "EC2" says nothing; "t3.medium" or "gp2" does.
              item.resourceType && item.resourceType.toLowerCase() !== serviceName(item.service).toLowerCase()
                ? ` · ${item.resourceType}`
                : "",
              org ? h("span", { dataset: { testid: "tip-owner" } }, ` · owner: ${owner(item, names)}`) : null,
            ),
          ),
          h(
            "p",
            { class: "tip-saving" },
            h("strong", {}, moneyNumber(item.monthlySaving, item.currency)),
            h("small", {}, " per month"),
          ),
        ),
        h("p", { class: "id-text tip-resource" }, item.resourceId),
        item.detail ? h("p", { class: "tip-detail" }, item.detail) : null,
        evidence.length
          ? h(
              "dl",
              { class: "tip-evidence", "aria-label": "Evidence" },
              evidence.map(([name, value]) => h("div", {}, h("dt", {}, evidenceName(name)), h("dd", {}, value))),
            )
          : null,
        item.detectedAt ? h("p", { class: "muted tip-when" }, `Found ${dateTime(item.detectedAt)}`) : null,
      ),
    );
  }

  async function load() {
    replace(body, skeleton(5, "Loading savings tips"));
    body.setAttribute("aria-busy", "true");
    try {
      const [data, names] = await Promise.all([
        api.recommendations({}),
        org ? knownNames(ctx, user) : Promise.resolve(ctx.usernames),
      ]);
      if (signal.aborted) return;
      total.textContent = moneyNumber(data.totalMonthlySaving, data.currency);
      count.textContent = String(data.items.length);
      if (!data.items.length) {
        replace(
          body,
          emptyState(
            "No savings tips right now.",
            "Tally looks for idle instances and databases, unattached volumes, unused addresses and functions, older volume and instance types, old snapshots and buckets without lifecycle rules after each import.",
          ),
        );
        return;
      }
      replace(
        body,
        h(
          "ol",
          { class: "tips", dataset: { testid: "savings" } },
          data.items.map((item, index) => tip(item, index + 1, names)),
        ),
      );
    } catch (error) {
      if (signal.aborted) return;
      replace(body, errorState(error, load, "the savings tips"));
    } finally {
      body.removeAttribute("aria-busy");
    }
  }
  return load();
}
