// Claims: ask for a resource (or a share of it), see one's own claims, and decide the claims
// that wait for one's approval (the owner of the resource, or an administrator). A pending
// claim changes no cost; approved, the claimant's assignment is in force from that day.

import { announce, confirmDialog, emptyState, errorState, field, h, replace } from "../dom.js";
import { dateTime, share } from "../format.js";
import { resourceLabel } from "../resource-name.js";
import { pageHead, tableSkeleton } from "./common.js";

const PAGE_SIZE = 50;
// Shown with the budget badges' colours and an icon, so never by colour alone.
const STATUS = {
  pending: { text: "Pending", icon: "…", look: "pending" },
  approved: { text: "Approved", icon: "✓", look: "under" },
  rejected: { text: "Rejected", icon: "✕", look: "over" },
};

function claimStatus(status) {
  const s = STATUS[status] || { text: status, icon: "–", look: "none" };
  return h(
    "span",
    { class: `status status-${s.look} compact`, dataset: { claimStatus: status } },
    h("span", { class: "status-icon", "aria-hidden": "true" }, s.icon),
    s.text,
  );
}

function resourceCell(claim, types) {
  return h(
    "td",
    { class: "resource-cell" },
    resourceLabel(claim.resourceId, claim.resourceName),
    h("div", { class: "muted" }, h("small", {}, types.name(claim.resourceType))),
  );
}

function header(labels) {
  return h(
    "thead",
    {},
    h(
      "tr",
      {},
      labels.map(([label, cls]) =>
        h(
          "th",
          { scope: "col", class: cls || null },
          label === "Actions" ? h("span", { class: "visually-hidden" }, label) : label,
        ),
      ),
    ),
  );
}

/** A list of claims that loads itself, page by page ({view} of GET /billing/claims). */
function claimList({ api, signal, viewName, title, subtitle, labels, row, empty, testid }) {
  const tbody = h("tbody", {});
  const table = h(
    "table",
    { dataset: { testid } },
    h("caption", { class: "visually-hidden" }, title),
    header(labels),
    tbody,
  );
  const status = h("p", { class: "table-foot-status", role: "status" });
  const more = h("button", { type: "button", class: "button", hidden: true }, "Load more");
  const foot = h("div", { class: "table-foot" }, status, more);
  const headingId = `${testid}-title`;
  const element = h(
    "section",
    { class: "card span-12", "aria-labelledby": headingId },
    h("div", { class: "card-head" }, h("h2", { id: headingId }, title), h("p", {}, subtitle)),
    h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": title }, table),
    foot,
  );
  let items = [];
  let nextToken = null;

  function show() {
    replace(
      tbody,
      items.length
        ? items.map((item) => row(item, list))
        : h("tr", {}, h("td", { colspan: String(labels.length) }, emptyState(...empty))),
    );
    more.hidden = !nextToken;
    foot.hidden = !items.length && !status.textContent;
    status.textContent = items.length
      ? `${items.length} claim${items.length === 1 ? "" : "s"}${nextToken ? " so far" : ""}.`
      : "";
  }

  async function load(append) {
    if (!append) {
      items = [];
      nextToken = null;
      replace(tbody, [...tableSkeleton(labels.length, 2).children]);
      table.setAttribute("aria-busy", "true");
    }
    more.disabled = true;
    try {
      const page = await api.claims({ view: viewName, limit: PAGE_SIZE, nextToken: append ? nextToken : null });
      if (signal.aborted) return;
      items = items.concat(page.items);
      nextToken = page.nextToken;
      show();
    } catch (error) {
      if (signal.aborted) return;
      if (append) status.textContent = `Could not load more: ${error.message}`;
      else
        replace(
          tbody,
          h(
            "tr",
            {},
            h(
              "td",
              { colspan: String(labels.length) },
              errorState(error, () => load(false), "the claims"),
            ),
          ),
        );
    } finally {
      table.removeAttribute("aria-busy");
      more.disabled = false;
    }
  }
  more.addEventListener("click", () => load(true));

  const list = {
    element,
    load,
    say(message) {
      foot.hidden = false;
      status.textContent = message;
      announce(message);
    },
    /** Put a decided claim in place of the pending one (the API answers with it). */
    update(claim) {
      items = items.map((i) => (i.claimId === claim.claimId ? claim : i));
      show();
    },
  };
  return list;
}

