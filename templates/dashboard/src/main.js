// Tally's dashboard: configuration, session, the app shell and a hash router
// (#/dashboard, #/resources, #/costs, #/budget, #/claims, #/admin, #/security, #/settings,
// #/notifications, #/changes, #/anomalies, #/savings; #/teams, #/teams/<id>, #/roles, #/audit,
// #/users/<id>/access, #/chargeback, #/tax, #/templates, #/rates, #/commitments, #/estate/..., shown by permission; ?user=<id>&name=<name> when an admin looks at
// someone else's data). Hash routes need no server rewrite on S3/CloudFront. The
// header's bell shows the caller's own notifications on every page.

import { createApi } from "./api.js";
import { createAuth } from "./auth.js";
import { createBell } from "./bell.js";
import { setPeriods } from "./calendar.js";
import { loadConfig } from "./config.js";
import { announce, h, replace } from "./dom.js";
import { knownToday } from "./format.js";
import { createInbox } from "./inbox.js";
import { resourceTypes } from "./resource-types.js";
import { signInView } from "./views/signin.js";
import { createAccess } from "./access.js";
import { estateAllowed } from "./estate-tabs.js";
import { noAccessPage } from "./views/noaccess.js";

// Each screen's code is a chunk of its own, fetched when the screen first opens (esbuild's code
// splitting), so the first page load carries the shell, sign-in and the dashboard only: the
// dashboard's chunk (and Chart.js with it) is named in index.html's modulepreload links, so it
// downloads beside the entry, never after it (build.mjs). `load(view)` gives the module,
// `render(view, module)` draws the screen with it.
const screens = {
  dashboard: () => import("./views/dashboard.js"),
  resources: () => import("./views/resources.js"),
  resource: () => import("./views/resource.js"),
  costs: () => import("./views/costs.js"),
  budget: () => import("./views/budget.js"),
  changes: () => import("./views/changes.js"),
  anomalies: () => import("./views/anomalies.js"),
  savings: () => import("./views/savings.js"),
  claims: () => import("./views/claims.js"),
  admin: () => import("./views/admin.js"),
  teams: () => import("./views/teams.js"),
  roles: () => import("./views/roles.js"),
  audit: () => import("./views/audit.js"),
  rates: () => import("./views/rates.js"),
  chargeback: () => import("./views/chargeback.js"),
  tax: () => import("./views/tax.js"),
  templates: () => import("./views/templates.js"),
  commitments: () => import("./views/commitments.js"),
  estate: () => import("./views/estate.js"),
  users: () => import("./views/user-access.js"),
  security: () => import("./views/security.js"),
  settings: () => import("./views/settings.js"),
  notifications: () => import("./views/notifications.js"),
};

