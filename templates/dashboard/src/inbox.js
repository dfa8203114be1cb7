// The caller's notifications as the header's bell and the notifications page share them: the
// unread count and the marks. Both listen, so a mark made in one shows in the other at once.
// Always the caller's own, also while an admin looks at someone else's pages.

import { countAfterMark } from "./notifications.js";

export function createInbox(api) {
  const listeners = new Set();
  let unread = null; // not known before the first answer

  function emit(change) {
    for (const listener of listeners) listener(change);
  }

  function setUnread(next, source) {
    if (next === unread) return;
    const previous = unread;
    unread = next;
    emit({ type: "count", previous, unread, source });
  }

  const inbox = {
    unread: () => unread,
    /** `listener(change)` until `signal` aborts: {type: "count"|"item"|"all", ...}. */
    subscribe(listener, signal) {
      listeners.add(listener);
      signal?.addEventListener("abort", () => listeners.delete(listener));
    },
    /** The unread count again (the bell's minute and every page change). */
    async refresh() {
      const page = await api.notifications({ limit: 1 });
      setUnread(page.unreadCount, "refresh");
    },
    async list({ limit, nextToken } = {}) {
      const page = await api.notifications({ limit, nextToken });
      setUnread(page.unreadCount, "list");
      return page;
    },
    /** Mark one read (true) or unread (false); resolves with the API's notification. */
    async mark(item, read) {
      const updated = await api.markNotification(item.id, read);
      emit({ type: "item", item: updated });
      setUnread(countAfterMark(unread, item.read, updated.read), "mark");
      return updated;
    },
    async markAll() {
      const result = await api.markAllNotificationsRead();
      emit({ type: "all" });
      setUnread(result.unreadCount, "mark");
      return result;
    },
  };
  return inbox;
}
