// Small DOM helpers. Everything is built with createElement and textContent, never innerHTML,
// so data from the API cannot become markup, and no inline style attribute is ever written
// (the Content-Security-Policy has no 'unsafe-inline' for styles).

let idCounter = 0;

/** A unique element id with a readable prefix. */
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * h("button", {class: "primary", onclick: fn, "aria-label": "Close"}, "text", child, ...)
 * Attributes: `class`, `dataset` (object), `on<event>` (listener), booleans (present when
 * true), everything else via setAttribute. Children: strings, nodes, arrays, null/false.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "value" && "value" in el) el.value = value;
    else if (name === "checked" || name === "selected") el[name] = Boolean(value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** Tell screen-reader users what just happened (a polite live region). */
/** Runs `work` with `button` disabled and saying `busyText`, then gives the button back its
 * label, whatever `work` did: a second click cannot send the request twice. */
export async function whileBusy(button, busyText, work) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyText;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A change of text in a later task is what assistive technology notices.
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/** A loading placeholder with the size of what it stands for, so nothing moves later. It is
 * busy itself (aria-busy): whatever replaces it ends the busy state, so no screen that shows
 * one can forget to. */
export function skeleton(lines = 3, label = "Loading") {
  return h(
    "div",
    { class: "skeleton", role: "status", "aria-label": label, "aria-busy": "true" },
    Array.from({ length: lines }, (_, i) => h("span", { class: `skeleton-line${i === lines - 1 ? " short" : ""}` })),
  );
}

/** An empty state: what is missing and, when there is one, what to do about it. */
export function emptyState(title, text, action = null) {
  return h(
    "div",
    { class: "state state-empty" },
    h("p", { class: "state-title" }, title),
    text ? h("p", { class: "state-text" }, text) : null,
    action,
  );
}

/** An error state: what could not be loaded, what happened (the API's problem title or
 * detail, never a stack), what to do, and a "Try again" button that reruns `retry`. */
export function errorState(error, retry, what = "this") {
  const detail = error && error.message ? error.message : String(error);
  return h(
    "div",
    { class: "state state-error", role: "alert", dataset: { testid: "error-state" } },
    h("p", { class: "state-title" }, `Could not load ${what}.`),
    h("p", { class: "state-text" }, detail),
    h(
      "p",
      { class: "state-text" },
      retry
        ? "Try again in a moment. If it keeps failing, reload the page or sign in again."
        : "Reload the page to try again.",
    ),
    retry ? h("button", { type: "button", class: "button", onclick: retry }, "Try again") : null,
  );
}

/**
 * A modal <dialog>: focus moves into it, Escape closes it, focus returns to the opener.
 * `build(close)` returns the dialog's content; returns {dialog, close, done} where `done`
 * resolves with the value passed to close().
 */
export function openDialog({ title, build, className = "" }) {
  const opener = document.activeElement;
  const titleId = uid("dialog-title");
  let resolveDone;
  const done = new Promise((resolve) => {
    resolveDone = resolve;
  });
  const dialog = h("dialog", { class: `dialog ${className}`, "aria-labelledby": titleId });
  let result;
  const close = (value) => {
    result = value;
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener("close", () => {
    dialog.remove();
    returnFocus(opener);
    resolveDone(result);
  });
  // showModal() makes the page behind inert, but Tab past the last control leaves for the
  // browser's own UI: the focus cycles inside the dialog instead, both ways.
  dialog.addEventListener("keydown", (event) => trapTab(dialog, event));
  append(dialog, [h("h2", { id: titleId, class: "dialog-title" }, title), build(close)]);
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close, done };
}

const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  "summary",
  "[tabindex]:not([tabindex='-1'])",
].join(",");

/** The controls of `container` the Tab key stops on, in order. */
export function focusables(container) {
  return [...container.querySelectorAll(FOCUSABLE)].filter(
    (el) => !el.closest("[hidden], [inert]") && el.getClientRects().length > 0,
  );
}

/** Keeps Tab and Shift+Tab inside `container` (a modal dialog): past the end, the start. */
export function trapTab(container, event) {
  if (event.key !== "Tab" || event.altKey || event.ctrlKey || event.metaKey) return;
  const stops = focusables(container);
  if (!stops.length) {
    event.preventDefault();
    return;
  }
  const first = stops[0];
  const last = stops[stops.length - 1];
  const at = document.activeElement;
  if (event.shiftKey && (at === first || !container.contains(at))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (at === last || !container.contains(at))) {
    event.preventDefault();
    first.focus();
  }
}

/** Gives the focus back to `opener`; when the page drew it again meanwhile (a card that
 * refreshed under the dialog), to its successor (same id or data-testid), else to the page's
 * main region, never to the body at the top of the page. */
function returnFocus(opener) {
  if (!opener || typeof opener.focus !== "function") return;
  let target = opener.isConnected ? opener : null;
  if (!target && opener.id) target = document.getElementById(opener.id);
  if (!target && opener.dataset?.testid) {
    target = document.querySelector(`[data-testid="${CSS.escape(opener.dataset.testid)}"]`);
  }
  (target || document.getElementById("main"))?.focus();
}

/** Ask before doing something that cannot be undone; resolves true when confirmed. */
export function confirmDialog({ title, message, confirmLabel, danger = false }) {
  const { done } = openDialog({
    title,
    className: "dialog-confirm",
    build: (close) =>
      h(
        "div",
        {},
        h("p", {}, message),
        h(
          "div",
          { class: "dialog-actions" },
          h("button", { type: "button", class: "button", onclick: () => close(false) }, "Cancel"),
          h(
            "button",
            {
              type: "button",
              class: `button ${danger ? "danger" : "primary"}`,
              onclick: () => close(true),
            },
            confirmLabel,
          ),
        ),
      ),
  });
  return done.then(Boolean);
}

/** A form field: label, control, hint and an error slot tied together for assistive tech. */
export function field({ label, control, hint = null, name }) {
  const id = control.id || uid(name || "field");
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  const error = h("p", { class: "field-error", id: errorId, dataset: { field: name || id } });
  const wrapper = h(
    "div",
    { class: "field", dataset: { field: name || id } },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { class: "field-hint", id: hintId }, hint) : null,
    error,
  );
  return {
    element: wrapper,
    control,
    setError(message) {
      error.textContent = message || "";
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    },
  };
}
