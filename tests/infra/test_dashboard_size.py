"""The first screen's JavaScript stays within issue 16's budget: 100 KB gzip -9 for what a
first visit loads (the app's entry with sign-in, and the dashboard's chunks it preloads), read
from the built site's screens.json (build.mjs). Sizes of built files are deterministic, so this
is a test, not a benchmark; ``make bench`` prints the same figures per screen."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.dashboard_site import SITE_DIR, SiteNotBuilt, built_site

FIRST_SCREEN_BUDGET = 100 * 1024  # bytes, gzip -9


def gzipped(site: Path, files: list[str]) -> int:
    return sum(len(gzip.compress((site / f).read_bytes(), compresslevel=9)) for f in files)


@pytest.fixture(scope="module")
def site() -> Path:
    try:
        return built_site(SITE_DIR)
    except SiteNotBuilt as error:
        # `make test` builds the site first: a missing build is a failure, never a silent pass
        # of the size budget (as the browser tests' fixture does).
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def manifest(site: Path) -> dict[str, Any]:
    return dict(json.loads((site / "screens.json").read_text()))


def test_the_first_screen_is_within_100_kb(site: Path, manifest: dict[str, Any]) -> None:
    first = manifest["firstLoad"]
    size = gzipped(site, first)
    assert size <= FIRST_SCREEN_BUDGET, (
        f"sign-in + dashboard load {size / 1024:.1f} KB of JavaScript (gzip -9), over the "
        f"100 KB budget: {first}"
    )


def test_the_manifest_says_what_index_html_loads(site: Path, manifest: dict[str, Any]) -> None:
    """The first load is exactly the entry script and the modulepreload links: nothing the
    dashboard needs is fetched after the entry has run (no waterfall), nothing more comes."""
    index = (site / "index.html").read_text()
    named = re.findall(r'(?:src|href)="(assets/[^"]+\.js)"', index)
    assert sorted(named) == sorted(manifest["firstLoad"])
    assert manifest["firstLoad"] == manifest["screens"]["dashboard"]["js"]
    for file in named:
        assert (site / file).is_file(), file


def test_chart_js_is_not_in_the_entry(site: Path, manifest: dict[str, Any]) -> None:
    """Chart.js is only in the chunks of the screens that draw charts (sign-in has none)."""

    def has_chart_js(files: list[str]) -> bool:
        # Chart.js's own error text, kept by minification.
        return any(" is not a registered " in (site / f).read_text() for f in files)

    assert not has_chart_js(manifest["entry"])
    assert has_chart_js(manifest["screens"]["dashboard"]["js"])
    assert not has_chart_js(manifest["screens"]["costs"]["js"])


def test_every_screen_lists_the_entry_and_its_chunk(manifest: dict[str, Any]) -> None:
    for name, screen in manifest["screens"].items():
        assert screen["js"][: len(manifest["entry"])] == manifest["entry"], name
        assert len(screen["js"]) > len(manifest["entry"]), name
