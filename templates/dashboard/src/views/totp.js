// Two-step sign-in with an authenticator app (TOTP): the code field of the sign-in step, and
// the setup form (the secret as text, the otpauth:// link an app opens, the first code) that
// both the sign-in (MFA_SETUP) and the Security page use.

import { otpauthUri } from "../auth.js";
import { field, h } from "../dom.js";

const CODE = /^\d{6}$/;
const CODE_REFUSALS = new Set(["CodeMismatchException", "EnableSoftwareTokenMFAException", "ExpiredCodeException"]);

/** The 6-digit code input, as phones and password managers recognise it. */
export function codeField(label = "6-digit code from your authenticator app") {
  return field({
    label,
    name: "totpCode",
    control: h("input", {
      type: "text",
      name: "totpCode",
      inputmode: "numeric",
      autocomplete: "one-time-code",
      maxlength: 6,
      spellcheck: "false",
      required: true,
    }),
  });
}

/**
 * A form that asks for a code and calls `submitCode(code)`; a refusal (a wrong code) is shown
 * in words under the field, which is cleared for the next try.
 */
export function codeForm({ label, submitLabel, busyLabel, submitCode, children = [] }) {
  const code = codeField();
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "button primary" }, submitLabel);
  const form = h(
    "form",
    {
      novalidate: true,
      "aria-label": label,
      async onsubmit(event) {
        event.preventDefault();
        error.textContent = "";
        code.setError("");
        const value = code.control.value.replace(/\s+/g, "");
        if (!CODE.test(value)) {
          code.setError("Enter the 6 digits your authenticator app shows.");
          code.control.focus();
          return;
        }
        submit.disabled = true;
        submit.textContent = busyLabel;
        try {
          await submitCode(value);
        } catch (failure) {
          if (CODE_REFUSALS.has(failure.code)) {
            code.setError(failure.message);
          } else {
            error.textContent = failure.message;
          }
          code.control.value = "";
          code.control.focus();
        } finally {
          submit.disabled = false;
          submit.textContent = submitLabel;
        }
      },
    },
    error,
    children,
    code.element,
    submit,
  );
  queueMicrotask(() => code.control.focus());
  return form;
}

/** The setup steps for `secret` (account: the user's name, as the app will list it). */
export function setupSteps(secret, account) {
  const uri = otpauthUri(secret, account);
  return h(
    "ol",
    { class: "totp-steps" },
    h(
      "li",
      {},
      h(
        "p",
        {},
        "Add Tally to an authenticator app (for example Google Authenticator, Microsoft Authenticator or 1Password): ",
      ),
      h(
        "p",
        {},
        "on this device, ",
        h("a", { href: uri, dataset: { testid: "totp-link" } }, "open the app with this link"),
        "; or enter this key in the app by hand:",
      ),
      h("p", {}, h("code", { class: "totp-secret", dataset: { testid: "totp-secret" } }, secret)),
      h(
        "details",
        {},
        h("summary", {}, "The full setup link"),
        h("p", {}, h("code", { class: "totp-secret", dataset: { testid: "totp-uri" } }, uri)),
      ),
    ),
    h("li", {}, h("p", {}, "Enter the 6-digit code the app now shows for Tally.")),
  );
}
