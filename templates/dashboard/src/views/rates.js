// Currencies (issue 17; finance and admins: rates:write): the organisation's billing and
// display currency, its billing periods (which days each named period covers, with a preview
// and the recompute a change starts), the rate in force on a day and where it came from, a
// transfer price entered by hand (it wins over the market rate of its day), and the stored
// rates, newest first.

import {
  FISCAL_PATTERNS,
  MAX_START_DAY,
  MONTHLY,
  WEEKDAYS,
  daysInMonth,
  firstDay,
  isCalendar,
  lastDay,
  monthOf,
  nextMonth,
  periodDefinition,
  periods,
  sameDefinition,
  using,
} from "../calendar.js";
import { CURRENCIES } from "../currency.js";
import { emptyState, errorState, field, h, replace, skeleton, uid, whileBusy } from "../dom.js";
import { dateTime, decimal, knownToday, longDay, periodLabel } from "../format.js";
import { sleep } from "../reports.js";
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

function settingsCard(ctx, settingsPromise) {
  const { api } = ctx;
  const body = h("div", { class: "card-body" }, skeleton(2, "Loading the currencies"));
  const status = h("p", { role: "status" });
  async function load() {
    try {
      const settings = await settingsPromise();
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
                const saved = await api.updateBillingSettings({
                  currency: {
                    billingCurrency: billing.control.value,
                    displayCurrency: display.control.value,
                  },
                });
                ctx.learnBillingSettings(saved);
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
      const retry = () => {
        settingsPromise = () =>
          api.billingSettings().then((settings) => {
            ctx.learnBillingSettings(settings);
            return settings;
          });
        load();
      };
      replace(body, errorState(error, retry, "the currencies"));
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

// ---- billing periods -----------------------------------------------------------------------

const KIND_TEXT = {
  calendar: "Calendar months",
  monthly: "Months from day N",
  "4-4-5": "4-4-5 weeks (fiscal year)",
  "4-5-4": "4-5-4 weeks (fiscal year)",
  "5-4-4": "5-4-4 weeks (fiscal year)",
};
const capitalised = (word) => word[0].toUpperCase() + word.slice(1);
const pad2 = (n) => String(n).padStart(2, "0");
const RECOMPUTE_POLL_MS = 2000;

/** January..December in the user's locale. */
function monthNames() {
  const format = new Intl.DateTimeFormat(globalThis.navigator?.language || "en-US", {
    month: "long",
    timeZone: "UTC",
  });
  return Array.from({ length: 12 }, (_, i) => format.format(new Date(Date.UTC(2027, i, 1))));
}

// A refusal found here, before anything is sent, in the words of the form.
const REFUSED_TEXT = {
  startDay: `Choose a day from 1 to ${MAX_START_DAY}: every month has it.`,
  fiscalYearStart: "Choose a day every year has (not 29 February, nor the 31st of a 30-day month).",
};

/** Which field a definition's refusal is about (calendar.js's messages, as Python's). */
function refusedField(message) {
  if (/day is out of range/.test(message)) return "fiscalYearStart";
  return ["kind", "startDay", "fiscalYearStart", "weekStart"].find((name) => message.startsWith(name)) || "kind";
}

/** The definition in words: "4-4-5 weeks (fiscal year) from the Monday nearest 1 January". */
function definitionText(def) {
  if (isCalendar(def)) return "Calendar months";
  if (def.kind === MONTHLY) return `Months from day ${def.startDay}`;
  const [month, day] = def.fiscalYearStart.split("-").map(Number);
  return `${KIND_TEXT[def.kind]}, from the ${capitalised(def.weekStart)} nearest ${day} ${monthNames()[month - 1]}`;
}

/** The recompute a change started, in words (the API's `period.recompute`). */
function recomputeText(recompute) {
  if (!recompute) return "";
  if (recompute.status === "pending") {
    return `Recomputing every stored figure for the new periods (asked ${dateTime(recompute.requestedAt)})…`;
  }
  if (recompute.status === "ready") {
    const what = [
      recompute.owners !== null && recompute.owners !== undefined ? `${recompute.owners} owners` : null,
      recompute.periods !== null && recompute.periods !== undefined ? `${recompute.periods} periods` : null,
    ].filter(Boolean);
    return `Recompute ready${what.length ? ` (${what.join(", ")})` : ""}, ${dateTime(recompute.finishedAt)}: every figure follows the periods in force.`;
  }
  return `The recompute failed${recompute.error ? `: ${recompute.error}` : ""}. Figures may still follow the earlier periods; save again to retry.`;
}

/** The Billing period card: the definition, edited with a live preview, saved, recomputed. */
function periodCard(ctx, settingsPromise, signal) {
  const { api } = ctx;
  const body = h("div", { class: "card-body" }, skeleton(4, "Loading the billing periods"));
  const recomputeStatus = h("p", {
    class: "recompute-status",
    role: "status",
    "aria-live": "polite",
    dataset: { testid: "recompute-status" },
  });
  let polling = null;

  function showRecompute(recompute) {
    recomputeStatus.textContent = recomputeText(recompute);
    recomputeStatus.dataset.status = recompute?.status || "";
  }

  // Every 2 s until the recompute is ready or failed (or the page is left).
  function poll(jobId) {
    if (polling === jobId) return;
    polling = jobId;
    (async () => {
      while (!signal.aborted && polling === jobId) {
        try {
          await sleep(RECOMPUTE_POLL_MS, signal);
          const settings = await api.billingSettings();
          if (signal.aborted || polling !== jobId) return;
          ctx.learnBillingSettings(settings);
          const recompute = settings.period?.recompute;
          showRecompute(recompute);
          if (!recompute || recompute.jobId !== jobId || recompute.status !== "pending") break;
        } catch (error) {
          if (signal.aborted) return;
          recomputeStatus.textContent = `Cannot ask how the recompute goes (${error.message}); asking again.`;
        }
      }
      if (polling === jobId) polling = null;
    })();
  }

  function build(settings) {
    const saved = settings.period || {};
    const inForce = periodDefinition(saved);
    const months = monthNames();
    const [fyMonth, fyDay] = inForce.fiscalYearStart.split("-").map(Number);

    const kind = field({
      label: "Kind of period",
      name: "kind",
      control: h(
        "select",
        { name: "kind" },
        Object.entries(KIND_TEXT).map(([value, text]) =>
          h("option", { value, selected: value === inForce.kind }, text),
        ),
      ),
    });
    const startDay = field({
      label: "Start day",
      name: "startDay",
      hint: `The day of the month each period starts on (1 to ${MAX_START_DAY}); a period is named by the month it starts in.`,
      control: h("input", {
        type: "number",
        name: "startDay",
        min: "1",
        max: String(MAX_START_DAY),
        step: "1",
        inputmode: "numeric",
        value: String(inForce.startDay),
      }),
    });
    // The fiscal year's start: a month and a day, one field (fiscalYearStart) for errors.
    const fyId = uid("fiscal-year-start");
    const fyError = h("p", { class: "field-error", id: `${fyId}-error`, dataset: { field: "fiscalYearStart" } });
    const fyHint = h(
      "p",
      { class: "field-hint", id: `${fyId}-hint` },
      "Each fiscal year starts on the week-start day nearest this date (never more than three days away).",
    );
    const describedBy = `${fyId}-hint ${fyId}-error`;
    const fyMonthSelect = h(
      "select",
      { id: `${fyId}-month`, name: "fiscalYearStartMonth", "aria-describedby": describedBy },
      months.map((name, i) => h("option", { value: pad2(i + 1), selected: i + 1 === fyMonth }, name)),
    );
    const fyDaySelect = h(
      "select",
      { id: `${fyId}-day`, name: "fiscalYearStartDay", "aria-describedby": describedBy },
      Array.from({ length: 31 }, (_, i) =>
        h("option", { value: pad2(i + 1), selected: i + 1 === fyDay }, String(i + 1)),
      ),
    );
    const fiscalYearStart = {
      element: h(
        "fieldset",
        { class: "field period-fiscal-start", dataset: { field: "fiscalYearStart" } },
        h("legend", {}, "Fiscal year starts"),
        h(
          "div",
          { class: "period-month-day" },
          h("label", { for: fyMonthSelect.id }, h("span", { class: "visually-hidden" }, "Fiscal year start "), "month"),
          fyMonthSelect,
          h("label", { for: fyDaySelect.id }, h("span", { class: "visually-hidden" }, "Fiscal year start "), "day"),
          fyDaySelect,
        ),
        fyHint,
        fyError,
      ),
      value: () => `${fyMonthSelect.value}-${fyDaySelect.value}`,
      setError(message) {
        fyError.textContent = message || "";
        for (const select of [fyMonthSelect, fyDaySelect]) {
          if (message) select.setAttribute("aria-invalid", "true");
          else select.removeAttribute("aria-invalid");
        }
      },
    };
    const weekStart = field({
      label: "Weeks start on",
      name: "weekStart",
      control: h(
        "select",
        { name: "weekStart" },
        WEEKDAYS.map((day) => h("option", { value: day, selected: day === inForce.weekStart }, capitalised(day))),
      ),
    });
    const fields = { kind, startDay, fiscalYearStart, weekStart };

    const preview = h("div", { class: "period-preview", "aria-live": "polite", dataset: { testid: "period-preview" } });
    const status = h("p", { role: "status" });
    const button = h("button", { type: "submit", class: "button primary" }, "Save billing periods");
    const current = h("p", { class: "card-subtitle", dataset: { testid: "period-in-force" } });

    function showInForce(section) {
      const def = periodDefinition(section || {});
      replace(
        current,
        `In force: ${definitionText(def)}`,
        section?.updatedAt ? ` · changed ${dateTime(section.updatedAt)}` : "",
        ".",
      );
    }

    /** The fields as a definition's fields (only those of the kind chosen). */
    function edited() {
      const chosen = kind.control.value;
      if (chosen === MONTHLY) return { kind: chosen, startDay: Number(startDay.control.value) };
      if (FISCAL_PATTERNS[chosen]) {
        return { kind: chosen, fiscalYearStart: fiscalYearStart.value(), weekStart: weekStart.control.value };
      }
      return { kind: chosen };
    }

    function clearErrors() {
      for (const f of Object.values(fields)) f.setError("");
    }

    // What the kind chosen uses is shown; the rest is hidden (and keeps its value).
    function showFields() {
      const chosen = kind.control.value;
      startDay.element.hidden = chosen !== MONTHLY;
      fiscalYearStart.element.hidden = !FISCAL_PATTERNS[chosen];
      weekStart.element.hidden = !FISCAL_PATTERNS[chosen];
    }

    // The current period and the next two under the definition being edited.
    function showPreview() {
      clearErrors();
      let def;
      try {
        def = periodDefinition(edited());
      } catch (error) {
        const name = refusedField(error.message);
        fields[name].setError(REFUSED_TEXT[name] || error.message);
        replace(preview, h("p", { class: "muted" }, "No preview: these settings name no periods."));
        return null;
      }
      const today = knownToday() || saved.current?.start;
      if (!today) {
        replace(preview, h("p", { class: "muted" }, "No preview before the API has said which day it is."));
        return def;
      }
      const rows = using(def, () => {
        const first = monthOf(today);
        return [first, nextMonth(first), nextMonth(nextMonth(first))].map((month) => ({
          month,
          first: firstDay(month),
          last: lastDay(month),
          length: daysInMonth(month),
        }));
      });
      replace(
        preview,
        h(
          "div",
          { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Preview of the periods" },
          h(
            "table",
            { class: "period-table" },
            h("caption", {}, `Preview: ${definitionText(def)}`),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Period", "First day", "Last day", "Length"].map((label) => h("th", { scope: "col" }, label)),
              ),
            ),
            h(
              "tbody",
              {},
              rows.map((row, index) =>
                h(
                  "tr",
                  { dataset: { month: row.month } },
                  h(
                    "th",
                    { scope: "row" },
                    periodLabel(row.month),
                    index === 0 ? h("span", { class: "tag period-now" }, "current") : null,
                  ),
                  h("td", { class: "nowrap", dataset: { value: "first" } }, longDay(row.first)),
                  h("td", { class: "nowrap", dataset: { value: "last" } }, longDay(row.last)),
                  h(
                    "td",
                    { class: "num" },
                    row.length % 7 === 0 && FISCAL_PATTERNS[def.kind]
                      ? `${row.length / 7} weeks`
                      : `${row.length} days`,
                  ),
                ),
              ),
            ),
          ),
        ),
      );
      return def;
    }

    const form = h(
      "form",
      {
        dataset: { testid: "billing-period" },
        novalidate: true,
        onchange() {
          showFields();
          showPreview();
          status.textContent = "";
        },
        oninput() {
          showPreview();
        },
        async onsubmit(event) {
          event.preventDefault();
          status.textContent = "";
          const def = showPreview();
          if (!def) return;
          if (sameDefinition(def, periods())) {
            status.textContent = "Nothing to save: these are the periods in force.";
            return;
          }
          // The last change's recompute is history once this one is sent: never "ready"
          // beside a save still on its way.
          polling = null;
          showRecompute(null);
          await whileBusy(button, "Saving…", async () => {
            try {
              const answer = await api.updateBillingSettings({ period: edited() });
              ctx.learnBillingSettings(answer);
              status.textContent = "Saved. Periods are named as before; their days follow the new definition.";
              showInForce(answer.period);
              showRecompute(answer.period?.recompute);
              if (answer.period?.recompute?.status === "pending") poll(answer.period.recompute.jobId);
            } catch (error) {
              showErrors(error, fields, status);
            }
          });
        },
      },
      h(
        "div",
        { class: "period-edit" },
        h(
          "div",
          { class: "period-fields" },
          kind.element,
          startDay.element,
          fiscalYearStart.element,
          weekStart.element,
        ),
        preview,
      ),
      h(
        "p",
        { class: "notice period-explain" },
        "Changing this recomputes every stored figure from the stored cost records; budgets keep their limit per period; switching back restores the original figures.",
      ),
      h("div", { class: "form-actions" }, button, status),
      recomputeStatus,
    );
    showInForce(saved);
    showFields();
    showPreview();
    showRecompute(saved.recompute);
    if (saved.recompute?.status === "pending") poll(saved.recompute.jobId);
    return [current, form];
  }

  async function load() {
    try {
      const settings = await settingsPromise();
      if (signal.aborted) return;
      const [current, form] = build(settings);
      head.append(current);
      replace(body, form);
    } catch (error) {
      if (signal.aborted) return;
      replace(
        body,
        errorState(
          error,
          () => {
            settingsPromise = () =>
              api.billingSettings().then((settings) => {
                ctx.learnBillingSettings(settings);
                return settings;
              });
            load();
          },
          "the billing periods",
        ),
      );
    }
  }
  const head = h("div", { class: "card-head" }, h("h2", { id: "periods-title" }, "Billing period"));
  load();
  return h(
    "section",
    { class: "card span-12 period-card", "aria-labelledby": "periods-title", dataset: { testid: "period-card" } },
    head,
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
              h("strong", {}, `1 ${r.base} = ${decimal(r.rate)} ${r.quote}`),
              ` · rate of ${longDay(r.rateDate)} · ${r.source}`,
              r.fallback ? h("span", { class: "muted" }, " (no rate that day: the latest earlier one)") : "",
            ),
          );
        } catch (error) {
          replace(answer, h("p", { class: "field-error", role: "alert" }, error.message));
        }
      },
    },
    field({ label: "Day (UTC)", name: "date", control: day }).element,
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
      label: "Day (UTC)",
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
            status.textContent = `Added: 1 ${made.base} = ${decimal(made.rate)} ${made.quote} on ${longDay(made.date)}.`;
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
  // One fresh GET /api/settings/billing for the two cards that show it (its periods in force
  // for the whole page too); a card's retry asks again.
  const fresh = api.billingSettings().then((settings) => {
    ctx.learnBillingSettings(settings);
    return settings;
  });
  fresh.catch(() => {});
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
      settingsCard(ctx, () => fresh),
      inForceCard(api),
      periodCard(ctx, () => fresh, signal),
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
              ["Day (UTC)", "Pair", "Rate", "Source", "Entered by"].map((label) => h("th", { scope: "col" }, label)),
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
                h("td", { class: "num" }, decimal(r.rate)),
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
