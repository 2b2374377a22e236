"""A real SMTP server (aiosmtpd) that keeps the messages it accepts."""

from __future__ import annotations

import asyncio
import threading
import time
from email import message_from_bytes, policy
from typing import Any

from .net import free_port


class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps what it accepts; can stall, stop and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Any] = []
        self.stall_seconds = 0.0
        self._controller: Any = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """aiosmtpd's hook for one message: keep it (after the stall, if one is set)."""
        if self.stall_seconds:
            # A client that hangs up meanwhile cancels this coroutine: nothing is accepted.
            await asyncio.sleep(self.stall_seconds)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        """Listen on ``self.port`` (the same port again after a ``stop``)."""
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening; clients now get connection refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Any]:
        """Wait until ``count`` messages have arrived; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self._lock:
            raise AssertionError(f"expected {count} emails, got {len(self.messages)}: "
                                 f"{[str(m['Subject']) for m in self.messages]}")

    def to(self, address: str) -> list[Any]:
        """The messages addressed to ``address`` so far."""
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]
