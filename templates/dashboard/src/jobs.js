// A button that starts an export or an invoice and follows it to its download link: the
// request answers 202 with the job's id, then the job is asked for with growing waits
// (reports.js pollJob) while "Preparing…" shows, until the link is ready (it expires: the
// time is said), the job failed (its error is said), or a minute passed ("Check again").

import { announce, h, replace, uid, whileBusy } from "./dom.js";
import { dateTime } from "./format.js";
import { pollJob } from "./reports.js";

const PAYMENT = { issued: "Issued for payment", paid: "Paid", void: "Void" };

/** An invoice's payment status at the provider, one per currency (none before it is issued). */
export function paymentStatus(payments) {
  if (!Array.isArray(payments) || !payments.length) return null;
  return h(
    "span",
    { class: "job-note", dataset: { testid: "payment-status" } },
    payments.map((p) =>
      h(
        "span",
        { class: "role-badge payment-badge", dataset: { status: p.status, currency: p.currency } },
        `${PAYMENT[p.status] || p.status} (${p.currency})`,
      ),
    ),
  );
}

/**
 * An invoice's payment: its status badge, the provider's page to pay it on, and (for whoever
 * may: `payment.allowed()` resolves true when payments are configured and the person holds
 * payments:issue) "Issue for payment" on a final month's invoice not issued yet. `issue(id)`
 * answers the payments (POST /invoices/{id}/payment), `get(id)` re-reads the invoice: on
 * "Check payment status" and whenever the page comes back into view while a payment is still
 * open (one pays on the provider's page, in another tab), so the badge turns "Paid" once the
 * provider's webhook has landed. A refusal is said beside the button (the problem's detail).
 */
export function paymentPanel(job, { allowed, issue, get, signal }) {
  const element = h("div", { class: "payment", dataset: { testid: "payment" } });
  const hintId = uid("payment-hint");
  let payments = Array.isArray(job.payments) ? job.payments : [];
  let may = false;

  const error = h("div", { class: "form-error payment-error", role: "alert", dataset: { testid: "payment-error" } });

  function open() {
    return payments.some((p) => p.status === "issued");
  }

  async function reread() {
    try {
      const fresh = await get(job.invoiceId);
      if (signal?.aborted) return;
      const before = payments.map((p) => p.status).join();
      payments = Array.isArray(fresh.payments) ? fresh.payments : [];
      error.textContent = "";
      draw();
      if (payments.map((p) => p.status).join() !== before) announce(statusSentence());
    } catch (failure) {
      if (!signal?.aborted) error.textContent = failure.message;
    }
  }

  function statusSentence() {
    return `Payment: ${payments.map((p) => `${PAYMENT[p.status] || p.status} (${p.currency})`).join(", ")}.`;
  }

  function draw() {
    const parts = [paymentStatus(payments)];
    for (const p of payments) {
      if (p.url && p.status === "issued")
        parts.push(
          h(
            "a",
            {
              class: "button small",
              href: p.url,
              target: "_blank",
              rel: "noopener noreferrer",
              dataset: { testid: "payment-link" },
            },
            payments.length > 1 ? `Payment page (${p.currency})` : "Payment page",
            h("span", { class: "visually-hidden" }, " (opens in a new tab)"),
          ),
        );
    }
    if (open()) {
      const check = h(
        "button",
        { type: "button", class: "button small", dataset: { testid: "payment-refresh" } },
        "Check payment status",
      );
      check.addEventListener("click", () => whileBusy(check, "Checking…", reread));
      parts.push(check);
    }
    if (!payments.length && may) {
      if (job.provisional) {
        parts.push(
          h(
            "span",
            { class: "job-note", dataset: { testid: "payment-not-final" } },
            "It can be issued for payment once the month is final.",
          ),
        );
      } else {
        const button = h(
          "button",
          { type: "button", class: "button", "aria-describedby": hintId, dataset: { testid: "issue-payment" } },
          "Issue for payment",
        );
        button.addEventListener("click", () =>
          whileBusy(button, "Issuing…", async () => {
            error.textContent = "";
            try {
              payments = await issue(job.invoiceId);
            } catch (failure) {
              if (!signal?.aborted) error.textContent = failure.message;
              return;
            }
            if (signal?.aborted) return;
            draw();
            announce(statusSentence());
            element.querySelector("[data-testid=payment-refresh], [data-testid=payment-link]")?.focus();
          }),
        );
        parts.push(
          button,
          h(
            "span",
            { class: "job-note", id: hintId },
            "Sends it to the payment provider, which emails it and hosts its payment page.",
          ),
        );
      }
    }
    replace(element, h("div", { class: "payment-controls" }, parts), error);
    element.hidden = !payments.length && !may;
  }

  // Back from the provider's page (another tab): the webhook may have landed meanwhile.
  document.addEventListener(
    "visibilitychange",
    () => {
      if (document.visibilityState === "visible" && open()) reread();
    },
    { signal },
  );

  draw();
  Promise.resolve(allowed ? allowed() : false).then(
    (yes) => {
      if (signal?.aborted || !yes) return;
      may = true;
      draw();
    },
    () => {},
  );
  return element;
}

