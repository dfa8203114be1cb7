import assert from "node:assert/strict";
import { test } from "node:test";

import { amountIn, cents, chargebackRows, journalTotals } from "../src/views/chargeback.js";

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

test("the cost centers of a chargeback are its cost center units, not the (none) unit", async () => {
  const { costCenterCodes } = await import("../src/views/cost-centers.js");
  const data = {
    units: [unit("CC-100", "costCenter", 3, ["1", "0", "0", "1"]), unit("(none)", "none", 1, ["1", "0", "0", "1"])],
  };
  assert.deepEqual(costCenterCodes(data), ["CC-100"]);
  assert.deepEqual(costCenterCodes({ units: [] }), []);
  assert.deepEqual(costCenterCodes(null), []);
});

test("a cost center's budget line: no budget, pending, and judged", async () => {
  const { budgetLine } = await import("../src/views/cost-centers.js");
  const limit = money("200.00");
  assert.deepEqual(budgetLine({ budget: null, total: money("5.00"), status: null }), {
    status: "none",
    limit: null,
    spent: money("5.00"),
    used: null,
  });
  const judged = { budget: { monthlyLimit: limit }, total: money("110.00"), status: "warning", percentUsed: "55.0" };
  assert.deepEqual(budgetLine(judged), { status: "warning", limit, spent: money("110.00"), used: "55.0" });
  const early = { ...judged, noCostsYet: true, status: null, percentUsed: null };
  assert.equal(budgetLine(early).status, "pending");
});

test("the cost center's budget form creates with costCenter, never userId", async () => {
  const { costCenterBudgetApi } = await import("../src/views/cost-centers.js");
  const sent = [];
  const api = { createBudget: async (body) => sent.push(body), costCenterBudget: async (code) => code };
  const adapted = costCenterBudgetApi(api, "CC 100");
  await adapted.createBudget({ userId: "CC 100", monthlyLimit: "5", alertThreshold: 80, currency: "USD" });
  assert.deepEqual(sent, [{ monthlyLimit: "5", alertThreshold: 80, currency: "USD", costCenter: "CC 100" }]);
  assert.equal(await adapted.budget(), "CC 100");
});

test("journalTotals says whether each currency balances, exactly", () => {
  const totals = journalTotals({
    totals: [
      { currency: "EUR", debit: "62.00", credit: "62.00" },
      { currency: "USD", debit: "0.30", credit: "0.3" },
      { currency: "GBP", debit: "1.01", credit: "1.00" },
    ],
  });
  assert.deepEqual(
    totals.map((t) => [t.currency, t.balanced]),
    [
      ["EUR", true],
      ["USD", true],
      ["GBP", false],
    ],
  );
});
