// Billing periods and days, as the API counts them: the dashboard's one place for period
// ("month") arithmetic, mirroring the API's `tally.calendar` (layers/tally/calendar.py) name for
// name. Days are ISO strings ("2026-11-20", UTC calendar days); a period is named "YYYY-MM"
// and covers the half-open range [first, following) as in Python.
//
// Which days a name covers is the organisation's period definition (the `period` section of
// GET /api/settings/billing, issue 17): `calendar` months (the default), `monthly` from day N
// (1-28, named by the month a period starts in) or a 4-4-5, 4-5-4 or 5-4-4 fiscal year that
// begins on the `weekStart` weekday nearest `fiscalYearStart` (MM-DD), its periods named by the
// months they stand for. The definition in force is module state (`setPeriods`, `periods`),
// like the Python side's ambient one; `using` pins one for a computation (the settings'
// preview, the tests). Pure: no DOM, and never the browser's clock (which day it is comes from
// the API, see format.js).

const DAY_MS = 86_400_000;

export const CALENDAR = "calendar";
export const MONTHLY = "monthly";
export const FISCAL_PATTERNS = Object.freeze({
  "4-4-5": [4, 4, 5],
  "4-5-4": [4, 5, 4],
  "5-4-4": [5, 4, 4],
});
export const KINDS = Object.freeze([CALENDAR, MONTHLY, ...Object.keys(FISCAL_PATTERNS)]);
export const WEEKDAYS = Object.freeze(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]);
export const MAX_START_DAY = 28; // every month has a 28th: a period never starts on a day a month lacks

const LABEL = /^\d{4}-(0[1-9]|1[0-2])$/;
const MONTH_DAY = /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

// -- days ------------------------------------------------------------------------------------

/** "2026-11-20" -> a Date at that day's 00:00 UTC. */
export function parseDay(iso) {
  return new Date(`${iso}T00:00:00Z`);
}

/** A Date -> its UTC day, "YYYY-MM-DD". */
export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/** `iso` moved by `count` days (negative: back). */
export function addDays(iso, count) {
  const date = parseDay(iso);
  date.setUTCDate(date.getUTCDate() + count);
  return isoDay(date);
}

/** Whole days from `start` to `end` (0 for the same day; `end` excluded, as Python's `(end - start).days`). */
export function daysFrom(start, end) {
  return Math.round((parseDay(end) - parseDay(start)) / DAY_MS);
}

const pad = (value, width = 2) => String(value).padStart(width, "0");

/** The day `year`-`month`-`day` ("YYYY-MM-DD"), or a RangeError for a day the month lacks (as Python's `date`). */
function makeDay(year, month, day) {
  const date = new Date(Date.UTC(year, month - 1, day));
  date.setUTCFullYear(year); // years below 100 are not 19xx
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new RangeError("day is out of range for month");
  }
  return isoDay(date);
}

/** Python's `date.weekday()`: Monday 0 .. Sunday 6. */
function weekday(iso) {
  return (parseDay(iso).getUTCDay() + 6) % 7;
}

// -- the definition --------------------------------------------------------------------------

/**
 * A period definition ({kind, startDay, fiscalYearStart, weekStart}, frozen) from the API's
 * `period` object or a form's fields (others, like `current`, are ignored; missing ones take
 * their defaults); throws a RangeError naming the field when it names no periods.
 */
export function periodDefinition({
  kind = CALENDAR,
  startDay = 1,
  fiscalYearStart = "01-01",
  weekStart = "monday",
} = {}) {
  if (!KINDS.includes(kind)) throw new RangeError(`kind must be one of ${KINDS.join(", ")}`);
  if (!Number.isInteger(startDay) || startDay < 1 || startDay > MAX_START_DAY) {
    throw new RangeError(`startDay must be from 1 to ${MAX_START_DAY}`);
  }
  if (typeof fiscalYearStart !== "string" || !MONTH_DAY.test(fiscalYearStart) || fiscalYearStart === "02-29") {
    throw new RangeError("fiscalYearStart must be MM-DD, a day every year has");
  }
  const [month, day] = fiscalYearStart.split("-").map(Number);
  makeDay(2027, month, day); // "day is out of range for month" for 04-31 and the like
  if (!WEEKDAYS.includes(weekStart)) throw new RangeError(`weekStart must be one of ${WEEKDAYS.join(", ")}`);
  return Object.freeze({ kind, startDay, fiscalYearStart, weekStart });
}

