// Resources: the assigned resources with their latest daily and 30-day cost; unassign after a
// confirmation; administrators assign a resource to any user.

import { announce, confirmDialog, emptyState, errorState, field, h, replace } from "../dom.js";
import { METRIC_HINT, metricText, money, share, shortDay } from "../format.js";
import { resourceHref } from "../resource-metrics.js";
import { copyIdButton } from "../resource-name.js";
import { pageHead, tableSkeleton } from "./common.js";

const PAGE_SIZE = 50;
const COLUMNS = ["Type", "Resource", "Cost center", "Share", "Daily cost", "Last 30 days", "Actions"];

function header() {
  return h(
    "thead",
    {},
    h(
      "tr",
      {},
      COLUMNS.map((label, i) =>
        h(
          "th",
          { scope: "col", class: i >= 3 && i <= 5 ? "num" : null },
          i === 6 ? h("span", { class: "visually-hidden" }, label) : label,
        ),
      ),
    ),
  );
}

/**
 * The assign form. Administrators assign to anyone; a user (`self`) asks for a resource for
 * themselves, which the API turns into a claim (202) unless it is accepted at once.
 * `prefill` ({resourceType, resourceId}) fills it in; `bare` leaves out the card around it
 * (for a dialog).
 */
export function assignForm({ api, types, subject, onAssigned, signal, prefill = null, self = false, bare = false }) {
  const userSelect = h(
    "select",
    { name: "userId", disabled: self },
    h("option", { value: subject.userId }, subject.username),
  );
  const user = field({ label: "User", name: "userId", control: userSelect });
  const type = field({
    label: "Resource type",
    name: "resourceType",
    hint: `${types.keysInWords()}; another service by its ARN`,
    control: h("input", {
      type: "text",
      name: "resourceType",
      list: "resource-types",
      autocomplete: "off",
      value: prefill?.resourceType || types.list[0]?.key || "",
    }),
  });
  const resourceId = field({
    label: "Resource ID or ARN",
    name: "resourceId",
    control: h("input", {
      type: "text",
      name: "resourceId",
      autocomplete: "off",
      spellcheck: "false",
      value: prefill?.resourceId || "",
    }),
  });
  const costCenter = field({
    label: "Cost center (optional)",
    name: "costCenter",
    control: h("input", { type: "text", name: "costCenter", autocomplete: "off" }),
  });
  const share = field({
    label: "Share %",
    name: "sharePct",
    control: h("input", { type: "text", inputmode: "decimal", name: "sharePct", value: "100" }),
  });
  const fields = { userId: user, resourceType: type, resourceId, costCenter, sharePct: share };
  const formError = h("p", { class: "form-error", role: "alert" });
  const done = h("p", { class: "form-done", role: "status", dataset: { testid: "assign-result" } });
  const submit = h("button", { type: "submit", class: "button primary" }, self ? "Request" : "Assign");

  // Every user, for the select (an admin's form; a user asks only for themselves).
  (self ? Promise.resolve({ users: [] }) : api.allUsers({ limit: 100 }))
    .then((page) => {
      if (signal.aborted) return;
      const options = page.users.map((u) =>
        h(
          "option",
          { value: u.userId, selected: u.userId === subject.userId },
          `${u.username}${u.email ? ` (${u.email})` : ""}`,
        ),
      );
      if (options.length) replace(userSelect, options);
    })
    .catch(() => {
      // The subject stays selectable; the form still works for them.
    });

  const form = h(
    "form",
    {
      novalidate: true,
      class: "assign-form",
      dataset: { testid: "assign-form" },
      async onsubmit(event) {
        event.preventDefault();
        formError.textContent = "";
        done.textContent = "";
        for (const f of Object.values(fields)) f.setError("");
        const body = {
          userId: userSelect.value,
          resourceType: type.control.value.trim(),
          resourceId: resourceId.control.value.trim(),
          sharePct: share.control.value.trim() || "100",
        };
        if (!self && costCenter.control.value.trim()) body.costCenter = costCenter.control.value.trim();
        if (!body.resourceId) {
          resourceId.setError("Enter the resource's ID or ARN.");
          resourceId.control.focus();
          return;
        }
        submit.disabled = true;
        try {
          const result = await api.assign(body);
          const who = userSelect.selectedOptions[0]?.textContent || "the user";
          if (result.claim) {
            // Nothing is assigned yet: the owner or an admin decides (the Claims screen).
            replace(done, "Claim requested, waiting for approval. ", h("a", { href: "#/claims" }, "See your claims"));
            announce("Claim requested, waiting for approval.");
          } else {
            done.textContent = `Assigned ${body.resourceId} to ${self ? "you" : who}.`;
            announce(done.textContent);
          }
          formError.textContent = "";
          resourceId.control.value = "";
          costCenter.control.value = "";
          onAssigned(body, result);
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
    self ? null : user.element,
    type.element,
    resourceId.element,
    self ? null : costCenter.element,
    share.element,
    h("div", { class: "actions" }, submit),
    h(
      "datalist",
      { id: "resource-types" },
      types.list.map((t) => h("option", { value: t.key }, t.name)),
    ),
  );
  if (self) form.classList.add("assign-form-self");
  if (bare) return h("div", {}, formError, form, done);
  return h(
    "section",
    { class: "card span-12", "aria-labelledby": "assign-title" },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "assign-title" }, self ? "Ask for a resource" : "Assign a resource"),
      h(
        "p",
        {},
        self
          ? "Someone else's resource, or one nobody owns, waits for approval"
          : "For people who assign resources (assignments:write)",
      ),
    ),
    formError,
    form,
    done,
  );
}

