"""``make bench``, dashboard section: what the built site weighs and how soon a page load draws
its first chart, in headless Chromium against a running local stack (the demo organisation).

``run(local_json)`` returns ``{label: value}`` rows. Sizes are gzip -9 of the built files (what
CloudFront's compression is close to), per screen from the build's screens.json; times are from
navigation start to the first chart's ``performance.mark`` on this machine, over the loopback,
so they measure the page and the local stack, not a network: for the dashboard and the two
heaviest chart screens of issues 13-17, with the layout shift of each load (target 0).
"""

from __future__ import annotations

import gzip
import json
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


FIRST_LOAD_BUDGET_KB = 100

# The two heaviest screens of issues 13-17 that draw a chart: a Lambda function's page in the
# AWS estate (issue 15: its usage-and-cost chart over CloudWatch's metrics and the daily cost)
# and a resource's page (the metrics panel: a chart per metric, four for an EC2 instance).
# Chargeback, commitments, tax and the rates draw no chart; these two carry the most code (the
# estate's screens, Chart.js) and the most data (a CloudWatch read per page).
HEAVY_FUNCTION = "tally-demo-orders-sync"  # the demo's erroring function (infra/local/estate.py)
HEAVY_RESOURCE = "alice-training"  # alice's busiest EC2 instance (infra/local/demo.py)


def site_sizes(site: Path) -> dict[str, object]:
    """JavaScript per screen from the build's screens.json (build.mjs): the first load (the
    entry with sign-in, and the dashboard's chunks index.html preloads), then each screen
    opened later: its own chunks, over what the entry already loaded."""
    assets = site / "assets"
    manifest = json.loads((site / "screens.json").read_text())
    entry = set(manifest["entry"])

    def size(files: list[str]) -> int:
        return compressed_size([site / f for f in files])

    first = manifest["firstLoad"]
    first_size = size(first)
    verdict = "within" if first_size <= FIRST_LOAD_BUDGET_KB * 1024 else "OVER"
    rows: dict[str, object] = {
        f"JavaScript per screen, gzip -9: first load (budget {FIRST_LOAD_BUDGET_KB} KB)": (
            f"{_kb(first_size)} ({verdict} the budget; sign-in + dashboard, {len(first)} files, "
            f"{_kb(sum((site / f).stat().st_size for f in first))} minified)"
        ),
        "  of which the entry (shell, sign-in)": _kb(size(manifest["entry"])),
    }
    screens = manifest["screens"]
    for name in sorted(screens, key=lambda n: -size(screens[n]["js"])):
        files = screens[name]["js"]
        own = [f for f in files if f not in entry]
        later = f", later {_kb(size(screens[name]['later']))}" if screens[name]["later"] else ""
        rows[f"  {name}"] = f"{_kb(size(files))} with the entry ({_kb(size(own))} its own{later})"
    css = sorted(assets.glob("*.css"))
    rows["CSS, gzip -9"] = f"{_kb(compressed_size(css))} ({len(css)} file)"
    return rows


def _user(local_json: dict[str, Any], username: str) -> dict[str, str]:
    users = local_json["users"]
    named = [u for u in users if u["username"] == username]
    return (named or [u for u in users if u["role"] == "user"] or users)[0]


def _sign_in(page: Any, url: str, user: dict[str, str]) -> None:
    page.goto(url)
    page.get_by_label("User name or email").fill(user["username"])
    page.get_by_label("Password", exact=True).fill(user["password"])
    page.get_by_role("button", name="Sign in").click()
    page.locator("header.topbar").wait_for(timeout=30_000)


def _resource_hash(local_json: dict[str, Any], name: str) -> str:
    """The resource page's address of the demo's EC2 instance tagged Name=``name``: it is
    assigned by its instance id, the emulator's, new each run (infra/local/demo.py)."""
    from urllib.parse import quote

    from infra.local.aws import aws_client
    from infra.local.demo import REGION

    ec2 = aws_client("ec2", local_json["aws_endpoint_url"], REGION)
    found = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}])
    (instance,) = [i for r in found["Reservations"] for i in r["Instances"]]
    return f"#/resources/{quote(instance['InstanceId'], safe='')}"


def _settle(local_json: dict[str, Any]) -> None:
    """Wait (up to a minute) until the stack's start-up work is done (the demo's alerts,
    reports and ingest messages): a page load measured beside it measures the two together."""
    import urllib.request

    with urllib.request.urlopen(f"{local_json['outbox_json_url']}?wait=60", timeout=90) as reply:
        reply.read()


def _measure(page: Any, url: str, route: str, runs: int) -> list[dict[str, Any]]:
    """``runs`` loads after one more: the first, in a stack just started, meets a cold Lambda
    container (the handler's imports) and is reported on its own, not in the median."""
    samples = []
    for _ in range(runs + 1):
        # A full navigation with the session already in sessionStorage, as when someone opens
        # a link to the screen in the tab they are signed in to.
        page.goto("about:blank")
        page.goto(f"{url}{route}")
        page.locator("canvas[data-drawn='true']").first.wait_for(timeout=60_000)
        # Then the rest of the page (and GET /api/me, sent once it has its data).
        page.wait_for_function("() => !document.querySelector('[aria-busy=true]')", timeout=60_000)
        page.wait_for_timeout(300)
        sample = page.evaluate(_MEASURE)
        sample["shift"] = page.evaluate(_LAYOUT_SHIFT)
        samples.append(sample)
    return samples


def page_load(local_json: dict[str, Any], runs: int = RUNS) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    url = local_json["dashboard_url"]
    screens = (
        ("dashboard", "alice", lambda page: "#/dashboard"),
        (
            f"estate: a function's page ({HEAVY_FUNCTION})",
            "admin",
            lambda page: f"#/estate/lambda/{HEAVY_FUNCTION}",
        ),
        (
            f"resource page ({HEAVY_RESOURCE}, 4 charts)",
            "alice",
            lambda page: _resource_hash(local_json, HEAVY_RESOURCE),
        ),
    )
    rows: dict[str, object] = {}
    _settle(local_json)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for label, username, route_of in screens:
                context = browser.new_context(
                    viewport={"width": 1280, "height": 860},
                    reduced_motion="reduce",
                    locale="en-US",
                )
                page = context.new_page()
                _sign_in(page, url, _user(local_json, username))
                first, *samples = _measure(page, url, route_of(page), runs)
                context.close()
                times = [s["firstChart"] for s in samples]
                rows[f"{label}: navigation to first chart, median of {runs} (ms, target < 300)"] = (
                    round(statistics.median(times))
                )
                rows[f"{label}: navigation to first chart, slowest of {runs} (ms)"] = round(
                    max(times)
                )
                rows[f"{label}: the screen's first load after the stack starts (ms)"] = round(
                    first["firstChart"]
                )
                rows[f"{label}: layout shift while loading, worst run (CLS, target 0)"] = round(
                    max(s["shift"] for s in samples), 4
                )
                rows[f"{label}: API calls before the first chart / whole page"] = (
                    f"{max(s['callsBefore'] for s in samples)} / {max(s['calls'] for s in samples)}"
                )
        finally:
            browser.close()
    rows["measured as"] = (
        "alice (dashboard, resource page) and admin (estate), headless Chromium, "
        "local stack over loopback (settled after its start), a full page load of the "
        "screen's address when signed in; the first load of each screen is reported apart "
        "(the first after the stack starts meets cold Lambda containers)"
    )
    return rows


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