export const CALENDAR_MONTHS = periodDefinition();

/** Whether `def`'s periods are calendar months (monthly from the 1st is). */
export function isCalendar(def) {
  return def.kind === CALENDAR || (def.kind === MONTHLY && def.startDay === 1);
}

/** The same periods with the settings that do not apply to the kind at their defaults, so two
 * definitions that give the same periods compare equal (`sameDefinition`). */
export function normalised(def) {
  if (isCalendar(def)) return CALENDAR_MONTHS;
  if (def.kind === MONTHLY) return periodDefinition({ kind: MONTHLY, startDay: def.startDay });
  return periodDefinition({ kind: def.kind, fiscalYearStart: def.fiscalYearStart, weekStart: def.weekStart });
}

export function sameDefinition(a, b) {
  const [x, y] = [normalised(a), normalised(b)];
  return (
    x.kind === y.kind &&
    x.startDay === y.startDay &&
    x.fiscalYearStart === y.fiscalYearStart &&
    x.weekStart === y.weekStart
  );
}

let active = CALENDAR_MONTHS;

/** The period definition in force (calendar months until `setPeriods`). */
export function periods() {
  return active;
}

/** Puts `def` in force (the API's `period`, or null for calendar months); returns it. Throws,
 * keeping what was in force, when it names no periods. */
export function setPeriods(def) {
  active = def ? periodDefinition(def) : CALENDAR_MONTHS;
  return active;
}

/** `fn()` with `def` in force, then what was in force before (Python's `using`). */
export function using(def, fn) {
  const before = active;
  active = periodDefinition(def);
  try {
    return fn();
  } finally {
    active = before;
  }
}

/** Whether the periods in force are calendar months (so a period is AWS's month). */
export function isCalendarMonth() {
  return isCalendar(active);
}

// -- the definitions' arithmetic -------------------------------------------------------------

function calendarFirst(label) {
  return `${label}-01`;
}

function shift(label, months) {
  const index = Number(label.slice(0, 4)) * 12 + Number(label.slice(5, 7)) - 1 + months;
  return `${pad(Math.floor(index / 12), 4)}-${pad((index % 12) + 1)}`;
}

const key = (def) => `${def.kind}|${def.fiscalYearStart}|${def.weekStart}`;
const yearStarts = new Map();
const yearPeriods = new Map();

/** The first day of fiscal year `year`: the week-start weekday nearest its nominal start
 * (MM-DD of `year`). */
export function fiscalYearStart(def, year) {
  const cacheKey = `${key(def)}|${year}`;
  if (!yearStarts.has(cacheKey)) {
    const [month, day] = def.fiscalYearStart.split("-").map(Number);
    const nominal = makeDay(year, month, day);
    const offset = (((weekday(nominal) - WEEKDAYS.indexOf(def.weekStart)) % 7) + 7) % 7;
    yearStarts.set(cacheKey, offset <= 3 ? addDays(nominal, -offset) : addDays(nominal, 7 - offset));
  }
  return yearStarts.get(cacheKey);
}

