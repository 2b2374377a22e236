"""One memo body must not take the server down (probe finding 1 of #15).

A ``<td colspan=999999999 rowspan=65534>`` once made WeasyPrint take 22 GB and the
gunicorn worker was SIGKILLed. Two defences, each tested here: the sanitizer bounds
what multiplies layout work, and rendering runs in a child process with a memory and
time limit, so even a body stored before the bound (or one we did not foresee) costs
a Thai message, never the worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, free_port
from workflow import pdf
from workflow.errors import Invalid
from workflow.richtext import MAX_COLSPAN, MAX_ROWSPAN, sanitize

# What is bounded is the renderer's work, not the database's.
pytestmark = pytest.mark.one_backend

HOSTILE = '<table><tr><td colspan=999999999 rowspan=65534>x</td></tr></table>'


@pytest.mark.parametrize(("body", "stored"), [
    (HOSTILE, f'<td colspan="{MAX_COLSPAN}" rowspan="{MAX_ROWSPAN}">x</td>'),
    ('<table><tr><td colspan="3" rowspan="2">x</td></tr></table>',
     '<td colspan="3" rowspan="2">x</td>'),
    ('<table><tr><td colspan="0" rowspan="-4">x</td></tr></table>', '<td>x</td>'),
    ('<table><tr><td colspan="abc" rowspan="1e9">x</td></tr></table>', '<td>x</td>'),
    ('<table><tr><td colspan="๙๙๙">x</td></tr></table>', '<td>x</td>'),
    ('<table><colgroup><col span="100000"></colgroup></table>', f'<col span="{MAX_COLSPAN}">'),
    ('<ol start="99999999999"><li>x</li></ol>', '<ol start="100000">'),
    # A negative indent would hide text from the signers; a sane one stays.
    ('<p style="text-indent:-9999px">ซ่อน</p>', '<p>ซ่อน</p>'),
    ('<p style="text-indent:2.5cm">ย่อหน้า</p>', '<p style="text-indent:2.5cm">ย่อหน้า</p>'),
    ('<p style="text-indent:9999em">x</p>', '<p>x</p>'),
    ('<p style="text-align:center; text-indent:1e9px">x</p>', '<p style="text-align:center">x</p>'),
    ('<p style="font-weight:bold;color:red;text-align:expression(alert(1))">x</p>',
     '<p style="font-weight:bold">x</p>'),
])
def test_the_sanitizer_bounds_what_multiplies_layout_work(body: str, stored: str) -> None:
    assert stored in sanitize(body)


def test_the_sandbox_refuses_a_body_that_needs_too_much_memory() -> None:
    """The unbounded span, rendered directly: the child hits its memory limit, not us."""
    started = time.monotonic()
    with pytest.raises(Invalid) as refused:
        pdf.render(HOSTILE, base_url=str(ROOT / "static") + "/",
                   limits=pdf.Limits(memory_mb=512, seconds=20))
    assert refused.value.code == "pdf_too_complex"
    assert "บันทึกยังอยู่ครบถ้วน" in refused.value.message
    assert time.monotonic() - started < 20


def test_the_sandbox_stops_a_render_that_takes_too_long() -> None:
    rows = "".join(f"<tr><td>แถว {i}</td><td>{'ข้อความ ' * 20}</td></tr>" for i in range(4000))
    started = time.monotonic()
    with pytest.raises(Invalid):
        pdf.render(f"<table>{rows}</table>", base_url=str(ROOT / "static") + "/",
                   limits=pdf.Limits(seconds=0.5))
    assert time.monotonic() - started < 5


def test_the_sandbox_renders_a_normal_memo_and_the_gate_lets_the_next_in() -> None:
    for _ in range(3):  # the gate is released after each render, failed or not
        data = pdf.render("<p>สวัสดี</p>", base_url=str(ROOT / "static") + "/")
        assert data.startswith(b"%PDF")


# -- the whole thing under gunicorn --------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class Gunicorn:
    """The app under gunicorn (1 worker × 4 threads), as in production."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "gunicorn.log"
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", "1", "--threads", "4", "--timeout", "120", "wsgi:app"],
                cwd=ROOT, env=env, start_new_session=True, stdout=output,
                stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/login", timeout=5)
                return
            except (requests.ConnectionError, requests.Timeout):
                # Not listening yet, or its worker still booting on a busy machine.
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not start: {self.log.read_text()}")

    def workers(self) -> list[int]:
        return [pid for pid in _descendants(self.process.pid)[1:]
                if "gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
                == str(self.process.pid)]

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


class PeakMemory:
    """Samples the resident memory of a process tree every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes(_descendants(self.pid)))
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def test_a_hostile_body_costs_a_thai_message_not_the_gunicorn_worker(
        app: Any, demo: dict[str, int], api: Any, database_url: str, tmp_path: Path) -> None:
    # Saved today, the body is bounded by the sanitizer and renders.
    created = api.call("POST", "/memos", "clerk", json={
        "subject": "ตารางที่ขยายเกิน", "addressee": "นายก", "body": HOSTILE})
    assert created.status_code == 201, created.json
    bounded_id = created.json["id"]
    # A body stored before the bound existed goes straight into the database.
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE memo SET body = :body WHERE id = :memo_id"),
                     {"body": HOSTILE, "memo_id": demo["memo_id"]})

    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
           "SARABAN_INSTANCE": str(tmp_path / "instance"), "BASE_URL": "http://localhost",
           "PDF_MEMORY_MB": "768", "PDF_TIMEOUT_SECONDS": "20", "ARGON2_TIME_COST": "1",
           "ARGON2_MEMORY_KIB": "1024"}
    server = Gunicorn(env, tmp_path)
    try:
        session = requests.Session()
        token = session.post(f"{server.url}/api/v1/auth/token",
                             json={"username": "clerk", "password": "demo"}, timeout=10)
        assert token.status_code == 201, token.text
        session.headers["Authorization"] = f"Bearer {token.json()['token']}"
        workers = server.workers()
        assert len(workers) == 1

        memory = PeakMemory(server.process.pid)
        started = time.monotonic()
        refused = session.get(f"{server.url}/api/v1/memos/{demo['memo_id']}/pdf", timeout=60)
        elapsed = time.monotonic() - started
        bounded = session.get(f"{server.url}/api/v1/memos/{bounded_id}/pdf", timeout=60)
        peak = memory.stop()

        assert refused.status_code == 422, refused.text
        assert refused.json()["error"] == "pdf_too_complex"
        assert "ซับซ้อนหรือใหญ่เกินขีดจำกัด" in refused.json()["message"]
        assert elapsed < 25
        assert bounded.status_code == 200 and bounded.content.startswith(b"%PDF")
        # The worker that served both is the one that was there before: nothing was killed.
        assert server.workers() == workers
        assert peak < 1536 * 1024 * 1024, f"the server's processes peaked at {peak >> 20} MB"
        # The web page of the same memo still opens, and so does a page in the browser's form.
        page = session.get(f"{server.url}/api/v1/memos/{demo['memo_id']}", timeout=10)
        assert page.status_code == 200
        print(f"refused in {elapsed:.2f} s; peak RSS of gunicorn and its children "
              f"{peak >> 20} MB")
    finally:
        server.stop()
    # The memo is intact.
    with engine.connect() as conn:
        body = conn.execute(text("SELECT body FROM memo WHERE id = :memo_id"),
                            {"memo_id": demo["memo_id"]}).scalar_one()
    engine.dispose()
    assert body == HOSTILE
