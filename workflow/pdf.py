"""The official memo as PDF: WeasyPrint, plus a repair of the text layer for Thai.

WeasyPrint fills a font's ToUnicode map glyph by glyph from the shaper's clusters.
HarfBuzz draws ำ (SARA AM) as two glyphs, ํ and า, in one cluster, so the map ends up
sending the shared า glyph back to ำ and copy-paste gives "สำนักงำน" (WeasyPrint
issue #2841). After rendering we rewrite each embedded font's map from its glyph names
(uni0E32 → า, uni0E48.low → ่ …), which the shipped font keeps. The page itself is
untouched; only what a reader copies out changes. Research: docs/pdf-prototype/.

Rendering runs in a child process with a memory and a time limit. A layout engine's
work grows with what the body asks of it, and one hostile table once took 22 GB and
the whole web worker with it. The child is forked from a forkserver that has WeasyPrint
loaded already (about 5 ms a render instead of a second of imports); it sets its own
``RLIMIT_AS`` and ``RLIMIT_CPU`` and is killed if it outlives the wall-clock limit. The
web worker only waits on a pipe, so whatever the child does, the worker survives.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import re
import resource
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import pikepdf
from fontTools.ttLib import TTFont

from .errors import Invalid, Unavailable

_LOGGER = logging.getLogger(__name__)

_UNI = re.compile(r"^uni(0E[0-9A-F]{2})(?:\..*)?$")
_PAIR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>")


def _cmap(mapping: dict[int, str]) -> bytes:
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def",
             b"1 begincodespacerange", b"<0000> <ffff>", b"endcodespacerange"]
    items = sorted(mapping.items())
    for start in range(0, len(items), 100):
        chunk = items[start:start + 100]
        lines.append(f"{len(chunk)} beginbfchar".encode())
        lines += [f"<{gid:04x}> <{text.encode('utf-16-be').hex()}>".encode()
                  for gid, text in chunk]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def fix_thai_text_layer(pdf: bytes) -> bytes:
    """Map every Thai glyph of every embedded TrueType font back to its own character."""
    document = pikepdf.open(io.BytesIO(pdf))
    seen = set()
    for page in document.pages:
        fonts: dict[str, pikepdf.Object] = page.Resources.get("/Font") or {}  # type: ignore[assignment]
        for _, font in fonts.items():
            if font.objgen in seen or font.get("/Subtype") != "/Type0" or "/ToUnicode" not in font:
                continue
            seen.add(font.objgen)
            descriptor = font.DescendantFonts[0].FontDescriptor
            if "/FontFile2" not in descriptor:
                continue
            order = TTFont(io.BytesIO(descriptor.FontFile2.read_bytes())).getGlyphOrder()
            old = font.ToUnicode.read_bytes().split(b"endcodespacerange", 1)[-1]
            mapping = {int(g, 16): bytes.fromhex(u.decode()).decode("utf-16-be")
                       for g, u in _PAIR.findall(old)}
            changed = False
            for gid in mapping:
                name = order[gid] if gid < len(order) else ""
                match = _UNI.match(name)
                if match and name != "uni0E33":  # the ำ glyph itself stays ำ
                    char = chr(int(match.group(1), 16))
                    if mapping[gid] != char:
                        mapping[gid], changed = char, True
            if changed:
                font.ToUnicode = document.make_stream(_cmap(mapping))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render_unbounded(html: str, base_url: str) -> bytes:
    """HTML (with its print stylesheet) to a PDF whose text copies out as written, in this
    process and with no limit: only for the sandbox's child and for trusted HTML."""
    from weasyprint import HTML  # imported here: it loads Pango, which only PDF requests need

    return fix_thai_text_layer(HTML(string=html, base_url=base_url).write_pdf())


@dataclass(frozen=True)
class Limits:
    """What one render may use. ``concurrent`` renders at once per web process; a request
    waits ``queue_seconds`` for a turn before it is told to come back later."""

    memory_mb: int = 768
    seconds: float = 20.0
    concurrent: int = 2
    queue_seconds: float = 30.0


