"""Work on untrusted input in a child process with a memory and a time limit.

Some work grows with what its input asks of it rather than with its size: a layout engine
given one hostile table (it once took 22 GB and the web worker with it), or pyHanko's
analysis of a signed PDF with thousands of incremental updates appended (quadratic: 3,000
of them, half a megabyte, took 32 s of a worker's CPU). Such work runs here.

The child is forked from a forkserver that has the heavy libraries loaded already (modules
named with ``preload`` before the first run), so a run starts in a few milliseconds. The
child sets its own ``RLIMIT_AS`` and ``RLIMIT_CPU`` and is killed if it outlives the
wall-clock limit; the caller only waits on a pipe, so whatever the child does, the caller's
process survives. Each kind of work has its own gate of ``concurrent`` runs per process: a
burst of one kind queues, and does not take the slots of another.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """What one run may use. ``concurrent`` runs of a function at once per process; a caller
    waits ``queue_seconds`` for a turn before it is told to come back later."""

    memory_mb: int = 768
    seconds: float = 20.0
    concurrent: int = 2
    queue_seconds: float = 30.0


class SandboxError(Exception):
    """The run gave no result."""


class Busy(SandboxError):
    """Every slot of this function was taken for ``queue_seconds``."""


class OutOfBounds(SandboxError):
    """The child ran out of memory or time, or was killed."""


class Failed(SandboxError):
    """The function raised; the message is its exception's type and text."""


_context = multiprocessing.get_context("forkserver")
_preloaded: list[str] = []
_gate_lock = threading.Lock()
_gates: dict[tuple[str, int], threading.BoundedSemaphore] = {}


def preload(*modules: str) -> None:
    """Import ``modules`` once in the forkserver, so that each child starts with them loaded.
    Call it at import time: the forkserver reads the list when it starts, at the first run."""
    for module in modules:
        if module not in _preloaded:
            _preloaded.append(module)
    _context.set_forkserver_preload(list(_preloaded))


def _gate(name: str, concurrent: int) -> threading.BoundedSemaphore:
    with _gate_lock:
        return _gates.setdefault((name, concurrent), threading.BoundedSemaphore(concurrent))


def run(function: Callable[..., T], *args: Any, limits: Limits, gate: str = "") -> T:
    """``function(*args)`` in a sandboxed child. ``function`` must be importable by name
    (a module-level function) and its arguments and result picklable. Runs share the slots
    of their ``gate`` (by default, the function's own).

    Raises ``Busy`` if no slot frees within ``queue_seconds``, ``OutOfBounds`` if the child
    runs out of memory or time, ``Failed`` if the function raised."""
    slots = _gate(gate or f"{function.__module__}.{function.__qualname__}", limits.concurrent)
    if not slots.acquire(timeout=limits.queue_seconds):
        raise Busy(function.__qualname__)
    try:
        return _run_in_child(function, args, limits)  # type: ignore[no-any-return]
    finally:
        slots.release()


def _child(conn: Connection, function: Callable[..., Any], args: tuple[Any, ...],
           limits: Limits) -> None:
    """In the sandbox: cap this process, run, and send back the result or the failure."""
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limits.seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    os.nice(5)  # the sandbox yields to the requests its parent is serving
    try:
        conn.send(("result", function(*args)))
    except MemoryError:
        conn.send(("memory", ""))
    except BaseException as exc:  # noqa: BLE001 - whatever it was, the parent decides
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        conn.close()


def _start(child: multiprocessing.process.BaseProcess) -> None:
    """Start the sandbox, also from a Celery prefork worker (the seal renders there). Its pool
    processes are daemonic, and multiprocessing refuses a daemonic process children, so that
    none outlives it; the sandbox never does (``_run_in_child`` kills and joins it before
    returning), so the flag is lifted for the start alone."""
    process = multiprocessing.current_process()
    config = process._config  # type: ignore[attr-defined]
    daemonic = config.get("daemon")
    if daemonic:
        config["daemon"] = False
    # Celery's billiard gives its children an authkey type that refuses to be pickled for
    # the forkserver; the same bytes as multiprocessing's own type are accepted.
    own_type = multiprocessing.process.AuthenticationString  # type: ignore[attr-defined]
    for holder in (config, child._config):  # type: ignore[attr-defined]
        if type(holder.get("authkey")) is not own_type:
            holder["authkey"] = own_type(bytes(holder["authkey"]))
    try:
        child.start()
    finally:
        if daemonic:
            config["daemon"] = daemonic


def _run_in_child(function: Callable[..., Any], args: tuple[Any, ...], limits: Limits) -> Any:
    name = function.__qualname__
    receiver, sender = _context.Pipe(duplex=False)
    child = _context.Process(target=_child, args=(sender, function, args, limits), daemon=True)
    started = time.monotonic()
    _start(child)
    sender.close()  # so a child that dies leaves the pipe at EOF
    try:
        if not receiver.poll(limits.seconds):
            _LOGGER.warning("%s took over %.0f s in the sandbox; stopped", name, limits.seconds)
            raise OutOfBounds(name)
        try:
            kind, payload = receiver.recv()
        except EOFError:  # killed: the CPU limit, or the kernel's OOM killer
            _LOGGER.warning("%s died in the sandbox (exit %s)", name, child.exitcode)
            raise OutOfBounds(name) from None
    finally:
        receiver.close()
        child.kill()
        child.join(5)
    if kind == "result":
        _LOGGER.debug("%s ran in the sandbox in %.2f s", name, time.monotonic() - started)
        return payload
    if kind == "memory":
        _LOGGER.warning("%s ran out of memory in the sandbox", name)
        raise OutOfBounds(name)
    _LOGGER.warning("%s failed in the sandbox: %s", name, payload)
    raise Failed(payload)
