"""A word-level diff of memo text, with Thai words found by a dictionary tokenizer.

Thai writes no spaces between words, so splitting on whitespace would diff whole
sentences; pythainlp's ``newmm`` engine segments Thai by its bundled dictionary
(no network). Pure: no Flask, no database.

Lines first, words second. A word diff of two whole bodies is quadratic in the worst
case (a 477,000-character body once took 94 s on a memo page), so the texts are
compared line by line, and only lines that changed are compared word by word, each
changed block only up to ``REFINE_MAX_CHARS``; a larger block shows as removed and added.
"""

from __future__ import annotations

import difflib
from html.parser import HTMLParser
from typing import Literal

from pythainlp.tokenize import word_tokenize

Op = Literal["equal", "insert", "delete"]
_BLOCKS = {"p", "div", "br", "li", "tr", "h2", "h3", "h4", "table", "ul", "ol"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" | ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    """The readable text of a memo body: paragraphs on their own lines, cells separated."""
    parser = _Text()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def words(text: str) -> list[str]:
    """Words, spaces and line breaks of ``text``, Thai segmented by dictionary."""
    return [w for w in word_tokenize(text, engine="newmm", keep_whitespace=True) if w]


REFINE_MAX_CHARS = 20_000


def _diff(before: list[str], after: list[str], *, autojunk: bool) -> list[tuple[Op, str]]:
    runs: list[tuple[Op, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=autojunk)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(("equal", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("delete", "".join(before[i1:i2])))
        if j2 > j1:
            runs.append(("insert", "".join(after[j1:j2])))
    return runs


def word_diff(old: str, new: str) -> list[tuple[Op, str]]:
    """The changes from ``old`` to ``new`` as runs of equal, inserted and deleted words."""
    runs: list[tuple[Op, str]] = []
    pending: dict[Op, str] = {"delete": "", "insert": ""}

    def flush() -> None:
        removed, added = pending["delete"], pending["insert"]
        if removed and added and len(removed) + len(added) <= REFINE_MAX_CHARS:
            runs.extend(_diff(words(removed), words(added), autojunk=False))
        else:
            if removed:
                runs.append(("delete", removed))
            if added:
                runs.append(("insert", added))
        pending["delete"] = pending["insert"] = ""

    # Popular lines (a blank line, a repeated row) are junk to the line matcher, which
    # keeps it near linear however the text repeats itself.
    lines = _diff(old.splitlines(keepends=True), new.splitlines(keepends=True), autojunk=True)
    for op, chunk in lines:
        if op == "equal":
            flush()
            runs.append((op, chunk))
        else:
            pending[op] += chunk
    flush()
    merged: list[tuple[Op, str]] = []
    for op, chunk in runs:  # neighbouring runs of one kind read as one
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + chunk)
        else:
            merged.append((op, chunk))
    return merged
