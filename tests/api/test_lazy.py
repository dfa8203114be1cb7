"""The handler's cold import loads no domain module behind a route (``api.lazy``): they run on
first use, so a cold start pays only for what every request needs."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
import api.handler
from api import lazy

executed = [
    name
    for name in ("tally.assignments", "tally.budgets", "tally.claims", "tally.reports")
    if name in sys.modules and type(sys.modules[name]).__name__ != "_LazyModule"
]
print("executed at import:", executed)
print("submodules at import:", sorted(m for m in sys.modules if m.startswith("tally.reports.")))
assert not executed
assert not any(m.startswith(("tally.reports.", "tally.forecast")) for m in sys.modules)
assert callable(lazy.reports.cost_report) and callable(lazy.claims.create_claim)
assert "tally.reports.costs" in sys.modules
"""


def test_domain_modules_load_on_first_use() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(["layers", "functions", "."]),
        "AWS_REGION": "us-east-1",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
