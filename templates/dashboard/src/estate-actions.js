// The estate's management actions (POST /api/estate/actions {action, target, parameters,
// preview}): every button first asks for the preview (what exactly would change, with the
// right-sizing suggestion for memory), shows it in a dialog, and performs the change only when
// the person confirms. A button shows only when the caller holds the action's permission
// (estate:lambda:manage; estate:iam:<Action> at the organisation); the API decides anyway, and
// its problem+json answer (403, 409 action disabled, 422 on parameters.<name>) is shown as is.

import { announce, h, openDialog, replace, uid, whileBusy } from "./dom.js";
import { dateTime, money } from "./format.js";
import { reservedText } from "./estate.js";
import { COMPARISONS, SERIES, alarmRule } from "./resource-metrics.js";

export const LAMBDA_MANAGE = "estate:lambda:manage";
const PREVIEW_DELAY_MS = 300;
export const ALARMS_WRITE = "estate:alarms:write";
export const REFRESH = "tally:RefreshInventory";
export const REFRESH_PERMISSION = "estate:refresh";

/** The permission an action needs (as the API's catalog names it). */
export function actionPermission(action) {
  if (action === "cloudwatch:PutMetricAlarm") return ALARMS_WRITE;
  if (action === REFRESH) return REFRESH_PERMISSION;
  return action.startsWith("iam:") ? `estate:${action}` : LAMBDA_MANAGE;
}

function changeText(change) {
  const show = (v) => (v === null || v === undefined ? "none" : typeof v === "object" ? JSON.stringify(v) : String(v));
  if (change.field === "alarm" && change.after) {
    return `New alarm ${change.after.name}: ${alarmRule(change.after)}`;
  }
  if (change.field === "readAt") {
    return `Read ${change.before ? `at ${dateTime(change.before)}` : "never"} → now`;
  }
  if (change.field === "reservedConcurrency") {
    return `Reserved concurrency: ${reservedText(change.before)} → ${reservedText(change.after)}`;
  }
  return `${change.field}: ${show(change.before)} → ${show(change.after)}`;
}

function previewBody(preview) {
  const parts = [];
  if (preview.changes?.length) {
    parts.push(
      h("h3", {}, "What changes"),
      h(
        "ul",
        { class: "plain-list", dataset: { testid: "preview-changes" } },
        preview.changes.map((c) => h("li", {}, changeText(c))),
      ),
    );
  }
  if (preview.removes?.length) {
    parts.push(
      h("h3", {}, "Removed first"),
      h(
        "ul",
        { class: "plain-list", dataset: { testid: "preview-removes" } },
        preview.removes.map((r) => h("li", {}, r)),
      ),
    );
  }
  const s = preview.sizing;
  if (s) {
    parts.push(
      h(
        "div",
        { class: "sizing", dataset: { testid: "preview-sizing" } },
        h("h3", {}, "Right-sizing suggestion"),
        h("p", {}, `Suggested: ${s.memory} MB, ${s.timeout} s timeout.`),
        s.reasons?.length
          ? h(
              "ul",
              { class: "plain-list" },
              s.reasons.map((r) => h("li", {}, r)),
            )
          : null,
        h(
          "p",
          {},
          `30 days: now ${money(s.monthlyCostNow)}, suggested ${money(s.monthlyCostSuggested)}`,
          s.monthlyCostRequested ? `, as requested ${money(s.monthlyCostRequested)}` : "",
          ".",
        ),
        s.assumption ? h("p", { class: "muted" }, s.assumption) : null,
      ),
    );
  }
  if (preview.owners?.length === 0) parts.push(h("p", { class: "muted" }, "The resource has no Tally owner."));
  if (!parts.length) parts.push(h("p", {}, "Nothing would change."));
  return parts;
}

/**
 * Asks the API for the preview, shows it, and on confirmation performs the action. `inputs`
 * (optional) are form fields shown above the preview that build the parameters; changing
 * them asks for a new preview. Resolves with the performed answer, or null when cancelled.
 */
