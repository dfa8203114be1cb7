"""``make load`` against a local stack whose API runs in its warm containers: briefly, with a
few users, every first-screen call is made and none fails.

The stack is started in this process (a user and an admin, no demo costs: a few seconds);
the API runs in the gateway's worker processes, and locust in a subprocess of its own (its
gevent patching must not reach pytest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from infra.local.aws import ADMIN_ROLE, USER_ROLE, LocalAws, LocalUser, add_user
from infra.local.stack import LocalStack, start_local_stack
from tests.load.calls import FIRST_SCREEN_CALLS

REPO = Path(__file__).resolve().parents[2]


def one_user_and_an_admin(env: Mapping[str, str]) -> list[LocalUser]:
    aws = LocalAws.from_env(env)
    return [
        add_user(aws, "boss", "Boss-Tally-Load-1", role=ADMIN_ROLE),
        add_user(aws, "alice", "Alice-Tally-Load-1", role=USER_ROLE),
    ]


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    monkeypatch.setenv("TALLY_LOCAL_CONTAINERS", "2")
    saved = dict(os.environ)
    running = start_local_stack(
        port=0,
        aws_port=0,
        seed=one_user_and_an_admin,
        static_dir=False,
        local_json_path=tmp_path / "local.json",
        prefix="tally-load",
        access_log=False,
        alerts_handler=False,
        reports_handler=False,
    )
    yield running
    running.stop()
    os.environ.clear()
    os.environ.update(saved)


def make_load(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.load", *args],
        cwd=REPO,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("layers", "functions", ".")),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_make_load_reports_every_first_screen_call_without_errors(
    stack: LocalStack, tmp_path: Path
) -> None:
    assert stack.local_json_path is not None
    figures = tmp_path / "load.json"

    done = make_load(
        "--local-json",
        str(stack.local_json_path),
        "--users",
        "4",
        # Long enough that every call is made on a machine busy with other workers: under a
        # bench and another test run, 3 s passed in sign-ins and no request was made.
        "--time",
        "8",
        "--json",
        str(figures),
    )

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(figures.read_text())
    assert set(report["calls"]) == set(FIRST_SCREEN_CALLS)
    for name, row in report["calls"].items():
        assert row["count"] > 0 and row["errors"] == 0, (name, row)
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["max_ms"], (name, row)
        assert name in done.stdout
    # Every request was answered by one of the stack's containers, not in its own process.
    assert set(report["containers"]) <= {"c1", "c2"} and report["containers"]


def test_without_a_stack_it_says_how_to_start_one(tmp_path: Path) -> None:
    done = make_load("--local-json", str(tmp_path / "none.json"), "--time", "1")

    assert done.returncode == 2
    assert "start one with `make run`" in done.stderr
