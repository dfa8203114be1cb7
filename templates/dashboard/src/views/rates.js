// Currencies (issue 17; finance and admins: rates:write): the organisation's billing and
// display currency, the rate in force on a day and where it came from, a transfer price
// entered by hand (it wins over the market rate of its day), and the stored rates, newest first.

import { CURRENCIES } from "../currency.js";
import { emptyState, errorState, field, h, replace, skeleton, whileBusy } from "../dom.js";
import { knownToday, longDay } from "../format.js";
import { knownNames } from "./anomalies.js";
import { isForbidden, noAccessPage } from "./noaccess.js";

const PAGE_SIZE = 25;

function currencySelect(name, value, { withNone = false } = {}) {
  return h(
    "select",
    { name },
    withNone ? h("option", { value: "" }, "—") : null,
    CURRENCIES.map((c) => h("option", { value: c, selected: c === value }, c)),
  );
}

function showErrors(error, fields, status) {
  let shown = false;
  for (const [name, message] of Object.entries(error.fieldErrors || {})) {
    const key = name.split(".").pop();
    if (fields[key]) {
      fields[key].setError(message);
      shown = true;
    }
  }
  if (!shown) status.textContent = error.message;
}

function settingsCard(api) {
  const body = h("div", { class: "card-body" }, skeleton(2, "Loading the currencies"));
  const status = h("p", { role: "status" });
  async function load() {
    try {
      const settings = await api.billingSettings();
      const billing = field({
        label: "Billing currency",
        name: "billingCurrency",
        hint: "What the organisation is billed and invoiced in.",
        control: currencySelect("billingCurrency", settings.currency.billingCurrency),
      });
      const display = field({
        label: "Display currency",
        name: "displayCurrency",
        hint: "Figures are shown in it by default (each person may choose their own in Settings).",
        control: currencySelect("displayCurrency", settings.currency.displayCurrency),
      });
      const button = h("button", { type: "submit", class: "button primary" }, "Save currencies");
      const form = h(
        "form",
        {
          dataset: { testid: "currency-settings" },
          async onsubmit(event) {
            event.preventDefault();
            billing.setError("");
            display.setError("");
            status.textContent = "";
            await whileBusy(button, "Saving…", async () => {
              try {
                await api.updateBillingSettings({
                  currency: {
                    billingCurrency: billing.control.value,
                    displayCurrency: display.control.value,
                  },
                });
                status.textContent = "Saved.";
              } catch (error) {
                showErrors(error, { billingCurrency: billing, displayCurrency: display }, status);
              }
            });
          },
        },
        h("div", { class: "form-row" }, billing.element, display.element),
        h("div", { class: "form-actions" }, button, status),
      );
      replace(body, form);
    } catch (error) {
      replace(body, errorState(error, load, "the currencies"));
    }
  }
  load();
  return h(
    "section",
    { class: "card span-6", "aria-labelledby": "currencies-title" },
    h("div", { class: "card-head" }, h("h2", { id: "currencies-title" }, "Organisation currencies")),
    body,
  );
}

function inForceCard(api) {
  const today = knownToday() || "";
  const day = h("input", { type: "date", name: "date", value: today, required: true });
  const base = currencySelect("base", "USD");
  const quote = currencySelect("quote", "EUR");
  const answer = h("div", { "aria-live": "polite", dataset: { testid: "rate-in-force" } });
  const form = h(
    "form",
    {
      class: "inline-form",
      async onsubmit(event) {
        event.preventDefault();
        try {
          const page = await api.rates({ date: day.value, base: base.value, quote: quote.value, limit: 1 });
          const r = page.inForce;
          replace(
            answer,
            h(
              "p",
              {},
              h("strong", {}, `1 ${r.base} = ${r.rate} ${r.quote}`),
              ` · rate of ${longDay(r.rateDate)} · ${r.source}`,
              r.fallback ? h("span", { class: "muted" }, " (no rate that day: the latest earlier one)") : "",
            ),
          );
        } catch (error) {
          replace(answer, h("p", { class: "field-error", role: "alert" }, error.message));
        }
      },
    },
    field({ label: "Day", name: "date", control: day }).element,
    field({ label: "From", name: "base", control: base }).element,
    field({ label: "To", name: "quote", control: quote }).element,
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "button" }, "Look up")),
  );
  return h(
    "section",
    { class: "card span-6", "aria-labelledby": "in-force-title" },
    h("div", { class: "card-head" }, h("h2", { id: "in-force-title" }, "Rate in force")),
    h("div", { class: "card-body" }, form, answer),
  );
}

