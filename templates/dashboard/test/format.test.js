// Formatting of the API's values, in one locale (en-US) so the expected text is fixed.

import assert from "node:assert/strict";
import { before, test } from "node:test";

import { monthOf, setPeriods } from "../src/calendar.js";

import {
  decimal,
  learnToday,
  knownToday,
  money,
  monthName,
  percent,
  quantity,
  serviceName,
  share,
  shortDay,
  showLastMonth,
  statusText,
  unitPrice,
} from "../src/format.js";

before(() => {
  Object.defineProperty(globalThis, "navigator", { value: { language: "en-US" }, configurable: true });
});

test("money rounds the API's decimal string half away from zero, never through a float", () => {
  assert.equal(money({ amount: "850", currency: "USD" }), "$850.00");
  assert.equal(money({ amount: "784.27049", currency: "USD" }), "$784.27");
  assert.equal(money({ amount: "0.125", currency: "USD" }), "$0.13");
  // 1.005 is 1.00499999... as a binary float.
  assert.equal(money({ amount: "1.005", currency: "USD" }), "$1.01");
  assert.equal(money({ amount: "-2.5", currency: "EUR" }), "-€2.50");
  assert.equal(money(null), "—");
});

test("percent keeps one decimal at most", () => {
  assert.equal(percent("15.0"), "15%");
  assert.equal(percent("15.25"), "15.3%");
  assert.equal(percent(null), "—");
});

test("days and months are named in UTC", () => {
  assert.equal(shortDay("2027-01-01"), "Jan 1");
  assert.equal(shortDay("2028-02-29"), "Feb 29");
  assert.equal(monthName("2026-11"), "November 2026");
  assert.equal(monthName("2028-03"), "March 2028");
});

test("the business date is learned from the API's answers only", () => {
  learnToday("not a date");
  assert.equal(knownToday(), null);
  learnToday("2026-11-20");
  assert.equal(knownToday(), "2026-11-20");
});

test("last month stands beside the current one in its first week or while provisional", () => {
  const final = { final: true };
  const provisional = { final: false };
  const shown = (today, previousMonth, month = today.slice(0, 7)) => showLastMonth({ previousMonth, month, today });
  assert.equal(shown("2026-12-01", final), true);
  assert.equal(shown("2026-12-07", final), true);
  assert.equal(shown("2026-12-08", final), false);
  assert.equal(shown("2026-12-15", provisional), true);
  assert.equal(shown("2027-01-01", final), true);
  // Another month than today's, or no previous month: never.
  assert.equal(shown("2026-12-01", final, "2026-11"), false);
  assert.equal(shown("2026-12-01", null), false);
  assert.equal(showLastMonth({ previousMonth: final, month: "2026-12", today: "2026-12-20", noCostsYet: true }), true);
});

// Intl puts thin spaces around the range's dash.
const plain = (text) => text.replace(/\s/gu, " ");

test("a period that is not a calendar month is named with its days (issue 17)", () => {
  try {
    setPeriods({ kind: "4-4-5", fiscalYearStart: "01-01", weekStart: "monday" });
    assert.equal(plain(monthName("2026-12")), "December 2026 period (Nov 23, 2026 – Jan 3, 2027)");
    assert.equal(plain(monthName("2026-11")), "November 2026 period (Oct 26 – Nov 22, 2026)");
    setPeriods({ kind: "monthly", startDay: 2 });
    assert.equal(plain(monthName("2026-11")), "November 2026 period (Nov 2 – Dec 1, 2026)");
    // Monthly from the 1st is calendar months: the plain name.
    setPeriods({ kind: "monthly", startDay: 1 });
    assert.equal(monthName("2026-11"), "November 2026");
  } finally {
    setPeriods(null);
  }
  // The summary's own days win before the dashboard knows the definition.
  assert.equal(
    plain(monthName("2026-12", { periodStart: "2026-11-23", periodEnd: "2027-01-03" })),
    "December 2026 period (Nov 23, 2026 – Jan 3, 2027)",
  );
  assert.equal(monthName("2026-11", { periodStart: "2026-11-01", periodEnd: "2026-11-30" }), "November 2026");
});

