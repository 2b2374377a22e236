"""A real Celery worker and beat, each a process of its own (``celery -A celery_worker``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from .paths import ROOT


class CeleryProcesses:
    """A real Celery worker (and optionally beat) in their own process group."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.worker: Any = None
        self.beat: Any = None

    def _spawn(self, *args: str, log: str) -> Any:
        with (self.workdir / log).open("ab") as output:
            return subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "celery_worker", *args],
                cwd=ROOT, env=self.env, start_new_session=True,
                stdout=output, stderr=subprocess.STDOUT,
            )

    def start_worker(self) -> None:
        """One prefork worker with one child, logging to ``worker.log``."""
        self.worker = self._spawn("worker", "--concurrency", "1", "--pool", "prefork",
                                  "--loglevel", "INFO", "--without-mingle", "--without-gossip",
                                  log="worker.log")

    def start_beat(self) -> None:
        """The scheduler, with its schedule file in the test's folder, logging to ``beat.log``."""
        self.beat = self._spawn("beat", "--loglevel", "INFO", "--schedule",
                                str(self.workdir / "beat-schedule"), log="beat.log")

    def kill_worker(self) -> None:
        """SIGKILL the worker and its pool children at once, as a crash would."""
        if self.worker is not None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(timeout=10)
            self.worker = None

    def stop(self) -> None:
        """Stop worker and beat (SIGTERM, then SIGKILL if they linger)."""
        for process in (self.worker, self.beat):
            if process is None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
            except Exception:  # noqa: BLE001 - make sure nothing outlives the test
                os.killpg(process.pid, signal.SIGKILL)
        self.worker = self.beat = None

    def log(self) -> str:
        """What the worker and beat have logged so far."""
        return "".join((self.workdir / name).read_text(errors="replace")
                       for name in ("worker.log", "beat.log") if (self.workdir / name).exists())
