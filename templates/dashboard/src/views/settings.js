// Settings: how Tally tells the caller about their costs. Email alerts on or off, the alert
// threshold (the budget's, kept in one place: without a budget there is none to set), the
// digest's cadence, and a Slack or Teams webhook (the API keeps the URL sealed and shows only
// a hint of it). Every change is sent with If-Match (the ETag of the last read), so an older
// page never overwrites a newer change: on 409 the form shows the latest values. The API's
// field errors (problem.errors[].field) are shown next to their field.

import { CURRENCIES } from "../currency.js";
import { announce, confirmDialog, field, h, replace, skeleton, whileBusy } from "../dom.js";
import { longDay } from "../format.js";

const DIGESTS = [
  ["off", "Off", "No digest."],
  ["daily", "Daily", "Yesterday's costs and the month so far, each morning."],
  ["weekly", "Weekly", "The past week's costs and the month so far, once a week."],
];
const FLAVOURS = { slack: "Slack", teams: "Microsoft Teams", generic: "a generic webhook" };
const SUPPRESSION = {
  bounce: "messages to it could not be delivered (they bounced)",
  complaint: "a message from Tally was reported as spam from it",
};
const CHANGED_ELSEWHERE =
  "Your settings were changed elsewhere since this page read them. It now shows the latest values: check them and save again.";

export async function settingsView(view) {
  const { ctx, container, signal } = view;
  const emailBody = h("div", { class: "card-body" }, skeleton(5, "Loading your settings"));
  const webhookBody = h("div", { class: "card-body" }, skeleton(2, "Loading your webhook"));
  const currencyBody = h("div", { class: "card-body" }, skeleton(1, "Loading your display currency"));
  replace(
    container,
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, "Settings"),
        h("p", {}, "How Tally tells you about your costs. Notifications under the bell are always on."),
      ),
    ),
    h(
      "div",
      { class: "grid settings-grid" },
      h(
        "section",
        { class: "card span-7", "aria-labelledby": "settings-email-title", "aria-busy": "true" },
        h("div", { class: "card-head" }, h("h2", { id: "settings-email-title" }, "Alerts and digest")),
        emailBody,
      ),
      h(
        "section",
        { class: "card span-5", "aria-labelledby": "settings-webhook-title", "aria-busy": "true" },
        h("div", { class: "card-head" }, h("h2", { id: "settings-webhook-title" }, "Chat webhook")),
        webhookBody,
      ),
      h(
        "section",
        { class: "card span-7", "aria-labelledby": "settings-currency-title", "aria-busy": "true" },
        h("div", { class: "card-head" }, h("h2", { id: "settings-currency-title" }, "Display currency")),
        currencyBody,
      ),
    ),
  );

  // What the API said last, and the ETag that guards the next change.
  const state = { preferences: null, etag: null };
  let emailForm = null;
  let webhookPart = null;

  async function read() {
    const { preferences, etag } = await ctx.api.preferences();
    state.preferences = preferences;
    state.etag = etag;
    return preferences;
  }

  /** PUT `changes`; on 409 reads again and rethrows for the caller to say so. */
  async function save(changes) {
    try {
      const { preferences, etag } = await ctx.api.updatePreferences(changes, state.etag);
      state.preferences = preferences;
      state.etag = etag;
      return preferences;
    } catch (error) {
      if (error.status === 409 || error.status === 412) {
        await read().catch(() => {});
        emailForm?.fill(state.preferences);
        webhookPart?.show(state.preferences);
      }
      throw error;
    }
  }

  try {
    await read();
  } catch (error) {
    if (signal.aborted) return;
    for (const body of [emailBody, webhookBody, currencyBody]) {
      replace(
        body,
        h(
          "div",
          { class: "state state-error", role: "alert" },
          h("p", { class: "state-title" }, "Could not load your settings."),
          h("p", { class: "state-text" }, error.message),
          h("button", { type: "button", class: "button", onclick: () => settingsView(view) }, "Try again"),
        ),
      );
    }
    return;
  } finally {
    for (const card of container.querySelectorAll("section.card")) card.removeAttribute("aria-busy");
  }
  if (signal.aborted) return;
  emailForm = emailSettings({ state, save });
  replace(emailBody, emailForm.element);
  webhookPart = webhookSettings({ api: ctx.api, state, save, signal });
  replace(webhookBody, webhookPart.element);
  replace(currencyBody, currencySettings({ state, save }));
}

