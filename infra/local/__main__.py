"""``make run``: the local stack until Ctrl-C. Ports: TALLY_PORT (8080), TALLY_AWS_PORT (5000)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

from infra.local.aws import DEFAULT_AWS_PORT, PortInUse
from infra.local.gateway import DEFAULT_PORT
from infra.local.stack import sign_in_instructions, start_local_stack


def _port(variable: str, default: int) -> int:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"{variable} must be a port number (1-65535), not {raw!r}")
    return int(raw)


def main() -> int:
    # The stack's own log at INFO; libraries (botocore, pynamodb) only when something is wrong.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("tally").setLevel(logging.INFO)
    port = _port("TALLY_PORT", DEFAULT_PORT)
    aws_port = _port("TALLY_AWS_PORT", DEFAULT_AWS_PORT)
    try:
        stack = start_local_stack(port=port, aws_port=aws_port)
    except PortInUse as error:
        print(f"make run: {error}", file=sys.stderr)
        return 2

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(sign_in_instructions(stack.local_json), flush=True)
    try:
        stopping.wait()
    finally:
        print("Stopping the local stack...", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