export function runAction(
  api,
  { title, action, target, parameters = () => ({}), inputs = [], confirmLabel = "Apply", danger = false },
) {
  const previewSlot = h(
    "div",
    { class: "preview", "aria-live": "polite" },
    h("p", { class: "muted" }, "Asking for a preview…"),
  );
  const problem = h("p", { class: "form-error", role: "alert", dataset: { testid: "action-error" } });
  const confirm = h(
    "button",
    { type: "submit", class: `button ${danger ? "danger" : "primary"}`, disabled: true },
    confirmLabel,
  );
  let performed = null;
  // A new user's name is typed in the dialog: the target may be read when sending.
  const targetOf = typeof target === "function" ? target : () => target;

  function showError(error) {
    const fields = Object.entries(error.fieldErrors || {});
    problem.textContent = fields.length
      ? fields.map(([name, message]) => `${name.replace(/^parameters\./, "")}: ${message}`).join("; ")
      : error.message;
  }

  // Each change of a field asks again; only the latest question's answer is shown (an
  // earlier one answering later would show, and confirm, values no longer in the form).
  let asked = 0;
  let typing = null;
  async function preview() {
    clearTimeout(typing);
    const mine = ++asked;
    problem.textContent = "";
    confirm.disabled = true;
    if (!targetOf()) {
      replace(previewSlot, h("p", { class: "muted" }, "Fill in the name to see what would change."));
      return;
    }
    replace(previewSlot, h("p", { class: "muted" }, "Asking for a preview…"));
    try {
      const answer = await api.estateAction({ action, target: targetOf(), parameters: parameters(), preview: true });
      if (mine !== asked) return;
      replace(previewSlot, previewBody(answer));
      confirm.disabled = !(answer.changes?.length || answer.removes?.length);
    } catch (error) {
      if (mine !== asked) return;
      replace(previewSlot);
      // A dialog opens on the resource's current values: "nothing to do" (409) is the
      // starting point there, not an error.
      if (error.status === 409 && inputs.length && error.problem?.type?.endsWith("/conflict")) {
        replace(previewSlot, h("p", { class: "muted" }, `${error.message} Change a value to see what would change.`));
      } else {
        showError(error);
      }
    }
  }

  const { close, done } = openDialog({
    title,
    className: "dialog-action",
    build: (closeIt) =>
      h(
        "form",
        {
          novalidate: true,
          dataset: { testid: "action-dialog", action },
          async onsubmit(event) {
            event.preventDefault();
            problem.textContent = "";
            confirm.disabled = true;
            try {
              performed = await api.estateAction({
                action,
                target: targetOf(),
                parameters: parameters(),
                preview: false,
              });
              closeIt(performed);
            } catch (error) {
              showError(error);
              confirm.disabled = false;
            }
          },
        },
        inputs.map((input) => {
          // Asked while typing (a pause of PREVIEW_DELAY_MS), not on "change": that fires
          // when the field loses focus, i.e. on the very click on the confirm button, which
          // the new preview then disabled under the pointer (the click was lost).
          input.control.addEventListener("input", () => {
            // The preview shown is of the values before: gone at once, so it is never read
            // (or confirmed) against the new ones.
            clearTimeout(typing);
            asked += 1;
            confirm.disabled = true;
            replace(previewSlot, h("p", { class: "muted" }, "Asking for a preview…"));
            typing = setTimeout(preview, PREVIEW_DELAY_MS);
          });
          return input.element;
        }),
        previewSlot,
        problem,
        h(
          "div",
          { class: "dialog-actions" },
          h("button", { type: "button", class: "button", onclick: () => closeIt(null) }, "Cancel"),
          confirm,
        ),
      ),
  });
  preview();
  return { close, done };
}

function numberInput(label, name, value, { min, max, hint }) {
  const id = uid(name);
  const control = h("input", { id, name, type: "number", inputmode: "numeric", min, max, value: String(value ?? "") });
  const element = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { class: "field-hint" }, hint) : null,
  );
  return { element, control };
}

/** The groups "Add to group…" offers: the account's (as the inventory read them) the user is not in. */
export function groupChoices(groups, user) {
  const mine = new Set(user.groups);
  return groups.filter((g) => !mine.has(g.name));
}

function textInput(label, name, value) {
  const id = uid(name);
  const control = h("input", { id, name, type: "text", autocomplete: "off", value: value || "" });
  return { element: h("div", { class: "field" }, h("label", { for: id }, label), control), control };
}