/** Fiscal year `year`'s twelve periods: [name, first day, following day]. */
function fiscalPeriods(def, year) {
  const cacheKey = `${key(def)}|${year}`;
  if (!yearPeriods.has(cacheKey)) {
    const yearEnd = fiscalYearStart(def, year + 1);
    const pattern = [0, 1, 2, 3].flatMap(() => FISCAL_PATTERNS[def.kind]);
    const firstLabel = `${pad(year, 4)}-${def.fiscalYearStart.slice(0, 2)}`;
    const out = [];
    let first = fiscalYearStart(def, year);
    pattern.forEach((weeks, index) => {
      const following = index === 11 ? yearEnd : addDays(first, weeks * 7);
      out.push([shift(firstLabel, index), first, following]);
      first = following;
    });
    yearPeriods.set(cacheKey, out);
  }
  return yearPeriods.get(cacheKey);
}

// A year named Y may begin in Y-1 (a start near 1 January) or cover most of Y+1 (a start near
// 31 December): step to the one that holds the day.
function fiscalYearOf(def, day) {
  let year = Number(day.slice(0, 4));
  while (day < fiscalYearStart(def, year)) year -= 1;
  while (day >= fiscalYearStart(def, year + 1)) year += 1;
  return year;
}

function fiscalYearOfLabel(def, label) {
  const startMonth = Number(def.fiscalYearStart.slice(0, 2));
  const [year, month] = [Number(label.slice(0, 4)), Number(label.slice(5, 7))];
  return month >= startMonth ? year : year - 1;
}

function periodRange(label) {
  const def = active;
  if (isCalendar(def)) return [calendarFirst(label), calendarFirst(shift(label, 1))];
  if (def.kind === MONTHLY) {
    return [`${label}-${pad(def.startDay)}`, `${shift(label, 1)}-${pad(def.startDay)}`];
  }
  const found = fiscalPeriods(def, fiscalYearOfLabel(def, label)).find(([name]) => name === label);
  return [found[1], found[2]];
}

// -- the API every other module uses ---------------------------------------------------------

/** `label` if it names a period ("YYYY-MM"); a RangeError otherwise. */
export function check(label) {
  if (typeof label !== "string" || !LABEL.test(label)) throw new RangeError(`${label} is not a period (YYYY-MM)`);
  return label;
}

/** The name ("YYYY-MM") of the period holding `day`. */
export function monthOf(day) {
  const def = active;
  const label = day.slice(0, 7);
  if (isCalendar(def)) return label;
  if (def.kind === MONTHLY) return Number(day.slice(8, 10)) >= def.startDay ? label : shift(label, -1);
  const found = fiscalPeriods(def, fiscalYearOf(def, day)).find(
    ([, first, following]) => first <= day && day < following,
  );
  return found[0];
}

/** The first day of period `month` ("YYYY-MM"). */
export function firstDay(month) {
  return periodRange(check(month))[0];
}

/** [first day, first day of the next period) of the period holding `day`. */
export function monthBounds(day) {
  return periodRange(monthOf(day));
}

/** [first day, first day of the next period) of period `month`. */
export function monthDays(month) {
  return periodRange(check(month));
}

/** The first day of the period after `day`'s. */
export function followingFirst(day) {
  return monthBounds(day)[1];
}

/** The last day of period `month`. */
export function lastDay(month) {
  return addDays(monthDays(month)[1], -1);
}

export function daysInMonth(month) {
  const [first, following] = monthDays(month);
  return daysFrom(first, following);
}

export function previousMonth(month) {
  return shift(check(month), -1);
}

export function nextMonth(month) {
  return shift(check(month), 1);
}

/** The first day of the period before `day`'s. */
export function previousMonthStart(day) {
  return firstDay(previousMonth(monthOf(day)));
}

/** Each day of [start, end). */
export function days(start, end) {
  const all = [];
  for (let day = start; day < end; day = addDays(day, 1)) all.push(day);
  return all;
}

/** The periods that hold a day of [start, end), oldest first. */
export function monthsBetween(start, end) {
  const months = [];
  if (end <= start) return months;
  for (let label = monthOf(start); firstDay(label) < end; label = nextMonth(label)) months.push(label);
  return months;
}
