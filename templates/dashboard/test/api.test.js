// The API client's use of the browser's HTTP cache: reads revalidate what it kept (the API
// answers 304 to If-None-Match), writes keep nothing.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { createApi } from "../src/api.js";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

function recordingFetch(seen) {
  return async (url, init) => {
    seen.push({ url: String(url), method: init.method, cache: init.cache });
    return new Response(JSON.stringify({ ok: true }), {
      status: 200,
      headers: { "Content-Type": "application/json" },
    });
  };
}

test("reads revalidate the browser's copy, writes bypass the cache", async () => {
  const seen = [];
  globalThis.fetch = recordingFetch(seen);
  const api = createApi({ apiUrl: "https://api.example.com/api" }, { idToken: async () => "t" });
  await api.summary("u-alice");
  await api.markAllNotificationsRead();
  assert.deepEqual(
    seen.map((s) => [s.method, s.cache]),
    [
      ["GET", "no-cache"],
      ["POST", "no-store"],
    ],
  );
});

test("a read sent early is the screen's identical read, once, and never the next person's", async () => {
  const seen = [];
  globalThis.fetch = recordingFetch(seen);
  const ends = [];
  const auth = { idToken: async () => "t", onEnd: (listener) => ends.push(listener) };
  const api = createApi({ apiUrl: "https://api.example.com/api" }, auth);
  api.early("/estate/lambda/orders");
  await api.estateFunction("orders");
  assert.equal(seen.length, 1);
  // Taken once: the next read asks again; another address never takes it.
  await api.estateFunction("orders");
  assert.equal(seen.length, 2);
  api.early("/estate/lambda/orders");
  await api.estateFunction("orders", { start: "2026-11-01T00:00:00Z", end: "2026-11-02T00:00:00Z" });
  assert.equal(seen.length, 4);
  // Signed out (or expired): what was asked for that session is dropped.
  ends.forEach((end) => end("signed-out"));
  await api.estateFunction("orders");
  assert.equal(seen.length, 5);
});
