// Pieces every view uses: the page heading (with "viewing someone else" for admins), a card
// whose body switches between loading, content, empty and error without changing size, and
// the budget status badge.

import { errorState, h, replace, skeleton } from "../dom.js";
import { STATUS_ICON, statusText } from "../format.js";

export function pageHead(view, title, description, ...actions) {
  const { subject } = view;
  const banner = subject.isSelf
    ? null
    : h(
        "div",
        { class: "viewing-as", role: "note", dataset: { testid: "viewing-as" } },
        h("span", {}, "Viewing ", h("strong", {}, subject.username), "'s data, with your access to everyone's costs."),
        h("a", { href: "#/admin" }, "← Back to all users"),
      );
  return [
    banner,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, subject.isSelf ? title : `${title}: ${subject.username}`),
        description ? h("p", {}, description) : null,
      ),
      actions.length ? h("div", { class: "summary-actions" }, actions) : null,
    ),
  ];
}

/**
 * A card with a heading and a body that loads itself: `load()` returns a promise of data,
 * `show(body, data)` fills the body; on failure the body shows the error and a Retry button.
 */
export function loadingCard({ title, subtitle, className = "", bodyClass = "", lines = 4, id }) {
  const headingId = id || `card-${Math.random().toString(36).slice(2, 8)}`;
  const body = h("div", { class: `card-body ${bodyClass}`, "aria-live": "polite" });
  const element = h(
    "section",
    { class: `card ${className}`, "aria-labelledby": headingId },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: headingId }, title),
      // "" keeps an empty slot for a subtitle that arrives with the data.
      subtitle !== undefined && subtitle !== null ? h("p", { class: "card-subtitle" }, subtitle) : null,
    ),
    body,
  );
  const card = {
    element,
    body,
    setSubtitle(text) {
      const slot = element.querySelector(".card-subtitle");
      if (slot) slot.textContent = text;
    },
    loading() {
      element.setAttribute("aria-busy", "true");
      replace(body, skeleton(lines, `Loading ${title.toLowerCase()}`));
    },
    async run(load, show, signal, what = title.toLowerCase()) {
      card.loading();
      try {
        const data = await load();
        if (signal && signal.aborted) return;
        replace(body);
        show(body, data);
      } catch (error) {
        if (signal && signal.aborted) return;
        replace(
          body,
          errorState(error, () => card.run(load, show, signal, what), what),
        );
      } finally {
        element.removeAttribute("aria-busy");
      }
    },
  };
  return card;
}

/** Says which day a date on the screen is: AWS bills by UTC day, and so does the API, so a
 * day here can differ from the viewer's own calendar day near midnight. */
export function utcNote(text = "Days are UTC (AWS bills by the UTC day).") {
  return h("p", { class: "utc-note", dataset: { testid: "utc-note" } }, text);
}

export function statusBadge(status, { compact = false } = {}) {
  const key = status || "none";
  return h(
    "span",
    { class: `status status-${key}${compact ? " compact" : ""}`, dataset: { status: key } },
    h("span", { class: "status-icon", "aria-hidden": "true" }, STATUS_ICON[status] || "–"),
    statusText(status),
  );
}

/** A table whose header cells sort it: columns [{key, label, numeric, sortable}]. */
export function sortableHeader(columns, sort, onSort) {
  return h(
    "thead",
    {},
    h(
      "tr",
      {},
      columns.map((column) => {
        const active = sort.key === column.key;
        const attrs = {
          scope: "col",
          class: column.numeric ? "num" : null,
          "aria-sort": active ? (sort.dir === "asc" ? "ascending" : "descending") : null,
        };
        if (!column.sortable) return h("th", attrs, column.label);
        return h(
          "th",
          attrs,
          h(
            "button",
            {
              type: "button",
              class: "sort",
              dataset: { sort: column.key },
              onclick: () => onSort(column.key),
            },
            column.label,
          ),
        );
      }),
    ),
  );
}

export function tableSkeleton(columns, rows = 5) {
  return h(
    "tbody",
    { class: "table-skeleton", "aria-hidden": "true" },
    Array.from({ length: rows }, () =>
      h(
        "tr",
        {},
        Array.from({ length: columns }, () => h("td", {}, h("span", { class: "skeleton-line" }))),
      ),
    ),
  );
}
