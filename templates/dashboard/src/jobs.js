// A button that starts an export or an invoice and follows it to its download link: the
// request answers 202 with the job's id, then the job is asked for with growing waits
// (reports.js pollJob) while "Preparing…" shows, until the link is ready (it expires: the
// time is said), the job failed (its error is said), or a minute passed ("Check again").

import { announce, h, replace } from "./dom.js";
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
 * `start()` resolves with the new job (its id under `idKey`), `get(id)` with its status;
 * `body()` (optional) is read at each click. `what` names the file ("CSV export", "invoice").
 * `extra` is shown beside the button (an option such as "Email it to me"). Returns {element}.
 */
export function jobButton({ label, what, start, get, idKey, signal, testid, extra = null, onReady = null }) {
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
      paymentStatus(job.payments),
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
