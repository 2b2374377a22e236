"""The official memo as PDF: WeasyPrint, plus a repair of the text layer for Thai.

WeasyPrint fills a font's ToUnicode map glyph by glyph from the shaper's clusters.
HarfBuzz draws ำ (SARA AM) as two glyphs, ํ and า, in one cluster, so the map ends up
sending the shared า glyph back to ำ and copy-paste gives "สำนักงำน" (WeasyPrint
issue #2841). After rendering we rewrite each embedded font's map from its glyph names
(uni0E32 → า, uni0E48.low → ่ …), which the shipped font keeps. The page itself is
untouched; only what a reader copies out changes. Research: docs/pdf-prototype/.

Rendering runs in ``workflow.sandbox``, a child process with a memory and a time limit:
a layout engine's work grows with what the body asks of it, and one hostile table once
took 22 GB and the whole web worker with it. The forkserver has WeasyPrint loaded already
(about 5 ms a render instead of a second of imports).
"""

from __future__ import annotations

import io
import re

import pikepdf
from fontTools.ttLib import TTFont

from . import sandbox
from .errors import Invalid, Unavailable
from .sandbox import Limits

__all__ = ["Limits", "busy", "fix_thai_text_layer", "render", "render_unbounded", "too_complex"]

sandbox.preload("weasyprint", __name__)

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


def render(html: str, base_url: str, limits: Limits | None = None) -> bytes:
    """Render in the sandbox; raise ``too_complex()`` (422) if it runs out of memory or time
    (or fails at all), or ``busy()`` (503) if too many renders are already running here."""
    try:
        return sandbox.run(render_unbounded, html, base_url, limits=limits or Limits())
    except sandbox.Busy:
        raise busy() from None
    except sandbox.SandboxError:
        raise too_complex() from None