const ROUTES = {
  // ownPeriods: the dashboard takes its period's days from the summary (see render).
  dashboard: {
    title: "Dashboard",
    load: screens.dashboard,
    render: (view, m) => m.dashboardView(view),
    perUser: true,
    ownPeriods: true,
  },
  // #/resources/<encoded resource id>: one resource's page (its metrics, alarms and cost). One's
  // own asks for its assignment and metrics at once and waits for /me itself before drawing
  // them (a type's name, the alarm action's permission); someone else's (?user=) needs /me
  // first, to know the caller may look. It does no period arithmetic.
  resources: {
    title: "Resources",
    load: (view) => (view.path.length ? screens.resource() : screens.resources()),
    render: (view, m) => (view.path.length ? m.resourcePageView(view) : m.resourcesView(view)),
    perUser: true,
    usesMe: (at) => !at.path.length || at.params.has("user"),
    ownPeriods: (at) => at.path.length > 0,
  },
  costs: { title: "Costs", load: screens.costs, render: (view, m) => m.costsView(view), perUser: true, usesMe: true },
  budget: { title: "Budget", load: screens.budget, render: (view, m) => m.budgetView(view), perUser: true },
  changes: {
    title: "Why did my bill change?",
    load: screens.changes,
    render: (view, m) => m.changesView(view),
    perUser: true,
  },
  // One's own, or for an admin the organisation's (the API decides by the token).
  anomalies: { title: "Anomalies", load: screens.anomalies, render: (view, m) => m.anomaliesView(view), usesMe: true },
  savings: { title: "Savings", load: screens.savings, render: (view, m) => m.savingsView(view), usesMe: true },
  claims: { title: "Claims", load: screens.claims, render: (view, m) => m.claimsView(view), usesMe: true },
  admin: { title: "All users", load: screens.admin, render: (view, m) => m.adminView(view), needs: "viewAllUsers" },
  // Organisation and access (issue 13): shown by the permissions of GET /api/me (access.js).
  // `allowed(access, view)` decides; `denied` names the permission the no-access page asks for.
  teams: {
    title: "Teams",
    // A team manager without the organisation's teams sees their own teams under this name.
    menuTitle: (access) => (access.can("teams:read", "org") ? "Teams" : "My teams"),
    load: screens.teams,
    render: (view, m) => (view.path.length ? m.teamDetailView(view) : m.teamsView(view)),
    allowed: (access, view) =>
      view.path.length
        ? // A team under one of theirs is for the API to judge (a 403 shows the same page).
          access.canSeeTeam(view.path[0]) || access.teamScoped("teams:read")
        : access.can("teams:read", "org") || access.teamScoped("teams:read") || access.managedTeams().length > 0,
    denied: (view) =>
      view.path.length
        ? { title: `Team ${view.path[0]}`, permission: "teams:read", scope: `team:${view.path[0]}` }
        : { permission: "teams:read", scope: "org" },
  },
  roles: {
    title: "Roles",
    load: screens.roles,
    render: (view, m) => m.rolesView(view),
    allowed: (access) => access.can("roles:read", "org"),
    denied: () => ({ permission: "roles:read" }),
  },
  audit: {
    title: "Audit log",
    load: screens.audit,
    render: (view, m) => m.auditView(view),
    allowed: (access) => access.can("audit:read", "org"),
    denied: () => ({ permission: "audit:read" }),
  },
  // Currencies (issue 17): exchange rates and transfer prices, finance's and admins'.
  rates: {
    title: "Currencies",
    load: screens.rates,
    render: (view, m) => m.ratesView(view),
    allowed: (access) => access.can("rates:write", "org"),
    denied: () => ({ permission: "rates:write" }),
  },
  // The organisation's chargeback: whoever reads every cost (finance, admins, auditors).
  chargeback: {
    title: "Chargeback",
    load: screens.chargeback,
    render: (view, m) => m.chargebackView(view),
    allowed: (access) => access.can("costs:read", "org"),
    denied: () => ({ permission: "costs:read", scope: "org" }),
  },
  // Tax rules and settings (issue 17): finance, admins and auditors read them.
  tax: {
    title: "Tax",
    load: screens.tax,
    render: (view, m) => m.taxView(view),
    allowed: (access) => access.can("tax:read", "org"),
    denied: () => ({ permission: "tax:read", scope: "org" }),
  },
  // Invoice templates (issue 17): finance's and the admins' (#/templates, #/templates/<id>).
  templates: {
    title: "Invoice templates",
    menuTitle: () => "Templates",
    load: screens.templates,
    render: (view, m) => m.templatesView(view),
    allowed: (access) => access.can("invoices:templates", "org"),
    denied: () => ({ permission: "invoices:templates", scope: "org" }),
  },
  // Reserved capacity (issue 17): finance and admins.
  commitments: {
    title: "Commitments",
    load: screens.commitments,
    render: (view, m) => m.commitmentsView(view),
    allowed: (access) => access.can("commitments:read", "org"),
    denied: () => ({ permission: "commitments:read", scope: "org" }),
  },
  // The AWS estate (issue 15): #/estate[/lambda[/<name>]|/network|/iam], each tab by its own
  // permission (views/estate.js); the menu shows it to whoever may see any of them.
  estate: {
    title: "AWS estate",
    load: screens.estate,
    render: (view, m) => m.estateView(view),
    // `early(at, api)`: the screen's first read, sent at sign-in beside /me (see enter).
    early: (at, api) =>
      at.path[0] === "lambda" && at.path[1] && api.early(`/estate/lambda/${encodeURIComponent(at.path[1])}`),
    allowed: (access) => estateAllowed(access),
    denied: () => ({ permission: "estate:read" }),
  },
  // #/users/<id>/access: a user's roles and effective access (from All users; one's own too).
  users: {
    title: "Access",
    load: screens.users,
    render: (view, m) => m.userAccessView(view),
    inMenu: false,
    allowed: (access, view) => access.can("roles:read", "org") || view.path[0] === view.user.userId,
    denied: () => ({ permission: "roles:read" }),
  },
  security: { title: "Security", load: screens.security, render: (view, m) => m.securityView(view) },
  settings: { title: "Settings", load: screens.settings, render: (view, m) => m.settingsView(view) },
  // Reached from the bell ("See all"), not from the menu.
  notifications: {
    title: "Notifications",
    load: screens.notifications,
    render: (view, m) => m.notificationsView(view),
    inMenu: false,
  },
};

