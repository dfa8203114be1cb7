// Commitments (issue 17): Savings Plans and reservations as Cost Explorer reported them at the
// last daily refresh: utilisation and coverage per month, what ends soon (finance is told 30
// and 7 days ahead), and purchase recommendations with their saving and break-even. When the
// cost source is a FOCUS export, the utilisation and coverage derived from its commitment
// columns are listed beside Cost Explorer's (or alone), each row saying its source, plus each
// commitment's utilisation. Finance and admins (commitments:read); GET /api/commitments and
// /api/commitments/recommendations.

import { emptyState, errorState, h, replace, skeleton } from "../dom.js";
import { dateTime, longDay, money, monthName, percent } from "../format.js";
import { pageHead } from "./common.js";

const KIND = { "savings-plan": "Savings Plans", reservation: "Reserved Instances" };
const ONE_KIND = { "savings-plan": "Savings Plan", reservation: "Reservation" };
const SOURCE = { "cost-explorer": "Cost Explorer", focus: "FOCUS export" };

function card(id, title, subtitle, body) {
  return h(
    "section",
    { class: "card", "aria-labelledby": id },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id }, title),
      subtitle ? h("p", { class: "card-subtitle" }, subtitle) : null,
    ),
    body,
  );
}

function table(label, testid, headings, rows) {
  // Phone width stacks each row as a card whose cells say their column (data-label).
  for (const row of rows) {
    [...row.children].forEach((cell, index) => {
      if (index > 0) cell.dataset.label = headings[index][0];
    });
  }
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": label },
    h(
      "table",
      { class: "stack", dataset: { testid } },
      h("caption", { class: "visually-hidden" }, label),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headings.map(([text, numeric]) => h("th", { scope: "col", class: numeric ? "numeric" : "" }, text)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

// A figure's row: its kind, month, source and currency (the export's figures are per currency).
const figureKey = (f, currency) => `${f.kind}#${f.month}#${f.source}#${currency}`;

/** Each utilisation figure with the coverage of the same kind, month, source and currency
 * (null when there is none): Cost Explorer's and the export's figures never pair up. */
export function usagePairs(data) {
  const coverage = new Map(data.coverage.map((c) => [figureKey(c, c.onDemandCost.currency), c]));
  return data.utilisation.map((u) => [u, coverage.get(figureKey(u, u.commitment.currency)) || null]);
}

function usageRows(data) {
  return usagePairs(data).map(([u, c]) =>
    h(
      "tr",
      { dataset: { kind: u.kind, month: u.month, source: u.source } },
      h("th", { scope: "row" }, `${KIND[u.kind] || u.kind}, ${monthName(u.month)}`),
      h("td", { dataset: { testid: "source" } }, SOURCE[u.source] || u.source),
      h("td", { class: "numeric", dataset: { testid: "utilisation" } }, percent(u.percent)),
      h("td", { class: "numeric" }, money(u.used)),
      h("td", { class: "numeric" }, money(u.unused)),
      h("td", { class: "numeric", dataset: { testid: "coverage" } }, c ? percent(c.percent) : "—"),
      h("td", { class: "numeric" }, c ? money(c.onDemandCost) : "—"),
      h("td", { class: "numeric" }, u.netSavings ? money(u.netSavings) : "—"),
    ),
  );
}

function commitmentUsageRows(items) {
  return items.map((u) =>
    h(
      "tr",
      { dataset: { id: u.commitmentId, month: u.month } },
      h("th", { scope: "row" }, h("span", { class: "id-text commitment-id" }, u.commitmentId)),
      h("td", {}, ONE_KIND[u.kind] || u.kind),
      h("td", {}, monthName(u.month)),
      h("td", { class: "numeric", dataset: { testid: "utilisation" } }, percent(u.percent)),
      h("td", { class: "numeric" }, money(u.used)),
      h("td", { class: "numeric" }, money(u.unused)),
    ),
  );
}

function commitmentRows(data) {
  return data.commitments.map((c) =>
    h(
      "tr",
      { dataset: { id: c.commitmentId, soon: String(c.expiringSoon) } },
      h("th", { scope: "row" }, c.description, h("span", { class: "id-text commitment-id" }, c.commitmentId)),
      h("td", {}, ONE_KIND[c.kind] || c.kind),
      h("td", {}, longDay(c.end)),
      h(
        "td",
        { class: "numeric" },
        c.expiringSoon
          ? h("span", { class: "tag", dataset: { testid: "expiring" } }, `${c.daysLeft} days`)
          : `${c.daysLeft} days`,
      ),
    ),
  );
}

// "0.0": nothing to pay back (no upfront); null: it never pays back.
function breakEven(months) {
  if (months === null) return "never";
  return Number(months) === 0 ? "at once" : `${months} months`;
}

function recommendationRows(items) {
  return items.map((r) =>
    h(
      "tr",
      { dataset: { kind: r.kind } },
      h("th", { scope: "row" }, r.description),
      h(
        "td",
        {},
        `${r.term === "THREE_YEARS" ? "3 years" : "1 year"}, ${r.paymentOption.toLowerCase().replaceAll("_", " ")}`,
      ),
      h("td", { class: "numeric" }, money(r.upfrontCost)),
      h("td", { class: "numeric", dataset: { testid: "monthly-saving" } }, money(r.monthlySaving)),
      h("td", { class: "numeric" }, breakEven(r.breakEvenMonths)),
    ),
  );
}

export function commitmentsView(view) {
  const { ctx, container, signal } = view;
  const { api } = ctx;
  const body = h("div", { class: "commitments", "aria-live": "polite" });
  replace(
    container,
    pageHead(
      view,
      "Commitments",
      "Savings Plans and Reserved Instances: how much is used, what ends soon, and what to buy next.",
    ),
    body,
  );

  async function load() {
    replace(body, skeleton(6, "Loading commitments"));
    body.setAttribute("aria-busy", "true");
    try {
      const [data, recs] = await Promise.all([api.commitments(), api.commitmentRecommendations()]);
      if (signal.aborted) return;
      const fromExport = data.utilisation.some((u) => u.source === "focus");
      if (!data.readAt && !fromExport) {
        replace(
          body,
          emptyState(
            "No commitments read yet.",
            "Tally reads Savings Plans and reservations from Cost Explorer once a day.",
          ),
        );
        return;
      }
      const soon = data.commitments.filter((c) => c.expiringSoon);
      replace(
        body,
        h(
          "p",
          { class: "muted", dataset: { testid: "sources" } },
          data.readAt ? `Read from Cost Explorer ${dateTime(data.readAt)}.` : "Cost Explorer has not been read yet.",
          ...data.notes.map((n) => ` ${n}.`),
          fromExport
            ? " Rows marked “FOCUS export” are derived from your cost export’s commitment columns at each ingest, in your billing periods and billing currency; coverage there counts the usage of the services your commitments covered."
            : "",
        ),
        card(
          "commitments-soon",
          "Ending soon",
          "Within 30 days; finance and admins are notified 30 and 7 days ahead",
          soon.length
            ? table(
                "Commitments ending soon",
                "expiring-soon",
                [["Commitment"], ["Kind"], ["Ends"], ["Left", true]],
                commitmentRows({ commitments: soon }),
              )
            : h("p", { class: "card-body" }, "Nothing ends in the next 30 days."),
        ),
        card(
          "commitments-usage",
          "Utilisation and coverage",
          "Per month: how much of what you committed was used, and how much eligible usage it covered",
          data.utilisation.length
            ? table(
                "Utilisation and coverage",
                "usage",
                [
                  ["Month"],
                  ["Source"],
                  ["Utilisation", true],
                  ["Used", true],
                  ["Unused", true],
                  ["Coverage", true],
                  ["Uncovered on demand", true],
                  ["Net savings", true],
                ],
                usageRows(data),
              )
            : h("p", { class: "card-body" }, "No utilisation reported."),
        ),
        data.commitmentUtilisation.length
          ? card(
              "commitments-each",
              "Utilisation of each commitment",
              "From your FOCUS export: used and unused per commitment and month",
              table(
                "Utilisation of each commitment",
                "commitment-usage",
                [["Commitment"], ["Kind"], ["Month"], ["Utilisation", true], ["Used", true], ["Unused", true]],
                commitmentUsageRows(data.commitmentUtilisation),
              ),
            )
          : null,
        card(
          "commitments-all",
          "Every commitment",
          "Soonest end first",
          data.commitments.length
            ? table(
                "Every commitment",
                "commitments",
                [["Commitment"], ["Kind"], ["Ends"], ["Left", true]],
                commitmentRows(data),
              )
            : h("p", { class: "card-body" }, "No active Savings Plans or reservations."),
        ),
        card(
          "commitments-recommendations",
          "What to buy next",
          "Cost Explorer's recommendations from the last 30 days; break-even is the upfront cost over the monthly saving",
          recs.recommendations.length
            ? table(
                "Purchase recommendations",
                "recommendations",
                [["Purchase"], ["Term"], ["Upfront", true], ["Saves per month", true], ["Breaks even", true]],
                recommendationRows(recs.recommendations),
              )
            : h("p", { class: "card-body" }, "No purchase recommended."),
        ),
      );
    } catch (error) {
      if (signal.aborted) return;
      replace(body, errorState(error, load, "the commitments"));
    } finally {
      body.removeAttribute("aria-busy");
    }
  }
  return load();
}
