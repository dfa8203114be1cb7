// The pure parts of the reports screens (issue 12): exact decimal sums of the API's amounts,
// the waterfall's bars and their geometry, the polling of export and invoice jobs, and the
// words for kinds and statuses. No DOM and no clock, so Node's test runner checks them.

import { addDays, firstDay, lastDay, monthOf } from "./calendar.js";
import { moneyNumber } from "./format.js";

// ---- exact decimals ---------------------------------------------------------------------
// Amounts arrive as decimal strings (Python's str(Decimal), so "12.50", "-3", "0E-8" or
// "1.2E+3"); sums are made on scaled BigInts, never binary floats, so "the steps add up to the
// end" is checked exactly, as the API promises.

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function parseDecimal(text) {
  const match = DECIMAL.exec(String(text).trim());
  if (!match || (match[2] === "" && !match[3])) throw new Error(`Not a decimal amount: ${text}`);
  const fraction = match[3] || "";
  const units = BigInt((match[2] || "0") + fraction) * (match[1] === "-" ? -1n : 1n);
  const scale = fraction.length - Number(match[4] || 0);
  return scale >= 0 ? { units, scale } : { units: units * 10n ** BigInt(-scale), scale: 0 };
}

function rescale(value, scale) {
  return value.units * 10n ** BigInt(scale - value.scale);
}

