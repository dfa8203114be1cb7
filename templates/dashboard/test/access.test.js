// Who sees what (access.js), the team tree and the audit log's before/after, without a browser.

import assert from "node:assert/strict";
import { test } from "node:test";

import { createAccess, scopeText, teamOfScope } from "../src/access.js";
import { changes } from "../src/views/audit.js";
import { slugOf, teamTree } from "../src/views/teams.js";
import { grantText } from "../src/views/user-access.js";

const manager = {
  permissions: {
    viewAllUsers: false,
    granted: [
      { permission: "account:use", scope: "self" },
      { permission: "costs:read", scope: "self" },
      { permission: "costs:read", scope: "team:engineering" },
      { permission: "teams:read", scope: "team:engineering" },
      { permission: "budgets:write", scope: "team:engineering" },
    ],
    roles: [
      { roleId: "member", scope: "self", via: "default", teamId: null },
      { roleId: "team-manager", scope: "team:engineering", via: "manager", teamId: "engineering" },
    ],
  },
};

const finance = {
  permissions: {
    granted: [
      { permission: "costs:read", scope: "org" },
      { permission: "teams:read", scope: "org" },
      { permission: "roles:read", scope: "org" },
    ],
  },
  roles: [{ roleId: "finance", scope: "org", via: "direct" }],
};

test("an organisation-wide permission holds for every team and for the organisation", () => {
  const access = createAccess(finance);
  assert.equal(access.can("roles:read", "org"), true);
  assert.equal(access.can("teams:read", "team:payments"), true);
  assert.equal(access.can("roles:write", "org"), false);
  assert.equal(access.can("audit:read"), false);
  assert.equal(access.canSeeTeam("payments"), true);
  assert.deepEqual(access.managedTeams(), []);
});

test("a team-scoped permission holds for that team only, not for the organisation", () => {
  const access = createAccess(manager);
  assert.equal(access.can("teams:read", "org"), false);
  assert.equal(access.can("teams:read", "team:engineering"), true);
  assert.equal(access.can("teams:read", "team:data"), false);
  assert.equal(access.can("teams:read"), true);
  assert.deepEqual(access.managedTeams(), ["engineering"]);
  assert.equal(access.canSeeTeam("engineering"), true);
  assert.equal(access.canSeeTeam("data"), false);
  assert.equal(access.teamScoped("teams:read"), true);
  assert.equal(createAccess(finance).teamScoped("teams:read"), false);
});

test("a team-scoped permission reaches the teams under it when the tree is known", () => {
  const teams = [
    { teamId: "engineering", parentId: null },
    { teamId: "payments", parentId: "engineering" },
    { teamId: "data", parentId: null },
  ];
  const access = createAccess(manager, teams);
  assert.equal(access.can("costs:read", "team:payments"), true);
  assert.equal(access.can("costs:read", "team:data"), false);
  // A cycle in a stale tree cannot hang the page.
  const looped = createAccess(manager, [
    { teamId: "a", parentId: "b" },
    { teamId: "b", parentId: "a" },
  ]);
  assert.equal(looped.can("costs:read", "team:a"), false);
});

test("before /me answers nothing is allowed", () => {
  const access = createAccess(null);
  assert.equal(access.known, false);
  assert.equal(access.can("costs:read"), false);
  assert.deepEqual(access.managedTeams(), []);
});

test("scopes read as words", () => {
  assert.equal(scopeText("org"), "the organisation");
  assert.equal(scopeText("team:payments"), "team “payments”");
  assert.equal(scopeText("self"), "their own data");
  assert.equal(teamOfScope("org"), null);
});

test("the tree nests teams under their department, departments first, then by name", () => {
  const tree = teamTree([
    { teamId: "payments", name: "Payments", kind: "team", parentId: "engineering" },
    { teamId: "data", name: "Data", kind: "team", parentId: null },
    { teamId: "engineering", name: "Engineering", kind: "department", parentId: null },
    { teamId: "api", name: "API", kind: "team", parentId: "engineering" },
    { teamId: "orphan", name: "Orphan", kind: "team", parentId: "gone" },
  ]);
  assert.deepEqual(
    tree.map((n) => n.team.teamId),
    ["engineering", "data", "orphan"],
  );
  assert.deepEqual(
    tree[0].children.map((n) => n.team.teamId),
    ["api", "payments"],
  );
});

test("a new team's id is made from its name", () => {
  assert.equal(slugOf("Cost & Data Science"), "cost-data-science");
  assert.equal(slugOf("  Café Ops "), "cafe-ops");
});

test("the audit log shows what changed, from JSON texts", () => {
  const before = JSON.stringify({ name: "Payments", members: ["alice"], version: 1 });
  const after = JSON.stringify({ name: "Payments", members: ["alice", "bob"], version: 2 });
  assert.deepEqual(changes(before, after), [{ key: "members", before: "alice", after: "alice, bob" }]);
  const grants = changes(
    JSON.stringify({ grants: [{ roleId: "member", scope: "self" }] }),
    JSON.stringify({ grants: [{ roleId: "finance", scope: "org" }] }),
  );
  assert.deepEqual(grants, [{ key: "grants", before: "member@self", after: "finance@org" }]);
  // A creation: every key, from nothing.
  assert.deepEqual(changes(null, JSON.stringify({ name: "Data" })), [{ key: "name", before: "—", after: "Data" }]);
  assert.deepEqual(changes("{}", "{}"), []);
  // A person's grants, as lists, with ids named.
  const names = new Map([["u-1", "alice"]]);
  assert.deepEqual(
    changes(null, JSON.stringify([{ roleId: "member", scope: "self" }]), {
      label: "roles",
      name: (v) => names.get(v) || v,
    }),
    [{ key: "roles", before: "—", after: "member@self" }],
  );
  assert.deepEqual(
    changes(JSON.stringify({ members: ["u-1"] }), JSON.stringify({ members: ["u-1", "u-2"] }), {
      name: (v) => names.get(v) || v,
    }),
    [{ key: "members", before: "alice", after: "alice, u-2" }],
  );
});

test("each grant says where it comes from", () => {
  const name = (id) => ({ finance: "Finance", "team-manager": "Team manager" })[id] || id;
  assert.equal(
    grantText({ roleId: "finance", scope: "org", via: "direct" }, name),
    "Finance for the organisation, given to them",
  );
  assert.equal(
    grantText({ roleId: "team-manager", scope: "team:data", via: "manager", teamId: "data" }, name),
    "Team manager for team “data”, as manager of data",
  );
  assert.equal(
    grantText({ roleId: "reader", scope: "team:payments", via: "team", teamId: "payments" }, name),
    "reader for team “payments”, through team payments",
  );
});
