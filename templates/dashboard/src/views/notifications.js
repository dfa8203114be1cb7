// Notifications: all of the caller's, newest first (the API keeps them 90 days), page by page
// with the API's nextToken, each with its read or unread toggle; "Mark all read". The bell in
// the header shares the same inbox, so a mark here changes its count at once.

import { markOnce, markedAllText, noticeItem, openNotice, replaceNotice } from "../bell.js";
import { businessNow } from "../clock.js";
import { announce, emptyState, errorState, h, replace, skeleton } from "../dom.js";

const PAGE_SIZE = 20;

export function notificationsView(view) {
  const { ctx, container, signal } = view;
  const inbox = ctx.inbox;
  const list = h("ul", { class: "inbox-list inbox-page", "aria-labelledby": "notifications-list-title" });
  const body = h("div", { class: "card-body", "aria-live": "polite" });
  const status = h("p", { class: "table-foot-status", role: "status", dataset: { testid: "notifications-status" } });
  const more = h("button", { type: "button", class: "button", hidden: true }, "Load more");
  const foot = h("div", { class: "table-foot", hidden: true }, status, more);
  const problem = h("p", { class: "form-error", role: "alert" });
  const markAll = h(
    "button",
    { type: "button", class: "button", dataset: { testid: "mark-all-read" } },
    "Mark all read",
  );
  replace(
    container,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, "Notifications"),
        h(
          "p",
          {},
          "Budget alerts and notices about your costs, newest first. Tally keeps them for 90 days. \u201cToday\u201d and \u201cyesterday\u201d are UTC days.",
        ),
      ),
      h("div", { class: "summary-actions" }, markAll),
    ),
    problem,
    h(
      "section",
      { class: "card", "aria-labelledby": "notifications-list-title" },
      h(
        "div",
        { class: "card-head" },
        h("h2", { id: "notifications-list-title" }, "All notifications"),
        h("p", { dataset: { testid: "unread-summary" } }),
      ),
      body,
      foot,
    ),
  );
  const unreadSummary = container.querySelector("[data-testid=unread-summary]");
  let items = [];
  let nextToken = null;

  const build = (item) =>
    noticeItem(item, {
      now: businessNow(),
      onToggle: toggle,
      onOpen: (notice, event) => openNotice(inbox, notice, event),
    });

  function showUnread() {
    const unread = inbox.unread();
    unreadSummary.textContent = unread === null ? "" : unread ? `${unread} unread` : "All read";
  }

  function show() {
    if (!items.length) {
      replace(
        body,
        emptyState(
          "No notifications yet.",
          "When your costs near or pass your budget, or a past month's costs change, Tally tells you here.",
          h("a", { class: "button", href: "#/settings" }, "Choose how you are alerted"),
        ),
      );
    } else {
      replace(list, items.map(build));
      replace(body, list);
    }
    more.hidden = !nextToken;
    foot.hidden = !items.length;
    status.textContent = items.length
      ? `${items.length} notification${items.length === 1 ? "" : "s"}${nextToken ? " so far" : ""}.`
      : "";
  }

  async function load(append) {
    problem.textContent = "";
    if (!append) {
      items = [];
      nextToken = null;
      replace(body, skeleton(4, "Loading notifications"));
      body.setAttribute("aria-busy", "true");
    }
    more.disabled = true;
    try {
      // "3 hours ago" counts from the API's business date (clock.js): known before the first list.
      const [page] = await Promise.all([
        inbox.list({ limit: PAGE_SIZE, nextToken: append ? nextToken : null }),
        ctx.today().catch(() => null),
      ]);
      if (signal.aborted) return;
      const firstNew = items.length;
      items = items.concat(page.items);
      nextToken = page.nextToken;
      show();
      // The keyboard goes on where the new ones start.
      if (append) list.children[firstNew]?.querySelector(".inbox-link")?.focus();
    } catch (error) {
      if (signal.aborted) return;
      if (append) status.textContent = `Could not load more: ${error.message}`;
      else
        replace(
          body,
          errorState(error, () => load(false), "your notifications"),
        );
    } finally {
      body.removeAttribute("aria-busy");
      more.disabled = false;
    }
  }

  async function toggle(item, control) {
    problem.textContent = "";
    try {
      const updated = await markOnce(inbox, item, control);
      if (updated) announce(updated.read ? "Marked read." : "Marked unread.");
    } catch (error) {
      problem.textContent = `Could not change "${item.title}": ${error.message}`;
    }
  }

  more.addEventListener("click", () => load(true));
  markAll.addEventListener("click", async () => {
    problem.textContent = "";
    try {
      const { updated } = await inbox.markAll();
      announce(markedAllText(updated));
    } catch (error) {
      problem.textContent = `Could not mark them read: ${error.message}`;
    }
  });
  inbox.subscribe((change) => {
    if (change.type === "count") showUnread();
    else if (change.type === "item") {
      items = items.map((item) => (item.id === change.item.id ? change.item : item));
      replaceNotice(list, change.item, build);
    } else if (change.type === "all") {
      items = items.map((item) => ({ ...item, read: true }));
      if (items.length) replace(list, items.map(build));
    }
  }, signal);
  showUnread();
  return load(false);
}