/** The currency my figures are shown in (issue 17): mine, or the organisation's when unset. */
function currencySettings({ state, save }) {
  const select = h(
    "select",
    { name: "displayCurrency" },
    h("option", { value: "" }, "The organisation's"),
    CURRENCIES.map((c) => h("option", { value: c, selected: c === state.preferences.displayCurrency }, c)),
  );
  const choice = field({
    label: "Show my figures also in",
    name: "displayCurrency",
    hint: "Converted day by day at each day's rate, beside the billed figures (which never change).",
    control: select,
  });
  const status = h("p", { role: "status" });
  const button = h("button", { type: "submit", class: "button" }, "Save");
  return h(
    "form",
    {
      dataset: { testid: "display-currency" },
      async onsubmit(event) {
        event.preventDefault();
        choice.setError("");
        status.textContent = "";
        await whileBusy(button, "Saving…", async () => {
          try {
            await save({ displayCurrency: select.value || null });
            status.textContent = "Saved.";
          } catch (error) {
            choice.setError(error.fieldErrors?.displayCurrency || error.message);
          }
        });
      },
    },
    choice.element,
    h("div", { class: "form-actions" }, button, status),
  );
}

/** Puts the API's field errors next to their field; returns the messages left over. */
function showFieldErrors(error, fields) {
  const rest = [];
  let first = null;
  for (const [name, message] of Object.entries(error.fieldErrors || {})) {
    if (fields[name]) {
      fields[name].setError(message);
      first = first || fields[name].control;
    } else {
      rest.push(message);
    }
  }
  if (first) first.focus();
  return first ? rest : rest.length ? rest : [error.message];
}

function suppressionNotice(suppressed, resume) {
  if (!suppressed) return null;
  const why = SUPPRESSION[suppressed.reason] || "email to it failed";
  const since = suppressed.since ? ` on ${longDay(suppressed.since.slice(0, 10))}` : "";
  const address = suppressed.address ? ` to ${suppressed.address}` : "";
  return h(
    "div",
    { class: "notice notice-warn", role: "note", dataset: { testid: "email-suppressed" } },
    h("p", { class: "notice-heading" }, "Tally has stopped emailing you."),
    h(
      "p",
      {},
      `Email${address} stopped${since} because ${why}. Your alerts still appear under the bell. Once your mailbox is fixed, ask for email again.`,
    ),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "button", class: "button small", onclick: resume }, "My mailbox is fixed: email me again"),
    ),
  );
}

