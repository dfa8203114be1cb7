// Security: turning on two-step sign-in (an authenticator app, TOTP) for one's own account.
// Admins the deployment requires it of are brought here after signing in, and the API treats
// them as users until it is on.

import { announce, errorState, h, replace, skeleton } from "../dom.js";
import { codeForm, setupSteps } from "./totp.js";

export async function securityView(view) {
  const { ctx, user, container, signal } = view;
  const status = h("div", { class: "card-body", "aria-live": "polite" }, skeleton(2, "Loading"));
  const notice = h("div", {});
  replace(
    container,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Security"), h("p", {}, "How you sign in to Tally."))),
    notice,
    h(
      "section",
      { class: "card", "aria-labelledby": "totp-heading" },
      h("div", { class: "card-head" }, h("h2", { id: "totp-heading" }, "Two-step sign-in")),
      status,
    ),
  );

  // The API says whether this admin still has to turn it on (the deployment's setting).
  ctx
    .me()
    .then((who) => {
      if (who.mfaSetupRequired && !signal.aborted) {
        replace(
          notice,
          h(
            "div",
            { class: "card", role: "alert", dataset: { testid: "mfa-required" } },
            h("p", { class: "state-title" }, "Administrators need two-step sign-in."),
            h("p", {}, "Turn it on below to use the administrator pages. Until then you can see only your own data."),
          ),
        );
      }
    })
    .catch(() => {});

  function showOn() {
    replace(
      status,
      h(
        "p",
        { dataset: { testid: "totp-status" } },
        "On. Each time you sign in, Tally asks for the code your authenticator app shows.",
      ),
    );
  }

  function showOff() {
    const start = h(
      "button",
      {
        type: "button",
        class: "button primary",
        async onclick() {
          start.disabled = true;
          try {
            const secret = await ctx.auth.beginTotp();
            showSetup(secret);
          } catch (failure) {
            start.disabled = false;
            replace(status, h("p", { class: "form-error", role: "alert" }, failure.message), start);
          }
        },
      },
      "Turn on two-step sign-in",
    );
    replace(
      status,
      h(
        "p",
        { dataset: { testid: "totp-status" } },
        "Off. Signing in needs only your password. With two-step sign-in, it also needs a code from an app on your phone, so a stolen password alone is not enough.",
      ),
      start,
    );
  }

  function showSetup(secret) {
    replace(
      status,
      codeForm({
        label: "Turn on two-step sign-in",
        submitLabel: "Turn on",
        busyLabel: "Checking…",
        children: [setupSteps(secret, user.username)],
        async submitCode(code) {
          await ctx.auth.confirmTotp(code);
          // The API's answer about this admin has changed: ask again (the menu follows it).
          ctx.forgetMe?.();
          ctx.me().catch(() => {});
          replace(notice);
          showOn();
          announce("Two-step sign-in is on.");
        },
      }),
    );
  }

  async function load() {
    replace(status, skeleton(2, "Loading"));
    try {
      if (await ctx.auth.totpEnabled()) showOn();
      else showOff();
    } catch (failure) {
      if (!signal.aborted) replace(status, errorState(failure, load, "your two-step sign-in setting"));
    }
  }
  await load();
}
