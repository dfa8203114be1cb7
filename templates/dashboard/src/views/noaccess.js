// The "You do not have access" page: shown instead of a view the person's permissions do not
// allow (a bookmark, a link from someone else), and when the API refuses a page's data (403).
// It says which permission the page needs and who can give it; it never shows a broken view.

import { h, replace } from "../dom.js";
import { scopeText } from "../access.js";

// The catalog's words (policies/roles.json), for the permissions a page can need.
export const PERMISSION_TEXT = {
  "costs:read": "read costs",
  "budgets:read": "read budgets",
  "budgets:write": "create and change budgets",
  "users:read": "read the user directory",
  "teams:read": "read teams, their members and managers",
  "teams:write": "create, change and delete teams",
  "roles:read": "read roles and anyone's effective access",
  "roles:write": "create, change and delete custom roles",
  "roles:assign": "give roles to people and teams",
  "audit:read": "read the audit log",
};

/**
 * Fill `container` with the page: `title` of the page refused, the `permission` it needs (and
 * its `scope`: "org" or "team:<id>"), and the signed-in user's name.
 */
export function noAccessPage(container, { title, permission, scope = "org", username, reason = null }) {
  const what = PERMISSION_TEXT[permission];
  replace(
    container,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, title))),
    h(
      "div",
      { class: "card no-access", role: "alert", dataset: { testid: "not-allowed", permission } },
      h("p", { class: "state-title" }, "You do not have access to this page."),
      reason ? h("p", {}, reason) : null,
      h(
        "p",
        {},
        "It needs the permission ",
        h("code", {}, permission),
        what ? ` (${what})` : "",
        ` for ${scopeText(scope)}. You are signed in as ${username}.`,
      ),
      h(
        "p",
        {},
        "To get it, ask someone who gives roles in Tally (an administrator, or anyone with roles:assign) to give you a role that includes it.",
      ),
      h("a", { class: "button", href: "#/dashboard" }, "Go to your dashboard"),
    ),
  );
  return Promise.resolve();
}

/** True for the API's refusal: the view shows the no-access page rather than an error. */
export function isForbidden(error) {
  return Boolean(error && error.status === 403);
}