function claimForm({ api, types, onClaimed }) {
  const type = field({
    label: "Resource type",
    name: "resourceType",
    hint: `${types.keysInWords()}; another service by its ARN`,
    control: h("input", {
      type: "text",
      name: "resourceType",
      list: "claim-resource-types",
      autocomplete: "off",
      value: types.list[0]?.key || "",
    }),
  });
  const resourceId = field({
    label: "Resource ID or ARN",
    name: "resourceId",
    control: h("input", { type: "text", name: "resourceId", autocomplete: "off", spellcheck: "false" }),
  });
  const share = field({
    label: "Share %",
    name: "sharePct",
    control: h("input", { type: "text", inputmode: "decimal", name: "sharePct", value: "100" }),
  });
  const note = field({
    label: "Note for the approver (optional)",
    name: "note",
    control: h("input", { type: "text", name: "note", autocomplete: "off", maxlength: "500" }),
  });
  const fields = { resourceType: type, resourceId, sharePct: share, note };
  const formError = h("p", { class: "form-error", role: "alert" });
  const done = h("p", { class: "form-done", role: "status", dataset: { testid: "claim-result" } });
  const submit = h("button", { type: "submit", class: "button primary" }, "Claim");

  const form = h(
    "form",
    {
      novalidate: true,
      class: "claim-form",
      dataset: { testid: "claim-form" },
      async onsubmit(event) {
        event.preventDefault();
        formError.textContent = "";
        done.textContent = "";
        for (const f of Object.values(fields)) f.setError("");
        const body = {
          resourceType: type.control.value.trim(),
          resourceId: resourceId.control.value.trim(),
          sharePct: share.control.value.trim() || "100",
        };
        if (note.control.value.trim()) body.note = note.control.value.trim();
        if (!body.resourceId) {
          resourceId.setError("Enter the resource's ID or ARN.");
          resourceId.control.focus();
          return;
        }
        submit.disabled = true;
        try {
          const claim = await api.claim(body);
          done.textContent =
            claim.status === "approved"
              ? `${claim.resourceName || claim.resourceId} is yours from today.`
              : "Claim requested, waiting for approval.";
          announce(done.textContent);
          resourceId.control.value = "";
          note.control.value = "";
          onClaimed(claim);
        } catch (error) {
          let first = null;
          for (const [name, message] of Object.entries(error.fieldErrors || {})) {
            if (fields[name]) {
              fields[name].setError(message);
              first = first || fields[name].control;
            }
          }
          if (!first) formError.textContent = error.message;
          (first || resourceId.control).focus();
        } finally {
          submit.disabled = false;
        }
      },
    },
    type.element,
    resourceId.element,
    share.element,
    note.element,
    h("div", { class: "actions" }, submit),
    h(
      "datalist",
      { id: "claim-resource-types" },
      types.list.map((t) => h("option", { value: t.key }, t.name)),
    ),
  );
  return h(
    "section",
    { class: "card span-12", "aria-labelledby": "claim-title" },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "claim-title" }, "Claim a resource"),
      h("p", {}, "Its owner, or someone who decides claims (claims:decide), approves; nothing changes until then"),
    ),
    formError,
    form,
    done,
  );
}

