"""``make run``: the local stack until Ctrl-C or SIGTERM.

Environment: TALLY_PORT (gateway, 8080), TALLY_AWS_PORT (moto, 5000); 0 picks a free port,
which end-to-end tests use together with TALLY_LOCAL_JSON (where to write local.json) and
then read the actual URLs from that file. TALLY_TODAY=YYYY-MM-DD (``make run TODAY=...``)
pins the business date; the daily schedule is then off (the date never turns over).
TALLY_LOCAL_DEMO=off starts without the demo organisation (no users, no costs): for tests
that bring their own people and costs, in a few seconds instead of half a minute.
TALLY_LOCAL_PAYMENTS=standin (``make run PAYMENTS=standin``) turns payments on through
Stripe's recorded stand-in (``infra.local.stripe_standin``): issue an invoice and pay it offline.
TALLY_LOCAL_PARENT_PID (set by ``infra.local.client``): stop when that process is gone, so a
stack a test run started never outlives it, however the run ended.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from infra.local.aws import DEFAULT_AWS_PORT, PortInUse
from infra.local.gateway import DEFAULT_PORT
from infra.local.schedule import DailySchedule, scheduled_ingest
from infra.local.stack import DEFAULT_LOCAL_JSON, sign_in_instructions, start_local_stack
from infra.local.stripe_standin import STANDIN
from infra.local.stripe_standin import VARIABLE as PAYMENTS_VARIABLE
from tally.clock import ClockError, pinned_today


def _port(variable: str, default: int) -> int:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 <= int(raw) < 65536:
        raise SystemExit(f"{variable} must be a port number (0 for any free port), not {raw!r}")
    return int(raw)


def _parent_gone(variable: str = "TALLY_LOCAL_PARENT_PID") -> bool:
    """Whether the process that asked for this stack has ended (never, when none is named):
    an orphan is re-parented, so its parent id stops being the one it was started by."""
    raw = os.environ.get(variable, "").strip()
    return raw.isdigit() and os.getppid() != int(raw)


def main() -> int:
    # The stack's own log at INFO; libraries (botocore, pynamodb) only when something is wrong.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("tally").setLevel(logging.INFO)
    try:
        pinned = pinned_today()
    except ClockError as error:
        raise SystemExit(f"make run: {error} (e.g. make run TODAY=2026-11-25)") from None
    port = _port("TALLY_PORT", DEFAULT_PORT)
    aws_port = _port("TALLY_AWS_PORT", DEFAULT_AWS_PORT)
    local_json_path = Path(os.environ.get("TALLY_LOCAL_JSON") or DEFAULT_LOCAL_JSON)
    demo = os.environ.get("TALLY_LOCAL_DEMO", "on").strip().lower()
    if demo not in ("on", "off"):
        raise SystemExit(f"TALLY_LOCAL_DEMO must be on or off, not {demo!r}")
    payments = os.environ.get(PAYMENTS_VARIABLE, "").strip().lower() or None
    if payments not in (None, STANDIN):
        raise SystemExit(f"{PAYMENTS_VARIABLE} must be unset or {STANDIN}, not {payments!r}")
    try:
        stack = start_local_stack(
            port=port,
            aws_port=aws_port,
            local_json_path=local_json_path,
            seed=demo == "on",
            payments=payments,
        )
    except PortInUse as error:
        print(f"make run: {error}", file=sys.stderr)
        return 2

    schedule = DailySchedule(scheduled_ingest).start() if pinned is None else None
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(sign_in_instructions(stack.local_json, local_json_path), flush=True)
    try:
        # In slices: a signal the kernel hands to another thread (the stack has several) runs
        # its Python handler only once the main thread executes bytecode again.
        while not stopping.wait(0.5):
            if _parent_gone():
                print("The process that started the local stack has ended.", flush=True)
                break
    finally:
        print("Stopping the local stack...", flush=True)
        if schedule is not None:
            schedule.stop()
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
