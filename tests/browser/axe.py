"""axe-core in the page under test: the vendored ``vendor/axe-core/axe.min.js`` (4.14.1, MPL-2.0).

The app's Content-Security-Policy allows only its own scripts, so a ``<script>`` tag with
axe's source would be refused; the source is evaluated through Playwright instead (the
DevTools protocol is not bound by the page's CSP), and the page keeps the headers it is
served with.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

# Every rule axe runs by default (WCAG 2.0/2.1/2.2 A and AA and its best practices), with the
# page's language and Thai text taken as they are.
RUN_OPTIONS: dict[str, Any] = {
    "resultTypes": ["violations"],
}


@cache
def axe_source() -> str:
    source = AXE_JS.read_text(encoding="utf-8")
    assert source.startswith(f"/*! axe v{AXE_VERSION}"), "tests/browser/vendor/axe-core is not axe"
    return source


def inject(page: Page) -> None:
    """Load axe into the page (once per document)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {axe_source()}\n }}")
        assert page.evaluate("() => window.axe && window.axe.version") == AXE_VERSION


def run(page: Page, *, context: Any = None) -> dict[str, Any]:
    """axe's results on the page as it is now (``context``: an axe include/exclude)."""
    inject(page)
    return page.evaluate(  # type: ignore[no-any-return]
        "async ([context, options]) => await axe.run(context || document, options)",
        [context, RUN_OPTIONS],
    )


def violations(page: Page, *, context: Any = None) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now, of every impact."""
    return list(run(page, context=context)["violations"])


def blocking(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the violations of impact ``serious`` or ``critical``."""
    return [v for v in found if v.get("impact") in BLOCKING]


def count_nodes(found: list[dict[str, Any]]) -> int:
    """How many elements fail, over all the rules (one rule can fail on many elements)."""
    return sum(len(v["nodes"]) for v in found)


def describe(found: list[dict[str, Any]], *, per_rule: int = 4) -> str:
    """A readable list: rule, impact, what it means and the first few failing elements."""
    lines = []
    for v in found:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} elements)")
        for node in v["nodes"][:per_rule]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"      {target} :: {summary[:240]}")
    return "\n".join(lines)