export function claimsView(view) {
  const { ctx, user, can, container, signal } = view;
  const types = ctx.types();
  const { api } = ctx;
  // Names for the ids claims carry: the admin knows every user; anyone knows themselves.
  const names = ctx.usernames;
  names.set(user.userId, user.username);
  // A user who is not an admin knows colleagues only by the id the claim carries.
  const who = (claim) =>
    claim.claimantId === user.userId ? "You" : claim.claimantName || names.get(claim.claimantId) || claim.claimantId;
  const whoCell = (claim) => {
    const name = who(claim);
    return h("td", {}, name === claim.claimantId ? h("span", { class: "id-text", title: "User id" }, name) : name);
  };

  function decide(list, claim, approve) {
    return async (event) => {
      const button = event.currentTarget;
      // The decided row loses its buttons: the keyboard focus goes to the list around it (a
      // focusable region) rather than to the page's body, back at the top.
      const region = button.closest(".table-wrap");
      const keepFocus = () => {
        if (region?.isConnected && (document.activeElement === document.body || !document.activeElement))
          region.focus();
      };
      if (!approve) {
        const confirmed = await confirmDialog({
          title: "Reject this claim?",
          message: `${who(claim)} asked for ${share(claim.sharePct)} of ${claim.resourceName || claim.resourceId}. Rejected, it changes nothing, and cannot be approved later.`,
          confirmLabel: "Reject",
          danger: true,
        });
        if (!confirmed) return;
      }
      for (const b of button.parentElement.querySelectorAll("button")) b.disabled = true;
      try {
        const decided = await (approve ? api.approveClaim(claim.claimId) : api.rejectClaim(claim.claimId));
        list.update(decided);
        keepFocus();
        list.say(
          approve
            ? `Approved: ${claim.resourceName || claim.resourceId} goes to ${who(claim)} from today.`
            : `Rejected the claim of ${claim.resourceName || claim.resourceId}.`,
        );
      } catch (error) {
        // 409: someone decided it first; show where it stands now.
        list.say(`Could not ${approve ? "approve" : "reject"} the claim: ${error.message}`);
        if (error.status === 409 || error.status === 404) list.load(false);
        else for (const b of button.parentElement.querySelectorAll("button")) b.disabled = false;
      }
    };
  }

  const waiting = claimList({
    api,
    signal,
    viewName: "to-approve",
    testid: "claims-to-approve",
    title: "Waiting for me",
    subtitle: can.decideAnyClaim ? "Every pending claim" : "Claims of resources you own",
    labels: [["Resource"], ["Share", "num"], ["Claimed by"], ["Note"], ["Claimed"], ["Status"], ["Actions"]],
    empty: ["Nothing waits for you.", "Claims of resources you own appear here for you to decide."],
    row: (claim, list) =>
      h(
        "tr",
        { dataset: { claim: claim.claimId, resource: claim.resourceId } },
        resourceCell(claim, types),
        h("td", { class: "num" }, share(claim.sharePct)),
        whoCell(claim),
        h("td", { class: "note" }, claim.note || "—"),
        h("td", {}, dateTime(claim.createdAt)),
        h("td", {}, claimStatus(claim.status)),
        h(
          "td",
          { class: "row-actions" },
          claim.status === "pending"
            ? [
                h(
                  "button",
                  {
                    type: "button",
                    class: "button small primary",
                    "aria-label": `Approve the claim of ${claim.resourceName || claim.resourceId}`,
                    onclick: decide(list, claim, true),
                  },
                  "Approve",
                ),
                h(
                  "button",
                  {
                    type: "button",
                    class: "button small",
                    "aria-label": `Reject the claim of ${claim.resourceName || claim.resourceId}`,
                    onclick: decide(list, claim, false),
                  },
                  "Reject",
                ),
              ]
            : h("small", { class: "muted" }, dateTime(claim.decidedAt)),
        ),
      ),
  });

  const mine = claimList({
    api,
    signal,
    viewName: "mine",
    testid: "claims-mine",
    title: "My claims",
    subtitle: "Newest first",
    labels: [["Resource"], ["Share", "num"], ["Note"], ["Claimed"], ["Status"], ["Decided"]],
    empty: ["You have not claimed anything.", "Claim a resource you use with the form below."],
    row: (claim) =>
      h(
        "tr",
        { dataset: { claim: claim.claimId, resource: claim.resourceId } },
        resourceCell(claim, types),
        h("td", { class: "num" }, share(claim.sharePct)),
        h("td", { class: "note" }, claim.note || "—"),
        h("td", {}, dateTime(claim.createdAt)),
        h("td", {}, claimStatus(claim.status)),
        h("td", {}, claim.decidedAt ? dateTime(claim.decidedAt) : "—"),
      ),
  });

  replace(
    container,
    pageHead(view, "Claims", "Ask for a resource you use, and decide the claims of resources you own."),
    h(
      "div",
      { class: "grid" },
      waiting.element,
      mine.element,
      claimForm({ api, types, onClaimed: () => mine.load(false) }),
    ),
  );

  // An admin decides anyone's claims: put names to the ids first (one page of the directory).
  const named =
    can.viewAllUsers && names.size < 2
      ? api
          .allUsers({ limit: 100 })
          .then((page) => {
            for (const u of page.users) names.set(u.userId, u.username);
          })
          .catch(() => {})
      : Promise.resolve();
  return Promise.all([named.then(() => !signal.aborted && waiting.load(false)), mine.load(false)]);
}
