"""Make WeasyPrint PDFs give back the Thai that was written (pdftotext / copy-paste).

Cause: WeasyPrint (<=70) fills the PDF ToUnicode map glyph by glyph from the shaping
clusters, first come first served. HarfBuzz's Thai shaper draws SARA AM (U+0E33) as
NIKHAHIT + SARA AA glyphs in one merged cluster, so NIKHAHIT (and a tone mark before ำ)
gets '' and SARA AA gets 'ำ' -- or SARA AA keeps 'า' and ำ reads back as 'า'.

Two workarounds:
 * pdf_safe_thai(html): spell ำ as ํ+า before rendering (nikhahit before a tone mark, the order
   HarfBuzz produces, so the page is pixel-identical). Side effect: libthai no longer finds
   words with ำ, so lines break inside ประจำ / ดำเนิน / สำนัก.
 * fix_thai_tounicode(pdf_bytes)  <-- chosen: render the text unchanged, then rewrite each
   Thai font's ToUnicode from the glyph names (uni0E32, uni0E48.low -> U+0E48, ...).
"""
import io, re
import pikepdf
from fontTools.ttLib import TTFont

_TONE_AM = re.compile('([\u0e48-\u0e4b]?)\u0e33')


def pdf_safe_thai(html: str) -> str:
    return _TONE_AM.sub(lambda m: '\u0e4d' + m.group(1) + '\u0e32', html)


_UNI = re.compile(r'^uni(0E[0-9A-F]{2})(?:\..*)?$')


def _cmap_stream(mapping: dict[int, str]) -> bytes:
    lines = [b'/CIDInit /ProcSet findresource begin', b'12 dict begin', b'begincmap',
             b'/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
             b'/CMapName /Adobe-Identity-UCS def', b'/CMapType 2 def',
             b'1 begincodespacerange', b'<0000> <ffff>', b'endcodespacerange']
    items = sorted(mapping.items())
    for i in range(0, len(items), 100):
        chunk = items[i:i + 100]
        lines.append(f'{len(chunk)} beginbfchar'.encode())
        lines += [f'<{g:04x}> <{s.encode("utf-16-be").hex()}>'.encode() for g, s in chunk]
        lines.append(b'endbfchar')
    lines += [b'endcmap', b'CMapName currentdict /CMap defineresource pop', b'end', b'end']
    return b'\n'.join(lines)


def fix_thai_tounicode(pdf: bytes) -> bytes:
    """Rewrite ToUnicode of embedded TrueType fonts so every Thai glyph maps to its own code point."""
    doc = pikepdf.open(io.BytesIO(pdf))
    done = set()
    for page in doc.pages:
        for _, font in (page.Resources.get('/Font') or {}).items():
            if font.objgen in done or font.get('/Subtype') != '/Type0' or '/ToUnicode' not in font:
                continue
            done.add(font.objgen)
            desc = font.DescendantFonts[0].FontDescriptor
            if '/FontFile2' not in desc:
                continue
            tt = TTFont(io.BytesIO(desc.FontFile2.read_bytes()))
            order = tt.getGlyphOrder()
            old = font.ToUnicode.read_bytes()
            mapping = {int(g, 16): bytes.fromhex(u.decode()).decode('utf-16-be')
                       for g, u in re.findall(rb'<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>', old.split(b'endcodespacerange', 1)[1])}
            changed = False
            for gid in mapping:
                m = _UNI.match(order[gid]) if gid < len(order) else None
                if m and order[gid] != 'uni0E33':          # ำ glyph itself stays ำ
                    ch = chr(int(m.group(1), 16))
                    if mapping[gid] != ch:
                        mapping[gid], changed = ch, True
            if changed:
                font.ToUnicode = doc.make_stream(_cmap_stream(mapping))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
