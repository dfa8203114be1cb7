// The calendar's edges, on explicit dates (never the clock): the same cases as the API's
// tests/unit/test_calendar.py and tests/unit/test_calendar_periods.py (custom billing periods,
// issue 17), since src/calendar.js mirrors tally.calendar.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CALENDAR_MONTHS,
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
  normalised,
  parseDay,
  periodDefinition,
  periods,
  previousMonth,
  previousMonthStart,
  sameDefinition,
  setPeriods,
  using,
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

// -- custom billing periods (issue 17) -------------------------------------------------------

const DEFINITIONS = [
  {},
  { kind: "monthly", startDay: 15 },
  { kind: "monthly", startDay: 28 },
  { kind: "4-4-5" },
  { kind: "4-5-4", fiscalYearStart: "04-01", weekStart: "sunday" },
  { kind: "5-4-4", fiscalYearStart: "02-01", weekStart: "saturday" },
  { kind: "4-4-5", fiscalYearStart: "12-31", weekStart: "thursday" },
].map(periodDefinition);

for (const def of DEFINITIONS) {
  test(`${def.kind}-${def.startDay}-${def.fiscalYearStart}: periods tile every day and are named in order`, () => {
    using(def, () => {
      let day = "2023-06-01";
      let label = monthOf(day);
      let [first, following] = monthDays(label);
      while (day < "2031-01-01") {
        assert.ok(first <= day && day < following, `${day} ${label}`);
        assert.equal(monthOf(day), label);
        day = addDays(day, 1);
        if (day === following) {
          label = nextMonth(label);
          [first, following] = monthDays(label);
          assert.equal(first, day, "the next period starts the day after the last ends");
          assert.equal(previousMonth(label), monthOf(addDays(day, -1)));
          assert.ok(daysInMonth(label) >= 28 && daysInMonth(label) <= 42, label);
        }
      }
    });
  });
}

test("a 4-4-5 year has the weeks of its quarters, and 53 weeks when the calendar needs", () => {
  using({ kind: "4-4-5", fiscalYearStart: "01-01", weekStart: "monday" }, () => {
    // 2026-01-01 is a Thursday: the nearest Monday is 2025-12-29 (3 days before).
    assert.equal(firstDay("2026-01"), "2025-12-29");
    const weeks = Array.from({ length: 12 }, (_, i) => daysInMonth(`2026-${String(i + 1).padStart(2, "0")}`) / 7);
    // The 53rd week goes to the last period.
    assert.deepEqual(weeks, [4, 4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 6]);
    // Fiscal 2027 begins on 2027-01-04 (1 January 2027 is a Friday: the Monday after, three
    // days away), so fiscal 2026 has 53 weeks and its last period five weeks + one.
    assert.equal(firstDay("2027-01"), "2027-01-04");
    assert.equal(daysInMonth("2026-12"), 6 * 7);
    assert.equal(monthOf("2027-01-01"), "2026-12");
    assert.equal(monthOf("2027-01-04"), "2027-01");
    assert.equal(daysFrom(firstDay("2026-01"), firstDay("2027-01")), 53 * 7);
    // 29 February 2028 is a day like any: fiscal 2028 begins 2028-01-03, so its February
    // (weeks 5-8) ends on the 27th and the leap day opens the five-week "2028-03".
    assert.deepEqual(monthDays("2028-03"), ["2028-02-28", "2028-04-03"]);
    assert.equal(monthOf("2028-02-29"), "2028-03");
  });
});

test("a fiscal year starting in April names its periods by the months they stand for", () => {
  using({ kind: "4-5-4", fiscalYearStart: "04-01", weekStart: "sunday" }, () => {
    // 2026-04-01 is a Wednesday: the nearest Sunday is 2026-03-29.
    assert.equal(firstDay("2026-04"), "2026-03-29");
    assert.equal(daysInMonth("2026-04"), 28);
    assert.equal(daysInMonth("2026-05"), 35);
    // Period 9 ("2026-12", 4 weeks) ends on 2026-12-26; period 10 is named for January.
    assert.deepEqual(monthDays("2026-12"), ["2026-11-29", "2026-12-27"]);
    assert.equal(monthOf("2027-01-01"), "2027-01");
    assert.equal(previousMonth("2026-04"), "2026-03");
    assert.equal(lastDay("2026-03"), "2026-03-28");
  });
});

