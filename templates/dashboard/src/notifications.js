// The pure parts of the notification bell and page: how long ago something happened, what
// the bell says to a screen reader, and which links a notification may open. No DOM and no
// clock: `now` is always given (clock.js businessNow() in the page, a fixed date in tests).

const locale = () => globalThis.navigator?.language || "en-US";

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// After a week the date says more than "23 days ago".
const DAYS_IN_WORDS = 7;

function utcMidnight(date) {
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

/**
 * "just now", "5 minutes ago", "3 hours ago", "yesterday", "4 days ago", then "Nov 2" (or
 * "Nov 2, 2025" in another year). Days are counted as calendar days in UTC, as every day
 * in Tally is. A time a little ahead of `now` (two clocks) is "just now"; "" if unreadable.
 */
export function relativeTime(iso, now) {
  const then = new Date(iso);
  const elapsed = now.getTime() - then.getTime();
  if (!Number.isFinite(elapsed)) return "";
  if (elapsed < MINUTE) return "just now";
  const words = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  if (elapsed < HOUR) return words.format(-Math.floor(elapsed / MINUTE), "minute");
  if (elapsed < DAY) return words.format(-Math.floor(elapsed / HOUR), "hour");
  const days = Math.round((utcMidnight(now) - utcMidnight(then)) / DAY);
  if (days < DAYS_IN_WORDS) return words.format(-days, "day");
  const sameYear = now.getUTCFullYear() === then.getUTCFullYear();
  return new Intl.DateTimeFormat(locale(), {
    month: "short",
    day: "numeric",
    year: sameYear ? undefined : "numeric",
    timeZone: "UTC",
  }).format(then);
}

/** The bell button's accessible name: "Notifications, 3 unread" (null: not known yet). */
export function countLabel(unread) {
  if (unread === null || unread === undefined) return "Notifications";
  return `Notifications, ${unread === 0 ? "none" : unread} unread`;
}

/** The badge on the bell: nothing at 0, "99+" beyond two digits. */
export function badgeText(unread) {
  if (!unread || unread < 0) return "";
  return unread > 99 ? "99+" : String(unread);
}

/**
 * What to tell a screen reader after a refresh: only news (more unread than before, not
 * the first count of the page, not a count that fell because something was read).
 */
export function countNews(previous, next) {
  if (previous === null || previous === undefined || next <= previous) return null;
  return next === 1 ? "1 unread notification" : `${next} unread notifications`;
}

/** A notification's link, if it is one of the dashboard's own pages; else the list's page. */
export function safeLink(link) {
  return typeof link === "string" && /^#\/[A-Za-z0-9/_?=&%.-]*$/.test(link) ? link : "#/notifications";
}

/** The unread count after one notification went from `before` to `after` (read flags). */
export function countAfterMark(unread, before, after) {
  if (unread === null || unread === undefined || before === after) return unread;
  return Math.max(0, unread + (after ? -1 : 1));
}
