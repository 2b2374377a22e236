"""What the browser tests share: screenshots into the test's artifacts folder, and a fresh
desktop browser context per person."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.test_memo_route import DESKTOP, PHONE, Shots


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


@pytest.fixture
def sign_in(browser: Browser, live_server: str) -> Iterator[Callable[..., Page]]:
    """Open a fresh browser context for a user (desktop unless ``phone``) and log them in."""
    contexts: list[BrowserContext] = []

    def login(username: str, *, phone: bool = False) -> Page:
        context = browser.new_context(base_url=live_server, **(PHONE if phone else DESKTOP))
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", "demo")
        page.get_by_role("button", name="เข้าสู่ระบบ", exact=True).click()
        expect(page).to_have_url(re.compile(r"/inbox"))
        return page

    yield login
    for context in contexts:
        context.close()
