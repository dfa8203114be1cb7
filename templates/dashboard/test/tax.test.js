import assert from "node:assert/strict";
import { test } from "node:test";

import { fieldName, lastDay, ruleStatus, unitLabel } from "../src/views/tax.js";

const rule = (effectiveFrom, effectiveTo = null) => ({ effectiveFrom, effectiveTo });

test("a rule is upcoming, in force or ended on the business day (its end is exclusive)", () => {
  assert.equal(ruleStatus(rule("2026-12-01"), "2026-11-20"), "upcoming");
  assert.equal(ruleStatus(rule("2026-01-01"), "2026-11-20"), "in force");
  assert.equal(ruleStatus(rule("2026-01-01", "2026-11-21"), "2026-11-20"), "in force");
  assert.equal(ruleStatus(rule("2026-01-01", "2026-11-20"), "2026-11-20"), "ended");
});

test("the last day shown is the day before the exclusive end, across a year", () => {
  assert.equal(lastDay("2027-01-01"), "2026-12-31");
  assert.equal(lastDay("2026-03-01"), "2026-02-28");
  assert.equal(lastDay(null), null);
});

test("units read as people say them", () => {
  const teams = [
    { teamId: "emea", name: "EMEA", kind: "department" },
    { teamId: "payments", name: "Payments", kind: "team" },
  ];
  assert.equal(unitLabel("org", teams), "Organisation");
  assert.equal(unitLabel("team:emea", teams), "Department EMEA");
  assert.equal(unitLabel("team:payments", teams), "Team Payments");
  assert.equal(unitLabel("team:gone", teams), "Team gone");
  assert.equal(unitLabel("costCenter:CC:1", teams), "Cost center CC:1");
});

test("a problem's field is its last segment", () => {
  assert.equal(fieldName("body.rate"), "rate");
  assert.equal(fieldName("effectiveTo"), "effectiveTo");
});
