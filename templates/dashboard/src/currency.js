// Currencies (issue 17): the display currency a person sees figures in (theirs, else the
// organisation's), and a converted figure shown beside the billed one with the dates of the
// rates it used. The API converts day by day; the dashboard never converts anything itself.

import { h } from "./dom.js";
import { longDay, money } from "./format.js";

// The choices offered in the selects; the API accepts any active ISO 4217 code.
export const CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK"];

/** The currency this person's figures are shown in: theirs, else the organisation's.
 * `billingSettings`: the page's shared GET /api/settings/billing (main.js's
 * ctx.billingSettings, which also puts the organisation's periods in force). */
export async function displayCurrency(api, billingSettings = api.billingSettings) {
  const [mine, org] = await Promise.all([
    api.preferences().then(
      ({ preferences }) => preferences.displayCurrency,
      () => null,
    ),
    billingSettings().then(
      (settings) => settings.currency.displayCurrency,
      () => null,
    ),
  ]);
  return mine || org || null;
}

/** "2 Nov" or "2 Nov to 19 Nov 2026": the span of the rates' days. */
function rateDays(rates) {
  const days = [...new Set(rates.map((r) => r.rateDate))].sort();
  if (!days.length) return "";
  return days.length === 1 ? longDay(days[0]) : `${longDay(days[0])} to ${longDay(days[days.length - 1])}`;
}

/** A converted figure beside the billed one: amount, currency, the rates' days, fallbacks. */
export function convertedNote(converted) {
  if (!converted) return null;
  const rates = converted.ratesUsed || [];
  const sources = [...new Set(rates.map((r) => r.source.split("+")[0]))].join(", ");
  const fallbacks = rates.filter((r) => r.fallback).length;
  return h(
    "p",
    { class: "converted-note", dataset: { testid: "converted-total", currency: converted.total.currency } },
    h("strong", {}, `≈ ${money(converted.total)}`),
    ` in ${converted.total.currency}, converted day by day`,
    rates.length ? ` at ${sources} rates of ${rateDays(rates)}` : "",
    converted.fallback
      ? h(
          "span",
          { class: "muted", dataset: { testid: "converted-fallback" } },
          ` (a day without its own rate used the latest earlier one${fallbacks > 1 ? "s" : ""})`,
        )
      : "",
    ".",
  );
}

/** The currency a team's figures are shown in: the team's, else the organisation's. */
export async function teamDisplayCurrency(team, billingSettings) {
  if (team.displayCurrency) return team.displayCurrency;
  return billingSettings().then(
    (settings) => settings.currency.displayCurrency || null,
    () => null,
  );
}

/** A verdict made on costs converted into the budget's currency (`budgetJudgedIn`): what was
 * spent in it and the rates' days, so no one mistakes it for a figure billed in it. */
export function judgedNote(summary) {
  const judged = summary?.budgetJudgedIn;
  if (!judged) return null;
  const rates = judged.ratesUsed || [];
  const billed = [...new Set(rates.map((r) => r.base))].join(" and ");
  const sources = [...new Set(rates.map((r) => r.source.split("+")[0]))].join(", ");
  return h(
    "p",
    { class: "converted-note", role: "note", dataset: { testid: "budget-judged-in", currency: judged.currency } },
    `Judged in ${judged.currency}, the budget's currency: `,
    h("strong", {}, `≈ ${money(judged.spent)}`),
    ` spent, the ${billed || "billed"} costs converted day by day`,
    rates.length ? ` at ${sources} rates of ${rateDays(rates)}` : "",
    judged.fallback ? h("span", { class: "muted" }, " (a day without its own rate used the latest earlier one)") : "",
    ".",
  );
}

/** Resolves once the page's first chart is drawn (its performance mark), or after `waitMs`
 * when no chart comes (a month without costs): extras wait for the figures, never the reverse. */
export function afterFirstChart(mark = "tally:first-chart", waitMs = 1500) {
  return new Promise((resolve) => {
    if (performance.getEntriesByName(mark).length) {
      resolve();
      return;
    }
    const observer = new PerformanceObserver((list) => {
      if (list.getEntriesByName(mark).length) {
        observer.disconnect();
        resolve();
      }
    });
    observer.observe({ type: "mark", buffered: true });
    setTimeout(() => {
      observer.disconnect();
      resolve();
    }, waitMs);
  });
}
