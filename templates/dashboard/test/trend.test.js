// The trend's series, from the API's answers and an explicit business date.

import assert from "node:assert/strict";
import { test } from "node:test";

import { days as calendarDays } from "../src/calendar.js";
import { trendSeries } from "../src/trend.js";

const usd = (amount) => ({ amount: String(amount), currency: "USD" });

/** The API's daily costs over [start, end), `amountOf(day)` each. */
function costs(start, end, amountOf = () => 10) {
  return { startDate: start, daily: calendarDays(start, end).map((date) => ({ date, cost: usd(amountOf(date)) })) };
}

function forecast(asOf, days) {
  return { asOf, daily: days.map((date) => ({ date, expected: usd(12), lower80: usd(8), upper80: usd(16) })) };
}

test("without a forecast, actuals run to the last day with costs", () => {
  const series = trendSeries(
    costs("2026-10-21", "2026-11-20", (day) => (day > "2026-11-17" ? 0 : 10)),
    {},
    "2026-11-20",
  );
  assert.equal(series.lastActual, "2026-11-17");
  assert.equal(series.days[0], "2026-10-21");
  assert.equal(series.days.at(-1), "2026-11-17");
  assert.equal(series.days.length, 28);
  assert.ok(series.forecast.every((v) => v === null));
  assert.ok(series.pace.every((v) => v === null));
  assert.equal(series.actualTotal, 280);
});

test("with no costs at all, the actuals end yesterday", () => {
  const series = trendSeries(
    costs("2026-11-01", "2026-12-01", () => 0),
    {},
    "2026-12-01",
  );
  assert.equal(series.lastActual, "2026-11-30");
  assert.equal(series.days.length, 30);
  assert.equal(series.actualTotal, 0);
});

test("the forecast runs from the last actual day to the end of February in a leap year", () => {
  const today = "2028-02-20";
  const ahead = calendarDays("2028-02-20", "2028-03-01");
  const series = trendSeries(costs("2028-01-20", "2028-02-20"), { forecast: forecast("2028-02-19", ahead) }, today);
  assert.equal(series.days.at(-1), "2028-02-29");
  assert.equal(series.days.length, 30 + 10);
  const joined = series.days.indexOf("2028-02-19");
  // The forecast line starts at the last actual point, so the two lines join.
  assert.equal(series.actual[joined], 10);
  assert.equal(series.forecast[joined], 10);
  assert.equal(series.actual[joined + 1], null);
  assert.deepEqual([series.forecast[joined + 1], series.lower[joined + 1], series.upper[joined + 1]], [12, 8, 16]);
  assert.ok(series.forecast.slice(0, joined).every((v) => v === null));
});

test("the trend keeps to the 30 days before the last actual day, and to the answer's start", () => {
  const long = trendSeries(costs("2026-09-01", "2026-11-20"), {}, "2026-11-20");
  assert.equal(long.days.length, 30);
  assert.equal(long.days[0], "2026-10-21");
  const short = trendSeries(costs("2026-11-10", "2026-11-20"), {}, "2026-11-20");
  assert.equal(short.days[0], "2026-11-10");
});

test("the budget pace is the limit over each day's month length, across a month end", () => {
  const summary = { budget: { monthlyLimit: usd(310) } };
  const series = trendSeries(costs("2026-11-28", "2026-12-03"), summary, "2026-12-03");
  const pace = Object.fromEntries(series.days.map((day, i) => [day, series.pace[i]]));
  assert.equal(pace["2026-11-30"], 10.33); // 310 / 30
  assert.equal(pace["2026-12-01"], 10); // 310 / 31
  const mismatch = trendSeries(costs("2026-11-28", "2026-12-03"), { ...summary, currencyMismatch: true }, "2026-12-03");
  assert.ok(mismatch.pace.every((v) => v === null));
});

test("a forecast's as-of day after today is held to today", () => {
  const series = trendSeries(costs("2026-11-01", "2026-11-21"), { forecast: forecast("2026-11-25", []) }, "2026-11-20");
  assert.equal(series.lastActual, "2026-11-20");
  assert.equal(series.days.at(-1), "2026-11-30");
});
