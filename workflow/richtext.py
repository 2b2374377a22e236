"""The memo body is HTML a drafter writes; only an allow-list of it is ever stored."""

from __future__ import annotations

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


def sanitize(html: str) -> str:
    """Keep headings, paragraphs, lists and tables; drop scripts, handlers and links out."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        filter_style_properties=STYLE_PROPERTIES,
        link_rel=None,
    ).strip()
