// Tax rules (tax:read; tax:write to change: finance and admins). Every rule with its dates,
// ended ones too (rules are never edited or deleted, only ended, so an old invoice is taxed
// again as it was); "Add rule" and "End rule" for whoever may change them; and the two
// settings (what AWS's own tax lines become, where tax is rounded). The API validates: its
// problem's field errors appear next to the field, anything else above the form.

import { isForbidden, noAccessPage } from "./noaccess.js";
import { announce, emptyState, errorState, field, h, openDialog, replace, skeleton, whileBusy } from "../dom.js";
import { firstDay, monthOf } from "../calendar.js";
import { longDay, share } from "../format.js";

const TREATMENTS = {
  standard: "Standard",
  "zero-rated": "Zero-rated",
  exempt: "Exempt",
};
const MODES = {
  add: "Add on top of AWS's own tax lines",
  replace: "Replace AWS's own tax lines",
};
const ROUNDINGS = {
  total: "Per rate total (half up)",
  line: "Per invoice line (half up)",
};

/** A rule's state on `today` (YYYY-MM-DD): "in force", "ended" or "upcoming". */
export function ruleStatus(rule, today) {
  if (rule.effectiveFrom > today) return "upcoming";
  if (rule.effectiveTo && rule.effectiveTo <= today) return "ended";
  return "in force";
}

/** "org" -> "Organisation"; "team:payments" -> the team's name; "costCenter:CC-1" -> "Cost center CC-1". */
export function unitLabel(unit, teams = []) {
  if (unit === "org") return "Organisation";
  const [kind, ...rest] = unit.split(":");
  const id = rest.join(":");
  if (kind === "team") {
    const team = teams.find((t) => t.teamId === id);
    if (!team) return `Team ${id}`;
    return `${team.kind === "department" ? "Department" : "Team"} ${team.name}`;
  }
  return `Cost center ${id}`;
}

