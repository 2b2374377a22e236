"""A word-level diff of memo text, with Thai words found by a dictionary tokenizer.

Thai writes no spaces between words, so splitting on whitespace would diff whole
sentences; pythainlp's ``newmm`` engine segments Thai by its bundled dictionary
(no network). Pure: no Flask, no database.
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


def word_diff(old: str, new: str) -> list[tuple[Op, str]]:
    """The changes from ``old`` to ``new`` as runs of equal, inserted and deleted words."""
    before, after = words(old), words(new)
    runs: list[tuple[Op, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(("equal", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("delete", "".join(before[i1:i2])))
        if j2 > j1:
            runs.append(("insert", "".join(after[j1:j2])))
    return runs
