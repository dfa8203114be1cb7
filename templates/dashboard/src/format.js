// Formatting of the API's values. Amounts arrive as decimal strings ("784.27049"); they are
// rounded for display by Intl with the string itself (exact decimal rounding, half away from
// zero), never through a binary float, so the card shows exactly the API's figure in cents.

const locale = () => navigator.language || "en-US";
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

// Dates are UTC calendar days, as the API counts them.
export function parseDay(iso) {
  return new Date(`${iso}T00:00:00Z`);
}

export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function addDays(iso, days) {
  const date = parseDay(iso);
  date.setUTCDate(date.getUTCDate() + days);
  return isoDay(date);
}

export function todayUtc(now = new Date()) {
  return isoDay(now);
}

export function monthStart(iso) {
  return `${iso.slice(0, 7)}-01`;
}

export function daysInMonth(iso) {
  const date = parseDay(monthStart(iso));
  date.setUTCMonth(date.getUTCMonth() + 1, 0);
  return date.getUTCDate();
}

export function monthEnd(iso) {
  return `${iso.slice(0, 7)}-${String(daysInMonth(iso)).padStart(2, "0")}`;
}

export function dayRange(start, end) {
  const days = [];
  for (let day = start; day <= end; day = addDays(day, 1)) days.push(day);
  return days;
}

export function shortDay(iso) {
  return new Intl.DateTimeFormat(locale(), { month: "short", day: "numeric", timeZone: "UTC" }).format(
    parseDay(iso),
  );
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

/** "2026-11" -> "November 2026". */
export function monthName(month) {
  return new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric", timeZone: "UTC" }).format(
    parseDay(`${month}-01`),
  );
}

export function dateTime(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(iso),
  );
}

/** The plan's words for the budget status; never shown by colour alone. */
export const STATUS_TEXT = {
  under: "Under Budget",
  warning: "Approaching Limit",
  over: "Over Budget",
};

export const STATUS_ICON = { under: "✓", warning: "!", over: "✕" };

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
