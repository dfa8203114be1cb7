// Invoice templates (invoices:templates: finance and admins). #/templates lists the
// organisation's template and the teams'; #/templates/<id> edits one (#/templates/new makes
// one) beside a live preview: a sample invoice (never anyone's data) rendered by the API as a
// PDF from the form as it stands, shown from a blob: URL (the CSP's frame-src allows blob:
// only). Every save is a new version; a save over a newer version is the API's 409, shown
// with a reload button. The API's field errors appear next to their fields.

import { isForbidden, noAccessPage } from "./noaccess.js";
import { announce, emptyState, errorState, field, h, replace, skeleton, whileBusy } from "../dom.js";

const COLUMNS = [
  ["service", "Service"],
  ["resource", "Resource"],
  ["quantity", "Usage"],
  ["unit", "Unit"],
  ["amount", "Amount"],
];
const COLOURS = [
  ["accent", "Accent", "#2457c5"],
  ["text", "Text", "#18202e"],
  ["muted", "Muted text", "#535e70"],
  ["heading_fill", "Table heading", "#e3ebfb"],
  ["total_fill", "Total row", "#e3ebfb"],
];
const LANGUAGES = [
  ["en", "English"],
  ["de", "Deutsch"],
  ["fr", "Français"],
];
const PLACEHOLDERS = "{{ number }}, {{ period }}, {{ subject }}, {{ totals }}, {{ issued }}, {{ organisation }}";
const PREVIEW_DELAY_MS = 700;
const LOGO_MAX_BYTES = 100 * 1024;

function scopeLabel(template) {
  return template.teamId ? `Team ${template.teamId}` : "Organisation (default)";
}

function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)),
  );
}

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

export function templatesView(view) {
  const { ctx, container, signal, path } = view;
  const { api } = ctx;
  const target = path[0];
  if (target) return editorView(view, target);
  const list = h("div", { class: "template-list", "aria-live": "polite" }, skeleton(4, "Loading templates"));
  replace(
    container,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, "Invoice templates"),
        h(
          "p",
          {},
          "How invoices look: logo, colours, your header, footer and terms, numbering, columns and the language of the fixed words. A team's template wins for its members; every save is a new version, and each invoice keeps the version it was made with.",
        ),
      ),
      h(
        "div",
        { class: "summary-actions" },
        h(
          "a",
          { class: "button primary", href: "#/templates/new", dataset: { testid: "new-template" } },
          "New template",
        ),
      ),
    ),
    list,
  );

  async function load() {
    try {
      const { items } = await api.invoiceTemplates();
      if (signal.aborted) return;
      if (!items.length) {
        replace(
          list,
          emptyState(
            "No templates yet",
            "Invoices use the plain layout and INV- numbers until the organisation has a template.",
          ),
        );
        return;
      }
      replace(
        list,
        items.map((t) =>
          h(
            "section",
            { class: "card template-card", dataset: { template: t.templateId } },
            h(
              "div",
              { class: "card-head" },
              h("h2", {}, t.name, " ", h("span", { class: "tag" }, `v${t.version}`)),
              h("p", {}, scopeLabel(t)),
            ),
            h(
              "dl",
              { class: "facts" },
              h("dt", {}, "Language"),
              h("dd", {}, LANGUAGES.find(([code]) => code === t.language)?.[1] || t.language),
              h("dt", {}, "Numbering"),
              h("dd", {}, t.numberPrefix ? `${t.numberPrefix}YYYY-00001` : "INV-YYYYMM-…"),
              h("dt", {}, "Logo"),
              h("dd", {}, t.hasLogo ? "Yes" : "None"),
            ),
            h(
              "div",
              { class: "summary-actions" },
              h("a", { class: "button", href: `#/templates/${encodeURIComponent(t.templateId)}` }, `Edit ${t.name}`),
            ),
          ),
        ),
      );
    } catch (error) {
      if (signal.aborted) return;
      if (isForbidden(error)) noAccessPage(container, { title: "Invoice templates", permission: "invoices:templates" });
      else replace(list, errorState(error, load, "the templates"));
    }
  }
  load();
}

