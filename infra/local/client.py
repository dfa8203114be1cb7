"""Using the local stack from tests and scripts: run it in a subprocess, sign in.

Sign-in uses plain HTTP (as a browser would: Cognito's InitiateAuth needs no AWS signature),
so it works without boto3 credentials.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.local.stack import DEFAULT_LOCAL_JSON, REPO_ROOT
from tally.clock import TODAY_VARIABLE


class SignInError(RuntimeError):
    pass


def load_local_json(path: Path | str = DEFAULT_LOCAL_JSON) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def initiate_auth(
    aws_endpoint_url: str, client_id: str, username: str, password: str
) -> dict[str, Any]:
    """Cognito ``InitiateAuth`` (``USER_PASSWORD_AUTH``); returns ``AuthenticationResult``."""
    if urlsplit(aws_endpoint_url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) endpoint: {aws_endpoint_url}")
    body = {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client_id,
        "AuthParameters": {"USERNAME": username, "PASSWORD": password},
    }
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        aws_endpoint_url.rstrip("/") + "/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        raise SignInError(f"sign-in as {username!r} failed: {error.read().decode()}") from error
    if "AuthenticationResult" not in answer:
        raise SignInError(f"sign-in as {username!r} met a challenge: {answer.get('ChallengeName')}")
    result: dict[str, Any] = answer["AuthenticationResult"]
    return result


def sign_in(
    local_json: Mapping[str, Any] | Path | str, username: str, password: str | None = None
) -> str:
    """An ID token for ``username`` (password from ``local.json`` unless given)."""
    data = local_json if isinstance(local_json, Mapping) else load_local_json(local_json)
    if password is None:
        user = next((u for u in data["users"] if u["username"] == username), None)
        if user is None:
            raise SignInError(f"{username!r} is not among the users in local.json")
        password = user["password"]
    result = initiate_auth(data["aws_endpoint_url"], data["client_id"], username, password)
    token: str = result["IdToken"]
    return token


@dataclass
class StackProcess:
    local_json: dict[str, Any]
    process: subprocess.Popen[bytes]


@contextmanager
def local_stack_process(
    local_json_path: Path,
    *,
    log_path: Path | None = None,
    timeout: float = 90.0,
    env: Mapping[str, str] | None = None,
    today: date | None = None,
) -> Iterator[StackProcess]:
    """``python -m infra.local`` (what ``make run`` runs) on free ports, until the block ends.

    ``today`` pins the stack's business date (``make run TODAY=...``); without it the stack
    inherits ``TALLY_TODAY`` from ``env`` or this process, if set.

    Yields once ``local_json_path`` is written; interrupts the stack (Ctrl-C) on exit. A
    subprocess, not a thread: ``moto.mock_aws`` in any other test of the same process wipes
    every moto backend, the server's included.

    The stack runs in a session (and process group) of its own, and is stopped through that
    group: a signal meant for the stack never reaches the caller's group (a pytest worker and
    its Playwright driver, whose Ctrl-C handler closes Chromium), and nothing the stack left
    behind outlives it.
    """
    run_env = {
        **os.environ,
        **(env or {}),
        "TALLY_PORT": "0",
        "TALLY_AWS_PORT": "0",
        "TALLY_LOCAL_JSON": str(local_json_path),
        # In a session of its own a Ctrl-C at the terminal no longer reaches the stack: it
        # stops by itself when this process is gone (infra/local/__main__.py).
        "TALLY_LOCAL_PARENT_PID": str(os.getpid()),
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("layers", "functions", ".")),
    }
    if today is not None:
        run_env[TODAY_VARIABLE] = today.isoformat()
    local_json_path.unlink(missing_ok=True)
    with open(log_path or os.devnull, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local"],
            cwd=REPO_ROOT,
            env=run_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while not local_json_path.exists():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"the local stack exited with {process.returncode} before it was ready"
                        + (f"; see {log_path}" if log_path else "")
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the local stack was not ready within {timeout} s")
                time.sleep(0.1)
            yield StackProcess(load_local_json(local_json_path), process)
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """Ctrl-C to the stack's process group, then SIGKILL to it after ``grace`` seconds.

    Only while the leader is not yet reaped: until then its pid, which is the group's id,
    cannot have been given to another process."""
    if process.poll() is not None:
        return
    with suppress(ProcessLookupError):  # the group's last process exited just now
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