function decimalText(units, scale) {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale ? `.${digits.slice(digits.length - scale)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** The exact sum of decimal strings, as a decimal string ("0" for none). */
export function sumDecimals(values) {
  const parsed = values.map(parseDecimal);
  const scale = Math.max(0, ...parsed.map((value) => value.scale));
  return decimalText(
    parsed.reduce((sum, value) => sum + rescale(value, scale), 0n),
    scale,
  );
}

/** -1, 0 or 1 as `a` is less than, equal to or more than `b` (decimal strings). */
export function compareDecimals(a, b) {
  const [x, y] = [parseDecimal(a), parseDecimal(b)];
  const scale = Math.max(x.scale, y.scale);
  const difference = rescale(x, scale) - rescale(y, scale);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

export function negateDecimal(value) {
  const parsed = parseDecimal(value);
  return decimalText(-parsed.units, parsed.scale);
}

/** "+$12.30", "−$4.00" (a real minus sign), "$0.00": a change, signed even when positive. */
export function signedMoney(amount, currency) {
  const sign = compareDecimals(amount, "0");
  const size = moneyNumber(sign < 0 ? negateDecimal(amount) : amount, currency);
  return sign > 0 ? `+${size}` : sign < 0 ? `−${size}` : size;
}

// ---- month over month -------------------------------------------------------------------

/** What each waterfall step stands for, in words (the API's `label` names the detail). */
export const STEP_TEXT = {
  restatement: "Restated last month",
  removed: "Removed resources",
  new: "New resources",
  usage: "Usage changed",
  rate: "Price changed",
  changed: "Cost changed",
  credits: "Credits",
  refunds: "Refunds",
  other: "Tax and other charges",
};

/**
 * A resource's short name for a chart label: an ARN's resource part after its last ":" or "/"
 * ("arn:aws:ec2:...:instance/i-0abc" -> "i-0abc"); anything else as it is.
 */
export function shortResource(label) {
  if (!label.startsWith("arn:")) return label;
  const resource = label.split(":").slice(5).join(":");
  return resource.split(/[:/]/).filter(Boolean).pop() || label;
}

// A word for the kind beside a resource's name in the chart (a resource can have two steps).
const STEP_WORD = { removed: "removed", new: "new", usage: "usage", rate: "price", changed: "changed" };

/** The chart's label of a bar: short, and saying which kind of step a resource's bar is. */
export function chartLabel(bar) {
  const word = STEP_WORD[bar.kind];
  if (!bar.resourceId || !word) return bar.label;
  return `${shortResource(bar.label)} · ${word}`;
}

/**
 * The waterfall's bars, first to last: the start (last month as first reported), one per step
 * floating from the running total before it to the one after, and the end (this month). Each
 * bar: {kind, label, amount, from, to, running, direction: "total" | "up" | "down" | "flat"};
 * `from`/`to` are numbers for drawing, `amount`/`running` the exact strings. `balanced` says
 * whether the steps add up exactly from start to end.
 */
export function waterfallBars(waterfall, { startLabel = "Last month", endLabel = "This month" } = {}) {
  const bars = [
    {
      kind: "start",
      label: startLabel,
      amount: waterfall.start,
      from: 0,
      to: Number(waterfall.start),
      running: waterfall.start,
      direction: "total",
    },
  ];
  let running = waterfall.start;
  for (const step of waterfall.steps) {
    const next = sumDecimals([running, step.amount]);
    const sign = compareDecimals(step.amount, "0");
    bars.push({
      kind: step.kind,
      label: step.label || STEP_TEXT[step.kind] || step.kind,
      service: step.service || null,
      resourceId: step.resourceId || null,
      amount: step.amount,
      from: Number(running),
      to: Number(next),
      running: next,
      direction: sign > 0 ? "up" : sign < 0 ? "down" : "flat",
    });
    running = next;
  }
  bars.push({
    kind: "end",
    label: endLabel,
    amount: waterfall.end,
    from: 0,
    to: Number(waterfall.end),
    running: waterfall.end,
    direction: "total",
  });
  return { bars, balanced: compareDecimals(running, waterfall.end) === 0 };
}

/**
 * Where each bar goes in a horizontal waterfall `width` wide: one row per bar (`row` high), the
 * label in the first `labelWidth`, the amount in the last `valueWidth`, the bars between, on
 * one scale that always includes zero. Returns {height, zeroX, rows: [{bar, y, x, w}]}; a bar
 * is at least one unit wide, so a tiny step is still seen.
 */
export function waterfallLayout(bars, { width, labelWidth, valueWidth, row = 32, barHeight = 20 }) {
  const values = bars.flatMap((bar) => [bar.from, bar.to]);
  const low = Math.min(0, ...values);
  const high = Math.max(0, ...values);
  const span = high - low || 1;
  const plot = Math.max(1, width - labelWidth - valueWidth);
  const at = (value) => labelWidth + ((value - low) / span) * plot;
  const rows = bars.map((bar, index) => {
    const right = at(Math.max(bar.from, bar.to));
    // A tiny step at the plot's right end grows leftwards, so it stays inside the plot.
    const left = Math.min(at(Math.min(bar.from, bar.to)), labelWidth + plot - 1);
    return {
      bar,
      y: index * row + (row - barHeight) / 2,
      x: left,
      w: Math.max(1, right - left),
      h: barHeight,
      // The bar's end where the next one starts (for the connector line).
      edge: at(bar.to),
    };
  });
  return { height: bars.length * row, zeroX: at(0), rows };
}

/** "+12.5%" for a change in percent (a decimal string or number); "new" when there was no base. */
export function changePercentText(changePct) {
  if (changePct === null || changePct === undefined) return "new";
  const value = Number(changePct);
  const text = new Intl.NumberFormat(globalThis.navigator?.language || "en-US", {
    maximumFractionDigits: 1,
    roundingMode: "halfExpand",
  }).format(Math.abs(value));
  return value > 0 ? `+${text}%` : value < 0 ? `−${text}%` : "0%";
}

// ---- exports and invoices ---------------------------------------------------------------

// Waits between status checks grow a second each time (1 s, 2 s, 3 s...), and the page stops
// asking after about a minute (it offers "Check again"): a job that long is stuck or large.
export const POLL_BUDGET_MS = 60 * 1000;

export function pollDelay(attempt) {
  return (attempt + 1) * 1000;
}

/** A timer that an AbortSignal cancels (rejects with the signal's reason). */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * Ask `get()` for a job until it is no longer pending, waiting pollDelay(n) before the n-th
 * question. Resolves with the job ("ready" or "failed"), or {status: "timeout"} when the next
 * wait would pass `budgetMs`. `onWait({attempt, delay, waited})` before each wait.
 */
export async function pollJob(get, { wait = sleep, signal, onWait = () => {}, budgetMs = POLL_BUDGET_MS } = {}) {
  let waited = 0;
  for (let attempt = 0; ; attempt += 1) {
    const delay = pollDelay(attempt);
    if (waited + delay > budgetMs) return { status: "timeout" };
    onWait({ attempt, delay, waited });
    await wait(delay, signal);
    waited += delay;
    const job = await get();
    if (job.status !== "pending") return job;
  }
}

/**
 * The range an export of `month` covers: the whole month, or up to yesterday (the last day with
 * figures) in the current month. Null when the month has no complete day yet (the 1st).
 */
export function exportRange(month, today) {
  const start = firstDay(month);
  const end = monthOf(today) === month ? addDays(today, -1) : lastDay(month);
  return end < start ? null : { startDate: start, endDate: end };
}

// ---- anomalies and recommendations --------------------------------------------------------

export const ANOMALY_STATUS_TEXT = { open: "Open", acknowledged: "Acknowledged", resolved: "Resolved" };

/** What a person may do with an anomaly next (the API also lets "open" be resolved at once). */
export function anomalyActions(status) {
  if (status === "open") return ["acknowledged", "resolved"];
  if (status === "acknowledged") return ["resolved"];
  return [];
}

export const RECOMMENDATION_TEXT = {
  "idle-ec2": "Idle EC2 instance",
  "idle-rds": "Idle RDS database",
  "unattached-ebs": "Unattached EBS volume",
  "unassociated-eip": "Unused Elastic IP",
  "idle-lambda": "Unused Lambda function",
  "gp2-to-gp3": "gp2 volume to gp3",
  "previous-generation": "Previous-generation instance",
  "old-snapshot": "Old snapshot",
  "s3-no-lifecycle": "S3 bucket without lifecycle rules",
};

export function recommendationKind(kind) {
  return RECOMMENDATION_TEXT[kind] || kind;
}

const ACRONYMS = { cpu: "CPU", mb: "MB", gb: "GB", gib: "GiB", ebs: "EBS", ip: "IP", rds: "RDS", iops: "IOPS" };

/** An evidence key in words: "dailyCost" -> "Daily cost", "sharePct" -> "Share %"; words stay. */
export function evidenceName(key) {
  if (/\s/.test(key)) return key;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .replace(/\bpct\b/, "%")
    .replace(/\b(cpu|mb|gb|gib|ebs|ip|rds|iops)\b/g, (word) => ACRONYMS[word]);
  return words.charAt(0).toUpperCase() + words.slice(1);
}
