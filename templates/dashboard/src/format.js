// Formatting of the API's values. Amounts arrive as decimal strings ("784.27049"); they are
// rounded for display by Intl with the string itself (exact decimal rounding, half away from
// zero), never through a binary float, so the card shows exactly the API's figure in cents.

import { CALENDAR_MONTHS, daysFrom, firstDay, isCalendarMonth, lastDay, parseDay, using } from "./calendar.js";

// `globalThis`: Node (the unit tests) has no navigator before version 21.
const locale = () => globalThis.navigator?.language || "en-US";
const moneyFormats = new Map();

function moneyFormat(currency) {
  const key = `${locale()}|${currency}`;
  if (!moneyFormats.has(key)) {
    moneyFormats.set(
      key,
      new Intl.NumberFormat(locale(), {
        style: "currency",
        currency,
        roundingMode: "halfExpand",
      }),
    );
  }
  return moneyFormats.get(key);
}

/** {amount: "850", currency: "USD"} -> "$850.00"; null -> "—". */
export function money(value) {
  if (!value) return "—";
  return moneyFormat(value.currency).format(value.amount);
}

/** A plain number in a currency (chart tooltips, computed shares). */
export function moneyNumber(amount, currency) {
  return moneyFormat(currency).format(amount);
}

/** "15.0" -> "15%", "15.25" -> "15.3%". */
export function percent(value) {
  if (value === null || value === undefined) return "—";
  const format = new Intl.NumberFormat(locale(), {
    maximumFractionDigits: 1,
    roundingMode: "halfExpand",
  });
  return `${format.format(value)}%`;
}

export function toNumber(value) {
  return value ? Number(value.amount) : 0;
}

// Which day it is comes from the API (GET /api/me's `today`, repeated on the summary and the
// all-users answers), never from the browser's clock: the local stack can pin a business date,
// and a laptop's clock or time zone must not move a figure to another day or month.
let businessDate = null;

/** Remembers the API's business date ("YYYY-MM-DD"); anything else is ignored. */
export function learnToday(iso) {
  if (typeof iso === "string" && /^\d{4}-\d{2}-\d{2}$/.test(iso)) businessDate = iso;
}

/** The API's business date, or null before any answer said it (then ask `ctx.today()`). */
export function knownToday() {
  return businessDate;
}

export function shortDay(iso) {
  return new Intl.DateTimeFormat(locale(), { month: "short", day: "numeric", timeZone: "UTC" }).format(parseDay(iso));
}

export function longDay(iso) {
  return new Intl.DateTimeFormat(locale(), {
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "numeric",
    timeZone: "UTC",
  }).format(parseDay(iso));
}

// Last month's result stands beside this month's for the first week, and for as long as it is
// provisional (its last days' costs may still arrive or be restated).
const LAST_MONTH_SHOWN_DAYS = 7;

/**
 * Whether to show `previous` (the API's previousMonth, with `final`) beside `month`'s figures:
 * only for the current period, in its first week or while last period is provisional. The
 * period's days are the answer's (`periodStart`, `periodEnd`, the summary's) when it has them,
 * else the definition in force's; the week is counted from the period's first day.
 */
export function showLastMonth({ previousMonth: previous, month, today, noCostsYet, periodStart, periodEnd }) {
  if (!previous || !today || !month) return false;
  const start = periodStart || firstDay(month);
  const end = periodEnd || lastDay(month);
  if (today < start || today > end) return false;
  return noCostsYet === true || !previous.final || daysFrom(start, today) + 1 <= LAST_MONTH_SHOWN_DAYS;
}

/** "2 – 29 Nov 2026" in the user's locale: a period's first and last days. */
export function dayRange(first, last) {
  return new Intl.DateTimeFormat(locale(), {
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  }).formatRange(parseDay(first), parseDay(last));
}

/** "2026-11" -> "November 2026": the month a period is named by, without its days. */
export function periodLabel(month) {
  const first = using(CALENDAR_MONTHS, () => firstDay(month));
  return new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric", timeZone: "UTC" }).format(parseDay(first));
}

/**
 * "2026-11" -> "November 2026" for calendar months; under another period definition the
 * period and its days, "November 2026 period (2 Nov – 29 Nov 2026)". The days are the answer's
 * (`periodStart`, `periodEnd`: the summary's) when given, else the definition in force's; days
 * that are not the calendar month's are named as a period whatever the definition in force
 * says (the API knows the organisation's before the dashboard has asked).
 */
