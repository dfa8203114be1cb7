"""``make load [LOAD_USERS=20] [LOAD_TIME=30]``: the dashboard's first-screen calls under
concurrent users, against the running local stack (``make run``; it does not start one).

Reads the stack's ``local.json`` (``TALLY_LOCAL_JSON`` or ``.tally/local.json``) for the
gateway and its people, signs in a demo user and an admin once, and runs locust headless
(``tests/load/locustfile.py``: three users for each admin) for a fixed time. Then prints one
row per call: how many answered, how many failed, p50, p95 and the slowest (milliseconds,
from every answer's own time), and how the requests spread over the API's containers.
Exits 1 when any request failed (or a call was never made), 2 when there is no stack.

Locust runs in a subprocess: it monkey-patches the process it runs in (gevent), which must
not happen to whoever runs this (pytest, in tests/local/test_load.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from infra.local.client import SignInError, load_local_json, sign_in
from infra.local.stack import DEFAULT_LOCAL_JSON, REPO_ROOT
from tests.load.calls import FIRST_SCREEN_CALLS

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
NO_STACK = "No local stack is running ({why}): start one with `make run`, then `make load` again."


class NoStack(Exception):
    pass


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def running_stack(path: Path) -> dict[str, Any]:
    """The stack's ``local.json``, once its gateway answers ``GET /api/health``."""
    try:
        local_json = load_local_json(path)
    except FileNotFoundError:
        raise NoStack(f"no {path}") from None
    try:
        with urllib.request.urlopen(f"{local_json['api_url']}/health", timeout=5):
            pass
    except (urllib.error.URLError, OSError) as error:
        raise NoStack(f"{local_json['api_url']} does not answer: {error}") from None
    return local_json


def plan(local_json: Mapping[str, Any]) -> dict[str, Any]:
    """What the locust users need: the API's path, the people and their tokens, the dates."""
    people: dict[str, Any] = {}
    for role in ("user", "admin"):
        person = next((u for u in local_json["users"] if u["role"] == role), None)
        if person is None:
            raise NoStack(f"the stack has no {role} in its local.json (started without the demo?)")
        token = sign_in(local_json, person["username"])
        people[role] = {
            "username": person["username"],
            "user_id": person["user_id"],
            "token": token,
        }
    today = date.fromisoformat(local_json["today"])
    base = local_json["dashboard_url"].rstrip("/")
    return {
        **people,
        "host": base,
        "api_path": local_json["api_url"][len(base) :],
        "today": today.isoformat(),
        "month_start": today.replace(day=1).isoformat(),
    }


def run_locust(
    the_plan: Mapping[str, Any], users: int, seconds: int, where: Path
) -> dict[str, Any]:
    results = where / "results.json"
    log = where / "locust.log"
    env = {
        **os.environ,
        "TALLY_LOAD_PLAN": json.dumps(the_plan),
        "TALLY_LOAD_RESULTS": str(results),
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("layers", "functions", ".")),
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),  # everyone within the first second
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",  # a first screen under way is finished, not cut short
        "--host",
        the_plan["host"],
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    with open(log, "wb") as out:
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=seconds + 120,
            check=False,
        )
    if not results.exists():
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"locust exited with {done.returncode} and wrote no results:\n{tail}")
    loaded: dict[str, Any] = json.loads(results.read_text())
    return loaded


def summarise(results: Mapping[str, Any]) -> dict[str, Any]:
    calls = {}
    for name in FIRST_SCREEN_CALLS:
        call = results["calls"].get(name, {"times_ms": [], "errors": []})
        times = call["times_ms"]
        calls[name] = {
            "count": len(times),
            "errors": len(call["errors"]),
            "p50_ms": round(percentile(times, 0.50)) if times else None,
            "p95_ms": round(percentile(times, 0.95)) if times else None,
            "max_ms": round(max(times)) if times else None,
            "error_samples": sorted(set(call["errors"]))[:3],
        }
    return {"calls": calls, "containers": results.get("containers", {})}


def table(summary: Mapping[str, Any], users: int, seconds: int) -> str:
    width = max(len(name) for name in summary["calls"])
    lines = [
        f"The dashboard's first screen, {users} concurrent users for {seconds} s (times in ms):",
        f"{'call':<{width}}  {'count':>6}  {'errors':>6}  {'p50':>6}  {'p95':>6}  {'max':>6}",
    ]
    for name, row in summary["calls"].items():
        cells = [row[k] if row[k] is not None else "-" for k in ("p50_ms", "p95_ms", "max_ms")]
        lines.append(
            f"{name:<{width}}  {row['count']:>6}  {row['errors']:>6}  "
            + "  ".join(f"{c:>6}" for c in cells)
        )
        lines.extend(f"{'':<{width}}  ! {sample}" for sample in row["error_samples"])
    total = sum(row["count"] for row in summary["calls"].values())
    lines.append(f"{total} requests, {total / seconds:.1f} a second")
    spread = ", ".join(f"{n} {c}" for n, c in sorted(summary["containers"].items()))
    lines.append(f"Requests per API container: {spread or 'none named'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make load", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--local-json",
        type=Path,
        default=Path(os.environ.get("TALLY_LOCAL_JSON") or DEFAULT_LOCAL_JSON),
    )
    parser.add_argument("--users", type=int, default=20, help="concurrent users (20)")
    parser.add_argument("--time", type=int, default=30, help="seconds to run (30)")
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args(argv)
    if args.users < 2 or args.time < 1:
        parser.error("--users needs at least 2 (a user and an admin) and --time at least 1 s")
    try:
        the_plan = plan(running_stack(args.local_json))
    except NoStack as error:
        print(NO_STACK.format(why=error), file=sys.stderr)
        return 2
    except SignInError as error:
        print(f"make load: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tally-load-") as where:
        summary = summarise(run_locust(the_plan, args.users, args.time, Path(where)))
    print(table(summary, args.users, args.time))
    if args.json is not None:
        args.json.write_text(json.dumps({"users": args.users, "seconds": args.time, **summary}))
    rows = summary["calls"].values()
    failed = sum(r["errors"] for r in rows)
    missing = [n for n, r in summary["calls"].items() if r["count"] == 0]
    if failed or missing:
        print(
            f"make load: {failed} requests failed"
            + (f"; never made: {', '.join(missing)}" if missing else ""),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