function editorView(view, target) {
  const { ctx, container, signal } = view;
  const { api } = ctx;
  const isNew = target === "new";
  const state = { template: null, logo: null, previewUrl: null, timer: null, seq: 0 };
  replace(container, skeleton(8, "Loading the template"));
  signal.addEventListener("abort", () => {
    clearTimeout(state.timer);
    if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
  });

  async function start() {
    let teams = [];
    try {
      if (!isNew) state.template = await api.invoiceTemplate(target);
      else teams = (await api.teams()).items || [];
    } catch (error) {
      if (signal.aborted) return;
      if (isForbidden(error)) noAccessPage(container, { title: "Invoice templates", permission: "invoices:templates" });
      else replace(container, errorState(error, start, "the template"));
      return;
    }
    if (!signal.aborted) build(teams);
  }

  function build(teams) {
    const t = state.template || {
      name: "",
      language: "en",
      colours: {},
      header: "",
      footer: "",
      terms: "",
      numberPrefix: null,
      columns: COLUMNS.map(([key]) => key),
      logo: null,
    };
    state.logo = t.logo ? t.logo.data : null;
    const name = field({
      label: "Name",
      name: "name",
      control: h("input", { type: "text", name: "name", value: t.name }),
    });
    const scope = isNew
      ? field({
          label: "For",
          name: "teamId",
          hint: "The organisation's template is every invoice's default; a team's wins for its members.",
          control: select(
            "teamId",
            [["", "The organisation"], ...teams.map((team) => [team.teamId, `Team ${team.name}`])],
            "",
          ),
        })
      : null;
    const language = field({
      label: "Language of the fixed words",
      name: "language",
      control: select("language", LANGUAGES, t.language),
    });
    const prefix = field({
      label: "Number prefix",
      name: "numberPrefix",
      hint: "e.g. ACME- numbers invoices ACME-2026-00001 (a sequence per year). Empty: INV-YYYYMM-….",
      control: h("input", { type: "text", name: "numberPrefix", value: t.numberPrefix || "", autocomplete: "off" }),
    });
    const texts = ["header", "footer", "terms"].map((key) => {
      const control = h("textarea", { name: key, rows: key === "terms" ? "3" : "2" });
      control.value = t[key] || "";
      return field({
        label: key[0].toUpperCase() + key.slice(1),
        name: key,
        hint: key === "header" ? `Text, with placeholders such as ${PLACEHOLDERS}.` : null,
        control,
      });
    });
    const colourInputs = COLOURS.map(([key, label, fallback]) => {
      const input = h("input", { type: "color", name: `colour-${key}`, value: t.colours[key] || fallback });
      input.dataset.changed = t.colours[key] ? "true" : "";
      input.addEventListener("input", () => (input.dataset.changed = "true"));
      return [key, field({ label, name: `colours.${key}`, control: input })];
    });
    const columnBoxes = COLUMNS.map(([key, label]) => {
      const box = h("input", {
        type: "checkbox",
        name: "columns",
        value: key,
        id: `column-${key}`,
        checked: t.columns.includes(key),
        disabled: key === "amount",
      });
      return h("div", { class: "field-check" }, box, h("label", { for: box.id }, label));
    });
    const columnsError = h("p", { class: "field-error", dataset: { field: "columns" } });
    const logoInput = h("input", { type: "file", name: "logo", accept: "image/png,image/jpeg" });
    const logoState = h(
      "span",
      { class: "muted", dataset: { testid: "logo-state" } },
      state.logo ? "A logo is set." : "No logo.",
    );
    const removeLogo = h(
      "button",
      {
        type: "button",
        class: "button small",
        onclick: () => {
          state.logo = null;
          logoInput.value = "";
          logoState.textContent = "No logo.";
          schedulePreview();
        },
      },
      "Remove logo",
    );
    const logo = field({ label: "Logo (PNG or JPEG, up to 100 KiB)", name: "logo", control: logoInput });
    logoInput.addEventListener("change", async () => {
      const file = logoInput.files[0];
      if (!file) return;
      if (file.size > LOGO_MAX_BYTES) {
        logo.setError("The logo is over 100 KiB.");
        return;
      }
      logo.setError("");
      state.logo = await base64Of(file);
      logoState.textContent = `${file.name} (${Math.ceil(file.size / 1024)} KiB).`;
      schedulePreview();
    });

    const fields = {
      name,
      teamId: scope,
      language,
      numberPrefix: prefix,
      header: texts[0],
      footer: texts[1],
      terms: texts[2],
      logo,
      ...Object.fromEntries(colourInputs.map(([key, f]) => [`colours.${key}`, f])),
    };
    const formError = h("p", { class: "form-error", role: "alert", dataset: { testid: "form-error" } });
    const previewFrame = h("iframe", { class: "template-preview-frame", title: "Preview of a sample invoice" });
    const previewStatus = h(
      "p",
      { class: "muted", "aria-live": "polite", dataset: { testid: "preview-status" } },
      "Preparing the preview…",
    );
    const previewLink = h(
      "a",
      { class: "button small", download: "invoice-preview.pdf", hidden: true },
      "Download the preview",
    );
    const save = h(
      "button",
      { type: "submit", class: "button primary", dataset: { testid: "save-template" } },
      isNew ? "Create template" : "Save as a new version",
    );

    function body() {
      const colours = {};
      for (const [key, f] of colourInputs) if (f.control.dataset.changed) colours[key] = f.control.value;
      const out = {
        name: name.control.value.trim(),
        language: language.control.value,
        colours,
        header: texts[0].control.value,
        footer: texts[1].control.value,
        terms: texts[2].control.value,
        numberPrefix: prefix.control.value.trim() || null,
        columns: columnBoxes
          .map((c) => c.querySelector("input"))
          .filter((b) => b.checked)
          .map((b) => b.value),
        logo: state.logo,
      };
      return out;
    }

    function clearErrors() {
      formError.textContent = "";
      columnsError.textContent = "";
      for (const f of Object.values(fields)) f?.setError("");
    }

    function showProblem(error, where = formError) {
      const messages = error.fieldErrors || {};
      let shown = false;
      for (const [key, message] of Object.entries(messages)) {
        if (key === "columns" || key.startsWith("columns")) {
          columnsError.textContent = message;
          shown = true;
        } else if (fields[key]) {
          fields[key].setError(message);
          shown = true;
        } else if (fields[key.split(/[.[]/)[0]]) {
          fields[key.split(/[.[]/)[0]].setError(message);
          shown = true;
        }
      }
      if (!shown) where.textContent = error.message;
    }

    async function refreshPreview() {
      const mine = ++state.seq;
      previewStatus.textContent = "Rendering the preview…";
      try {
        const pdf = await api.previewInvoiceTemplate(isNew ? "org" : target, body());
        if (signal.aborted || mine !== state.seq) return;
        clearErrors();
        if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
        state.previewUrl = URL.createObjectURL(pdf);
        previewFrame.src = state.previewUrl;
        previewLink.href = state.previewUrl;
        previewLink.hidden = false;
        previewStatus.textContent = `A sample invoice (made-up figures), ${Math.ceil(pdf.size / 1024)} KiB.`;
      } catch (error) {
        if (signal.aborted || mine !== state.seq) return;
        previewStatus.textContent = "The preview shows the last valid form: fix the fields marked.";
        showProblem(error, previewStatus);
      }
    }

    function schedulePreview() {
      clearTimeout(state.timer);
      state.timer = setTimeout(refreshPreview, PREVIEW_DELAY_MS);
    }

    const form = h(
      "form",
      {
        class: "card template-form",
        novalidate: true,
        dataset: { testid: "template-form" },
        oninput: schedulePreview,
        onchange: schedulePreview,
        async onsubmit(event) {
          event.preventDefault();
          clearErrors();
          if (!name.control.value.trim()) {
            name.setError("Enter a name.");
            name.control.focus();
            return;
          }
          await whileBusy(save, "Saving…", async () => {
            try {
              let saved;
              if (isNew) saved = await api.createInvoiceTemplate({ ...body(), teamId: scope.control.value || null });
              else saved = await api.updateInvoiceTemplate(target, { ...body(), version: state.template.version });
              announce(`Template ${saved.name} saved as version ${saved.version}.`);
              window.location.hash = `#/templates/${encodeURIComponent(saved.templateId)}`;
              if (!isNew) {
                state.template = saved;
                versionLine.textContent = versionText(saved);
              }
            } catch (error) {
              if (error.status === 409) {
                replace(
                  formError,
                  error.message,
                  " ",
                  h(
                    "button",
                    { type: "button", class: "button small", onclick: () => start() },
                    "Reload the latest version",
                  ),
                );
              } else showProblem(error);
            }
          });
        },
      },
      formError,
      name.element,
      scope ? scope.element : null,
      language.element,
      prefix.element,
      ...texts.map((f) => f.element),
      h(
        "fieldset",
        { class: "template-colours" },
        h("legend", {}, "Colours"),
        colourInputs.map(([, f]) => f.element),
      ),
      h(
        "fieldset",
        { class: "template-columns", dataset: { field: "columns" } },
        h("legend", {}, "Table columns"),
        columnBoxes,
        columnsError,
      ),
      logo.element,
      h("div", { class: "summary-actions" }, logoState, removeLogo),
      h(
        "div",
        { class: "dialog-actions" },
        h("a", { class: "button", href: "#/templates" }, "Back to templates"),
        save,
      ),
    );

    function versionText(saved) {
      return `Version ${saved.version}, saved ${saved.createdAt.slice(0, 10)}. Earlier versions stay as they were: each invoice keeps the one it was made with.`;
    }
    const versionLine = h(
      "p",
      { dataset: { testid: "template-version" } },
      state.template ? versionText(state.template) : "",
    );

    replace(
      container,
      h(
        "div",
        { class: "page-head" },
        h(
          "div",
          {},
          h("h1", {}, isNew ? "New invoice template" : `${t.name}`),
          h("p", {}, isNew ? "Made as version 1." : scopeLabel(state.template)),
          versionLine,
        ),
      ),
      h(
        "div",
        { class: "template-editor" },
        form,
        h(
          "section",
          { class: "card template-preview", "aria-labelledby": "template-preview-title" },
          h("div", { class: "card-head" }, h("h2", { id: "template-preview-title" }, "Preview")),
          previewStatus,
          previewFrame,
          h("div", { class: "summary-actions" }, previewLink),
        ),
      ),
    );
    refreshPreview();
  }
  start();
}
