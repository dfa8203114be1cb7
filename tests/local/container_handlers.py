"""Handlers for the gateway's container tests, run in its worker processes (never in the
product): each answers by the request's path what the test needs to see.

``/api/rendezvous?dir=D&n=N`` leaves a mark in ``D`` and waits (up to 20 s) until ``N`` marks
are there: every one of N such requests answers ``met == N`` only if all N were being served
at the same time. ``/api/crash`` ends the container's process; ``/api/raise`` raises;
``/api/sleep?seconds=S`` sleeps; anything else answers who served it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

RENDEZVOUS_SECONDS = 20.0


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({**body, "pid": os.getpid()}),
    }


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    query = event.get("queryStringParameters") or {}
    path = event["path"]
    if path == "/api/crash":
        os._exit(3)
    if path == "/api/raise":
        raise RuntimeError("database password is hunter2")
    if path == "/api/sleep":
        time.sleep(float(query["seconds"]))
    if path == "/api/rendezvous":
        where, wanted = Path(query["dir"]), int(query["n"])
        (where / context.aws_request_id).touch()
        # A bound, so a gateway that serialises requests fails the test instead of hanging it.
        deadline = time.monotonic() + RENDEZVOUS_SECONDS
        while len(list(where.iterdir())) < wanted and time.monotonic() < deadline:
            time.sleep(0.02)
        return _answer({"met": len(list(where.iterdir()))})
    return _answer({"remaining_ms": context.get_remaining_time_in_millis()})
