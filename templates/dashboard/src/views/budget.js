// Budget settings: the Budget page and the modal that creates or changes a budget. The API
// validates; its problem+json field errors are shown next to the field they concern. A change
// is sent with If-Match (the ETag of a fresh GET), so an older form never overwrites a newer
// budget: the API answers 409 and the form reloads the current values.

import { announce, field, h, openDialog, replace } from "../dom.js";
import { METRIC_HINT, metricText, money, percent } from "../format.js";
import { loadingCard, pageHead, statusBadge } from "./common.js";

const FIELDS = ["monthlyLimit", "alertThreshold"];

function currencySymbol(currency) {
  const parts = new Intl.NumberFormat(navigator.language || "en-US", {
    style: "currency",
    currency,
  }).formatToParts(0);
  return (parts.find((p) => p.type === "currency") || { value: currency }).value;
}

/**
 * Whose status a budget's texts speak of: "Your" on one's own budget, `subject.whose` when the
 * caller names it (a team's budget: "The team's"), else the person's name ("dana's").
 */
export function whoseStatus(subject) {
  if (subject?.whose) return subject.whose;
  if (subject?.isSelf === false && subject.username) return `${subject.username}'s`;
  return "Your";
}

/**
 * Open the budget modal for `subject`. `summary` (from GET summary) tells whether a budget
 * exists and its currency. Resolves true when a budget was saved.
 */
export function openBudgetModal({ api, subject, summary }) {
  const existing = summary.budget;
  const currency = existing ? existing.monthlyLimit.currency : summary.total.currency;
  let etag = null;
  let budgetId = existing ? existing.budgetId : null;

  const limit = field({
    label: "Monthly limit",
    name: "monthlyLimit",
    hint: `In ${currency}. Zero means: any spending is over budget.`,
    control: h("input", {
      type: "text",
      inputmode: "decimal",
      autocomplete: "off",
      name: "monthlyLimit",
      value: existing ? existing.monthlyLimit.amount : "",
    }),
  });
  const prefixed = h(
    "div",
    { class: "input-prefix" },
    h("span", { "aria-hidden": "true" }, currencySymbol(currency)),
    limit.control,
  );
  limit.element.insertBefore(prefixed, limit.element.querySelector(".field-hint"));

  const startThreshold = existing ? existing.alertThreshold : 80;
  const slider = h("input", {
    type: "range",
    min: "0",
    max: "100",
    step: "1",
    name: "alertThreshold",
    value: String(startThreshold),
    "aria-valuetext": `${startThreshold}%`,
  });
  const threshold = field({
    label: "Alert threshold",
    name: "alertThreshold",
    hint: `${whoseStatus(subject)} status turns to Approaching Limit when this month's costs reach this share of the limit.`,
    control: slider,
  });
  const output = h("output", { "aria-hidden": "true", dataset: { testid: "threshold-value" } }, `${startThreshold}%`);
  const row = h("div", { class: "range-row" }, slider, output);
  threshold.element.insertBefore(row, threshold.element.querySelector(".field-hint"));
  slider.addEventListener("input", () => {
    output.textContent = `${slider.value}%`;
    slider.setAttribute("aria-valuetext", `${slider.value}%`);
  });

  const fields = { monthlyLimit: limit, alertThreshold: threshold };
  const formError = h("p", { class: "form-error", role: "alert", dataset: { testid: "form-error" } });
  const save = h("button", { type: "submit", class: "button primary" }, existing ? "Save budget" : "Create budget");

  function clearErrors() {
    formError.textContent = "";
    for (const f of Object.values(fields)) f.setError("");
  }

  function showProblem(error) {
    const messages = error.fieldErrors || {};
    let first = null;
    for (const [name, message] of Object.entries(messages)) {
      if (fields[name]) {
        fields[name].setError(message);
        first = first || fields[name].control;
      }
    }
    const others = Object.entries(messages).filter(([name]) => !FIELDS.includes(name));
    if (!first || others.length) {
      formError.textContent = others.length ? others.map(([, m]) => m).join(" ") : error.message;
    }
    (first || limit.control).focus();
  }

  async function loadCurrent() {
    // A fresh read: the newest values, and the ETag that guards the change.
    const { budget, etag: tag } = await api.budget(subject.userId);
    etag = tag;
    budgetId = budget.budgetId;
    limit.control.value = budget.monthlyLimit.amount;
    slider.value = String(budget.alertThreshold);
    slider.dispatchEvent(new Event("input"));
  }

  const { close, done } = openDialog({
    title: existing ? "Edit budget" : "Set a budget",
    className: "dialog-budget",
    build: (closeDialog) =>
      h(
        "form",
        {
          novalidate: true,
          dataset: { testid: "budget-form" },
          async onsubmit(event) {
            event.preventDefault();
            clearErrors();
            const amount = limit.control.value.trim().replace(/^[^\d-]+/, "");
            if (!amount) {
              limit.setError("Enter a monthly limit.");
              limit.control.focus();
              return;
            }
            const alertThreshold = Number(slider.value);
            save.disabled = true;
            save.textContent = "Saving…";
            try {
              if (budgetId) {
                await api.updateBudget(budgetId, { monthlyLimit: amount, alertThreshold }, etag);
              } else {
                await api.createBudget({ userId: subject.userId, monthlyLimit: amount, alertThreshold, currency });
              }
              announce("Budget saved.");
              closeDialog(true);
            } catch (error) {
              if (error.status === 409 && budgetId) {
                formError.textContent =
                  "This budget was changed elsewhere since you opened it. The form now shows the latest values: check them and save again.";
                await loadCurrent().catch(() => {});
              } else {
                showProblem(error);
              }
            } finally {
              save.disabled = false;
              save.textContent = existing ? "Save budget" : "Create budget";
            }
          },
        },
        formError,
        limit.element,
        threshold.element,
        h(
          "div",
          { class: "dialog-actions" },
          h("button", { type: "button", class: "button", onclick: () => closeDialog(false) }, "Cancel"),
          save,
        ),
      ),
  });

  if (existing) {
    save.disabled = true;
    loadCurrent()
      .catch((error) => {
        formError.textContent = `The current budget could not be read: ${error.message}`;
      })
      .finally(() => {
        save.disabled = false;
      });
  }
  limit.control.focus();
  limit.control.select();
  return done.then((value) => {
    void close;
    return Boolean(value);
  });
}

