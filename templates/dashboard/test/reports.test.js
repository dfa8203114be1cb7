// The reports screens' pure parts (reports.js) against fixtures in the API's shapes: exact
// decimal sums, the waterfall's bars and geometry, the job polling's waits, the export range.

import assert from "node:assert/strict";
import { before, test } from "node:test";

import {
  anomalyActions,
  changePercentText,
  chartLabel,
  compareDecimals,
  evidenceName,
  exportRange,
  pollDelay,
  pollJob,
  shortResource,
  signedMoney,
  sumDecimals,
  waterfallBars,
  waterfallLayout,
} from "../src/reports.js";

before(() => {
  Object.defineProperty(globalThis, "navigator", { value: { language: "en-US" }, configurable: true });
});

// GET month-over-month's waterfall, as the contract shapes it.
const WATERFALL = {
  start: "1200.50",
  end: "1391.37",
  steps: [
    { kind: "restatement", label: "Restated last month", amount: "4.10" },
    { kind: "removed", label: "i-0old", amount: "-80.00", service: "AmazonEC2", resourceId: "i-0old" },
    { kind: "new", label: "db-new", amount: "210.333", service: "AmazonRDS", resourceId: "db-new" },
    { kind: "usage", label: "3 other resources", amount: "61.2" },
    { kind: "rate", label: "Price changed", amount: "-0.003" },
    { kind: "credits", label: "Credits", amount: "-25" },
    { kind: "refunds", label: "Refunds", amount: "0" },
    { kind: "other", label: "Tax", amount: "20.24" },
  ],
};

test("decimal sums are exact, whatever the scale or notation", () => {
  assert.equal(sumDecimals(["0.1", "0.2"]), "0.3");
  assert.equal(sumDecimals(["1200.50", "-1200.5"]), "0.00");
  assert.equal(sumDecimals(["-12.50", "2.5"]), "-10.00");
  assert.equal(sumDecimals(["0E-8", "1.2E+3", "0.001"]), "1200.00100000");
  assert.equal(sumDecimals([]), "0");
  assert.equal(sumDecimals(["-0.004", "0.001"]), "-0.003");
  assert.equal(compareDecimals("10.10", "10.1"), 0);
  assert.equal(compareDecimals("-1", "0"), -1);
  assert.throws(() => sumDecimals(["12,50"]), /Not a decimal/);
});

test("the waterfall floats each step from the running total and balances exactly", () => {
  const { bars, balanced } = waterfallBars(WATERFALL, { startLabel: "Oct", endLabel: "Nov" });
  assert.equal(balanced, true);
  assert.deepEqual(
    bars.map((bar) => [bar.kind, bar.direction]),
    [
      ["start", "total"],
      ["restatement", "up"],
      ["removed", "down"],
      ["new", "up"],
      ["usage", "up"],
      ["rate", "down"],
      ["credits", "down"],
      ["refunds", "flat"],
      ["other", "up"],
      ["end", "total"],
    ],
  );
  assert.equal(bars[0].label, "Oct");
  assert.equal(bars.at(-1).label, "Nov");
  // Each step starts where the one before ended.
  for (let i = 2; i < bars.length - 1; i += 1) assert.equal(bars[i].from, bars[i - 1].to);
  assert.equal(bars[1].running, "1204.60");
  assert.equal(bars.at(-2).running, "1391.370");
  assert.equal(bars[0].from, 0);
  assert.equal(bars.at(-1).from, 0);
});

test("a waterfall whose steps do not add up is said to be unbalanced", () => {
  const { balanced } = waterfallBars({ ...WATERFALL, end: "1391.36" });
  assert.equal(balanced, false);
});

test("the layout puts every bar between the label and value columns, on one scale", () => {
  const { bars } = waterfallBars(WATERFALL);
  const layout = waterfallLayout(bars, { width: 600, labelWidth: 200, valueWidth: 100, row: 30, barHeight: 20 });
  assert.equal(layout.height, bars.length * 30);
  assert.equal(layout.zeroX, 200);
  for (const row of layout.rows) {
    assert.ok(row.x >= 200 - 1e-9 && row.x + row.w <= 500 + 1e-9, `${row.bar.kind} inside the plot`);
    assert.ok(row.w >= 1);
  }
  // The start and end bars stand on zero; the highest running total reaches the far side.
  assert.equal(layout.rows[0].x, 200);
  assert.equal(layout.rows.at(-1).x, 200);
  assert.ok(Math.abs(Math.max(...layout.rows.map((row) => row.x + row.w)) - 500) < 1e-9);
  // A decrease ends to the left of where it starts.
  const removed = layout.rows[2];
  assert.ok(removed.edge < layout.rows[1].edge);
});

test("a month that ends below zero (credits) puts zero inside the plot", () => {
  const { bars } = waterfallBars({
    start: "10",
    end: "-5",
    steps: [{ kind: "credits", label: "Credits", amount: "-15" }],
  });
  const layout = waterfallLayout(bars, { width: 400, labelWidth: 100, valueWidth: 100, row: 30 });
  assert.ok(layout.zeroX > 100 && layout.zeroX < 300);
  const end = layout.rows.at(-1);
  assert.ok(end.x < layout.zeroX && Math.abs(end.x + end.w - layout.zeroX) < 1e-9);
});

