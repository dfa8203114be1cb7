"""Warm "Lambda containers" for the local gateway: a pool of worker processes.

In AWS, API Gateway hands each request to a Lambda container that serves one request at a
time; under load Lambda runs several containers side by side, each a separate interpreter
that imported the handler once (its cold start) and keeps its module state (clients, caches)
while warm. ``ContainerPool`` does the same on one machine: up to ``size`` worker processes
(``python -m infra.local.containers``), each importing the handler module on start and then
serving invocations sent over a socket, one at a time. A request takes an idle container
(the most recently used, as Lambda prefers a warm one), or starts a new one while fewer than
``size`` are running, or waits for one to come free.

Why processes rather than threads in one interpreter: Powertools' resolver keeps the
current event on the module-level ``app``, and the handler's caches (settings, clients, the
access cache) are per container by design, so two requests must never run in the same
module at once; the only way to run them concurrently is as separate modules, that is,
separate interpreters. A container that crashes (its process ends mid-request) fails only
that request, and is replaced by a fresh one on the next request, as Lambda does.

This module imports only the standard library: the worker starts with nothing but it and
the handler, so its cold start is the handler's.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

log = logging.getLogger("tally.local.containers")

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
CONTAINERS_VARIABLE = "TALLY_LOCAL_CONTAINERS"
DEFAULT_CONTAINERS = 4
MAX_CONTAINERS = 32
# API Gateway's integration timeout: past it the caller gets a 504 whatever the function does.
INTEGRATION_TIMEOUT_SECONDS = 29.0


def containers_setting(environ: Mapping[str, str] | None = None) -> int:
    """``TALLY_LOCAL_CONTAINERS``: how many API containers may run at once (4 when unset)."""
    raw = (environ if environ is not None else os.environ).get(CONTAINERS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_CONTAINERS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_CONTAINERS:
        raise ValueError(
            f"{CONTAINERS_VARIABLE} must be a number from 1 to {MAX_CONTAINERS}, not {raw!r}"
        )
    return int(raw)


@dataclass
class LocalLambdaContext:
    """What Lambda passes as ``context``: enough for Powertools' logger and metrics."""

    aws_request_id: str
    function_name: str = "tally-local-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    log_group_name: str = "/aws/lambda/tally-local-api"
    log_stream_name: str = "local"
    timeout_seconds: float = INTEGRATION_TIMEOUT_SECONDS
    # time.monotonic() is one clock for every process of the machine, so a container sees
    # the deadline the gateway set.
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{LOCAL_ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class InvocationFailed(Exception):
    """The handler raised, or could not be imported: what Lambda reports as a function error."""


class ContainerCrashed(Exception):
    """The container's process ended (or broke its protocol) during the invocation."""


class ContainerTimedOut(Exception):
    """No answer within the integration timeout; the container is stopped."""


class _Container:
    """One worker process and its end of the socket; used by one request at a time."""

    def __init__(self, name: str, target: str, env: Mapping[str, str]) -> None:
        self.name = name
        parent_end, child_end = socket.socketpair()
        with child_end:
            self.process = subprocess.Popen(  # noqa: S603 - our own module, no shell
                [sys.executable, "-m", __name__, str(child_end.fileno()), target, name],
                cwd=REPO_ROOT,
                env=dict(env),
                pass_fds=(child_end.fileno(),),
            )
        self.connection = Connection(parent_end.detach())
        self.ready = False  # the handler is imported (the cold start is over)
        self.lost = False  # the handler could not be imported: the worker has exited

    def invoke(self, event: dict[str, Any], context: LocalLambdaContext, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        try:
            self._cold_start(deadline, timeout)
            self.connection.send((event, _context_fields(context)))
            return self._answer(deadline, timeout)
        except (EOFError, OSError) as error:
            raise ContainerCrashed(self._ended()) from error

    def warm(self, timeout: float) -> None:
        try:
            self._cold_start(time.monotonic() + timeout, timeout)
        except (EOFError, OSError) as error:
            raise ContainerCrashed(self._ended()) from error

    def _cold_start(self, deadline: float, timeout: float) -> None:
        """Once: wait for "ready" (the handler imported) or the import's error."""
        if self.ready:
            return
        try:
            self._answer(deadline, timeout)
        except InvocationFailed:
            self.lost = True
            raise
        self.ready = True

    def _answer(self, deadline: float, timeout: float) -> Any:
        if not self.connection.poll(max(0.0, deadline - time.monotonic())):
            raise ContainerTimedOut(f"container {self.name} took over {timeout:.0f} s")
        kind, value = self.connection.recv()
        if kind in ("ok", "ready"):
            return value
        raise InvocationFailed(value)

    def _ended(self) -> str:
        try:
            code = self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return f"container {self.name} broke off the invocation"
        return f"container {self.name} exited with status {code} during the invocation"

    def stop(self) -> None:
        self.connection.close()  # a waiting worker reads EOF and exits
        try:
            self.process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _context_fields(context: LocalLambdaContext) -> dict[str, Any]:
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "timeout_seconds": context.timeout_seconds,
        "started": context.started,
    }


def _worker_env(environ: Mapping[str, str]) -> dict[str, str]:
    """What a container runs with: the stack's environment (the handler's settings), and
    the import path Lambda's layers and code give it."""
    paths = [str(REPO_ROOT / p) for p in ("layers", "functions", ".")]
    inherited = environ.get("PYTHONPATH")
    return {
        **environ,
        "PYTHONPATH": os.pathsep.join([*paths, inherited] if inherited else paths),
    }


class ContainerPool:
    """Up to ``size`` containers of ``target`` (``"module:function"``), started on demand.

    ``invoke(event, context)`` returns ``(result, container name)`` and raises
    ``InvocationFailed``, ``ContainerCrashed`` or ``ContainerTimedOut``; after the last two
    the container is gone, and the next request that needs one starts a fresh one. Each
    container is named once (``c1``, ``c2``, ...): a replacement has a new name.
    ``environ`` is read when a container starts (the stack exports the handler's settings
    before the first request).
    """

    def __init__(
        self,
        target: str,
        *,
        size: int = DEFAULT_CONTAINERS,
        timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        environ: Callable[[], Mapping[str, str]] = lambda: os.environ,
    ) -> None:
        if size < 1:
            raise ValueError("a container pool needs at least one container")
        self.target = target
        self.size = size
        self.timeout = timeout
        self._environ = environ
        self._names = (f"c{n}" for n in itertools.count(1))
        self._idle: list[_Container] = []
        self._running = 0
        self._closed = False
        self._changed = threading.Condition()
        # Invocations per container name, for whoever wants to see the load spread.
        self.invocations: Counter[str] = Counter()

    def invoke(self, event: dict[str, Any], context: LocalLambdaContext) -> tuple[Any, str]:
        container = self._acquire()
        # The function's time starts when a container takes the request (Lambda has no such
        # wait: it starts another container).
        context = replace(context, started=time.monotonic(), timeout_seconds=self.timeout)
        healthy = False
        try:
            result = container.invoke(event, context, self.timeout)
            healthy = True
            return result, container.name
        except InvocationFailed:
            # The function failed; its container lives on, as in Lambda (unless it never
            # got its handler imported).
            healthy = not container.lost
            raise
        finally:
            self._release(container, healthy)

    def warm_up(self) -> threading.Thread:
        """Start every container now, in the background (like provisioned concurrency): the
        returned thread ends once each has imported the handler or failed to, which is
        logged with its traceback. Requests that come meanwhile wait for the first ready."""

        def warm_one() -> None:
            try:
                container = self._acquire()
            except ContainerCrashed:
                return  # the gateway stopped first
            healthy = False
            try:
                container.warm(self.timeout)
                healthy = True
            except InvocationFailed as error:
                log.error("the API container %s cannot start: %s", container.name, error)
            except (ContainerCrashed, ContainerTimedOut) as error:
                log.error("the API container %s did not start: %s", container.name, error)
            finally:
                self._release(container, healthy, invoked=False)

        def warm_all() -> None:
            workers = [threading.Thread(target=warm_one, daemon=True) for _ in range(self.size)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()

        thread = threading.Thread(target=warm_all, name="warm-api-containers", daemon=True)
        thread.start()
        return thread

    def _acquire(self) -> _Container:
        with self._changed:
            while True:
                if self._closed:
                    raise ContainerCrashed("the local gateway is stopping")
                while self._idle:
                    container = self._idle.pop()  # the warmest: the one used last
                    if container.process.poll() is None:
                        return container
                    # It ended while idle (killed from outside): no request is lost to it.
                    self._running -= 1
                    container.connection.close()
                if self._running < self.size:
                    self._running += 1
                    name = next(self._names)
                    break
                self._changed.wait()
        try:
            return _Container(name, self.target, _worker_env(self._environ()))
        except BaseException:
            with self._changed:
                self._running -= 1
                self._changed.notify()
            raise

    def _release(self, container: _Container, healthy: bool, *, invoked: bool = True) -> None:
        with self._changed:
            if invoked:
                self.invocations[container.name] += 1
            keep = healthy and not self._closed
            if keep:
                self._idle.append(container)
            else:
                self._running -= 1
            self._changed.notify()
        if not keep:
            container.process.kill()  # a timed-out one may still be running the request
            container.stop()

    def running(self) -> int:
        """How many containers exist now (busy or idle)."""
        with self._changed:
            return self._running

    def close(self) -> None:
        """Stop the idle containers now and each busy one when its request ends."""
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._running -= len(idle)
            self._changed.notify_all()
        for container in idle:
            container.stop()


# -- the worker: python -m infra.local.containers FD module:function NAME ----------------------


def _serve(fd: int, target: str, name: str) -> int:
    # What the handler logs goes where the stack's own log goes, marked with the container.
    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s %(name)s [{name}] %(message)s")
    # Ctrl-C at the terminal reaches the whole process group: the stack stops its
    # containers itself, and a traceback from each would only hide its own message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection = Connection(fd)
    module_name, _, attribute = target.partition(":")
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
    except Exception:
        # Lambda's Runtime.ImportModuleError: every request to this container fails.
        text = traceback.format_exc()
        connection.send(("error", f"the handler {target} could not be loaded:\n{text}"))
        return 1
    connection.send(("ready", None))
    while True:
        try:
            event, fields = connection.recv()
        except EOFError:
            return 0
        try:
            result = handler(event, LocalLambdaContext(**fields))
        except Exception:
            connection.send(("error", traceback.format_exc()))
            continue
        try:
            connection.send(("ok", result))
        except Exception as error:  # not picklable: what Lambda cannot serialise either
            connection.send(("error", f"the handler's result could not be serialised: {error}"))


if __name__ == "__main__":
    sys.exit(_serve(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
