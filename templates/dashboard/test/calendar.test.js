// The calendar's edges, on explicit dates (never the clock): the same cases as the API's
// tests/unit/test_calendar.py, since src/calendar.js mirrors tally.calendar.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  addDays,
  days,
  daysFrom,
  daysInMonth,
  firstDay,
  followingFirst,
  isoDay,
  lastDay,
  monthBounds,
  monthDays,
  monthOf,
  monthsBetween,
  nextMonth,
  parseDay,
  previousMonth,
  previousMonthStart,
} from "../src/calendar.js";

test("a day is a UTC calendar day, whatever the time zone", () => {
  assert.equal(parseDay("2026-11-20").toISOString(), "2026-11-20T00:00:00.000Z");
  assert.equal(isoDay(parseDay("2028-02-29")), "2028-02-29");
});

test("monthOf and firstDay", () => {
  for (const day of ["2026-11-01", "2026-11-02", "2026-11-15", "2026-11-30"]) assert.equal(monthOf(day), "2026-11");
  assert.equal(monthOf("2027-01-01"), "2027-01");
  assert.equal(firstDay("2028-02"), "2028-02-01");
});

test("addDays crosses month and year ends and leap days", () => {
  assert.equal(addDays("2026-11-30", 1), "2026-12-01");
  assert.equal(addDays("2026-12-31", 1), "2027-01-01");
  assert.equal(addDays("2027-01-01", -1), "2026-12-31");
  assert.equal(addDays("2028-02-28", 1), "2028-02-29");
  assert.equal(addDays("2028-02-29", 1), "2028-03-01");
  assert.equal(addDays("2028-03-01", -1), "2028-02-29");
  assert.equal(addDays("2027-03-01", -1), "2027-02-28");
  assert.equal(addDays("2026-11-15", 0), "2026-11-15");
});

test("daysFrom counts whole days, the end excluded", () => {
  assert.equal(daysFrom("2026-11-20", "2026-11-20"), 0);
  assert.equal(daysFrom("2026-11-01", "2026-12-01"), 30);
  assert.equal(daysFrom("2028-02-01", "2028-03-01"), 29);
  assert.equal(daysFrom("2026-12-31", "2027-01-01"), 1);
  assert.equal(daysFrom("2026-12-01", "2026-11-30"), -1);
  // Across a daylight-saving change (in zones that have one) a day is still one day.
  assert.equal(daysFrom("2026-03-01", "2026-04-01"), 31);
});

test("month bounds are half-open", () => {
  assert.deepEqual(monthBounds("2026-11-01"), ["2026-11-01", "2026-12-01"]);
  assert.deepEqual(monthBounds("2026-11-30"), ["2026-11-01", "2026-12-01"]);
  assert.deepEqual(monthBounds("2026-12-31"), ["2026-12-01", "2027-01-01"]);
  assert.deepEqual(monthBounds("2028-02-29"), ["2028-02-01", "2028-03-01"]);
  assert.deepEqual(monthDays("2028-03"), ["2028-03-01", "2028-04-01"]);
  assert.equal(followingFirst("2027-01-31"), "2027-02-01");
  assert.equal(followingFirst("2026-12-15"), "2027-01-01");
});

test("the length and the last day of 30- and 31-day months and of February", () => {
  const cases = [
    ["2026-11", 30, "2026-11-30"],
    ["2026-12", 31, "2026-12-31"],
    ["2027-01", 31, "2027-01-31"],
    ["2027-02", 28, "2027-02-28"],
    ["2028-02", 29, "2028-02-29"],
    ["2028-03", 31, "2028-03-31"],
  ];
  for (const [month, count, last] of cases) {
    assert.equal(daysInMonth(month), count, month);
    assert.equal(lastDay(month), last, month);
  }
});

test("previous and next month across the year", () => {
  assert.equal(previousMonth("2027-01"), "2026-12");
  assert.equal(nextMonth("2026-12"), "2027-01");
  assert.equal(previousMonth("2028-03"), "2028-02");
  assert.equal(nextMonth("2028-02"), "2028-03");
  assert.equal(previousMonthStart("2028-03-01"), "2028-02-01");
  assert.equal(previousMonthStart("2027-01-01"), "2026-12-01");
  assert.equal(previousMonthStart("2026-12-31"), "2026-11-01");
});

test("days lists [start, end)", () => {
  assert.deepEqual(days("2028-02-28", "2028-03-02"), ["2028-02-28", "2028-02-29", "2028-03-01"]);
  assert.deepEqual(days("2026-11-20", "2026-11-20"), []);
  assert.equal(days("2026-11-01", "2026-12-01").length, 30);
});

test("monthsBetween names every month holding a day of [start, end)", () => {
  assert.deepEqual(monthsBetween("2026-11-30", "2027-01-02"), ["2026-11", "2026-12", "2027-01"]);
  assert.deepEqual(monthsBetween("2026-11-01", "2026-12-01"), ["2026-11"]);
  assert.deepEqual(monthsBetween("2028-02-29", "2028-03-02"), ["2028-02", "2028-03"]);
  assert.deepEqual(monthsBetween("2026-11-20", "2026-11-20"), []);
  assert.deepEqual(monthsBetween("2026-11-20", "2026-11-10"), []);
});
