// Months and days, as the API counts them: the dashboard's one place for calendar arithmetic,
// mirroring the API's `tally.calendar` (layers/tally/calendar.py) name for name. Days are ISO
// strings ("2026-11-20", UTC calendar days), months "YYYY-MM"; ranges are half-open
// [first, following) as in Python. Pure: no DOM, and never the browser's clock (which day it
// is comes from the API, see format.js).

const DAY_MS = 86_400_000;

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

/** "YYYY-MM" of `day`. */
export function monthOf(day) {
  return day.slice(0, 7);
}

/** The 1st of `month` ("YYYY-MM"). */
export function firstDay(month) {
  return `${month}-01`;
}

/** The 1st of the month after `day`'s. */
export function followingFirst(day) {
  const date = parseDay(firstDay(monthOf(day)));
  date.setUTCMonth(date.getUTCMonth() + 1);
  return isoDay(date);
}

/** [first day, first day of next month) of the month holding `day`. */
export function monthBounds(day) {
  const first = firstDay(monthOf(day));
  return [first, followingFirst(first)];
}

/** [first day, first day of next month) of `month`. */
export function monthDays(month) {
  return monthBounds(firstDay(month));
}

/** The last day of `month`. */
export function lastDay(month) {
  return addDays(monthDays(month)[1], -1);
}

export function daysInMonth(month) {
  const [first, following] = monthDays(month);
  return daysFrom(first, following);
}

export function previousMonth(month) {
  return monthOf(addDays(firstDay(month), -1));
}

export function nextMonth(month) {
  return monthOf(followingFirst(firstDay(month)));
}

/** The 1st of the month before `day`'s. */
export function previousMonthStart(day) {
  return firstDay(previousMonth(monthOf(day)));
}

/** Each day of [start, end). */
export function days(start, end) {
  const all = [];
  for (let day = start; day < end; day = addDays(day, 1)) all.push(day);
  return all;
}

/** The months that hold a day of [start, end), oldest first. */
export function monthsBetween(start, end) {
  const months = [];
  if (end <= start) return months;
  for (let first = firstDay(monthOf(start)); first < end; first = followingFirst(first)) {
    months.push(monthOf(first));
  }
  return months;
}
