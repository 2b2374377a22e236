"""What the browser tests share: screenshots into the test's artifacts folder, and a fresh
desktop browser context per person."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.test_memo_route import DESKTOP, Shots


@pytest.fixture
def shots(artifacts: Path) -> Shots:
    return Shots(artifacts)


@pytest.fixture
def open_page(browser: Browser, live_server: str) -> Iterator[Callable[[], Page]]:
    """A fresh desktop browser context (one per person), closed after the test."""
    contexts: list[BrowserContext] = []

    def opener() -> Page:
        context = browser.new_context(base_url=live_server, **DESKTOP)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield opener
    for context in contexts:
        context.close()