/** The function's action buttons (a card), or null when the caller may not manage functions. */
export function functionActions(view, fn, onDone) {
  if (!view.ctx.access().can(LAMBDA_MANAGE)) return null;
  const api = view.ctx.api;
  const finish = (message) => (answer) => {
    if (!answer) return;
    announce(message);
    onDone(message);
  };
  const button = (label, open, testid) =>
    h("button", { type: "button", class: "button", dataset: { testid }, onclick: open }, label);
  const buttons = [];
  buttons.push(
    button(
      "Reserved concurrency…",
      () => {
        const input = numberInput("Reserved concurrency", "reservedConcurrency", fn.reservedConcurrency ?? 10, {
          min: 0,
          max: 10000,
          hint: "0 pauses the function: it is not invoked until the reservation is removed.",
        });
        runAction(api, {
          title: `Reserved concurrency of ${fn.name}`,
          action: "lambda:PutFunctionConcurrency",
          target: fn.name,
          inputs: [input],
          parameters: () => ({ reservedConcurrency: Number(input.control.value) }),
        }).done.then(finish(`Reserved concurrency of ${fn.name} changed.`));
      },
      "action-concurrency",
    ),
  );
  buttons.push(
    fn.reservedConcurrency === null
      ? button(
          "Pause",
          () =>
            runAction(api, {
              title: `Pause ${fn.name}?`,
              action: "lambda:PutFunctionConcurrency",
              target: fn.name,
              parameters: () => ({ reservedConcurrency: 0 }),
              confirmLabel: "Pause",
              danger: true,
            }).done.then(finish(`${fn.name} is paused.`)),
          "action-pause",
        )
      : button(
          fn.reservedConcurrency === 0 ? "Unpause" : "Remove reservation",
          () =>
            runAction(api, {
              title: `Remove the reserved concurrency of ${fn.name}?`,
              action: "lambda:DeleteFunctionConcurrency",
              target: fn.name,
              confirmLabel: "Remove",
            }).done.then(finish(`The reservation of ${fn.name} is removed.`)),
          "action-unreserve",
        ),
  );
  buttons.push(
    button(
      "Memory and timeout…",
      () => {
        const memory = numberInput("Memory (MB)", "memory", fn.memoryMb, { min: 128, max: 10240 });
        const timeout = numberInput("Timeout (seconds)", "timeout", fn.timeoutSeconds, { min: 1, max: 900 });
        runAction(api, {
          title: `Memory and timeout of ${fn.name}`,
          action: "lambda:UpdateFunctionConfiguration",
          target: fn.name,
          inputs: [memory, timeout],
          parameters: () => ({ memory: Number(memory.control.value), timeout: Number(timeout.control.value) }),
        }).done.then(finish(`The configuration of ${fn.name} changed.`));
      },
      "action-configuration",
    ),
  );
  buttons.push(
    button(
      "Owner tag…",
      () => {
        const owner = textInput("Owner (a username or email)", "owner", fn.tags?.Owner);
        runAction(api, {
          title: `Owner tag of ${fn.name}`,
          action: "lambda:TagResource",
          target: fn.name,
          inputs: [owner],
          parameters: () => ({ owner: owner.control.value.trim() }),
        }).done.then(finish(`The Owner tag of ${fn.name} changed.`));
      },
      "action-owner-tag",
    ),
  );
  return h(
    "section",
    { class: "card span-12", "aria-labelledby": "fn-actions-title", dataset: { testid: "function-actions" } },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "fn-actions-title" }, "Manage"),
      h("p", { class: "card-subtitle" }, "Each change is previewed first and audited."),
    ),
    h("div", { class: "action-row" }, buttons),
  );
}

/**
 * The IAM actions for one user that the caller holds (buttons), each previewed first.
 * `groups`: the account's IAM groups (GET /api/estate/iam/users), the choices of "Add to group…".
 */
