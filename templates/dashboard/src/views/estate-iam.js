// #/estate/iam: IAM users from the inventory's cache (GET /api/estate/iam/users): console access
// and MFA, access keys with age and last use, groups and policies, when the password was last
// used, the CIS findings, and the Tally user the owner tag names. Never a secret. The IAM
// actions show only for the permissions the caller holds (each its own, see estate-actions.js).

import { emptyState, errorState, h, replace, skeleton } from "../dom.js";
import { knownToday } from "../format.js";
import { agoText } from "../estate.js";
import { createUserAction, iamUserActions } from "../estate-actions.js";
import { knownNames } from "./anomalies.js";
import { estateHead, flagList } from "./estate.js";

function policyName(arn) {
  return arn.split("/").pop();
}

export function iamView(view, tabs) {
  const { ctx, container, signal } = view;
  const head = h("div", {});
  const notice = h("p", { class: "form-done", role: "status", dataset: { testid: "estate-notice" } });
  const body = h("div", { class: "estate-body", "aria-live": "polite" }, skeleton(6, "Loading IAM users"));
  replace(container, head, notice, body);
  replace(head, estateHead("AWS estate", "IAM users, their credentials and the CIS checks.", tabs, null));
  container.setAttribute("aria-busy", "true");

  async function load() {
    container.setAttribute("aria-busy", "true");
    try {
      const [listed, names, me] = await Promise.all([ctx.api.estateIamUsers(), knownNames(ctx, view.user), ctx.me()]);
      if (signal.aborted) return;
      replace(
        head,
        estateHead(
          "AWS estate",
          "IAM users: console access and MFA, access keys, groups and policies, and the CIS AWS Foundations findings (MFA for console users, credentials unused for 45 days, keys rotated within 90 days).",
          tabs,
          listed.readAt,
        ),
      );
      show(listed, names, knownToday() || me.today);
    } catch (error) {
      if (!signal.aborted) replace(body, errorState(error, load, "the IAM users"));
    } finally {
      container.removeAttribute("aria-busy");
    }
  }

  function changed(message) {
    notice.textContent = message;
    load();
  }

  function show(listed, names, today) {
    if (!listed.items.length) {
      replace(body, emptyState("No IAM users.", "The inventory found no IAM user in this account."));
      return;
    }
    const create = createUserAction(view, changed);
    replace(
      body,
      create ? h("div", { class: "action-row" }, create) : null,
      h(
        "div",
        { class: "iam-users", dataset: { testid: "iam-users" } },
        listed.items.map((u) => userCard(view, u, names, today, changed)),
      ),
    );
  }

  return load();
}

function userCard(view, u, names, today, changed) {
  const linked = u.tallyUserId ? names.get(u.tallyUserId) || u.tallyUserId : null;
  // A list, not a table: a key id is 20 characters of monospace and the card is narrow.
  const keys = u.accessKeys.length
    ? h(
        "ul",
        { class: "key-list", "aria-label": `Access keys of ${u.name}` },
        u.accessKeys.map((k) =>
          h(
            "li",
            { dataset: { key: k.keyId } },
            h("span", { class: "mono" }, k.keyId),
            h(
              "span",
              { class: "key-facts" },
              `${k.status} · `,
              h("span", { class: k.ageDays > 90 ? "risky" : null }, `${k.ageDays} days old`),
              ` · last used ${agoText(k.lastUsed, today)}`,
            ),
          ),
        ),
      )
    : h("p", { class: "muted" }, "No access keys.");
  const policies = [...u.attachedPolicies.map(policyName), ...u.inlinePolicies.map((p) => `${p} (inline)`)];
  return h(
    "section",
    { class: "card iam-user", "aria-labelledby": `iam-${u.name}`, dataset: { user: u.name } },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: `iam-${u.name}` }, u.name),
      h("p", { class: "card-subtitle" }, linked ? `Tally user: ${linked}` : "Not linked to a Tally user"),
    ),
    flagList(u.findings),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Console access"),
      h("dd", {}, u.consoleAccess ? "yes" : "no"),
      h("dt", {}, "MFA"),
      h("dd", { class: u.consoleAccess && !u.mfaEnabled ? "risky" : null }, u.mfaEnabled ? "on" : "off"),
      h("dt", {}, "Password last used"),
      h("dd", {}, u.consoleAccess ? agoText(u.passwordLastUsed, today) : "no password"),
      h("dt", {}, "Groups"),
      h("dd", {}, u.groups.join(", ") || "none"),
      h("dt", {}, "Policies"),
      h("dd", {}, policies.join(", ") || "none"),
      h("dt", {}, "Path"),
      h("dd", {}, u.path),
    ),
    keys,
    iamUserActions(view, u, changed),
  );
}