function manualCard(api, onAdded) {
  const fields = {
    date: field({
      label: "Day",
      name: "date",
      control: h("input", { type: "date", name: "date", value: knownToday() || "", required: true }),
    }),
    base: field({ label: "From", name: "base", control: currencySelect("base", "USD") }),
    quote: field({ label: "To", name: "quote", control: currencySelect("quote", "GBP") }),
    rate: field({
      label: "Rate",
      name: "rate",
      hint: "1 unit of From in To, e.g. 0.79",
      control: h("input", { type: "text", name: "rate", inputmode: "decimal", required: true, autocomplete: "off" }),
    }),
    note: field({
      label: "Note",
      name: "note",
      control: h("input", { type: "text", name: "note", maxlength: "256", autocomplete: "off" }),
    }),
  };
  const status = h("p", { role: "status" });
  const button = h("button", { type: "submit", class: "button primary" }, "Add transfer price");
  const form = h(
    "form",
    {
      dataset: { testid: "manual-rate" },
      async onsubmit(event) {
        event.preventDefault();
        for (const f of Object.values(fields)) f.setError("");
        status.textContent = "";
        const body = {
          date: fields.date.control.value,
          base: fields.base.control.value,
          quote: fields.quote.control.value,
          rate: fields.rate.control.value.trim(),
        };
        if (fields.note.control.value.trim()) body.note = fields.note.control.value.trim();
        await whileBusy(button, "Adding…", async () => {
          try {
            const made = await api.addRate(body);
            status.textContent = `Added: 1 ${made.base} = ${made.rate} ${made.quote} on ${longDay(made.date)}.`;
            fields.rate.control.value = "";
            onAdded();
          } catch (error) {
            showErrors(error, fields, status);
          }
        });
      },
    },
    h("div", { class: "form-row" }, fields.date.element, fields.base.element, fields.quote.element),
    h("div", { class: "form-row" }, fields.rate.element, fields.note.element),
    h("div", { class: "form-actions" }, button, status),
  );
  return h(
    "section",
    { class: "card span-12", "aria-labelledby": "manual-title" },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "manual-title" }, "Transfer price"),
      h("p", { class: "card-subtitle" }, "Wins over the market rate of its day; audited."),
    ),
    h("div", { class: "card-body" }, form),
  );
}

export function ratesView(view) {
  const { ctx, user, container, signal } = view;
  const { api } = ctx;
  const state = { items: [], nextToken: null, names: ctx.usernames };
  const body = h("div", { class: "card-body", "aria-live": "polite" }, skeleton(6, "Loading the rates"));
  const foot = h("p", { role: "status" });
  const more = h("button", { type: "button", class: "button", hidden: true, onclick: () => load(true) }, "Load more");
  replace(
    container,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, "Currencies"),
        h(
          "p",
          {},
          "Exchange rates, fed daily from the configured source (the ECB by default), and the transfer prices finance sets. Figures are converted day by day, each at its day's rate.",
        ),
      ),
    ),
    h(
      "div",
      { class: "grid" },
      settingsCard(api),
      inForceCard(api),
      manualCard(api, () => load(false)),
      h(
        "section",
        { class: "card span-12", "aria-labelledby": "rates-title" },
        h("div", { class: "card-head" }, h("h2", { id: "rates-title" }, "Stored rates")),
        body,
        h("div", { class: "table-foot" }, foot, more),
      ),
    ),
  );

  function show() {
    if (!state.items.length) {
      replace(body, emptyState("No rates yet.", "The daily rates run stores the first ones."));
      foot.textContent = "";
      more.hidden = true;
      return;
    }
    replace(
      body,
      h(
        "div",
        { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Stored rates" },
        h(
          "table",
          { dataset: { testid: "rates-table" } },
          h("caption", { class: "visually-hidden" }, "Stored rates, newest day first"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Day", "Pair", "Rate", "Source", "Entered by"].map((label) => h("th", { scope: "col" }, label)),
            ),
          ),
          h(
            "tbody",
            {},
            state.items.map((r) =>
              h(
                "tr",
                { dataset: { source: r.source } },
                h("td", { class: "nowrap" }, longDay(r.date)),
                h("td", { class: "nowrap" }, `${r.base} → ${r.quote}`),
                h("td", { class: "num" }, r.rate),
                h("td", {}, r.source === "manual" ? "manual (transfer price)" : r.source),
                h("td", {}, r.enteredBy ? state.names.get(r.enteredBy) || r.enteredBy : "—"),
              ),
            ),
          ),
        ),
      ),
    );
    foot.textContent = `${state.items.length} rate${state.items.length === 1 ? "" : "s"}${state.nextToken ? " so far" : ""}.`;
    more.hidden = !state.nextToken;
  }

  let loadId = 0;
  async function load(append) {
    const mine = ++loadId;
    if (!append) {
      state.items = [];
      state.nextToken = null;
    }
    more.disabled = true;
    try {
      const [page, names] = await Promise.all([
        api.rates({ limit: PAGE_SIZE, nextToken: append ? state.nextToken : null }),
        knownNames(ctx, user),
      ]);
      if (signal.aborted || mine !== loadId) return;
      state.names = names;
      state.items = state.items.concat(page.items || []);
      state.nextToken = page.nextToken || null;
      show();
    } catch (error) {
      if (signal.aborted || mine !== loadId) return;
      if (isForbidden(error)) {
        noAccessPage(container, { title: "Currencies", permission: "rates:write", username: user.username });
        return;
      }
      replace(
        body,
        errorState(error, () => load(false), "the rates"),
      );
    } finally {
      more.disabled = false;
    }
  }
  return load(false);
}