function emailSettings({ state, save }) {
  const emailAlerts = field({
    label: "Email me budget alerts",
    name: "emailAlerts",
    hint: "When this month's costs reach your threshold, pass your budget, or are forecast to.",
    control: h("input", { type: "checkbox", name: "emailAlerts" }),
  });
  emailAlerts.element.classList.add("field-check");

  const slider = h("input", { type: "range", min: "0", max: "100", step: "1", name: "alertThreshold" });
  const output = h("output", { "aria-hidden": "true", dataset: { testid: "threshold-value" } });
  const threshold = field({
    label: "Alert threshold",
    name: "alertThreshold",
    hint: " ", // filled by fill(): it depends on whether there is a budget
    control: slider,
  });
  threshold.element.insertBefore(
    h("div", { class: "range-row" }, slider, output),
    threshold.element.querySelector(".field-hint"),
  );
  const thresholdHint = threshold.element.querySelector(".field-hint");
  slider.addEventListener("input", () => {
    output.textContent = `${slider.value}%`;
    slider.setAttribute("aria-valuetext", `${slider.value}%`);
  });

  const digestError = h("p", { class: "field-error", id: "digest-error", dataset: { field: "digest" } });
  const radios = DIGESTS.map(([value]) => h("input", { type: "radio", name: "digest", value, id: `digest-${value}` }));
  const digest = h(
    "fieldset",
    { class: "field choice-group", "aria-describedby": "digest-error", dataset: { field: "digest" } },
    h("legend", {}, "Cost digest email"),
    DIGESTS.map(([value, label, hint], i) =>
      h(
        "div",
        { class: "choice" },
        radios[i],
        h("label", { for: `digest-${value}` }, label, h("span", { class: "choice-hint" }, hint)),
      ),
    ),
    digestError,
  );
  const digestField = {
    control: radios[0],
    setError(message) {
      digestError.textContent = message || "";
    },
  };

  const fields = { emailAlerts, alertThreshold: threshold, digest: digestField };
  const formError = h("p", { class: "form-error", role: "alert", dataset: { testid: "settings-error" } });
  const done = h("p", { class: "form-done", role: "status", dataset: { testid: "settings-saved" } });
  const submit = h("button", { type: "submit", class: "button primary" }, "Save settings");
  const notice = h("div", {});

  function fill(preferences) {
    replace(notice, suppressionNotice(preferences.emailSuppressed, resume));
    emailAlerts.control.checked = preferences.emailAlerts;
    for (const radio of radios) radio.checked = radio.value === preferences.digest;
    const hasBudget = preferences.alertThreshold !== null && preferences.alertThreshold !== undefined;
    slider.disabled = !hasBudget;
    slider.value = String(hasBudget ? preferences.alertThreshold : 80);
    slider.dispatchEvent(new Event("input"));
    output.textContent = hasBudget ? `${preferences.alertThreshold}%` : "—";
    threshold.element.classList.toggle("is-disabled", !hasBudget);
    replace(
      thresholdHint,
      hasBudget
        ? "Your budget's threshold: your status turns to Approaching Limit, and you are alerted, when this month's costs reach this share of your limit."
        : [
            "You have no budget yet, so there is no threshold to set. ",
            h("a", { href: "#/budget" }, "Set a budget"),
            " first: alerts compare your costs with it.",
          ],
    );
  }

  async function resume() {
    clear();
    try {
      fill(await save({ emailSuppressed: null }));
      done.textContent = "Email is on again.";
      announce("Email is on again.");
      emailAlerts.control.focus();
    } catch (error) {
      formError.textContent =
        error.status === 409 || error.status === 412 ? CHANGED_ELSEWHERE : showFieldErrors(error, fields).join(" ");
    }
  }

  function changes() {
    const current = state.preferences;
    const wanted = {};
    if (emailAlerts.control.checked !== current.emailAlerts) wanted.emailAlerts = emailAlerts.control.checked;
    const cadence = radios.find((radio) => radio.checked)?.value;
    if (cadence && cadence !== current.digest) wanted.digest = cadence;
    // Sent only when moved: it changes the budget (a new entry in its history).
    if (!slider.disabled && Number(slider.value) !== current.alertThreshold) {
      wanted.alertThreshold = Number(slider.value);
    }
    return wanted;
  }

  function clear() {
    formError.textContent = "";
    done.textContent = "";
    for (const f of Object.values(fields)) f.setError("");
  }

  const element = h(
    "form",
    {
      novalidate: true,
      class: "settings-form",
      dataset: { testid: "settings-form" },
      async onsubmit(event) {
        event.preventDefault();
        clear();
        const wanted = changes();
        if (!Object.keys(wanted).length) {
          done.textContent = "Nothing to save: these are your settings already.";
          return;
        }
        submit.disabled = true;
        submit.textContent = "Saving…";
        try {
          fill(await save(wanted));
          done.textContent = "Settings saved.";
          announce("Settings saved.");
        } catch (error) {
          if (error.status === 409 || error.status === 412) formError.textContent = CHANGED_ELSEWHERE;
          else formError.textContent = showFieldErrors(error, fields).join(" ");
        } finally {
          submit.disabled = false;
          submit.textContent = "Save settings";
        }
      },
    },
    notice,
    formError,
    emailAlerts.element,
    threshold.element,
    digest,
    h("div", { class: "form-actions" }, submit, done),
  );
  fill(state.preferences);
  return { element, fill };
}

