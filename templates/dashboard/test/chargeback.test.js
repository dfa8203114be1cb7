import assert from "node:assert/strict";
import { test } from "node:test";

import { amountIn, cents, chargebackRows } from "../src/views/chargeback.js";

const money = (amount, currency = "USD") => ({ amount, currency });
const unit = (unitId, kind, people, [allocated, shared, unallocated, total]) => ({
  unitId,
  name: unitId,
  kind,
  people,
  allocated: [money(allocated)],
  shared: [money(shared)],
  unallocated: [money(unallocated)],
  total: [money(total)],
});

const DATA = {
  month: "2026-10",
  currencies: ["USD"],
  units: [
    unit("payments", "team", 2, ["10.00", "2.50", "0.00", "12.50"]),
    unit("data", "team", 1, ["0.10", "0", "0", "0.10"]),
  ],
  noTeam: unit("(no team)", "noTeam", 1, ["1.01", "0", "0", "1.01"]),
  unallocated: [money("3.39")],
  organisationTotal: [money("17.00")],
};

test("cents reads decimal strings exactly", () => {
  assert.equal(cents("12.50"), 1250n);
  assert.equal(cents("-0.07"), -7n);
  assert.equal(cents("3"), 300n);
  assert.equal(cents("0.1"), 10n);
});

test("amountIn follows the currencies' order", () => {
  assert.deepEqual(amountIn([money("1", "EUR"), money("2")], ["EUR", "USD"], "USD"), money("2"));
  assert.equal(amountIn([money("1")], ["USD"], "JPY"), null);
});

test("the rows are the units, no team and the unallocated line, adding up to the total", () => {
  const { rows, total, addsUp } = chargebackRows(DATA, "USD");
  assert.deepEqual(
    rows.map((r) => r.id),
    ["payments", "data", "(no team)", "(unallocated)"],
  );
  assert.equal(total.amount, "17.00");
  assert.equal(addsUp, true);
  assert.equal(rows[3].unallocated.amount, "3.39");
});

test("a total that does not add up is reported, and empty lines are left out", () => {
  const data = {
    ...DATA,
    noTeam: unit("(no team)", "noTeam", 0, ["0", "0", "0", "0.00"]),
    unallocated: [money("0.00")],
  };
  const { rows, addsUp } = chargebackRows(data, "USD");
  assert.deepEqual(
    rows.map((r) => r.id),
    ["payments", "data"],
  );
  assert.equal(addsUp, false);
});