/** The last day a rule taxes, from its exclusive end: "2027-01-01" -> "2026-12-31". */
export function lastDay(effectiveTo) {
  if (!effectiveTo) return null;
  const day = new Date(`${effectiveTo}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - 1);
  return day.toISOString().slice(0, 10);
}

/** The API's field name of a problem's error ("body.rate" or "rate") -> "rate". */
export function fieldName(key) {
  const parts = key.split(".");
  return parts[parts.length - 1];
}

/** Puts a problem's field errors next to their fields; the rest above the form. */
function showProblem(error, fields, formError) {
  const messages = error.fieldErrors || {};
  const others = [];
  for (const [key, message] of Object.entries(messages)) {
    const target = fields[fieldName(key)];
    if (target) target.setError(message);
    else others.push(message);
  }
  if (!Object.keys(messages).length || others.length) formError.textContent = others.join(" ") || error.message;
}

function select(name, options, chosen) {
  return h(
    "select",
    { name },
    Object.entries(options).map(([value, text]) => h("option", { value, selected: value === chosen }, text)),
  );
}

/** The "Add tax rule" form; resolves the created rule, or null when cancelled. */
export function openRuleForm({ api, teams, today }) {
  const unitOptions = { org: "Organisation" };
  for (const team of teams) unitOptions[`team:${team.teamId}`] = unitLabel(`team:${team.teamId}`, teams);
  unitOptions.costCenter = "A cost center…";
  const fields = {
    name: field({ label: "Name", name: "name", control: h("input", { type: "text", name: "name", value: "VAT" }) }),
    jurisdiction: field({
      label: "Jurisdiction",
      name: "jurisdiction",
      hint: "A country or region code: DE, AT, US-NY.",
      control: h("input", { type: "text", name: "jurisdiction", autocomplete: "off" }),
    }),
    rate: field({
      label: "Rate (%)",
      name: "rate",
      hint: "0 to 100, up to four decimals. 0 for a zero-rated or exempt unit.",
      control: h("input", { type: "text", name: "rate", inputmode: "decimal", autocomplete: "off" }),
    }),
    unit: field({
      label: "Applies to",
      name: "unit",
      hint: "A unit's own rules replace the organisation's for it; a department's cover its teams.",
      control: select("unit", unitOptions, "org"),
    }),
    costCenter: field({
      label: "Cost center",
      name: "costCenter",
      control: h("input", { type: "text", name: "costCenter", autocomplete: "off" }),
    }),
    treatment: field({ label: "Treatment", name: "treatment", control: select("treatment", TREATMENTS, "standard") }),
    reason: field({
      label: "Reason (zero-rated or exempt)",
      name: "reason",
      hint: "Printed on the invoice, e.g. \u201cExport of services\u201d.",
      control: h("input", { type: "text", name: "reason", autocomplete: "off" }),
    }),
    effectiveFrom: field({
      label: "First day (UTC)",
      name: "effectiveFrom",
      control: h("input", { type: "date", name: "effectiveFrom", value: firstDay(monthOf(today)) }),
    }),
    effectiveTo: field({
      label: "Ends on (UTC, optional)",
      name: "effectiveTo",
      hint: "The first day it no longer taxes. Leave empty until it ends.",
      control: h("input", { type: "date", name: "effectiveTo" }),
    }),
  };
  const showCostCenter = () => {
    fields.costCenter.element.hidden = fields.unit.control.value !== "costCenter";
  };
  fields.unit.control.addEventListener("change", showCostCenter);
  showCostCenter();
  const formError = h("p", { class: "form-error", role: "alert", dataset: { testid: "form-error" } });
  const save = h("button", { type: "submit", class: "button primary" }, "Add rule");

  const { done } = openDialog({
    title: "Add a tax rule",
    className: "dialog-wide",
    build: (close) =>
      h(
        "form",
        {
          novalidate: true,
          dataset: { testid: "tax-rule-form" },
          async onsubmit(event) {
            event.preventDefault();
            formError.textContent = "";
            for (const f of Object.values(fields)) f.setError("");
            const value = (name) => fields[name].control.value.trim();
            let unit = fields.unit.control.value;
            if (unit === "costCenter") {
              if (!value("costCenter")) {
                fields.costCenter.setError("Enter the cost center.");
                fields.costCenter.control.focus();
                return;
              }
              unit = `costCenter:${value("costCenter")}`;
            }
            const body = {
              name: value("name"),
              jurisdiction: value("jurisdiction"),
              rate: value("rate"),
              unit,
              effectiveFrom: value("effectiveFrom"),
              treatment: fields.treatment.control.value,
            };
            if (value("effectiveTo")) body.effectiveTo = value("effectiveTo");
            if (value("reason")) body.reason = value("reason");
            await whileBusy(save, "Adding…", async () => {
              try {
                const made = await api.createTaxRule(body);
                announce(`Tax rule ${made.name} ${made.jurisdiction} added.`);
                close(made);
              } catch (error) {
                showProblem(error, { ...fields, unit: fields.unit }, formError);
              }
            });
          },
        },
        formError,
        h(
          "div",
          { class: "tax-form-grid" },
          Object.values(fields).map((f) => f.element),
        ),
        h(
          "div",
          { class: "dialog-actions" },
          h("button", { type: "button", class: "button", onclick: () => close(null) }, "Cancel"),
          save,
        ),
      ),
  });
  fields.jurisdiction.control.focus();
  return done.then((value) => value || null);
}

/** The "End rule" form; resolves the ended rule, or null when cancelled. */
export function openEndForm({ api, rule, today }) {
  const when = field({
    label: "First day it no longer taxes (UTC)",
    name: "effectiveTo",
    hint: "Today or later: the past stays as invoiced. To change a rate, end the rule and add a new one from the same day.",
    control: h("input", { type: "date", name: "effectiveTo", min: today, value: today }),
  });
  const formError = h("p", { class: "form-error", role: "alert" });
  const save = h("button", { type: "submit", class: "button primary danger" }, "End rule");
  const { done } = openDialog({
    title: `End ${rule.name} ${rule.jurisdiction} (${share(rule.rate)})`,
    build: (close) =>
      h(
        "form",
        {
          novalidate: true,
          dataset: { testid: "tax-end-form" },
          async onsubmit(event) {
            event.preventDefault();
            formError.textContent = "";
            when.setError("");
            await whileBusy(save, "Ending…", async () => {
              try {
                const ended = await api.endTaxRule(rule.ruleId, when.control.value);
                announce(`Tax rule ${ended.name} ${ended.jurisdiction} ends on ${longDay(ended.effectiveTo)}.`);
                close(ended);
              } catch (error) {
                showProblem(error, { effectiveTo: when }, formError);
              }
            });
          },
        },
        formError,
        when.element,
        h(
          "div",
          { class: "dialog-actions" },
          h("button", { type: "button", class: "button", onclick: () => close(null) }, "Cancel"),
          save,
        ),
      ),
  });
  when.control.focus();
  return done.then((value) => value || null);
}

function settingsCard({ api, writable, signal }) {
  const body = h("div", { class: "card-body", "aria-live": "polite" }, skeleton(2, "Loading the tax settings"));
  const element = h(
    "section",
    { class: "card span-12", "aria-labelledby": "tax-settings-title", dataset: { testid: "tax-settings" } },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "tax-settings-title" }, "Settings"),
      h(
        "p",
        { class: "card-subtitle" },
        "Tax is rounded half up to the currency's smallest unit, as tax authorities do. AWS's own tax lines are never taxed again.",
      ),
    ),
    body,
  );
  let etag = null;

  function show(settings) {
    const mode = field({ label: "AWS's own tax lines", name: "mode", control: select("mode", MODES, settings.mode) });
    const rounding = field({
      label: "Rounding",
      name: "rounding",
      control: select("rounding", ROUNDINGS, settings.rounding),
    });
    const formError = h("p", { class: "form-error", role: "alert" });
    const status = h("p", { class: "muted", dataset: { testid: "tax-settings-status" } });
    if (!writable) {
      mode.control.disabled = true;
      rounding.control.disabled = true;
    }
    const save = writable ? h("button", { type: "submit", class: "button primary" }, "Save settings") : null;
    replace(
      body,
      h(
        "form",
        {
          class: "tax-settings-form",
          novalidate: true,
          async onsubmit(event) {
            event.preventDefault();
            formError.textContent = "";
            await whileBusy(save, "Saving…", async () => {
              try {
                const saved = await api.updateTaxSettings(
                  { mode: mode.control.value, rounding: rounding.control.value },
                  etag,
                );
                etag = saved.etag;
                status.textContent = "Saved. Invoices and statements made from now on follow these settings.";
                announce("Tax settings saved.");
              } catch (error) {
                showProblem(error, { mode, rounding }, formError);
              }
            });
          },
        },
        formError,
        h("div", { class: "tax-settings-fields" }, mode.element, rounding.element),
        save ? h("div", { class: "summary-actions" }, save) : null,
        status,
      ),
    );
  }

  async function load() {
    try {
      const found = await api.taxSettings();
      if (signal.aborted) return;
      etag = found.etag;
      show(found.settings);
    } catch (error) {
      if (!signal.aborted) replace(body, errorState(error, load, "the tax settings"));
    }
  }
  return { element, load };
}

export function taxView(view) {
  const { ctx, container, signal } = view;
  const { api } = ctx;
  const writable = ctx.access().can("tax:write", "org");
  const list = h("div", { class: "card-body", "aria-live": "polite" }, skeleton(4, "Loading the tax rules"));
  const state = { items: [], teams: [], today: null };
  const addButton = writable
    ? h(
        "button",
        { type: "button", class: "button primary", dataset: { testid: "new-tax-rule" }, onclick: () => add() },
        "Add rule",
      )
    : null;
  const settings = settingsCard({ api, writable, signal });
  replace(
    container,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, "Tax"),
        h(
          "p",
          {},
          "Tax rules put tax on internal invoices and chargeback statements: a rate per jurisdiction for the organisation, a team or department, or a cost center, from one day to another. Each day is taxed at the rate in force that day.",
        ),
      ),
      addButton ? h("div", { class: "summary-actions" }, addButton) : null,
    ),
    h(
      "div",
      { class: "grid" },
      h(
        "section",
        { class: "card span-12", "aria-labelledby": "tax-rules-title" },
        h(
          "div",
          { class: "card-head" },
          h("h2", { id: "tax-rules-title" }, "Rules"),
          h(
            "p",
            { class: "card-subtitle" },
            "Rules are ended, never deleted, so an old invoice is taxed again exactly as it was.",
          ),
        ),
        list,
      ),
      settings.element,
    ),
  );

  async function add() {
    const made = await openRuleForm({ api, teams: state.teams, today: state.today });
    if (made && !signal.aborted) await load();
  }

  async function end(rule) {
    const ended = await openEndForm({ api, rule, today: state.today });
    if (ended && !signal.aborted) await load();
  }

  function row(rule) {
    const status = ruleStatus(rule, state.today);
    const until = lastDay(rule.effectiveTo);
    const canEnd = writable && status !== "ended";
    return h(
      "tr",
      { dataset: { rule: rule.ruleId, status } },
      h("th", { scope: "row", class: "tax-name" }, `${rule.name} ${rule.jurisdiction}`),
      h("td", { class: "numeric" }, share(rule.rate)),
      h("td", {}, unitLabel(rule.unit, state.teams)),
      h(
        "td",
        {},
        TREATMENTS[rule.treatment] || rule.treatment,
        rule.reason ? h("small", { class: "muted tax-reason" }, ` ${rule.reason}`) : null,
      ),
      h("td", {}, longDay(rule.effectiveFrom)),
      h("td", {}, until ? longDay(until) : "Until ended"),
      h("td", {}, h("span", { class: `tag ${status === "in force" ? "tag-final" : "tag-quiet"}` }, status)),
      writable
        ? h(
            "td",
            {},
            canEnd
              ? h(
                  "button",
                  {
                    type: "button",
                    class: "button small",
                    // The visible words first (WCAG 2.5.3, label in name), then which rule.
                    "aria-label": `End rule ${rule.name} ${rule.jurisdiction} for ${unitLabel(rule.unit, state.teams)}`,
                    onclick: () => end(rule),
                  },
                  "End rule",
                )
              : null,
          )
        : null,
    );
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const [data, teams, today] = await Promise.all([
        api.taxRules(),
        api.teams().catch(() => ({ items: [] })),
        ctx.today(),
      ]);
      if (signal.aborted) return;
      state.items = data.items || [];
      state.teams = teams.items || [];
      state.today = today;
      replace(
        list,
        state.items.length
          ? h(
              "div",
              { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Tax rules" },
              h(
                "table",
                { dataset: { testid: "tax-rules" } },
                h("caption", { class: "visually-hidden" }, "Every tax rule with its dates"),
                h(
                  "thead",
                  {},
                  h(
                    "tr",
                    {},
                    h("th", { scope: "col" }, "Tax"),
                    h("th", { scope: "col", class: "numeric" }, "Rate"),
                    h("th", { scope: "col" }, "Applies to"),
                    h("th", { scope: "col" }, "Treatment"),
                    h("th", { scope: "col" }, "From"),
                    h("th", { scope: "col" }, "Last day"),
                    h("th", { scope: "col" }, "Status"),
                    writable ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")) : null,
                  ),
                ),
                h("tbody", {}, state.items.map(row)),
              ),
            )
          : emptyState(
              "No tax rules.",
              "Invoices and statements carry AWS's own tax lines only until a rule is added.",
            ),
      );
    } catch (error) {
      if (signal.aborted) return;
      if (isForbidden(error)) {
        noAccessPage(container, { title: "Tax", permission: "tax:read", username: view.user.username });
        return;
      }
      replace(list, errorState(error, load, "the tax rules"));
    } finally {
      list.removeAttribute("aria-busy");
    }
  }
  return Promise.all([load(), settings.load()]);
}