function renderBudget(body, summary, { onEdit, whose }) {
  const budget = summary.budget;
  if (!budget) {
    replace(
      body,
      h(
        "div",
        { class: "state state-empty", dataset: { testid: "no-budget" } },
        h("p", { class: "state-title" }, "No budget yet."),
        h(
          "p",
          { class: "state-text" },
          `Set a monthly limit to be alerted before costs run over. This month so far: ${money(summary.total)}.`,
        ),
        h(
          "button",
          { type: "button", class: "button primary", onclick: onEdit, dataset: { testid: "edit-budget" } },
          "Set a budget",
        ),
      ),
    );
    return;
  }
  const alertAt = (Number(budget.monthlyLimit.amount) * budget.alertThreshold) / 100;
  replace(
    body,
    h(
      "dl",
      { class: "budget-facts", dataset: { testid: "budget-facts" } },
      h(
        "div",
        { class: "figure" },
        h("dt", {}, "Monthly limit"),
        h("dd", { dataset: { value: "limit" } }, money(budget.monthlyLimit)),
      ),
      h(
        "div",
        { class: "figure" },
        h("dt", {}, "Alert threshold"),
        h(
          "dd",
          { dataset: { value: "threshold" } },
          `${budget.alertThreshold}%`,
          h("small", {}, ` (${money({ amount: alertAt.toFixed(2), currency: budget.monthlyLimit.currency })})`),
        ),
      ),
      h(
        "div",
        { class: "figure" },
        h("dt", {}, "This month so far"),
        h(
          "dd",
          {},
          money(summary.total),
          h(
            "small",
            {},
            summary.percentUsed !== null && summary.percentUsed !== undefined
              ? ` (${percent(summary.percentUsed)})`
              : "",
          ),
        ),
      ),
    ),
    h(
      "p",
      {},
      "Status: ",
      // An empty month (the 1st) has nothing to judge yet: not "under budget".
      statusBadge(summary.noCostsYet ? "pending" : summary.status, { compact: true }),
      metricText(summary.metric)
        ? h(
            "span",
            { class: "muted" },
            " · compared with ",
            h(
              "span",
              { class: "metric", title: METRIC_HINT[summary.metric], dataset: { testid: "metric" } },
              metricText(summary.metric).toLowerCase(),
            ),
          )
        : null,
    ),
    h(
      "p",
      { class: "muted" },
      `${whose} status is Under Budget below the threshold, Approaching Limit from the threshold, and Over Budget once this month's costs reach the limit. A zero limit means any spending is over budget.`,
    ),
    h(
      "div",
      { class: "summary-actions" },
      h(
        "button",
        { type: "button", class: "button primary", onclick: onEdit, dataset: { testid: "edit-budget" } },
        "Edit budget",
      ),
    ),
  );
}

export function budgetView(view) {
  const { ctx, subject, container, signal } = view;
  const card = loadingCard({ title: "Monthly budget", className: "span-12", bodyClass: "budget-body", lines: 5 });
  replace(
    container,
    pageHead(view, "Budget", "The monthly limit and when to be alerted."),
    h("div", { class: "grid" }, card.element),
  );

  const show = (body, summary) =>
    renderBudget(body, summary, {
      whose: whoseStatus(subject),
      async onEdit() {
        const saved = await openBudgetModal({ api: ctx.api, subject, summary });
        if (saved && !signal.aborted) {
          await load();
          container.querySelector("[data-testid=edit-budget]")?.focus();
        }
      },
    });
  const load = () => card.run(() => ctx.api.summary(subject.userId), show, signal, "the budget");
  return load();
}
