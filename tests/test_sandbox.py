"""The sandbox that untrusted work runs in: a result comes back; running out of memory or
time, raising, or finding every slot taken each end in their own exception, and the caller
goes on."""

from __future__ import annotations

import threading
import time

import pytest

from workflow import sandbox

# A child process's limits: the database plays no part.
pytestmark = pytest.mark.one_backend


def test_a_result_comes_back() -> None:
    assert sandbox.run(sum, [1, 2, 3], limits=sandbox.Limits(seconds=10)) == 6


def test_running_out_of_memory_is_out_of_bounds() -> None:
    with pytest.raises(sandbox.OutOfBounds):
        sandbox.run(bytearray, 4 * 1024**3, limits=sandbox.Limits(memory_mb=512, seconds=10))


def test_running_out_of_time_is_out_of_bounds_and_the_caller_does_not_wait_for_it() -> None:
    started = time.monotonic()
    with pytest.raises(sandbox.OutOfBounds):
        sandbox.run(time.sleep, 30, limits=sandbox.Limits(seconds=0.5))
    assert time.monotonic() - started < 5


def test_an_exception_is_reported_by_its_type_and_text() -> None:
    with pytest.raises(sandbox.Failed, match="ValueError: invalid literal"):
        sandbox.run(int, "สิบ", limits=sandbox.Limits(seconds=10))


def test_a_caller_who_finds_every_slot_taken_is_told_so() -> None:
    slow = sandbox.Limits(seconds=10, concurrent=1, queue_seconds=0.2)
    holder = threading.Thread(target=sandbox.run, args=(time.sleep, 2), kwargs={"limits": slow})
    holder.start()
    time.sleep(0.5)  # the holder's child is running
    try:
        with pytest.raises(sandbox.Busy):
            sandbox.run(time.sleep, 0, limits=slow)
        # Another function has its own slots.
        assert sandbox.run(sum, [1], limits=slow) == 1
    finally:
        holder.join()
    assert sandbox.run(time.sleep, 0, limits=slow) is None  # the slot is free again


def test_running_out_of_memory_while_reading_a_pdf_is_not_a_verdict_on_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """pdfcheck's own "unreadable" answer must not swallow the sandbox's memory limit: the
    caller says "too complex to check", not "damaged" or "altered"."""
    from pyhanko.pdf_utils import reader

    from workflow.seal import pdfcheck

    def exhausted(*_args: object, **_kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(reader, "PdfFileReader", exhausted)  # pdfcheck imports it when called
    with pytest.raises(MemoryError):
        pdfcheck.first_signer(b"%PDF-1.7\n")