test("months from day 15 are named by the month they start in", () => {
  using({ kind: "monthly", startDay: 15 }, () => {
    assert.equal(monthOf("2026-11-14"), "2026-10");
    assert.equal(monthOf("2026-11-15"), "2026-11");
    assert.deepEqual(monthDays("2026-12"), ["2026-12-15", "2027-01-15"]);
    assert.equal(monthOf("2027-01-01"), "2026-12");
    assert.deepEqual(monthDays("2028-02"), ["2028-02-15", "2028-03-15"]);
    assert.equal(daysInMonth("2028-02"), 29); // the leap day is in it
    assert.deepEqual(monthsBetween("2026-11-01", "2026-12-01"), ["2026-10", "2026-11"]);
    assert.equal(previousMonthStart("2026-12-03"), "2026-10-15");
    assert.deepEqual(monthBounds("2026-12-03"), ["2026-11-15", "2026-12-15"]);
    assert.equal(followingFirst("2026-12-14"), "2026-12-15");
  });
});

test("a fiscal year starting on 31 December may begin in January: its first days are still in a period", () => {
  using({ kind: "4-4-5", fiscalYearStart: "12-31", weekStart: "thursday" }, () => {
    // 31 December 2024 is a Tuesday: fiscal 2024 begins on Thursday 2025-01-02, so
    // 2025-01-01 is the last day of fiscal 2023 (two calendar years before its own).
    assert.equal(monthOf("2025-01-01"), "2024-11");
    assert.equal(lastDay("2024-11"), "2025-01-01");
    assert.equal(firstDay("2024-12"), "2025-01-02");
  });
});

test("monthly from the 1st is calendar months", () => {
  assert.deepEqual(normalised(periodDefinition({ kind: "monthly", startDay: 1 })), CALENDAR_MONTHS);
  assert.ok(sameDefinition({ kind: "monthly", startDay: 1, weekStart: "friday" }, {}));
  using({ kind: "monthly", startDay: 1 }, () => {
    assert.deepEqual(monthDays("2028-02"), ["2028-02-01", "2028-03-01"]);
  });
});

test("switching back gives the original periods", () => {
  const months = Array.from({ length: 12 }, (_, i) => `2026-${String(i + 1).padStart(2, "0")}`);
  const before = months.map(monthDays);
  try {
    setPeriods({ kind: "4-4-5" });
    assert.notDeepEqual(monthDays("2026-03"), before[2]);
    // The API's answer carries more than the definition (the current period, the recompute).
    setPeriods({ kind: "calendar", startDay: 1, current: { month: "2026-11" }, recompute: null });
    assert.deepEqual(months.map(monthDays), before);
    setPeriods(null);
    assert.equal(periods(), CALENDAR_MONTHS);
  } finally {
    setPeriods(null);
  }
});

test("using puts back what was in force, even after a throw", () => {
  assert.throws(() =>
    using({ kind: "monthly", startDay: 10 }, () => {
      assert.equal(monthOf("2026-12-09"), "2026-11");
      throw new Error("stop");
    }),
  );
  assert.equal(periods(), CALENDAR_MONTHS);
  assert.equal(monthOf("2026-12-09"), "2026-12");
});

const REFUSED = [
  [{ kind: "weekly" }, /kind/],
  [{ kind: "monthly", startDay: 29 }, /startDay/],
  [{ kind: "monthly", startDay: 0 }, /startDay/],
  [{ kind: "4-4-5", fiscalYearStart: "02-29" }, /fiscalYearStart/],
  [{ kind: "4-4-5", fiscalYearStart: "04-31" }, /day is out of range/],
  [{ kind: "4-4-5", fiscalYearStart: "4-1" }, /fiscalYearStart/],
  [{ kind: "4-4-5", weekStart: "funday" }, /weekStart/],
];

test("a definition that names no periods is refused, and the one in force stays", () => {
  for (const [fields, message] of REFUSED) {
    assert.throws(() => periodDefinition(fields), message, JSON.stringify(fields));
    assert.throws(() => setPeriods(fields), message);
    assert.equal(periods(), CALENDAR_MONTHS);
  }
  assert.throws(() => firstDay("2026-13"), /not a period/);
});