def too_complex() -> Invalid:
    """The refusal for a body that cannot be rendered within the limits (422)."""
    return Invalid(
        "ไม่สามารถจัดทำไฟล์ PDF ของบันทึกนี้ได้ เพราะเนื้อหา (เช่น ตาราง) ซับซ้อนหรือใหญ่เกินขีดจำกัด"
        "ของระบบ บันทึกยังอยู่ครบถ้วน ผู้ร่างสามารถแก้ไขเนื้อหาให้เรียบง่ายขึ้นแล้วลองใหม่",
        "The memo's content is too large or complex to render as PDF within the server's "
        "limits; the memo itself is unchanged.",
        code="pdf_too_complex",
    )


def busy() -> Unavailable:
    """The answer while every render slot of this process is taken (503)."""
    return Unavailable(
        "ระบบกำลังจัดทำไฟล์ PDF ให้ผู้ใช้อื่นอยู่ กรุณาลองใหม่อีกครั้งในอีกสักครู่",
        "The server is busy rendering other PDFs; try again shortly.",
        code="pdf_busy",
    )


# A process-wide gate: a burst of PDF requests queues instead of forking a child each.
_gate_lock = threading.Lock()
_gates: dict[int, threading.BoundedSemaphore] = {}
_context = multiprocessing.get_context("forkserver")
# Loaded once in the forkserver, so each child starts with WeasyPrint ready.
_context.set_forkserver_preload(["weasyprint", "workflow.pdf"])


def _gate(concurrent: int) -> threading.BoundedSemaphore:
    with _gate_lock:
        return _gates.setdefault(concurrent, threading.BoundedSemaphore(concurrent))


def _child(conn: Connection, html: str, base_url: str, limits: Limits) -> None:
    """In the sandbox: cap this process, render, and send back bytes or the failure."""
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limits.seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    os.nice(5)  # rendering yields to the requests the web worker is serving
    try:
        conn.send(("pdf", render_unbounded(html, base_url)))
    except MemoryError:
        conn.send(("memory", ""))
    except BaseException as exc:  # noqa: BLE001 - whatever it was, the parent decides
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        conn.close()


def render(html: str, base_url: str, limits: Limits | None = None) -> bytes:
    """Render in a sandboxed child process; raise ``too_complex()`` (422) if it runs out of
    memory or time, or ``busy()`` (503) if too many renders are already running here."""
    limits = limits or Limits()
    gate = _gate(limits.concurrent)
    if not gate.acquire(timeout=limits.queue_seconds):
        raise busy()
    try:
        return _render_in_child(html, base_url, limits)
    finally:
        gate.release()


def _start(child: multiprocessing.process.BaseProcess) -> None:
    """Start the sandbox, also from a Celery prefork worker (the seal renders there). Its pool
    processes are daemonic, and multiprocessing refuses a daemonic process children, so that
    none outlives it; the sandbox never does (``_render_in_child`` kills and joins it before
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


def _render_in_child(html: str, base_url: str, limits: Limits) -> bytes:
    receiver, sender = _context.Pipe(duplex=False)
    child = _context.Process(target=_child, args=(sender, html, base_url, limits), daemon=True)
    started = time.monotonic()
    _start(child)
    sender.close()  # so a child that dies leaves the pipe at EOF
    try:
        if not receiver.poll(limits.seconds):
            _LOGGER.warning("PDF render took over %.0f s; stopped", limits.seconds)
            raise too_complex()
        try:
            kind, payload = receiver.recv()
        except EOFError:  # killed: the CPU limit, or the kernel's OOM killer
            _LOGGER.warning("PDF render died (exit %s)", child.exitcode)
            raise too_complex() from None
    finally:
        receiver.close()
        child.kill()
        child.join(5)
    if kind == "pdf":
        _LOGGER.debug("PDF rendered in %.2f s", time.monotonic() - started)
        return payload  # type: ignore[no-any-return]
    _LOGGER.warning("PDF render failed in the sandbox: %s %s", kind, payload)
    raise too_complex()
