"""No test reads the wall clock for a business date: a suite that passes on the 15th and fails
on the 1st is a suite that tests the calendar, not the code.

Tests pin dates explicitly, or through the one clock (``tally.clock``, pinned to
``PINNED_TODAY`` by the root conftest). Real time is legitimate only where real time is the
subject (token expiry, timeouts): such a line says so with a ``# real time:`` comment.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ALLOW_MARK = "# real time:"

# (object, attribute) calls that read the wall clock.
FORBIDDEN = {
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("time", "time"),
}


def wall_clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, call) of every wall-clock read in ``source`` not marked as real time."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        call = (name, node.func.attr)
        if call in FORBIDDEN and ALLOW_MARK not in lines[node.lineno - 1]:
            found.append((node.lineno, f"{call[0]}.{call[1]}()"))
    return found


def test_the_scanner_finds_each_kind_of_wall_clock_read() -> None:
    source = (
        "import datetime as dt, time\n"
        "from datetime import date, datetime\n"
        "a = date.today()\n"
        "b = datetime.now(UTC)\n"
        "c = dt.datetime.utcnow()\n"
        "d = time.time()\n"
        "e = int(time.time())  # real time: token expiry\n"
        "f = date(2026, 12, 1)\n"
    )
    assert [line for line, _ in wall_clock_reads(source)] == [3, 4, 5, 6]


def test_no_test_module_reads_the_wall_clock() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line}: {call}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve()
        for line, call in wall_clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "tests must pin their dates:\n" + "\n".join(offenders)
