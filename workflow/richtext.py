"""The memo body is HTML a drafter writes; only an allow-list of it is ever stored.

Besides what may appear, the allow-list bounds what multiplies layout work. A single
``<td colspan=999999999 rowspan=65534>`` once made WeasyPrint allocate a grid of that
size and take 22 GB before the worker was killed, so spans are clamped to what a real
memo table needs. Styles keep only the few properties a memo uses, with values the
printed form can honour: a negative ``text-indent`` would let a drafter hide text from
the signers, so an indent is a length between zero and ten centimetres.
"""

from __future__ import annotations

import re

import nh3

TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "h2", "h3", "h4", "blockquote", "div", "span",
    "ul", "ol", "li",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
}
ATTRIBUTES = {
    "*": {"style"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "col": {"span"},
    "ol": {"start", "type"},
}
STYLE_PROPERTIES = {"text-align", "text-indent", "list-style-type", "font-weight"}

# Bounds on numbers that multiply work. An A4 page holds about 20 columns; a cell that
# spans more rows than the table has is cut to the table by the layout anyway.
MAX_COLSPAN = 50
MAX_ROWSPAN = 500
MAX_LIST_START = 100_000
MAX_INDENT_CM = 10.0

_INTEGER = re.compile(r"^\s*\+?([0-9]{1,12})\s*$")
_LENGTH = re.compile(r"^([0-9]{1,4}(?:\.[0-9]{1,3})?)(em|rem|cm|mm|pt|px|%)$")
# How many centimetres one unit is on the printed page (16 pt text, a 16 cm text column).
_CM_PER_UNIT = {"em": 0.5644, "rem": 0.5644, "cm": 1.0, "mm": 0.1, "pt": 0.03528,
                "px": 0.02646, "%": 0.16}
_STYLE_VALUES = {
    "text-align": {"left", "right", "center", "justify", "start", "end"},
    "list-style-type": {"decimal", "thai", "lower-alpha", "upper-alpha", "lower-roman",
                        "upper-roman", "disc", "circle", "square", "none"},
    "font-weight": {"normal", "bold", "bolder", "lighter", "400", "700"},
}
# Attribute: (lowest, highest) of the whole numbers it may hold.
_BOUNDED = {
    "colspan": (1, MAX_COLSPAN),
    "span": (1, MAX_COLSPAN),
    "rowspan": (1, MAX_ROWSPAN),
    "start": (0, MAX_LIST_START),
}


def _bounded_integer(value: str, low: int, high: int) -> str | None:
    """A whole number cut to ``high``; anything else, or below ``low``, drops the attribute."""
    match = _INTEGER.match(value)
    if match is None or int(match.group(1)) < low:
        return None
    return str(min(int(match.group(1)), high))


def _indent(value: str) -> str | None:
    match = _LENGTH.match(value)
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2)
    return value if number * _CM_PER_UNIT[unit] <= MAX_INDENT_CM else None


def _style(value: str) -> str | None:
    """Only allowed properties, each with a value the printed form can honour."""
    kept = []
    for declaration in value.split(";"):
        name, _, raw = declaration.partition(":")
        name, raw = name.strip().lower(), raw.strip().lower()
        if name == "text-indent":
            good = _indent(raw)
        else:
            good = raw if raw in _STYLE_VALUES.get(name, ()) else None
        if good is not None:
            kept.append(f"{name}:{good}")
    return ";".join(kept) or None


def _attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style":
        return _style(value)
    if attribute in _BOUNDED:
        return _bounded_integer(value, *_BOUNDED[attribute])
    return value


def sanitize(html: str) -> str:
    """Keep headings, paragraphs, lists and tables within bounds; drop scripts, handlers,
    links and everything else."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_attribute,
        filter_style_properties=STYLE_PROPERTIES,
        link_rel=None,
    ).strip()