export function monthName(month, { periodStart, periodEnd } = {}) {
  const [calendarFirst, calendarLast] = using(CALENDAR_MONTHS, () => [firstDay(month), lastDay(month)]);
  const name = periodLabel(month);
  const [first, last] = periodStart && periodEnd ? [periodStart, periodEnd] : [firstDay(month), lastDay(month)];
  if (isCalendarMonth() && first === calendarFirst && last === calendarLast) return name;
  return `${name} period (${dayRange(first, last)})`;
}

export function dateTime(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

/** The plan's words for the budget status; never shown by colour alone. */
export const STATUS_TEXT = {
  under: "Under Budget",
  warning: "Approaching Limit",
  over: "Over Budget",
  // Not a budget status: the month has no costs yet, so there is nothing to judge.
  pending: "No costs yet",
};

export const STATUS_ICON = { under: "✓", warning: "!", over: "✕", pending: "…" };

/** Which cost every figure uses (GET /api/me's budgetMetric, the answers' `metric`). */
export const METRIC_TEXT = { effective: "Amortized cost", billed: "Billed cost" };
export const METRIC_HINT = {
  effective: "Amortized (effective) cost: Savings Plan and Reserved Instance fees are spread over the days they cover.",
  billed: "Billed (unblended) cost: what AWS invoices, on the day it is charged.",
};

export function metricText(metric) {
  return METRIC_TEXT[metric] || null;
}

export function statusText(status) {
  return STATUS_TEXT[status] || "No budget";
}

/** AWS's service codes read poorly; show the familiar name when we know it. */
const SERVICE_NAMES = {
  AmazonEC2: "EC2",
  AmazonS3: "S3",
  AmazonRDS: "RDS",
  AWSLambda: "Lambda",
  AmazonDynamoDB: "DynamoDB",
  AmazonCloudFront: "CloudFront",
  AmazonCloudWatch: "CloudWatch",
  AmazonVPC: "VPC",
};

export function serviceName(service) {
  return SERVICE_NAMES[service] || service;
}

const quantityFormats = new Map();

function quantityFormat(fractionDigits) {
  const key = `${locale()}|${fractionDigits}`;
  if (!quantityFormats.has(key)) {
    quantityFormats.set(
      key,
      new Intl.NumberFormat(locale(), { maximumFractionDigits: fractionDigits, roundingMode: "halfExpand" }),
    );
  }
  return quantityFormats.get(key);
}

/**
 * An exact decimal from the API (an exchange rate "1.0832", a tax rate "19") in the user's
 * locale, every digit kept: Intl formats the string itself, never a binary float.
 */
export function decimal(value) {
  if (value === null || value === undefined || value === "") return "—";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 20 }).format(value);
}

/** A percentage the API gives as a number of percent ("12.5" -> "12.5%"; "12,5 %" in German). */
export function share(value) {
  if (value === null || value === undefined || value === "") return "—";
  const digits = String(value).split(".")[1]?.length || 0;
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: digits }).format(
    Number(value) / 100,
  );
}

/**
 * A usage quantity with its unit, in the user's locale: ("1234.5", "Hrs") -> "1,234.5 Hrs".
 * Small quantities keep their significant digits ("0.000125 GB"); no unit -> the number alone;
 * no quantity (null, "", "0" without a unit) -> "—". The unit is AWS's word, shown as it is.
 */
export function quantity(value, unit) {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  if (!Number.isFinite(n) || (n === 0 && !unit)) return "—";
  const abs = Math.abs(n);
  // Up to 3 decimals; a quantity under 1 keeps 3 significant digits, so it never shows as 0.
  const digits = abs > 0 && abs < 1 ? Math.min(10, 2 - Math.floor(Math.log10(abs))) : 3;
  const text = quantityFormat(digits).format(value);
  return unit ? `${text} ${unit}` : text;
}

/**
 * The API's costPerUnit ({amount, currency, unit}) -> "$0.0416 per Hrs": the currency by
 * Intl, with the digits a unit price needs (a Lambda GB-second costs 0.0000166667); null -> "—".
 */
export function unitPrice(value) {
  if (!value) return "—";
  const n = Math.abs(Number(value.amount));
  const digits = n > 0 && n < 1 ? Math.min(10, Math.max(2, 5 - Math.floor(Math.log10(n)))) : 2;
  const format = new Intl.NumberFormat(locale(), {
    style: "currency",
    currency: value.currency,
    minimumFractionDigits: Math.min(2, digits),
    maximumFractionDigits: digits,
    roundingMode: "halfExpand",
  });
  return `${format.format(value.amount)} per ${value.unit}`;
}
