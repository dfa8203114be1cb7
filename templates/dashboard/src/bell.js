// The bell in the header: the caller's unread count (a badge, and the button's accessible
// name "Notifications, 3 unread"), refreshed on every page change and each minute while the
// tab is visible, and a dropdown with the latest notifications. The dropdown is a disclosure
// (button with aria-expanded and aria-controls): Enter or Space opens it, the arrow keys or Tab
// move through its items, Escape closes it and gives focus back to the bell. Clicking an item
// marks it read and opens its page.

import { businessNow } from "./clock.js";
import { emptyState, errorState, h, replace, skeleton, uid } from "./dom.js";
import { dateTime } from "./format.js";
import { badgeText, countLabel, countNews, relativeTime, safeLink } from "./notifications.js";

// What the dropdown shows; the rest is on the notifications page.
const LATEST = 6;
const REFRESH_EVERY_MS = 60 * 1000;
const SVG = "http://www.w3.org/2000/svg";

function bellIcon() {
  const svg = document.createElementNS(SVG, "svg");
  for (const [name, value] of Object.entries({
    viewBox: "0 0 24 24",
    width: "22",
    height: "22",
    fill: "none",
    stroke: "currentColor",
    "stroke-width": "2",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
    "aria-hidden": "true",
    focusable: "false",
  })) {
    svg.setAttribute(name, value);
  }
  for (const d of ["M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9", "M10.3 21a1.94 1.94 0 0 0 3.4 0"]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/**
 * Mark `item` read (if it is not) and go to its page; `before()` runs first (close a menu).
 * Resolves false when its page is the one shown (nothing to go to), true when it went.
 */
export async function openNotice(inbox, item, event, before = () => {}) {
  // A new tab or window: the browser's own business.
  if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return true;
  event.preventDefault();
  const href = safeLink(item.link);
  before();
  if (!item.read) await inbox.mark(item, true).catch(() => {});
  if (window.location.hash === href) return false;
  window.location.hash = href;
  return true;
}

/**
 * Toggle `item`'s read flag once at a time per button; null while one is on its way. The
 * button stays focusable meanwhile (a disabled one would drop the keyboard focus).
 */
export async function markOnce(inbox, item, control) {
  if (control.getAttribute("aria-disabled") === "true") return null;
  control.setAttribute("aria-disabled", "true");
  try {
    return await inbox.mark(item, !item.read);
  } finally {
    control.removeAttribute("aria-disabled");
  }
}

export function markedAllText(updated) {
  if (!updated) return "Nothing was unread.";
  return updated === 1 ? "1 notification marked read." : `${updated} notifications marked read.`;
}

/**
 * One notification as a list item: its title, body and time in a link to its page, and a
 * button that marks it read or unread. `onToggle(item, button)` and `onOpen(item, event)`.
 * `compact` (the dropdown): the unread dot itself is the button, before the link.
 */
export function noticeItem(item, { now, onToggle, onOpen, compact = false }) {
  const action = item.read ? "Mark unread" : "Mark read";
  const dot = h("span", { class: "inbox-dot", "aria-hidden": "true" });
  const toggle = h(
    "button",
    {
      type: "button",
      class: compact ? "inbox-toggle inbox-toggle-dot" : "button small inbox-toggle",
      "aria-label": `${action}: ${item.title}`,
      title: compact ? action : null,
      dataset: { testid: "inbox-toggle" },
      onclick: () => onToggle(item, toggle),
    },
    compact ? dot : action,
  );
  const link = h(
    "a",
    { class: "inbox-link", href: safeLink(item.link), onclick: (event) => onOpen(item, event) },
    compact ? null : dot,
    h(
      "span",
      { class: "inbox-text" },
      h(
        "span",
        { class: "inbox-title" },
        item.read ? null : h("span", { class: "visually-hidden" }, "Unread: "),
        item.title,
      ),
      h("span", { class: "inbox-body" }, item.body),
      h(
        "time",
        { class: "inbox-time", datetime: item.createdAt, title: dateTime(item.createdAt) },
        relativeTime(item.createdAt, now),
      ),
    ),
  );
  return h(
    "li",
    { class: `inbox-item${item.read ? "" : " unread"}`, dataset: { id: item.id, read: String(item.read) } },
    compact ? [toggle, link] : [link, toggle],
  );
}

/** Put `updated` in place of its list item, keeping the keyboard focus where it was. */
export function replaceNotice(list, updated, build) {
  const old = [...list.children].find((li) => li.dataset.id === updated.id);
  if (!old) return;
  const focused = old.contains(document.activeElement) ? document.activeElement : null;
  const fresh = build(updated);
  old.replaceWith(fresh);
  if (focused) fresh.querySelector(focused.matches(".inbox-toggle") ? ".inbox-toggle" : ".inbox-link").focus();
}

/**
 * `today()` resolves with the API's business date (ctx.today): "3 hours ago" counts from it
 * (clock.js), so the first list waits for it when no answer has said it yet.
 */
export function createBell({ inbox, announce, today }) {
  const panelId = uid("notifications-panel");
  const headingId = uid("notifications-heading");
  const badge = h("span", { class: "bell-badge", "aria-hidden": "true", dataset: { testid: "bell-count" } });
  const button = h(
    "button",
    {
      type: "button",
      class: "bell-button",
      "aria-expanded": "false",
      "aria-controls": panelId,
      "aria-label": countLabel(null),
      dataset: { testid: "bell" },
    },
    bellIcon(),
    badge,
  );
  const list = h("ul", { class: "inbox-list", "aria-labelledby": headingId });
  const body = h("div", { class: "bell-body" });
  const status = h("p", { class: "form-error bell-status", role: "alert" });
  const markAll = h("button", { type: "button", class: "button link small" }, "Mark all read");
  const seeAll = h("a", { class: "bell-see-all", href: "#/notifications" }, "See all notifications");
  const panel = h(
    "section",
    { id: panelId, class: "bell-panel", "aria-labelledby": headingId, hidden: true, dataset: { testid: "bell-panel" } },
    h("div", { class: "bell-head" }, h("h2", { id: headingId }, "Notifications"), markAll),
    status,
    body,
    h("div", { class: "bell-foot" }, seeAll),
  );
  const element = h("div", { class: "bell" }, button, panel);
  const stopping = new AbortController();
  let items = [];
  let timer = null;

  const isOpen = () => !panel.hidden;

  function showCount() {
    const unread = inbox.unread();
    badge.textContent = badgeText(unread);
    badge.hidden = !badgeText(unread);
    button.setAttribute("aria-label", countLabel(unread));
  }

  const build = (item) => noticeItem(item, { now: businessNow(), onToggle: toggle, onOpen: open, compact: true });

  function showItems() {
    if (!items.length) {
      replace(body, emptyState("No notifications yet.", "Budget alerts and notices about your costs appear here."));
      return;
    }
    replace(list, items.map(build));
    replace(body, list);
  }

  async function load() {
    status.textContent = "";
    body.setAttribute("aria-busy", "true");
    replace(body, skeleton(3, "Loading notifications"));
    try {
      const [page] = await Promise.all([inbox.list({ limit: LATEST }), today().catch(() => null)]);
      items = page.items;
      showItems();
    } catch (error) {
      replace(body, errorState(error, load, "your notifications"));
    } finally {
      body.removeAttribute("aria-busy");
    }
  }

  async function toggle(item, control) {
    status.textContent = "";
    try {
      const updated = await markOnce(inbox, item, control);
      if (updated) announce(updated.read ? "Marked read." : "Marked unread.");
    } catch (error) {
      status.textContent = `Could not change it: ${error.message}`;
    }
  }

  async function open(item, event) {
    // The page shown is the item's own: no page change will take the focus, so the bell does.
    if (!(await openNotice(inbox, item, event, () => close(false)))) button.focus();
  }

  function show() {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    load();
  }

  function close(returnFocus) {
    if (!isOpen()) return;
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (returnFocus) button.focus();
  }

  function moveFocus(key) {
    const links = [...panel.querySelectorAll(".inbox-link")];
    if (!links.length) return;
    const at = links.findIndex((link) => link.closest("li").contains(document.activeElement));
    let next;
    if (key === "Home") next = 0;
    else if (key === "End") next = links.length - 1;
    else if (key === "ArrowDown") next = at < 0 ? 0 : (at + 1) % links.length;
    else next = at < 0 ? links.length - 1 : (at - 1 + links.length) % links.length;
    links[next].focus();
  }

  button.addEventListener("click", () => (isOpen() ? close(false) : show()));
  element.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      close(true);
    } else if (["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key) && isOpen()) {
      if (event.target === button && (event.key === "Home" || event.key === "End")) return;
      event.preventDefault();
      moveFocus(event.key);
    } else if (event.key === "ArrowDown" && event.target === button) {
      event.preventDefault();
      show();
    }
  });
  // Focus or a click elsewhere closes it, as a menu would.
  element.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !element.contains(event.relatedTarget)) close(false);
  });
  document.addEventListener(
    "pointerdown",
    (event) => {
      if (isOpen() && !element.contains(event.target)) close(false);
    },
    { signal: stopping.signal },
  );
  markAll.addEventListener("click", async () => {
    status.textContent = "";
    try {
      const { updated } = await inbox.markAll();
      announce(markedAllText(updated));
    } catch (error) {
      status.textContent = `Could not mark them read: ${error.message}`;
    }
  });
  seeAll.addEventListener("click", () => close(false));

  inbox.subscribe((change) => {
    if (change.type === "count") {
      showCount();
      const news = change.source === "refresh" ? countNews(change.previous, change.unread) : null;
      if (news) announce(news);
    } else if (change.type === "item") {
      items = items.map((item) => (item.id === change.item.id ? change.item : item));
      if (isOpen()) replaceNotice(list, change.item, build);
    } else if (change.type === "all") {
      items = items.map((item) => ({ ...item, read: true }));
      if (isOpen() && items.length) showItems();
    }
  }, stopping.signal);

  function refresh() {
    inbox.refresh().catch(() => {});
  }

  timer = setInterval(() => {
    if (document.visibilityState === "visible") refresh();
  }, REFRESH_EVERY_MS);
  document.addEventListener(
    "visibilitychange",
    () => {
      if (document.visibilityState === "visible") refresh();
    },
    { signal: stopping.signal },
  );
  showCount();

  return {
    element,
    refresh,
    /** The shell is gone (sign-out, rebuilt): no more timers or listeners. */
    stop() {
      clearInterval(timer);
      stopping.abort();
    },
  };
}