test("last period's result stands beside the current one for the period's first week", () => {
  const final = { final: true };
  try {
    setPeriods({ kind: "monthly", startDay: 15 });
    const shown = (today) => showLastMonth({ previousMonth: final, month: monthOf(today), today });
    assert.equal(shown("2026-11-15"), true);
    assert.equal(shown("2026-11-21"), true); // its 7th day
    assert.equal(shown("2026-11-22"), false);
    assert.equal(shown("2026-12-03"), false); // the 3rd of the month, the 19th day of the period
  } finally {
    setPeriods(null);
  }
  // The answer's days, when it gives them.
  const answer = { previousMonth: final, month: "2026-12", periodStart: "2026-11-23", periodEnd: "2027-01-03" };
  assert.equal(showLastMonth({ ...answer, today: "2026-11-25" }), true);
  assert.equal(showLastMonth({ ...answer, today: "2026-11-30" }), false);
  assert.equal(showLastMonth({ ...answer, today: "2027-01-04" }), false);
});

test("status and service names", () => {
  assert.equal(statusText("over"), "Over Budget");
  assert.equal(statusText(null), "No budget");
  assert.equal(serviceName("AmazonEC2"), "EC2");
  assert.equal(serviceName("Amazon Bedrock"), "Amazon Bedrock");
});

test("quantity formats usage with its unit in the locale, small amounts keeping their digits", () => {
  assert.equal(quantity("24", "Hrs"), "24 Hrs");
  assert.equal(quantity("1234.5", "Hrs"), "1,234.5 Hrs");
  assert.equal(quantity("1234.56789", "GB-Mo"), "1,234.568 GB-Mo");
  assert.equal(quantity("0.000125", "GB"), "0.000125 GB");
  assert.equal(quantity("5000", null), "5,000");
  assert.equal(quantity("0", "Hrs"), "0 Hrs");
  assert.equal(quantity("0", null), "—");
  assert.equal(quantity(null, "Hrs"), "—");
});

test("unitPrice shows the API's cost per unit with the digits a unit price needs", () => {
  assert.equal(unitPrice({ amount: "0.0416", currency: "USD", unit: "Hrs" }), "$0.0416 per Hrs");
  assert.equal(unitPrice({ amount: "0.023", currency: "USD", unit: "GB-Mo" }), "$0.023 per GB-Mo");
  assert.equal(
    unitPrice({ amount: "0.0000166667", currency: "USD", unit: "Lambda-GB-Second" }),
    "$0.0000166667 per Lambda-GB-Second",
  );
  assert.equal(unitPrice({ amount: "1234568", currency: "EUR", unit: "Hrs" }), "€1,234,568.00 per Hrs");
  assert.equal(unitPrice(null), "—");
});

test("decimal and share keep the API's digits and follow the locale", () => {
  assert.equal(decimal("1.0832"), "1.0832");
  assert.equal(decimal("1234.56789012"), "1,234.56789012");
  assert.equal(decimal(null), "—");
  assert.equal(share("50"), "50%");
  assert.equal(share("33.33"), "33.33%");
  assert.equal(share("12.5"), "12.5%");
  assert.equal(share(""), "—");
  const english = globalThis.navigator;
  try {
    Object.defineProperty(globalThis, "navigator", { value: { language: "de-DE" }, configurable: true });
    assert.equal(decimal("1234.5"), "1.234,5");
    assert.equal(share("12.5"), "12,5\u00a0%");
    assert.equal(money({ amount: "1234.5", currency: "EUR" }), "1.234,50\u00a0€");
  } finally {
    Object.defineProperty(globalThis, "navigator", { value: english, configurable: true });
  }
});