export function resourcesView(view) {
  const { ctx, can, subject, container, signal } = view;
  const types = ctx.types();
  const { api } = ctx;
  const tbody = h("tbody", {});
  const status = h("p", { class: "table-foot-status", role: "status" });
  const more = h("button", { type: "button", class: "button", hidden: true }, "Load more");
  const table = h(
    "table",
    { dataset: { testid: "resources-table" } },
    h("caption", {}, subject.isSelf ? "Resources assigned to you" : `Resources assigned to ${subject.username}`),
    header(),
    tbody,
  );
  const tableBox = h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Assigned resources" },
    table,
  );
  const body = h("div", { class: "card-body" }, tableBox, h("div", { class: "table-foot" }, status, more));
  const costNote = h("p", {}, "Costs use the latest imported day and the last 30 days");
  const card = h(
    "section",
    { class: "card span-12", "aria-labelledby": "resources-title" },
    h("div", { class: "card-head" }, h("h2", { id: "resources-title" }, "Assigned resources"), costNote),
    body,
  );
  // Which cost these are: the deployment's budget metric, from GET /api/me.
  ctx
    .me()
    .then((me) => {
      const metric = metricText(me.budgetMetric);
      if (metric && !signal.aborted)
        costNote.append(
          " · ",
          h("span", { class: "metric", title: METRIC_HINT[me.budgetMetric], dataset: { testid: "metric" } }, metric),
        );
    })
    .catch(() => {});

  let items = [];
  let nextToken = null;

  function row(item) {
    const cost = item.cost;
    const unassign = h(
      "button",
      {
        type: "button",
        class: "button small",
        "aria-label": `Unassign ${item.resourceId}`,
        dataset: { testid: "unassign" },
        async onclick() {
          const confirmed = await confirmDialog({
            title: "Unassign this resource?",
            message: `${item.resourceId} will no longer be assigned to ${subject.isSelf ? "you" : subject.username}. Costs already allocated stay; from the next import its cost goes to its owner tag or to unallocated.`,
            confirmLabel: "Unassign",
            danger: true,
          });
          if (!confirmed) return;
          unassign.disabled = true;
          try {
            await api.unassign(item.assignmentId);
            items = items.filter((i) => i.assignmentId !== item.assignmentId);
            const next = tr.nextElementSibling || tr.previousElementSibling;
            tr.remove();
            status.textContent = `Unassigned ${item.resourceId}.`;
            announce(`Unassigned ${item.resourceId}.`);
            if (!items.length) showRows();
            // Keep keyboard users in the table: the next row's button, else the heading.
            const heading = container.querySelector("h1");
            heading.setAttribute("tabindex", "-1");
            const target = (next && next.querySelector("button")) || (!more.hidden ? more : heading);
            target.focus();
          } catch (error) {
            unassign.disabled = false;
            status.textContent = `Could not unassign ${item.resourceId}: ${error.message}`;
          }
        },
      },
      "Unassign",
    );
    const tr = h(
      "tr",
      { dataset: { assignment: item.assignmentId, resource: item.resourceId } },
      h("td", {}, types.name(item.resourceType)),
      // The name is the link to the resource's page; the id stays beside it to copy.
      h(
        "td",
        { class: "resource-cell" },
        h(
          "a",
          { href: resourceHref(item.resourceId, subject), dataset: { testid: "resource-link" } },
          item.resourceName || item.resourceId,
        ),
        item.resourceName && item.resourceName !== item.resourceId
          ? h(
              "span",
              { class: "resource-id-line" },
              h("code", { class: "resource-id id-text", translate: "no" }, item.resourceId),
              copyIdButton(item.resourceId, item.resourceName),
            )
          : h("span", { class: "resource-id-line" }, copyIdButton(item.resourceId, item.resourceId)),
      ),
      h("td", {}, item.costCenter || "—"),
      h("td", { class: "num" }, share(item.sharePct)),
      h(
        "td",
        { class: "num" },
        cost ? money(cost.latestDaily) : "—",
        cost && cost.latestDay ? h("small", { class: "muted" }, ` ${shortDay(cost.latestDay)}`) : null,
      ),
      h("td", { class: "num" }, cost ? money(cost.last30Days) : "—"),
      h("td", {}, unassign),
    );
    return tr;
  }

  function showRows() {
    if (!items.length) {
      replace(
        tbody,
        h(
          "tr",
          {},
          h(
            "td",
            { colspan: String(COLUMNS.length) },
            emptyState(
              "No resources assigned yet.",
              can.manageAssignments
                ? "Assign one with the form below."
                : "Ask for one with the form below, or tag your resources with your owner tag.",
            ),
          ),
        ),
      );
    } else {
      replace(tbody, items.map(row));
    }
    more.hidden = !nextToken;
    if (items.length)
      status.textContent = `${items.length} resource${items.length === 1 ? "" : "s"}${nextToken ? " so far" : ""}.`;
  }

  async function load(append) {
    if (!append) {
      items = [];
      nextToken = null;
      replace(tbody, [...tableSkeleton(COLUMNS.length, 4).children]);
      table.setAttribute("aria-busy", "true");
    }
    more.disabled = true;
    try {
      const page = await api.resources(subject.userId, { limit: PAGE_SIZE, nextToken: append ? nextToken : null });
      if (signal.aborted) return;
      items = items.concat(page.items);
      nextToken = page.nextToken;
      showRows();
    } catch (error) {
      if (signal.aborted) return;
      if (append) {
        status.textContent = `Could not load more: ${error.message}`;
      } else {
        replace(
          tbody,
          h(
            "tr",
            {},
            h(
              "td",
              { colspan: String(COLUMNS.length) },
              errorState(error, () => load(false), "the resources"),
            ),
          ),
        );
      }
    } finally {
      table.removeAttribute("aria-busy");
      more.disabled = false;
    }
  }
  more.addEventListener("click", () => load(true));

  replace(
    container,
    pageHead(
      view,
      "Resources",
      subject.isSelf
        ? "The AWS resources assigned to you and what they cost."
        : `The AWS resources assigned to ${subject.username}.`,
    ),
    h(
      "div",
      { class: "grid" },
      card,
      can.manageAssignments || subject.isSelf
        ? assignForm({
            api,
            types,
            subject,
            signal,
            self: !can.manageAssignments,
            onAssigned: (body, result) => {
              if (body.userId === subject.userId && !result.claim) load(false);
            },
          })
        : null,
    ),
  );
  return load(false);
}
