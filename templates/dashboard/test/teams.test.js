// The team form's people picker, the team page's way back and whose status a budget's texts
// speak of, without a browser.

import assert from "node:assert/strict";
import { test } from "node:test";

import { createAccess } from "../src/access.js";
import { whoseStatus } from "../src/views/budget.js";
import { backToTeams, PICKER_SHOWN, pickerRows, pickerStatus } from "../src/views/teams.js";

// 300 people: u-000 "person 000" ... u-299 "person 299"; a few with real names.
const names = new Map(Array.from({ length: 300 }, (_, n) => [`u-${String(n).padStart(3, "0")}`, `person ${n}`]));
names.set("u-007", "Zoë Zimmer");
names.set("u-150", "Ann Archer");
names.set("u-151", "Joanna Anning");
const ids = [...names.keys()];

test("the chosen come first, by name, then at most PICKER_SHOWN others", () => {
  const chosen = new Set(["u-007", "u-150"]);
  const rows = pickerRows(ids, { names, chosen });
  assert.deepEqual(rows.shown.slice(0, 2), ["u-150", "u-007"]); // Ann, then Zoë
  assert.equal(rows.shown.length, 2 + PICKER_SHOWN);
  assert.equal(rows.matched, 300);
  assert.equal(rows.more, 298 - PICKER_SHOWN);
  assert.ok(!rows.shown.slice(2).some((id) => chosen.has(id)));
});

test("the filter matches names and ids in any case, and keeps the chosen first", () => {
  const chosen = new Set(["u-151"]);
  const rows = pickerRows(ids, { names, chosen, filter: "  ANN " });
  assert.deepEqual(rows.shown, ["u-151", "u-150"]); // Joanna (chosen), then Ann
  assert.equal(rows.more, 0);
  assert.deepEqual(pickerRows(ids, { names, chosen, filter: "u-29" }).shown.length, 10);
  assert.deepEqual(pickerRows(ids, { names, chosen, filter: "nobody" }), { shown: [], matched: 0, more: 0 });
});

test("a chosen person the filter does not match is not shown, and stays chosen", () => {
  const chosen = new Set(["u-007"]);
  const rows = pickerRows(ids, { names, chosen, filter: "archer" });
  assert.deepEqual(rows.shown, ["u-150"]);
  assert.ok(chosen.has("u-007"));
});

test("a person chosen but not in the directory is listed under their id", () => {
  const rows = pickerRows([...ids, "u-gone"], { names, chosen: new Set(["u-gone"]), limit: 0 });
  assert.deepEqual(rows.shown, ["u-gone"]);
});

test("the status line says how many are chosen and how to find the rest", () => {
  assert.equal(
    pickerStatus({ chosen: 2, matched: 300, more: 258, filter: "" }),
    "2 selected · type a name to find the 258 others",
  );
  assert.equal(pickerStatus({ chosen: 0, matched: 3, more: 0, filter: "" }), "0 selected");
  assert.equal(pickerStatus({ chosen: 1, matched: 1, more: 0, filter: "ann" }), "1 selected · 1 person matches");
  assert.equal(
    pickerStatus({ chosen: 1, matched: 90, more: 49, filter: "p" }),
    "1 selected · 90 people match, 49 more not shown: type more of the name",
  );
  assert.equal(pickerStatus({ chosen: 0, matched: 0, more: 0, filter: " zed " }), "0 selected · no one matches “zed”");
});

const grantedTo = (granted, roles = []) => createAccess({ permissions: { granted, roles } });

test("the way back is All teams only to those who may list every team", () => {
  const admin = grantedTo([{ permission: "teams:read", scope: "org" }]);
  assert.deepEqual(backToTeams(admin), { href: "#/teams", text: "← All teams" });

  const manager = grantedTo(
    [{ permission: "teams:read", scope: "team:payments" }],
    [{ roleId: "team-manager", scope: "team:payments", via: "manager", teamId: "payments" }],
  );
  assert.deepEqual(backToTeams(manager), { href: "#/teams", text: "← My teams" });
  // A manager by role alone (no teams:read listed yet) still has a list of their own teams.
  const byRole = grantedTo([], [{ roleId: "team-manager", scope: "team:data", via: "manager", teamId: "data" }]);
  assert.equal(backToTeams(byRole).text, "← My teams");

  assert.equal(backToTeams(grantedTo([{ permission: "costs:read", scope: "org" }])), null);
});

test("a budget's texts speak to its owner, of a team, or of the person an admin looks at", () => {
  assert.equal(whoseStatus({ userId: "u-1", username: "dana", isSelf: true }), "Your");
  assert.equal(whoseStatus({ userId: "u-2", username: "bob", isSelf: false }), "bob's");
  assert.equal(whoseStatus({ userId: "payments", whose: "The team's" }), "The team's");
  assert.equal(whoseStatus(undefined), "Your");
});
