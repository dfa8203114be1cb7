"""``make bench``, dashboard section: what the built site weighs and how soon a page load draws
its first chart, in headless Chromium against a running local stack (the demo organisation).

``run(local_json)`` returns ``{label: value}`` rows. Sizes are gzip -9 of the built files (what
CloudFront's compression is close to); times are from navigation start to the first chart's
``performance.mark`` on this machine, over the loopback, so they measure the page and the
local stack, not a network.
"""

from __future__ import annotations

import gzip
import statistics
from pathlib import Path
from typing import Any

from infra.dashboard_site import SITE_DIR, built_site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUNS = 7

_MEASURE = """() => {
    const mark = performance.getEntriesByName('tally:first-chart')[0];
    const api = performance.getEntriesByType('resource')
        .filter(e => new URL(e.name).pathname.startsWith('/api/'));
    return {
        firstChart: mark.startTime,
        callsBefore: api.filter(e => e.startTime < mark.startTime).length,
        calls: api.length,
    };
}"""

_LAYOUT_SHIFT = """() => new Promise(resolve => {
    let total = 0;
    new PerformanceObserver(list => {
        for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
    }).observe({ type: 'layout-shift', buffered: true });
    setTimeout(() => resolve(total), 200);
})"""


def compressed_size(files: list[Path]) -> int:
    return sum(len(gzip.compress(f.read_bytes(), compresslevel=9)) for f in files)


def _kb(size: int) -> str:
    return f"{size / 1024:.1f} KB"


def site_sizes(site: Path) -> dict[str, object]:
    assets = site / "assets"
    index = (site / "index.html").read_text()
    # What the first page load fetches (named in index.html) apart from the chunks a screen
    # imports when it opens (the network topology's layout library).
    js = sorted(f for f in assets.glob("*.js") if f"assets/{f.name}" in index)
    lazy = sorted(f for f in assets.glob("*.js") if f"assets/{f.name}" not in index)
    css = sorted(assets.glob("*.css"))
    raw_js = sum(f.stat().st_size for f in js)
    return {
        "JavaScript of the first load, gzip -9 (budget 300 KB)": f"{_kb(compressed_size(js))} "
        f"({_kb(raw_js)} minified, {len(js)} file)",
        "JavaScript loaded by a screen when it opens, gzip -9": ", ".join(
            f"{f.name.split('-')[0]} {_kb(compressed_size([f]))}" for f in lazy
        )
        or "none",
        "CSS, gzip -9": f"{_kb(compressed_size(css))} ({len(css)} file)",
    }


def _user(local_json: dict[str, Any]) -> dict[str, str]:
    users = local_json["users"]
    # The demo's first user with costs; any non-admin otherwise.
    named = [u for u in users if u["username"] == "alice"]
    return (named or [u for u in users if u["role"] == "user"] or users)[0]


def page_load(local_json: dict[str, Any], runs: int = RUNS) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    user = _user(local_json)
    url = local_json["dashboard_url"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 860}, reduced_motion="reduce", locale="en-US"
            )
            page = context.new_page()
            page.goto(url)
            page.get_by_label("User name or email").fill(user["username"])
            page.get_by_label("Password", exact=True).fill(user["password"])
            page.get_by_role("button", name="Sign in").click()
            page.locator("canvas[data-drawn='true']").first.wait_for(timeout=30_000)

            # Each run: a full navigation with the session already in sessionStorage, as when
            # someone opens the dashboard they are signed in to.
            samples = []
            for _ in range(runs):
                page.goto("about:blank")
                page.goto(f"{url}#/dashboard")
                page.locator("canvas[data-drawn='true']").first.wait_for(timeout=30_000)
                # Then the rest of the page (and GET /api/me, sent once it has its data).
                page.wait_for_function("() => !document.querySelector('[aria-busy=true]')")
                page.wait_for_timeout(300)
                samples.append(page.evaluate(_MEASURE))
            shift = page.evaluate(_LAYOUT_SHIFT)
        finally:
            browser.close()
    times = [s["firstChart"] for s in samples]
    return {
        "API calls before the first chart (at most 3)": max(s["callsBefore"] for s in samples),
        "API calls for the whole page (with GET /api/me after it)": max(
            s["calls"] for s in samples
        ),
        f"navigation to first chart, median of {runs} (ms)": round(statistics.median(times)),
        "navigation to first chart, slowest (ms)": round(max(times)),
        "layout shift while loading (CLS, good < 0.1)": round(shift, 4),
        "measured as": f"{user['username']}, headless Chromium, local stack over loopback",
    }


def run(local_json: dict[str, Any]) -> dict[str, object]:
    """The dashboard's rows for ``make bench``."""
    site = built_site(SITE_DIR)
    return {**site_sizes(site), **page_load(local_json)}


if __name__ == "__main__":
    import json
    import sys

    from infra.local.client import load_local_json

    data = load_local_json(sys.argv[1]) if len(sys.argv) > 1 else load_local_json()
    print(json.dumps(run(data), indent=2))
