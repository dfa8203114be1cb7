// A resource as people know it (issue 16): its name first (the API's resourceName: a Name tag,
// RDS identifier, Lambda function or bucket name, else the instance id), its id or ARN under it
// as a detail that can be selected or copied. The id is never translated (translate="no"):
// a browser's page translation must not touch an ARN someone will paste into the console.

import { announce, h } from "./dom.js";

const COPIED_MS = 2000;

/** Copies `text`; says so on the button and to assistive technology (the live region). */
async function copy(button, text, label) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    announce(`Could not copy the ID of ${label}: select it and copy it instead.`);
    return;
  }
  button.textContent = "Copied";
  button.dataset.copied = "true";
  announce(`Copied the ID of ${label}.`);
  setTimeout(() => {
    button.textContent = "Copy ID";
    delete button.dataset.copied;
  }, COPIED_MS);
}

/** The "Copy ID" button of a resource id; `label` names the resource in its accessible name. */
export function copyIdButton(id, label = id) {
  const button = h(
    "button",
    { type: "button", class: "button small copy-id", "aria-label": `Copy ID of ${label}`, title: id },
    "Copy ID",
  );
  button.addEventListener("click", () => copy(button, id, label));
  return button;
}

/**
 * The name, then the id (selectable, with Copy ID) when it says something the name does not.
 * `name` falls back on the id (older answers carry no resourceName); no id -> "—".
 */
export function resourceLabel(id, name, { copy: withCopy = true } = {}) {
  if (!id) return h("span", { class: "muted" }, "—");
  const shown = name || id;
  const parts = [h("span", { class: "resource-name", dataset: { testid: "resource-name" } }, shown)];
  if (shown !== id || withCopy) {
    parts.push(
      h(
        "span",
        { class: "resource-id-line" },
        shown !== id
          ? h("code", { class: "resource-id id-text", translate: "no", dataset: { testid: "resource-id" } }, id)
          : null,
        withCopy ? copyIdButton(id, shown) : null,
      ),
    );
  }
  return h("span", { class: "resource", translate: shown === id ? "no" : null }, parts);
}