const app = document.getElementById("app");

// Before GET /api/me has answered: one's own data only (the API checks every call anyway).
const NO_PERMISSIONS = { viewAllUsers: false, manageAssignments: false, decideAnyClaim: false };

function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  // #/teams/payments: the route "teams" and the rest of the path ["payments"].
  const [name = "", ...rest] = path.split("/").map((part) => decodeURIComponent(part));
  return { name, path: rest.filter(Boolean), full: path, params: new URLSearchParams(query) };
}

export function routeHref(name, subject) {
  if (subject && !subject.isSelf) {
    const params = new URLSearchParams({ user: subject.userId, name: subject.username });
    return `#/${name}?${params}`;
  }
  return `#/${name}`;
}

function brand() {
  return h(
    "span",
    { class: "brand" },
    h("img", { class: "brand-mark", src: "favicon.svg", alt: "", width: 26, height: 26 }),
    "Tally",
  );
}

function fatal(message, detail) {
  replace(
    app,
    h(
      "main",
      { id: "main", class: "signin" },
      h(
        "div",
        { class: "signin-card", role: "alert" },
        h("h1", {}, message),
        h("p", { class: "lead" }, detail),
        h("button", { type: "button", class: "button primary", onclick: () => window.location.reload() }, "Retry"),
      ),
    ),
  );
  app.removeAttribute("aria-busy");
}

