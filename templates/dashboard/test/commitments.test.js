import assert from "node:assert/strict";
import { test } from "node:test";

import { usagePairs } from "../src/views/commitments.js";

const usd = (amount) => ({ amount, currency: "USD" });
const eur = (amount) => ({ amount, currency: "EUR" });

test("coverage pairs with the utilisation of the same kind, month, source and currency", () => {
  const ce = { kind: "savings-plan", month: "2026-10", source: "cost-explorer", commitment: usd("720.00") };
  const focusUsd = { kind: "savings-plan", month: "2026-10", source: "focus", commitment: usd("100.00") };
  const focusEur = { kind: "savings-plan", month: "2026-10", source: "focus", commitment: eur("50.00") };
  const lonely = { kind: "reservation", month: "2026-10", source: "focus", commitment: usd("15.00") };
  const coverage = [
    { kind: "savings-plan", month: "2026-10", source: "cost-explorer", percent: "40", onDemandCost: usd("120.00") },
    { kind: "savings-plan", month: "2026-10", source: "focus", percent: "63.75", onDemandCost: usd("45.50") },
    { kind: "savings-plan", month: "2026-10", source: "focus", percent: "100.00", onDemandCost: eur("0.00") },
  ];
  const pairs = usagePairs({ utilisation: [ce, focusUsd, focusEur, lonely], coverage });
  assert.deepEqual(
    pairs.map(([u, c]) => [u, c && c.percent]),
    [
      [ce, "40"],
      [focusUsd, "63.75"],
      [focusEur, "100.00"],
      [lonely, null],
    ],
  );
});