function webhookSettings({ api, state, save, signal }) {
  const element = h("div", { class: "webhook", dataset: { testid: "webhook" } });
  const result = h("p", { class: "form-done", role: "status", dataset: { testid: "webhook-result" } });
  const formError = h("p", { class: "form-error", role: "alert", dataset: { testid: "webhook-error" } });
  const intro = h(
    "p",
    { class: "muted" },
    "Tally can post your alerts to a Slack or Microsoft Teams channel through an incoming webhook. Only https addresses are accepted; the address is stored encrypted and never shown in full again.",
  );

  function editor(current) {
    const url = field({
      label: current ? "New webhook URL" : "Webhook URL",
      name: "webhookUrl",
      hint: "For example https://hooks.slack.com/services/…",
      control: h("input", {
        type: "url",
        name: "webhookUrl",
        inputmode: "url",
        autocomplete: "off",
        spellcheck: "false",
        placeholder: "https://",
      }),
    });
    const submit = h("button", { type: "submit", class: "button primary" }, "Save webhook");
    const cancel = current
      ? h("button", { type: "button", class: "button", onclick: () => show(state.preferences) }, "Cancel")
      : null;
    const form = h(
      "form",
      {
        novalidate: true,
        dataset: { testid: "webhook-form" },
        async onsubmit(event) {
          event.preventDefault();
          formError.textContent = "";
          result.textContent = "";
          url.setError("");
          const value = url.control.value.trim();
          if (!value) {
            url.setError("Enter the webhook's URL.");
            url.control.focus();
            return;
          }
          submit.disabled = true;
          try {
            const saved = await save({ webhookUrl: value });
            show(saved);
            say("Webhook saved. Send a test message to check it.");
          } catch (error) {
            if (error.status === 409 || error.status === 412) formError.textContent = CHANGED_ELSEWHERE;
            else {
              const rest = showFieldErrors(error, { webhookUrl: url });
              formError.textContent = rest.join(" ");
            }
          } finally {
            submit.disabled = false;
          }
        },
      },
      url.element,
      h("div", { class: "form-actions" }, submit, cancel),
    );
    return { form, url };
  }

  function say(message) {
    result.textContent = message;
    announce(message);
  }

  function show(preferences) {
    const current = preferences.webhook;
    if (!current) {
      const { form, url } = editor(null);
      replace(element, intro, formError, form, result);
      return url;
    }
    const testButton = h(
      "button",
      { type: "button", class: "button", dataset: { testid: "webhook-test" } },
      "Send test message",
    );
    const replaceButton = h("button", { type: "button", class: "button" }, "Replace");
    const removeButton = h("button", { type: "button", class: "button danger-text" }, "Remove");
    testButton.addEventListener("click", async () => {
      formError.textContent = "";
      result.textContent = "";
      testButton.disabled = true;
      testButton.textContent = "Sending…";
      try {
        await api.testWebhook();
        say("Test message sent. It should appear in your channel within a few seconds.");
      } catch (error) {
        if (error.status === 409) {
          formError.textContent = "There is no webhook to test any more.";
          await api
            .preferences()
            .then(({ preferences: latest, etag }) => {
              state.preferences = latest;
              state.etag = etag;
              if (!signal.aborted) show(latest);
            })
            .catch(() => {});
        } else {
          formError.textContent = `The test message was not delivered: ${error.fieldErrors?.webhookUrl || error.message}`;
        }
      } finally {
        testButton.disabled = false;
        testButton.textContent = "Send test message";
      }
    });
    replaceButton.addEventListener("click", () => {
      formError.textContent = "";
      result.textContent = "";
      const { form, url } = editor(current);
      replace(element, intro, current ? configured(current) : null, formError, form, result);
      url.control.focus();
    });
    removeButton.addEventListener("click", async () => {
      formError.textContent = "";
      result.textContent = "";
      const sure = await confirmDialog({
        title: "Remove the webhook?",
        message: "Tally will stop posting alerts to this channel. You can add a webhook again at any time.",
        confirmLabel: "Remove webhook",
        danger: true,
      });
      if (!sure) return;
      try {
        const saved = await save({ webhookUrl: null });
        show(saved);
        say("Webhook removed.");
        element.querySelector("input")?.focus();
      } catch (error) {
        formError.textContent = error.status === 409 || error.status === 412 ? CHANGED_ELSEWHERE : error.message;
      }
    });
    replace(
      element,
      intro,
      configured(current),
      formError,
      h("div", { class: "form-actions" }, testButton, replaceButton, removeButton),
      result,
    );
    return null;
  }

  show(state.preferences);
  return { element, show };
}

function configured(webhook) {
  return h(
    "dl",
    { class: "webhook-facts" },
    h("dt", {}, "Posting to"),
    h("dd", {}, h("span", { class: "id-text", dataset: { testid: "webhook-hint" } }, webhook.hint)),
    h("dt", {}, "Format"),
    h("dd", {}, FLAVOURS[webhook.flavour] || webhook.flavour),
  );
}