async function start() {
  // The opened screen's code is fetched beside the configuration, not after it: a link to a
  // screen other than the dashboard (whose code comes with the page) waited for both in turn.
  const opened = parseHash();
  ROUTES[opened.name]?.load?.(opened).catch(() => {}); // render() imports it again, and sees a failure
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    fatal("Tally cannot start", `The dashboard's configuration is missing: ${error.message}.`);
    return;
  }
  const auth = createAuth(config);
  const api = createApi(config, auth);
  const ctx = { config, auth, api, usernames: new Map() };
  // GET /api/me once per page (again after a failure): who the API thinks we are and what we
  // may do, the business date, the budget metric, the API's limits and resource types.
  let me = null;
  let lastMe = null; // its answer, once it came
  ctx.me = () => {
    me ??= api.me().then(
      (who) => {
        lastMe = who;
        onMe();
        return who;
      },
      (error) => {
        me = null;
        throw error;
      },
    );
    return me;
  };
  ctx.forgetMe = () => {
    me = null;
  };
  /** What the caller may do (GET /api/me's `permissions`). */
  ctx.can = () => lastMe?.permissions || NO_PERMISSIONS;
  /** What the caller may do, by permission and scope (GET /api/me's `permissions.granted`);
   * given the team tree ([{teamId, parentId}]), a team's grant covers the teams under it. */
  ctx.access = (teams) => createAccess(lastMe, teams);
  /** The API's limits (GET /api/me's `limits`), or null before /me has answered. */
  ctx.limits = () => lastMe?.limits || null;
  /** The resource types the API knows by name (GET /api/me's `resourceTypes`). */
  ctx.types = () => resourceTypes(lastMe?.resourceTypes);
  /** The API's business date: known from an earlier answer, else asked of /me. */
  ctx.today = () => (knownToday() ? Promise.resolve(knownToday()) : ctx.me().then((who) => who.today));
  // The organisation's billing settings (GET /api/settings/billing), asked once per sign-in and
  // shared: their `period` decides which days every named period ("month") covers (calendar.js,
  // for the whole page), their display currency is currency.js's. Screens that do month
  // arithmetic wait for them (render); the dashboard does not (it reads its period's days off
  // the summary and asks after its first chart). On a failure periods stay calendar months.
  let billing = null;
  let periodsKnown = false;
  ctx.billingSettings = () => {
    billing ??= api.billingSettings().then(
      (settings) => {
        ctx.learnBillingSettings(settings);
        return settings;
      },
      (error) => {
        billing = null; // asked again by the next caller (currency.js); the periods stay
        periodsKnown = true;
        throw error;
      },
    );
    return billing;
  };
  /** A fresh answer (a PUT's, which answers the whole settings): its periods in force. */
  ctx.learnBillingSettings = (settings) => {
    billing = Promise.resolve(settings);
    try {
      setPeriods(settings?.period || null);
    } catch {
      setPeriods(null); // a definition this dashboard cannot read: calendar months
    }
    periodsKnown = true;
  };
  /** Whether the organisation's periods are known (or could not be: then calendar months). */
  ctx.periodsKnown = () => periodsKnown;
  let current = null; // the route being shown: {controller}
  let shell = null;

  // The shell goes (sign-out, or rebuilt for what /me says): its bell stops asking.
  function dropShell() {
    shell?.bell.stop();
    shell = null;
  }

  function showSignIn(message) {
    if (current) current.controller.abort();
    current = null;
    dropShell();
    document.title = "Sign in · Tally";
    replace(app, signInView({ auth, message, onSignedIn: () => enter(true) }));
    app.removeAttribute("aria-busy");
  }

  auth.onEnd((reason) => {
    // The next person to sign in is asked about afresh.
    me = null;
    lastMe = null;
    billing = null;
    periodsKnown = false;
    setPeriods(null);
    // After signing out the next person starts at their own home page; after an expiry the
    // same person comes back to where they were.
    if (reason !== "expired") {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    showSignIn(reason === "expired" ? "Your session has expired. Please sign in again." : "You have signed out.");
  });

  // The header shows what the caller may do. A fresh /me answer that changes it (the first one
  // after a member signs in adds the menu entries their permissions open) updates the menu and
  // the role in place: the bell, the page and the keyboard focus stay, so nothing is fetched
  // twice. Only a page that depends on permissions is drawn again, for what /me says now.
  function onMe() {
    if (!shell) return;
    if (shellShows() !== shell.shows) {
      // A keyboard user may be on a menu link when /me lands: the same link in the new list
      // takes the focus, or Enter would fall on the page's body (the old link is detached).
      const focused = shell.nav.contains(document.activeElement) ? document.activeElement.dataset.route : null;
      replace(shell.nav, menuList());
      if (focused) (shell.nav.querySelector(`a[data-route="${focused}"]`) || shell.nav.querySelector("a"))?.focus();
      replace(shell.role, roleBadge());
      shell.shows = shellShows();
      markMenu();
      const route = ROUTES[parseHash().name];
      if (route && (route.needs || route.allowed)) render(false);
    }
    // The menu shows what /me allows (tests wait for this before reading it).
    shell.nav.dataset.me = "known";
  }

  /** The menu's links ([[route, title]]) for what the caller may do. */
  function menu() {
    const can = ctx.can();
    const access = ctx.access();
    const menuView = { path: [], user: auth.user() || {} };
    return Object.entries(ROUTES)
      .filter(
        ([, route]) =>
          route.inMenu !== false &&
          (!route.needs || can[route.needs]) &&
          (!route.allowed || (access.known && route.allowed(access, menuView))),
      )
      .map(([name, route]) => [name, route.menuTitle ? route.menuTitle(access) : route.title]);
  }

  function menuList() {
    return h(
      "ul",
      {},
      menu().map(([name, title]) => h("li", {}, h("a", { href: `#/${name}`, dataset: { route: name } }, title))),
    );
  }

  function roleBadge() {
    return lastMe?.role === "admin" ? h("span", { class: "role-badge" }, "admin") : null;
  }

  /** The menu's links for the page shown: whose data they open, and which one is current. */
  function markMenu() {
    if (!shell?.at) return;
    const { name, subject } = shell.at;
    for (const link of shell.nav.querySelectorAll("a[data-route]")) {
      const routeName = link.dataset.route;
      link.href = ROUTES[routeName].perUser ? routeHref(routeName, subject) : `#/${routeName}`;
      if (routeName === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  function buildShell(user) {
    const access = ctx.access();
    const main = h("main", { id: "main", tabindex: "-1" });
    const nav = h(
      "nav",
      { class: "nav", "aria-label": "Main", dataset: { me: access.known ? "known" : "pending" } },
      menuList(),
    );
    const role = h("span", { class: "who-role" }, roleBadge());
    ctx.inbox = createInbox(api);
    const bell = createBell({ inbox: ctx.inbox, announce, today: ctx.today });
    const header = h(
      "header",
      { class: "topbar" },
      h(
        "div",
        { class: "topbar-inner" },
        h("a", { href: homeHash(), class: "brand-link", "aria-label": "Tally home" }, brand()),
        nav,
        h(
          "div",
          { class: "account" },
          bell.element,
          h(
            "span",
            { class: "who" },
            h("span", { class: "visually-hidden" }, "Signed in as "),
            h("span", { class: "who-name", dataset: { testid: "signed-in-user" } }, user.username),
            " ",
            role,
          ),
          h("button", { type: "button", class: "button small", onclick: () => auth.signOut() }, "Sign out"),
        ),
      ),
    );
    replace(app, header, main);
    app.removeAttribute("aria-busy");
    return { main, nav, role, bell, shows: shellShows(), at: null };
  }

  function shellShows() {
    // What the header shows (not every permission /me lists): an answer that changes nothing
    // there keeps the page, and the focus, where they are.
    return JSON.stringify([lastMe?.role === "admin", menu()]);
  }

  function homeHash() {
    return ctx.can().viewAllUsers ? "#/admin" : "#/dashboard";
  }

  let rendering = 0;
  async function render(focus) {
    const user = auth.user();
    if (!user) return;
    // Pages that need a permission, resource types or the API's limits wait for /me; the
    // dashboard does not (its first chart never waits for /me).
    // Every page but the dashboard waits for the organisation's periods too, asked at the same
    // time (the dashboard's first chart waits for neither; at most three calls before it).
    const at = parseHash();
    const next = ROUTES[at.name];
    const waits = [];
    // The screen's code (its chunk, fetched once, then from the module map), beside /me and the
    // periods: a chunk that cannot be fetched (offline, or a deployment since the page opened)
    // shows a page saying to reload, never a blank one.
    let screen = null;
    if (next && next.load) {
      waits.push(
        next.load(at).then(
          (module) => {
            screen = { module };
          },
          (error) => {
            screen = { error };
          },
        ),
      );
    }
    // A flag may depend on the address (the list or one item's page): a function of it.
    const flag = (value) => (typeof value === "function" ? value(at) : value);
    if (next && (flag(next.usesMe) || next.needs || next.allowed) && !lastMe) waits.push(ctx.me());
    if (next && !flag(next.ownPeriods) && !periodsKnown) waits.push(ctx.billingSettings());
    // Someone who moves on while the page waits (opens the bell or a menu, tabs elsewhere)
    // keeps their place: the new page's heading does not take the focus from them (and close
    // what they opened). Moving on is their doing, a key or a pointer while the page waits:
    // the focus alone says nothing, the menu being drawn again with /me moves it too.
    let movedOn = false;
    if (waits.length) {
      const mine = ++rendering;
      const waiting = new AbortController();
      const moved = () => {
        movedOn = true;
      };
      for (const type of ["keydown", "pointerdown"]) {
        document.addEventListener(type, moved, { capture: true, signal: waiting.signal });
      }
      await Promise.all(waits.map((wait) => wait.catch(() => null)));
      waiting.abort();
      if (mine !== rendering || !auth.signedIn) return;
      movedOn = movedOn && document.activeElement !== document.body;
    }
    rendering += 1;
    if (!shell) shell = buildShell(user);
    const { name, path, full, params } = parseHash();
    const route = ROUTES[name];
    if (!route) {
      window.location.replace(homeHash());
      return;
    }
    if (current) current.controller.abort();
    const controller = new AbortController();
    current = { controller };

    // Whose data: one's own, or (admins) anyone's from the All users view.
    const can = ctx.can();
    const wanted = route.perUser && can.viewAllUsers ? params.get("user") : null;
    const subject =
      wanted && wanted !== user.userId
        ? { userId: wanted, username: params.get("name") || wanted, isSelf: false }
        : { userId: user.userId, username: user.username, isSelf: true };

    shell.at = { name, subject };
    markMenu();
    document.title = `${route.title}${subject.isSelf ? "" : ` · ${subject.username}`} · Tally`;

    const container = h("div", { class: "view", dataset: { view: full } });
    replace(shell.main, container);
    const view = { ctx, user, can, subject, params, path, container, signal: controller.signal, routeHref };
    let ready;
    if (route.needs && !can[route.needs]) {
      ready = notAllowed(view);
    } else if (route.allowed && !route.allowed(ctx.access(), view)) {
      ready = noAccessPage(container, { title: route.title, username: user.username, ...route.denied(view) });
    } else if (!screen || screen.error) {
      ready = screenNotLoaded(view, route.title);
    } else {
      ready = Promise.resolve(route.render(view, screen.module)).catch(() => {});
    }
    if (focus && !movedOn) {
      const heading = container.querySelector("h1");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
      announce(`${route.title} page`);
    }
    // GET /api/me keeps the user directory in step with Cognito; it waits until the first
    // screen has its data (the dashboard learns the date from its summary), so it never
    // delays the first chart.
    // The bell's count follows the person from page to page (and each minute, see bell.js),
    // asked once the page has its data for the same reason.
    const { bell } = shell;
    ready.finally(() => {
      if (auth.signedIn) ctx.me().catch(() => {});
      if (auth.signedIn && shell?.bell === bell) bell.refresh();
    });
  }

  /** The page whose code could not be fetched: what happened and what to do (reload). */
  function screenNotLoaded(view, title) {
    replace(
      view.container,
      h("div", { class: "page-head" }, h("div", {}, h("h1", {}, title))),
      h(
        "div",
        { class: "card state state-error", role: "alert", dataset: { testid: "screen-not-loaded" } },
        h("p", { class: "state-title" }, "This page could not be loaded."),
        h(
          "p",
          { class: "state-text" },
          "Its code did not arrive: the connection may have dropped, or Tally has been updated since this tab opened. Reload the page to try again.",
        ),
        h("button", { type: "button", class: "button primary", onclick: () => window.location.reload() }, "Reload"),
      ),
    );
    return Promise.resolve();
  }

  function notAllowed(view) {
    replace(
      view.container,
      h(
        "div",
        { class: "page-head" },
        h("div", {}, h("h1", {}, "All users"), h("p", {}, "This page is for people who read every user's costs.")),
      ),
      h(
        "div",
        { class: "card", role: "alert", dataset: { testid: "not-allowed" } },
        h("p", { class: "state-title" }, "You do not have access to this page."),
        h(
          "p",
          {},
          `It needs access to every user's costs (users:read and costs:read for the organisation). You are signed in as ${view.user.username}.`,
        ),
        h("a", { class: "button", href: "#/dashboard" }, "Go to your dashboard"),
      ),
    );
    return Promise.resolve();
  }

  async function enter(fromSignIn) {
    // What the caller may do decides an admin's first screen (their home page, or setting up
    // two-step sign-in first): for them GET /api/me comes before it, a round trip that users,
    // whose first screen is the same whatever /me says, do not wait for.
    // The organisation's periods are asked for beside it: every screen but the dashboard waits
    // for them too, and one after the other they were two round trips before the first call
    // of the screen's own.
    if (auth.user().askFirst && !periodsKnown) ctx.billingSettings().catch(() => {});
    // And the opened screen's first read, when it has one that needs nothing /me says.
    const opened = parseHash();
    ROUTES[opened.name]?.early?.(opened, api);
    const who = auth.user().askFirst ? await ctx.me().catch(() => null) : null;
    // An admin the API requires two-step sign-in of sets it up first.
    if (who && who.mfaSetupRequired && parseHash().name !== "security") {
      window.location.replace("#/security");
      return; // the hashchange renders it
    }
    // Keep a deep link the user came with (a bookmark of #/costs); otherwise their home page.
    if (!ROUTES[parseHash().name]) {
      window.location.replace(homeHash());
      return; // the hashchange renders it
    }
    render(fromSignIn);
  }

  window.addEventListener("hashchange", () => {
    if (auth.signedIn) render(true);
  });

  document.querySelector(".skip-link")?.addEventListener("click", (event) => {
    event.preventDefault();
    const main = document.getElementById("main");
    if (main) main.focus();
  });

  if (await auth.resume()) enter(false);
  else if (!app.querySelector(".signin")) showSignIn(null);
}

start();