export function iamUserActions(view, user, onDone, groups = []) {
  const access = view.ctx.access();
  const api = view.ctx.api;
  const may = (action) => access.can(actionPermission(action), "org");
  const finish = (message) => (answer) => {
    if (!answer) return;
    announce(message);
    onDone(message);
  };
  const run = (opts, message) => runAction(api, { target: user.name, ...opts }).done.then(finish(message));
  const buttons = [];
  const add = (action, label, open) => {
    if (may(action))
      buttons.push(h("button", { type: "button", class: "button small", dataset: { action }, onclick: open }, label));
  };
  for (const key of user.accessKeys) {
    const active = key.status === "Active";
    add("iam:UpdateAccessKey", `${active ? "Deactivate" : "Reactivate"} ${key.keyId}`, () =>
      run(
        {
          title: `${active ? "Deactivate" : "Reactivate"} access key ${key.keyId}?`,
          action: "iam:UpdateAccessKey",
          parameters: () => ({ accessKeyId: key.keyId, status: active ? "Inactive" : "Active" }),
          confirmLabel: active ? "Deactivate" : "Reactivate",
          danger: active,
        },
        `Access key ${key.keyId} ${active ? "deactivated" : "reactivated"}.`,
      ),
    );
    add("iam:DeleteAccessKey", `Delete ${key.keyId}`, () =>
      run(
        {
          title: `Delete access key ${key.keyId}?`,
          action: "iam:DeleteAccessKey",
          parameters: () => ({ accessKeyId: key.keyId }),
          confirmLabel: "Delete",
          danger: true,
        },
        `Access key ${key.keyId} deleted.`,
      ),
    );
  }
  if (user.consoleAccess) {
    add("iam:DeleteLoginProfile", "Disable console access", () =>
      run(
        {
          title: `Disable console access of ${user.name}?`,
          action: "iam:DeleteLoginProfile",
          confirmLabel: "Disable",
          danger: true,
        },
        `Console access of ${user.name} disabled.`,
      ),
    );
    add("iam:UpdateLoginProfile", "Require password reset", () =>
      run(
        {
          title: `Require ${user.name} to reset their password?`,
          action: "iam:UpdateLoginProfile",
          confirmLabel: "Require",
        },
        `${user.name} must reset their password at next sign-in.`,
      ),
    );
  }
  // A choice of the cached groups the user is not in (no free text): none left, no button.
  const choices = groupChoices(groups, user);
  if (choices.length)
    add("iam:AddUserToGroup", "Add to group…", () => {
      const group = selectInput(
        "Group",
        "group",
        choices.map((g) => [g.name, g.policies.length ? `${g.name} (${g.policies.join(", ")})` : g.name]),
      );
      run(
        {
          title: `Add ${user.name} to a group`,
          action: "iam:AddUserToGroup",
          inputs: [group],
          parameters: () => ({ group: group.control.value }),
          confirmLabel: "Add",
        },
        `${user.name} added to ${group.control.value}.`,
      );
    });
  for (const groupName of user.groups) {
    add("iam:RemoveUserFromGroup", `Remove from ${groupName}`, () =>
      run(
        {
          title: `Remove ${user.name} from ${groupName}?`,
          action: "iam:RemoveUserFromGroup",
          parameters: () => ({ group: groupName }),
          confirmLabel: "Remove",
          danger: true,
        },
        `${user.name} removed from ${groupName}.`,
      ),
    );
  }
  add("iam:DeleteUser", "Delete user", () =>
    run(
      { title: `Delete ${user.name}?`, action: "iam:DeleteUser", confirmLabel: "Delete user", danger: true },
      `${user.name} deleted.`,
    ),
  );
  if (!buttons.length) return null;
  return h("div", { class: "action-row", dataset: { testid: "iam-actions" } }, buttons);
}

export const IAM_LINK = "estate:iam:link";

/**
 * "Link to a Tally user…" and, once an admin mapped it, "Unlink" (estate:iam:link at the
 * organisation), or null without it. `names`: the user directory (user id -> name). These
 * change only Tally's own mapping (PUT/DELETE /api/estate/iam/users/{name}/link), not AWS:
 * no preview, the dialog is the confirmation.
 */
