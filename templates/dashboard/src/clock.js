// "Now" for "3 hours ago", and the one module besides auth.js that reads the browser's clock.
//
// Business dates come from the API (format.js knownToday()). Deployed, the API's date is the
// browser's too; the local stack can pin it (`make run TODAY=...`), and then the server's
// timestamps are the pinned day at the real time of day (tally.clock.utc_now). So is this
// "now", or a notification made a minute ago would read "6 days ago".

import { knownToday } from "./format.js";

const DAY = 24 * 60 * 60 * 1000;

/**
 * `real` moved onto the business day `today` ("YYYY-MM-DD"), keeping its time of day. A day
 * apart or less is taken for the two sides of midnight (the browser's and the API's, or an
 * answer learned yesterday) and leaves `real` as it is.
 */
export function onBusinessDay(real, today) {
  if (!today) return real;
  const moved = new Date(`${today}T${real.toISOString().slice(11)}`);
  if (Number.isNaN(moved.getTime()) || Math.abs(moved.getTime() - real.getTime()) <= DAY) return real;
  return moved;
}

/** The business "now" (see above). */
export function businessNow() {
  return onBusinessDay(new Date(), knownToday());
}
