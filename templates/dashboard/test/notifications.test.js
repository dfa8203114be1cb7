// The bell's pure parts, in one locale (en-US) and with an explicit "now" (never the clock).

import assert from "node:assert/strict";
import { before, test } from "node:test";

import { onBusinessDay } from "../src/clock.js";
import { badgeText, countAfterMark, countLabel, countNews, relativeTime, safeLink } from "../src/notifications.js";

before(() => {
  Object.defineProperty(globalThis, "navigator", { value: { language: "en-US" }, configurable: true });
});

const at = (iso) => new Date(iso);

test("relative time in minutes and hours within a day", () => {
  const now = at("2026-11-25T12:00:00Z");
  assert.equal(relativeTime("2026-11-25T11:59:30Z", now), "just now");
  assert.equal(relativeTime("2026-11-25T11:59:00Z", now), "1 minute ago");
  assert.equal(relativeTime("2026-11-25T11:15:00+00:00", now), "45 minutes ago");
  assert.equal(relativeTime("2026-11-25T11:00:00Z", now), "1 hour ago");
  assert.equal(relativeTime("2026-11-24T12:00:01Z", now), "23 hours ago");
});

test("a time ahead of now (another clock) is just now; an unreadable one is empty", () => {
  const now = at("2026-11-25T12:00:00Z");
  assert.equal(relativeTime("2026-11-25T12:05:00Z", now), "just now");
  assert.equal(relativeTime("not a time", now), "");
});

test("days are calendar days in UTC, then the date", () => {
  const now = at("2026-11-25T12:00:00Z");
  assert.equal(relativeTime("2026-11-24T12:00:00Z", now), "yesterday");
  assert.equal(relativeTime("2026-11-24T00:00:00Z", now), "yesterday");
  assert.equal(relativeTime("2026-11-23T23:59:00Z", now), "2 days ago");
  assert.equal(relativeTime("2026-11-19T08:00:00Z", now), "6 days ago");
  assert.equal(relativeTime("2026-11-18T08:00:00Z", now), "Nov 18");
  assert.equal(relativeTime("2026-11-01T00:00:00Z", now), "Nov 1");
});

test("across month and year ends", () => {
  // 1 March 2028: 29 February was yesterday; 1 January: 31 December was yesterday.
  assert.equal(relativeTime("2028-02-29T22:00:00Z", at("2028-03-01T09:00:00Z")), "11 hours ago");
  assert.equal(relativeTime("2028-02-29T08:00:00Z", at("2028-03-01T09:00:00Z")), "yesterday");
  assert.equal(relativeTime("2026-12-31T08:00:00Z", at("2027-01-01T09:00:00Z")), "yesterday");
  assert.equal(relativeTime("2026-12-02T08:00:00Z", at("2027-01-01T09:00:00Z")), "Dec 2, 2026");
  assert.equal(relativeTime("2026-11-30T08:00:00Z", at("2026-12-02T09:00:00Z")), "2 days ago");
});

test("the bell's accessible name says the count", () => {
  assert.equal(countLabel(3), "Notifications, 3 unread");
  assert.equal(countLabel(1), "Notifications, 1 unread");
  assert.equal(countLabel(0), "Notifications, none unread");
  assert.equal(countLabel(null), "Notifications");
});

test("the badge shows nothing at zero and caps at 99+", () => {
  assert.equal(badgeText(0), "");
  assert.equal(badgeText(null), "");
  assert.equal(badgeText(7), "7");
  assert.equal(badgeText(99), "99");
  assert.equal(badgeText(100), "99+");
});

test("only a rising count is news", () => {
  assert.equal(countNews(null, 3), null);
  assert.equal(countNews(3, 3), null);
  assert.equal(countNews(3, 2), null);
  assert.equal(countNews(0, 1), "1 unread notification");
  assert.equal(countNews(2, 5), "5 unread notifications");
});

test("a mark changes the count only when the read flag changed", () => {
  assert.equal(countAfterMark(3, false, true), 2);
  assert.equal(countAfterMark(3, true, false), 4);
  assert.equal(countAfterMark(3, true, true), 3);
  assert.equal(countAfterMark(0, false, true), 0);
  assert.equal(countAfterMark(null, false, true), null);
});

test("a notification opens only the dashboard's own pages", () => {
  assert.equal(safeLink("#/budget"), "#/budget");
  assert.equal(safeLink("#/costs?month=2026-11"), "#/costs?month=2026-11");
  assert.equal(safeLink("https://example.com/"), "#/notifications");
  assert.equal(safeLink("javascript:alert(1)"), "#/notifications");
  assert.equal(safeLink("#/x<script>"), "#/notifications");
  assert.equal(safeLink(null), "#/notifications");
});

test("now is moved onto a pinned business day, keeping the time of day", () => {
  const real = at("2026-12-01T14:30:00Z");
  assert.deepEqual(onBusinessDay(real, "2026-11-25"), at("2026-11-25T14:30:00Z"));
  assert.deepEqual(onBusinessDay(real, "2028-02-29"), at("2028-02-29T14:30:00Z"));
  // Unknown, the same day, or either side of midnight: the real time.
  assert.deepEqual(onBusinessDay(real, null), real);
  assert.deepEqual(onBusinessDay(real, "2026-12-01"), real);
  assert.deepEqual(onBusinessDay(at("2026-12-01T00:05:00Z"), "2026-11-30"), at("2026-12-01T00:05:00Z"));
  assert.deepEqual(onBusinessDay(at("2026-11-30T23:55:00Z"), "2026-12-01"), at("2026-11-30T23:55:00Z"));
});