export function iamLinkActions(view, user, names, onDone) {
  if (!view.ctx.access().can(IAM_LINK, "org")) return null;
  const api = view.ctx.api;
  const buttons = [
    h(
      "button",
      {
        type: "button",
        class: "button small",
        dataset: { testid: "iam-link" },
        onclick() {
          const people = [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));
          const choice = selectInput("Tally user", "userId", people);
          if (user.linkedBy === "admin") choice.control.value = user.tallyUserId;
          const problem = h("p", { class: "form-error", role: "alert", dataset: { testid: "action-error" } });
          openDialog({
            title: `Link ${user.name} to a Tally user`,
            className: "dialog-action",
            build: (close) =>
              h(
                "form",
                {
                  novalidate: true,
                  dataset: { testid: "link-dialog" },
                  async onsubmit(event) {
                    event.preventDefault();
                    problem.textContent = "";
                    try {
                      await api.linkIamUser(user.name, choice.control.value);
                      close(true);
                      const message = `${user.name} linked to ${names.get(choice.control.value) || choice.control.value}.`;
                      announce(message);
                      onDone(message);
                    } catch (error) {
                      problem.textContent = error.message;
                    }
                  },
                },
                choice.element,
                h(
                  "p",
                  { class: "muted" },
                  "An admin's link wins over the Owner tag, and the hourly inventory keeps it.",
                ),
                problem,
                h(
                  "div",
                  { class: "dialog-actions" },
                  h("button", { type: "button", class: "button", onclick: () => close(null) }, "Cancel"),
                  h("button", { type: "submit", class: "button primary" }, "Link"),
                ),
              ),
          });
        },
      },
      user.linkedBy === "admin" ? "Change link…" : "Link to a Tally user…",
    ),
  ];
  if (user.linkedBy === "admin")
    buttons.push(
      h(
        "button",
        {
          type: "button",
          class: "button small",
          dataset: { testid: "iam-unlink" },
          async onclick(event) {
            const button = event.currentTarget;
            button.disabled = true;
            try {
              await api.unlinkIamUser(user.name);
              const message = `${user.name} unlinked.`;
              announce(message);
              onDone(message);
            } catch (error) {
              button.disabled = false;
              announce(`Could not unlink: ${error.message}`);
            }
          },
        },
        "Unlink",
      ),
    );
  return h("div", { class: "action-row", dataset: { testid: "iam-link-actions" } }, buttons);
}

/** "New IAM user…" (iam:CreateUser: no credentials, in chosen groups), or null without it. */
export function createUserAction(view, onDone) {
  if (!view.ctx.access().can(actionPermission("iam:CreateUser"), "org")) return null;
  return h(
    "button",
    {
      type: "button",
      class: "button",
      dataset: { testid: "create-iam-user" },
      onclick() {
        const name = textInput("User name", "userName", "");
        const groups = textInput("Groups (comma-separated, optional)", "groups", "");
        runAction(view.ctx.api, {
          title: "New IAM user (no credentials)",
          action: "iam:CreateUser",
          target: () => name.control.value.trim(),
          inputs: [name, groups],
          parameters: () => ({
            groups: groups.control.value
              .split(",")
              .map((g) => g.trim())
              .filter(Boolean),
          }),
          confirmLabel: "Create user",
        }).done.then((answer) => {
          if (!answer) return;
          const message = `IAM user ${answer.target} created.`;
          announce(message);
          onDone(message);
        });
      },
    },
    "New IAM user…",
  );
}

/** A labelled select of [value, text] options, `value` chosen. */
function selectInput(label, name, options, value) {
  const id = uid(name);
  const control = h(
    "select",
    { id, name },
    options.map(([v, text]) =>
      h("option", { value: String(v), selected: value !== undefined && String(v) === String(value) }, text),
    ),
  );
  return { element: h("div", { class: "field" }, h("label", { for: id }, label), control), control };
}

const PERIODS = [
  [60, "1 minute"],
  [300, "5 minutes"],
  [900, "15 minutes"],
  [3600, "1 hour"],
];
const COMPARISON_LABEL = {
  GreaterThanOrEqualToThreshold: "≥ at or above",
  GreaterThanThreshold: "> above",
  LessThanThreshold: "< below",
  LessThanOrEqualToThreshold: "≤ at or below",
};

