"""The dashboard reads the browser's clock in two modules only: ``auth.js``, for token expiry,
which follows real time, and ``clock.js``, whose "now" for "3 hours ago" is moved onto the
API's business date. Which day it is comes from the API (``GET /api/me``'s ``today``), so a
pinned local stack and a browser in another time zone show the same month.

A static check of the sources (no browser needed), beside the browser tests it protects.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "templates" / "dashboard" / "src"
THE_CLOCK_MODULES = {"auth.js", "clock.js"}

# `new Date()`, `new Date` (no parentheses) and `Date.now()`: the wall clock. `new Date(iso)`
# parses a value and is fine.
WALL_CLOCK = re.compile(r"\bnew\s+Date\b(?!\s*\(\s*[^)\s])|\bDate\s*\.\s*now\s*\(")
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)


def wall_clock_reads(source: str) -> list[str]:
    """The lines of ``source`` (comments removed) that read the wall clock."""
    code = COMMENT.sub(lambda m: "\n" * m.group().count("\n"), source)
    return [
        f"{number}: {line.strip()}"
        for number, line in enumerate(code.splitlines(), start=1)
        if WALL_CLOCK.search(line)
    ]


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("const d = new Date();", True),
        ("const d = new Date;", True),
        ("const d = new  Date( );", True),
        ("const t = Date.now() + 5;", True),
        ("const d = new Date(`${iso}T00:00:00Z`);", False),
        ("const d = new Date(iso);", False),
        ("Date.parse(end) - Date.parse(start)", False),
        ("// new Date() in a comment", False),
        ("/* Date.now() */ const x = 1;", False),
    ],
)
def test_the_check_finds_wall_clock_reads(source: str, found: bool) -> None:
    assert bool(wall_clock_reads(source)) is found


def test_only_the_clock_modules_read_the_browser_clock() -> None:
    modules = sorted(SRC.rglob("*.js"))
    assert modules, f"no dashboard sources under {SRC}"
    offenders = {
        str(path.relative_to(SRC)): reads
        for path in modules
        if path.name not in THE_CLOCK_MODULES
        and (reads := wall_clock_reads(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, (
        "Only auth.js (token expiry) and clock.js (businessNow) may read the browser's clock; "
        f"take the business date from the API (format.js knownToday(), ctx.today()): {offenders}"
    )


def test_the_dashboards_unit_tests_pass_explicit_dates() -> None:
    tests = sorted((SRC.parent / "test").glob("*.test.js"))
    assert tests, f"no dashboard unit tests beside {SRC}"
    offenders = {
        path.name: reads
        for path in tests
        if (reads := wall_clock_reads(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, f"the dashboard's tests read the clock: {offenders}"