/**
 * `start()` resolves with the new job (its id under `idKey`), `get(id)` with its status;
 * `body()` (optional) is read at each click. `what` names the file ("CSV export", "invoice").
 * `extra` is shown beside the button (an option such as "Email it to me"). `payment` (an
 * invoice's: {allowed, issue}) adds its payment panel once ready (paymentPanel). Returns {element}.
 */
export function jobButton({
  label,
  what,
  start,
  get,
  idKey,
  signal,
  testid,
  extra = null,
  onReady = null,
  payment = null,
}) {
  const button = h("button", { type: "button", class: "button", dataset: { testid } }, label);
  const status = h("div", {
    class: "job-status",
    role: "status",
    "aria-live": "polite",
    dataset: { testid: `${testid}-status` },
  });
  const element = h("div", { class: "job" }, h("div", { class: "job-controls" }, button, extra), status);
  let running = false;

  function preparing(attempt) {
    replace(
      status,
      h("progress", { class: "job-progress", "aria-label": `Preparing the ${what}` }),
      h("span", {}, attempt ? `Preparing the ${what}… still working` : `Preparing the ${what}…`),
    );
  }

  function ready(job) {
    const link = h(
      "a",
      { class: "button primary small", href: job.url, download: "", dataset: { testid: `${testid}-link` } },
      `Download the ${what}`,
    );
    replace(
      status,
      link,
      h(
        "span",
        { class: "job-note" },
        job.rows !== undefined && job.rows !== null ? `${job.rows} row${job.rows === 1 ? "" : "s"}. ` : "",
        job.expiresAt ? `The link works until ${dateTime(job.expiresAt)}.` : "",
        job.emailed === true ? " It was also emailed to you." : "",
      ),
      payment ? paymentPanel(job, { ...payment, get, signal }) : paymentStatus(job.payments),
    );
    announce(`The ${what} is ready to download.`);
    if (onReady) onReady(job);
  }

  function failed(message) {
    replace(status, h("span", { class: "form-error job-error", role: "alert" }, message));
  }

  async function follow(id) {
    try {
      const job = await pollJob(() => get(id), { signal, onWait: ({ attempt }) => preparing(attempt) });
      if (signal?.aborted) return;
      if (job.status === "ready") ready(job);
      else if (job.status === "failed") failed(job.error || `The ${what} could not be made.`);
      else {
        const again = h("button", { type: "button", class: "button small" }, "Check again");
        again.addEventListener("click", () => {
          running = true;
          button.disabled = true;
          follow(id);
        });
        replace(status, h("span", {}, `The ${what} is taking longer than usual. `), again);
      }
    } catch (error) {
      if (signal?.aborted) return;
      failed(error.message);
    } finally {
      running = false;
      button.disabled = false;
    }
  }

  button.addEventListener("click", async () => {
    if (running) return;
    running = true;
    button.disabled = true;
    preparing(0);
    let job;
    try {
      job = await start();
    } catch (error) {
      running = false;
      button.disabled = false;
      if (!signal?.aborted) failed(error.message);
      return;
    }
    if (signal?.aborted) return;
    await follow(job[idKey]);
  });

  return { element, button, status };
}
