// Sign-in: user name (or email) and password, then, for users an administrator created, the
// new-password step Cognito requires on first sign-in, and two-step sign-in: the code of the
// user's authenticator app, or setting one up where the pool requires it (MFA_SETUP).

import { field, h, replace } from "../dom.js";
import { codeForm, setupSteps } from "./totp.js";

function card(...children) {
  return h("main", { id: "main", class: "signin", tabindex: "-1" }, h("div", { class: "signin-card" }, children));
}

function brandHeading(text) {
  return h("h1", {}, h("img", { class: "brand-mark", src: "favicon.svg", alt: "", width: 26, height: 26 }), " ", text);
}

export function signInView({ auth, message, onSignedIn }) {
  const root = h("div", { class: "signin-root" });

  /** Where Cognito's answer leads: signed in, or the step it asks for next. */
  function next(outcome) {
    if (outcome.challenge === "NEW_PASSWORD_REQUIRED") replace(root, newPasswordForm(outcome));
    else if (outcome.challenge === "SOFTWARE_TOKEN_MFA") replace(root, totpForm(outcome));
    else if (outcome.challenge === "MFA_SETUP") replace(root, totpSetupForm(outcome));
    else onSignedIn();
  }

  /** A step's answer; a session Cognito has let lapse (3 minutes) restarts the sign-in. */
  async function step(promise) {
    try {
      next(await promise);
    } catch (failure) {
      if (failure.code === "NotAuthorizedException") {
        replace(root, passwordForm(failure.message));
        return;
      }
      throw failure;
    }
  }

  function passwordForm(notice = message) {
    const username = field({
      label: "User name or email",
      name: "username",
      control: h("input", {
        type: "text",
        name: "username",
        autocomplete: "username",
        autocapitalize: "none",
        spellcheck: "false",
        required: true,
      }),
    });
    const password = field({
      label: "Password",
      name: "password",
      control: h("input", {
        type: "password",
        name: "password",
        autocomplete: "current-password",
        required: true,
      }),
    });
    const error = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: "button primary" }, "Sign in");
    const form = h(
      "form",
      {
        novalidate: true,
        "aria-label": "Sign in",
        async onsubmit(event) {
          event.preventDefault();
          error.textContent = "";
          username.setError("");
          password.setError("");
          const name = username.control.value.trim();
          const secret = password.control.value;
          if (!name) username.setError("Enter your user name or email.");
          if (!secret) password.setError("Enter your password.");
          if (!name || !secret) {
            (name ? password : username).control.focus();
            return;
          }
          submit.disabled = true;
          submit.textContent = "Signing in…";
          try {
            next(await auth.signIn(name, secret));
          } catch (failure) {
            error.textContent = failure.message;
            password.control.value = "";
            password.control.focus();
          } finally {
            submit.disabled = false;
            submit.textContent = "Sign in";
          }
        },
      },
      error,
      username.element,
      password.element,
      submit,
    );
    queueMicrotask(() => username.control.focus());
    return card(
      brandHeading("Tally"),
      h("p", { class: "lead" }, "Sign in to see your AWS costs and budget."),
      notice ? h("p", { class: "notice", role: "status", dataset: { testid: "signin-notice" } }, notice) : null,
      form,
    );
  }

  function newPasswordForm(challenge) {
    const first = field({
      label: "New password",
      name: "newPassword",
      hint: "At least 12 characters with upper and lower case letters, a digit and a symbol.",
      control: h("input", { type: "password", autocomplete: "new-password", required: true }),
    });
    const second = field({
      label: "Repeat the new password",
      name: "confirmPassword",
      control: h("input", { type: "password", autocomplete: "new-password", required: true }),
    });
    const error = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: "button primary" }, "Set password and sign in");
    const form = h(
      "form",
      {
        novalidate: true,
        "aria-label": "Choose a new password",
        async onsubmit(event) {
          event.preventDefault();
          error.textContent = "";
          first.setError("");
          second.setError("");
          if (!first.control.value) {
            first.setError("Enter a new password.");
            first.control.focus();
            return;
          }
          if (first.control.value !== second.control.value) {
            second.setError("The two passwords differ.");
            second.control.focus();
            return;
          }
          submit.disabled = true;
          try {
            next(await auth.completeNewPassword(challenge, first.control.value));
          } catch (failure) {
            if (failure.code === "InvalidPasswordException") {
              first.setError(failure.message);
              first.control.focus();
            } else {
              error.textContent = failure.message;
            }
          } finally {
            submit.disabled = false;
          }
        },
      },
      error,
      first.element,
      second.element,
      submit,
    );
    queueMicrotask(() => first.control.focus());
    return card(
      brandHeading("Choose a new password"),
      h(
        "p",
        { class: "lead" },
        `Welcome, ${challenge.username}. Your account was created with a temporary password; choose your own to continue.`,
      ),
      form,
    );
  }

  function totpForm(challenge) {
    return card(
      brandHeading("Two-step sign-in"),
      h("p", { class: "lead" }, "Open your authenticator app and enter the code it shows for Tally."),
      codeForm({
        label: "Two-step sign-in",
        submitLabel: "Verify",
        busyLabel: "Verifying…",
        submitCode: (code) => step(auth.answerTotp(challenge, code)),
      }),
    );
  }

  function totpSetupForm(challenge) {
    const body = h("div", { "aria-live": "polite" }, h("p", {}, "Preparing your setup key…"));
    auth
      .startTotpSetup(challenge)
      .then((secret) =>
        replace(
          body,
          codeForm({
            label: "Set up two-step sign-in",
            submitLabel: "Verify and sign in",
            busyLabel: "Verifying…",
            submitCode: (code) => step(auth.finishTotpSetup(challenge, code)),
            children: [setupSteps(secret, challenge.username)],
          }),
        ),
      )
      .catch((failure) => replace(root, passwordForm(failure.message)));
    return card(
      brandHeading("Set up two-step sign-in"),
      h(
        "p",
        { class: "lead" },
        "Your account needs a second step at sign-in: a code from an authenticator app on your phone or computer.",
      ),
      body,
    );
  }

  replace(root, passwordForm());
  return root;
}