test("an empty waterfall (no costs either month) still draws", () => {
  const { bars, balanced } = waterfallBars({ start: "0", end: "0", steps: [] });
  assert.equal(balanced, true);
  const layout = waterfallLayout(bars, { width: 300, labelWidth: 100, valueWidth: 100 });
  assert.equal(layout.rows.length, 2);
  assert.ok(layout.rows.every((row) => Number.isFinite(row.x) && row.w >= 1));
});

test("changes are signed money with a real minus sign, and percentages say new", () => {
  assert.equal(signedMoney("12.3", "USD"), "+$12.30");
  assert.equal(signedMoney("-4", "USD"), "−$4.00");
  assert.equal(signedMoney("0.00", "USD"), "$0.00");
  assert.equal(signedMoney("-1234.565", "EUR"), "−€1,234.57");
  assert.equal(changePercentText("12.34"), "+12.3%");
  assert.equal(changePercentText("-50"), "−50%");
  assert.equal(changePercentText(null), "new");
});

test("polling waits 1 s, 2 s, 3 s... until the job is ready", async () => {
  const waits = [];
  const answers = ["pending", "pending", "ready"];
  const job = await pollJob(async () => ({ status: answers.shift(), url: "https://x" }), {
    wait: async (ms) => waits.push(ms),
  });
  assert.equal(job.status, "ready");
  assert.deepEqual(waits, [1000, 2000, 3000]);
  assert.deepEqual([0, 1, 9].map(pollDelay), [1000, 2000, 10000]);
});

test("a failed job ends the polling with its error", async () => {
  const job = await pollJob(async () => ({ status: "failed", error: "No costs." }), { wait: async () => {} });
  assert.deepEqual(job, { status: "failed", error: "No costs." });
});

test("polling stops after about a minute of waiting", async () => {
  const waits = [];
  let asked = 0;
  const job = await pollJob(
    async () => {
      asked += 1;
      return { status: "pending" };
    },
    { wait: async (ms) => waits.push(ms) },
  );
  assert.deepEqual(job, { status: "timeout" });
  assert.equal(asked, 10);
  assert.equal(
    waits.reduce((a, b) => a + b, 0),
    55000,
  );
});

test("an aborted page stops the polling", async () => {
  const controller = new AbortController();
  controller.abort(new Error("left the page"));
  await assert.rejects(
    pollJob(async () => ({ status: "pending" }), { signal: controller.signal }),
    /left the page/,
  );
});

test("the export range of a month: all of it, or up to yesterday in the current one", () => {
  assert.deepEqual(exportRange("2026-10", "2026-11-20"), { startDate: "2026-10-01", endDate: "2026-10-31" });
  assert.deepEqual(exportRange("2026-11", "2026-11-20"), { startDate: "2026-11-01", endDate: "2026-11-19" });
  assert.deepEqual(exportRange("2026-11", "2026-11-02"), { startDate: "2026-11-01", endDate: "2026-11-01" });
  assert.equal(exportRange("2026-12", "2026-12-01"), null);
  assert.deepEqual(exportRange("2028-02", "2028-03-01"), { startDate: "2028-02-01", endDate: "2028-02-29" });
  assert.deepEqual(exportRange("2028-02", "2028-02-29"), { startDate: "2028-02-01", endDate: "2028-02-28" });
  assert.deepEqual(exportRange("2026-12", "2027-01-01"), { startDate: "2026-12-01", endDate: "2026-12-31" });
  assert.deepEqual(exportRange("2026-09", "2026-10-15"), { startDate: "2026-09-01", endDate: "2026-09-30" });
});

test("anomalies move open, then acknowledged, then resolved", () => {
  assert.deepEqual(anomalyActions("open"), ["acknowledged", "resolved"]);
  assert.deepEqual(anomalyActions("acknowledged"), ["resolved"]);
  assert.deepEqual(anomalyActions("resolved"), []);
});

test("chart labels shorten ARNs to the resource and say which kind of step", () => {
  assert.equal(shortResource("arn:aws:ec2:us-east-1:123456789012:instance/i-2cd20bce1f10b6f2d"), "i-2cd20bce1f10b6f2d");
  assert.equal(shortResource("arn:aws:rds:us-east-1:123456789012:db:shared-orders-db"), "shared-orders-db");
  assert.equal(shortResource("arn:aws:s3:::tally-demo-alice-datasets"), "tally-demo-alice-datasets");
  assert.equal(shortResource("i-0abc"), "i-0abc");
  const arn = "arn:aws:ec2:us-east-1:1:instance/i-1";
  assert.equal(chartLabel({ kind: "rate", label: arn, resourceId: arn }), "i-1 · price");
  assert.equal(chartLabel({ kind: "usage", label: "3 other resources", resourceId: null }), "3 other resources");
  assert.equal(chartLabel({ kind: "credits", label: "Credits", resourceId: null }), "Credits");
});

test("evidence keys read as words", () => {
  assert.equal(evidenceName("costBasis"), "Cost basis");
  assert.equal(evidenceName("sharePct"), "Share %");
  assert.equal(evidenceName("cpuMax14d"), "CPU max14d");
  assert.equal(evidenceName("maxDailyNetworkMb"), "Max daily network MB");
  assert.equal(evidenceName("Average CPU"), "Average CPU");
  assert.equal(evidenceName("lifecycleRules"), "Lifecycle rules");
});
