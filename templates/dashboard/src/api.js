// The Tally API client. Sends the Cognito ID token in Authorization (what API Gateway's
// Cognito authorizer checks), turns application/problem+json answers into ApiError with the
// per-field messages, and on a 401 refreshes the session once before giving up. Answers that
// say which day it is (`today` on /me, the summary, all users) teach the page its business date.

import { learnToday } from "./format.js";

export class ApiError extends Error {
  constructor(status, problem = {}) {
    const message = problem.detail || problem.title || (status ? `The API answered ${status}.` : "Request failed.");
    super(message);
    this.status = status;
    this.problem = problem;
    // {monthlyLimit: "Input should be greater than or equal to 0", ...}
    this.fieldErrors = Object.fromEntries(
      (Array.isArray(problem.errors) ? problem.errors : []).map((e) => [e.field, e.message]),
    );
  }
}

const enc = encodeURIComponent;

export function createApi(config, auth) {
  async function send(method, url, token, body, headers) {
    try {
      return await fetch(url, {
        method,
        headers: {
          Authorization: token,
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        credentials: "omit",
        // A read revalidates what the browser kept (If-None-Match: a 304 reuses it, no
        // re-download; the API's Cache-Control is private, no-cache); nothing else is kept.
        cache: method === "GET" ? "no-cache" : "no-store",
      });
    } catch {
      throw new ApiError(0, {
        detail: "The Tally API cannot be reached. Check your connection and try again.",
      });
    }
  }

  function address(path, query) {
    const url = new URL(config.apiUrl + path);
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
    }
    return url;
  }

  // Reads asked for before the screen that makes them is drawn (`early`): a link opened in a
  // new tab sends the screen's first read beside GET /api/me, not after it. The screen's own
  // identical read takes the answer, once, within EARLY_MS; after that it asks again.
  const EARLY_MS = 10_000;
  const early = new Map();
  // Never handed to whoever signs in next: an answer is the signed-in person's.
  auth.onEnd?.(() => early.clear());

  async function request(method, path, { query, body, headers = {}, raw = false, blob = false } = {}) {
    const url = address(path, query);
    const plain = method === "GET" && !raw && !blob && body === undefined && !Object.keys(headers).length;
    if (plain && early.has(url.href)) {
      const answer = early.get(url.href);
      early.delete(url.href);
      return answer;
    }
    let token;
    try {
      token = await auth.idToken();
    } catch {
      throw new ApiError(401, { detail: "Your session has expired. Please sign in again." });
    }
    let response = await send(method, url, token, body, headers);
    if (response.status === 401) {
      try {
        token = await auth.recover();
      } catch {
        throw new ApiError(401, { detail: "Your session has expired. Please sign in again." });
      }
      response = await send(method, url, token, body, headers);
      if (response.status === 401) {
        auth.expire();
        throw new ApiError(401, { detail: "Your session has expired. Please sign in again." });
      }
    }
    // A file the API answers itself (the invoice template's preview PDF).
    if (blob && response.ok) return response.blob();
    const type = response.headers.get("Content-Type") || "";
    const payload = response.status === 204 || !/json/.test(type) ? null : await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, payload || {});
    if (payload && typeof payload === "object") learnToday(payload.today);
    return raw ? { data: payload, response } : payload;
  }

  return {
    /** Sends the read GET `path` (`query`) now, for the screen about to ask for it. */
    early(path, query) {
      const url = address(path, query);
      if (early.has(url.href)) return;
      const answer = request("GET", path, { query });
      answer.catch(() => {}); // the screen that takes it sees the failure
      early.set(url.href, answer);
      setTimeout(() => early.get(url.href) === answer && early.delete(url.href), EARLY_MS);
    },
    me: () => request("GET", "/me"),
    summary: (userId, currency) => request("GET", `/billing/user/${enc(userId)}/summary`, { query: { currency } }),
    costs: (userId, startDate, endDate) =>
      request("GET", `/billing/user/${enc(userId)}/costs`, { query: { startDate, endDate } }),
    costLines: (userId, { startDate, endDate, service, q, sort, limit, nextToken } = {}) =>
      request("GET", `/billing/user/${enc(userId)}/cost-lines`, {
        query: { startDate, endDate, service, q, sort, limit, nextToken },
      }),
    // `resourceId`: only that resource's assignments among the page's (one resource's page).
    resources: (userId, { nextToken, limit, resourceId } = {}) =>
      request("GET", `/billing/user/${enc(userId)}/resources`, { query: { nextToken, limit, resourceId } }),
    async budget(userId) {
      const { data, response } = await request("GET", `/billing/budgets/${enc(userId)}`, {
        raw: true,
      });
      // The ETag is exposed by the API's CORS configuration; the version is the same value.
      return { budget: data, etag: response.headers.get("ETag") || `"${data.version}"` };
    },
    createBudget: (body) => request("POST", "/billing/budgets", { body }),
    updateBudget: (budgetId, changes, etag) =>
      request("PUT", `/billing/budgets/${enc(budgetId)}`, {
        body: changes,
        headers: etag ? { "If-Match": etag } : {},
      }),
    // 201: assigned (or a claim accepted at once); 202: a user's own request became a claim
    // that waits for approval ({claim}).
    async assign(body) {
      const { data, response } = await request("POST", "/billing/assign-resource", { body, raw: true });
      return response.status === 202 ? { claim: data } : { assignment: data };
    },
    claims: ({ view = "mine", limit, nextToken } = {}) =>
      request("GET", "/billing/claims", { query: { view, limit, nextToken } }),
    claim: (body) => request("POST", "/billing/claims", { body }),
    approveClaim: (claimId) => request("POST", `/billing/claims/${enc(claimId)}/approve`),
    rejectClaim: (claimId) => request("POST", `/billing/claims/${enc(claimId)}/reject`),
    unassign: (assignmentId) => request("DELETE", `/billing/unassign/${enc(assignmentId)}`),
    allUsers: ({ month, limit, nextToken } = {}) =>
      request("GET", "/billing/all-users", { query: { month, limit, nextToken } }),
    // The month's chargeback per team, department or cost center (costs:read at the organisation).
    chargeback: ({ month, groupBy } = {}) =>
      request("GET", "/billing/organisation/chargeback", { query: { month, groupBy } }),
    // Its ledger journal (payments, issue 17): JSON, or the CSV file's text.
    chargebackJournal: ({ month, groupBy } = {}) =>
      request("GET", "/billing/organisation/chargeback/journal", { query: { month, groupBy } }),
    async chargebackJournalCsv({ month, groupBy } = {}) {
      const { response } = await request("GET", "/billing/organisation/chargeback/journal", {
        query: { month, groupBy, format: "csv" },
        raw: true,
      });
      return response.text();
    },
    // The caller's own in-app notifications ({items, unreadCount, nextToken}); ids hold "#".
    notifications: ({ limit, nextToken } = {}) => request("GET", "/notifications", { query: { limit, nextToken } }),
    markNotification: (id, read) => request("POST", `/notifications/${enc(id)}/${read ? "read" : "unread"}`),
    markAllNotificationsRead: () => request("POST", "/notifications/read-all"),
    // Preferences change with If-Match, like a budget: {preferences, etag} both ways.
    async preferences() {
      const { data, response } = await request("GET", "/preferences", { raw: true });
      return { preferences: data, etag: response.headers.get("ETag") || `"${data.version}"` };
    },
    async updatePreferences(changes, etag) {
      const { data, response } = await request("PUT", "/preferences", {
        body: changes,
        headers: etag ? { "If-Match": etag } : {},
        raw: true,
      });
      return { preferences: data, etag: response.headers.get("ETag") || `"${data.version}"` };
    },
    testWebhook: () => request("POST", "/preferences/webhook/test"),
    // Reports (issue 12). Exports and invoices are jobs: POST answers 202 with the id, GET
    // tells its status and, once ready, a pre-signed link that expires (jobs.js polls it).
    createExport: (body) => request("POST", "/exports", { body }),
    exportJob: (exportId) => request("GET", `/exports/${enc(exportId)}`),
    createInvoice: (body) => request("POST", "/invoices", { body }),
    invoiceJob: (invoiceId) => request("GET", `/invoices/${enc(invoiceId)}`),
    // Issue 17: a ready invoice issued to the payment provider (payments:issue); answers its
    // payments, one per currency (201 the first time, 200 with the same ones after).
    issuePayment: (invoiceId) => request("POST", `/invoices/${enc(invoiceId)}/payment`),
    monthOverMonth: (userId, month) =>
      request("GET", `/billing/user/${enc(userId)}/month-over-month`, { query: { month } }),
    // No userId: one's own, or for an admin the organisation's.
    anomalies: ({ userId, status, nextToken } = {}) =>
      request("GET", "/anomalies", { query: { userId, status, nextToken } }),
    updateAnomaly: (anomalyId, status) => request("PATCH", `/anomalies/${enc(anomalyId)}`, { body: { status } }),
    recommendations: ({ userId } = {}) => request("GET", "/recommendations", { query: { userId } }),
    // Reserved capacity (commitments:read at the organisation: finance and admins).
    commitments: () => request("GET", "/commitments"),
    commitmentRecommendations: () => request("GET", "/commitments/recommendations"),
    // Organisation and access (issue 13): roles, teams, who holds what, and the audit log.
    roles: () => request("GET", "/roles"),
    createRole: (body) => request("POST", "/roles", { body }),
    updateRole: (roleId, body) => request("PUT", `/roles/${enc(roleId)}`, { body }),
    deleteRole: (roleId) => request("DELETE", `/roles/${enc(roleId)}`),
    teams: () => request("GET", "/teams"),
    // Invoice templates (issue 17; invoices:templates): a PUT carries the version it read.
    invoiceTemplates: () => request("GET", "/invoice-templates"),
    invoiceTemplate: (templateId, version) =>
      request("GET", `/invoice-templates/${enc(templateId)}`, { query: { version } }),
    createInvoiceTemplate: (body) => request("POST", "/invoice-templates", { body }),
    updateInvoiceTemplate: (templateId, body) => request("PUT", `/invoice-templates/${enc(templateId)}`, { body }),
    previewInvoiceTemplate: (templateId, body) =>
      request("POST", `/invoice-templates/${enc(templateId)}/preview`, {
        body,
        headers: { Accept: "application/pdf" },
        blob: true,
      }),
    team: (teamId) => request("GET", `/teams/${enc(teamId)}`),
    createTeam: (body) => request("POST", "/teams", { body }),
    updateTeam: (teamId, body) => request("PUT", `/teams/${enc(teamId)}`, { body }),
    deleteTeam: (teamId) => request("DELETE", `/teams/${enc(teamId)}`),
    userRoles: (userId) => request("GET", `/users/${enc(userId)}/roles`),
    setUserRoles: (userId, roles) => request("PUT", `/users/${enc(userId)}/roles`, { body: { roles } }),
    userAccess: (userId) => request("GET", `/users/${enc(userId)}/access`),
    audit: ({ subject, limit, nextToken } = {}) => request("GET", "/audit", { query: { subject, limit, nextToken } }),
    // Exchange rates and the organisation's billing settings (issue 17).
    rates: ({ date, base, quote, limit, nextToken } = {}) =>
      request("GET", "/rates", { query: { date, base, quote, limit, nextToken } }),
    addRate: (body) => request("POST", "/rates", { body }),
    billingSettings: () => request("GET", "/settings/billing"),
    updateBillingSettings: (body) => request("PUT", "/settings/billing", { body }),
    teamSummary: (teamId, currency) => request("GET", `/billing/team/${enc(teamId)}/summary`, { query: { currency } }),
    // A team's display currency (null: the organisation's): its managers, finance, admins.
    setTeamCurrency: (teamId, displayCurrency) =>
      request("PATCH", `/teams/${enc(teamId)}`, { body: { displayCurrency } }),
    async teamBudget(teamId) {
      const { data, response } = await request("GET", `/billing/budgets/team/${enc(teamId)}`, { raw: true });
      return { budget: data, etag: response.headers.get("ETag") || `"${data.version}"` };
    },
    // The AWS estate (issue 15), from the inventory's cache: Lambda functions, the network and
    // IAM users, and one action route that previews (preview: true) or performs a change.
    estateFunctions: ({ region } = {}) => request("GET", "/estate/lambda", { query: { region } }),
    // With start and end: `range`, the metrics panel over them with the recent errors.
    estateFunction: (name, { region, start, end } = {}) =>
      request("GET", `/estate/lambda/${enc(name)}`, { query: { region, start, end } }),
    estateNetwork: ({ region } = {}) => request("GET", "/estate/network", { query: { region } }),
    estateIamUsers: () => request("GET", "/estate/iam/users"),
    // An admin's mapping of an IAM user to a Tally user (estate:iam:link); wins over the tag.
    linkIamUser: (name, userId) => request("PUT", `/estate/iam/users/${enc(name)}/link`, { body: { userId } }),
    unlinkIamUser: (name) => request("DELETE", `/estate/iam/users/${enc(name)}/link`),
    // An owned resource's metrics panel over [start, end): series, daily cost and alarms.
    // `days` instead of `start` and `end`: the whole days before the API's today.
    estateMetrics: ({ resourceArn, start, end, days }) =>
      request("GET", "/estate/metrics", { query: { resourceArn, start, end, days } }),
    estateAction: ({ action, target, parameters = {}, preview }) =>
      request("POST", "/estate/actions", { body: { action, target, parameters, preview } }),
    // A cost center's month and budget (the organisation's: it spans the teams that name it).
    costCenterSummary: (code, month) =>
      request("GET", `/billing/cost-center/${enc(code)}/summary`, { query: { month } }),
    async costCenterBudget(code) {
      const { data, response } = await request("GET", `/billing/budgets/cost-center/${enc(code)}`, { raw: true });
      return { budget: data, etag: response.headers.get("ETag") || `"${data.version}"` };
    },
    // Tax (issue 17): rules are added and ended, never edited; the settings change with If-Match.
    taxRules: () => request("GET", "/tax-rules"),
    createTaxRule: (body) => request("POST", "/tax-rules", { body }),
    endTaxRule: (ruleId, effectiveTo) => request("POST", `/tax-rules/${enc(ruleId)}/end`, { body: { effectiveTo } }),
    async taxSettings() {
      const { data, response } = await request("GET", "/tax-rules/settings", { raw: true });
      return { settings: data, etag: response.headers.get("ETag") || `"${data.version}"` };
    },
    async updateTaxSettings(body, etag) {
      const { data, response } = await request("PUT", "/tax-rules/settings", {
        body,
        headers: etag ? { "If-Match": etag } : {},
        raw: true,
      });
      return { settings: data, etag: response.headers.get("ETag") || `"${data.version}"` };
    },
  };
}