/**
 * "Create alarm" on a metrics panel's series (cloudwatch:PutMetricAlarm): null unless the
 * caller holds estate:alarms:write; else `{button(series)}`, a button for each series an alarm
 * can watch. The target is the function's name, or the ARN the panel was asked for (an EC2
 * instance, RDS DB instance or S3 bucket: the API resolves it as the panel does).
 * The dialog starts on that metric; the API answers 409 action-disabled when the deployment
 * has the alarms family off, shown in the dialog as it says. `onDone()` after one is made.
 */
export function alarmAction(view, panel, onDone) {
  if (!view.ctx.access().can(ALARMS_WRITE)) return null;
  const alarmable = panel.series.filter((s) => SERIES[s.id]?.alarm);
  const lambda = panel.resource.type === "lambda";
  // S3's storage metrics are daily: a shorter period would never have a datapoint.
  const periodChoices = panel.resource.type === "s3" ? [[86400, "1 day"]] : PERIODS;
  const open = (series) => {
    const metric = selectInput(
      "Metric",
      "metric",
      alarmable.map((s) => [s.id, `${SERIES[s.id].alarm.metric} (${SERIES[s.id].alarm.statistic})`]),
      series.id,
    );
    const highest = Math.max(0, ...series.points.map((p) => p.value));
    const threshold = numberInput("Threshold", "threshold", Math.ceil(highest) || 1, {
      min: 0,
      hint: "In CloudWatch's unit for the metric (percent for CPU, bytes for network and storage, milliseconds for Duration), per period.",
    });
    const comparison = selectInput(
      "Alarm when the metric is",
      "comparison",
      COMPARISONS.map((c) => [c, COMPARISON_LABEL[c]]),
      COMPARISONS[0],
    );
    const period = selectInput("Period", "periodSeconds", periodChoices, periodChoices.length > 1 ? 300 : 86400);
    const periods = numberInput("Periods in a row", "periods", 1, { min: 1, max: 24 });
    runAction(view.ctx.api, {
      title: `New alarm on ${panel.resource.name}`,
      action: "cloudwatch:PutMetricAlarm",
      target: lambda ? panel.resource.name : panel.resource.arn,
      inputs: [metric, comparison, threshold, period, periods],
      parameters: () => {
        const chosen = SERIES[metric.control.value].alarm;
        return {
          metric: chosen.metric,
          statistic: chosen.statistic,
          threshold: threshold.control.value.trim(),
          comparison: comparison.control.value,
          periodSeconds: Number(period.control.value),
          periods: Number(periods.control.value),
        };
      },
      confirmLabel: "Create alarm",
    }).done.then((answer) => {
      if (!answer) return;
      const message = `Alarm ${answer.after?.name || ""} created: it notifies the owners in Tally.`;
      announce(message);
      onDone(message);
    });
  };
  return {
    button(series) {
      if (!SERIES[series.id]?.alarm) return null;
      return h(
        "button",
        {
          type: "button",
          class: "button small",
          dataset: { testid: "create-alarm", metric: series.id },
          "aria-label": `Create alarm on ${SERIES[series.id].label}`,
          onclick: () => open(series),
        },
        "Create alarm",
      );
    },
  };
}

/**
 * "Refresh" (tally:RefreshInventory): re-reads `target` (a function's name, or
 * "region:<region>" with `family` lambda, network or iam) into the estate cache at once. No
 * preview: a refresh reads, it changes nothing in AWS. Shown only with estate:refresh (at the
 * organisation for a region, which is the organisation's); `onDone(message)` then reloads the
 * view with its new "as of", `onError(error)` tells what the API answered.
 */
export function refreshAction(view, { target, family, scope, onDone, onError }) {
  if (!view.ctx.access().can(REFRESH_PERMISSION, scope)) return null;
  const button = h(
    "button",
    {
      type: "button",
      class: "button small",
      dataset: { testid: "refresh" },
      async onclick() {
        try {
          await whileBusy(button, "Refreshing…", () =>
            view.ctx.api.estateAction({ action: REFRESH, target, parameters: { family }, preview: false }),
          );
          const message = "Refreshed: read again from AWS just now.";
          announce(message);
          onDone(message);
        } catch (error) {
          onError(error);
        }
      },
    },
    "Refresh",
  );
  return button;
}
