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
