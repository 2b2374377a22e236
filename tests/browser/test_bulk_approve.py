"""Approving many at once in the browser (issue #14, point 5), at desktop and 360 px: the
head ticks two of three waiting memos, checks the list, picks a phrase, confirms, and the
inbox says both were signed. axe-core looks at both pages on the way."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlmodel import select

from tests.browser import axe
from tests.browser.test_memo_route import _confirm
from tests.factories import make_memo
from workflow import routing
from workflow.extensions import db
from workflow.models import Memo, User

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_head_ticks_two_memos_and_signs_them_at_once(app: Flask, demo: dict[str, int],
                                                     sign_in: Any, shots: Any,
                                                     phone: bool) -> None:
    with app.app_context():
        clerk = db.session.exec(select(User).where(User.username == "clerk")).one()
        memos = [make_memo(db.session, drafter=clerk, state=routing.pending(1),
                           subject=f"ขออนุมัติจัดซื้อวัสดุ ชุดที่ {n}") for n in (1, 2, 3)]
    tag = "phone" if phone else "desktop"
    page = sign_in("head", phone=phone)
    page.goto("/inbox?tab=waiting")
    for memo in memos[:2]:
        page.get_by_label(f"เลือก: {memo.subject}").check()
    shots(page, f"{tag}-inbox-ticked")
    assert not axe.blocking(axe.run(page)["violations"])
    page.get_by_role("button", name="ลงนามเรื่องที่เลือก…").click()
    expect(page.get_by_role("heading", name="ลงนามหลายเรื่องพร้อมกัน")).to_be_visible()
    listed = page.get_by_test_id("bulk-list")
    for memo in memos[:2]:
        expect(listed).to_contain_text(memo.subject)
    expect(listed).not_to_contain_text(memos[2].subject)
    page.locator("[data-phrase='เห็นชอบ']").click()
    shots(page, f"{tag}-confirm-list")
    assert not axe.blocking(axe.run(page)["violations"])
    page.get_by_role("button", name="ลงนาม ๒ เรื่อง").click()
    _confirm(page, shots, f"{tag}-confirm-dialog", quote="เห็นชอบ")
    expect(page.locator(".flash, [role=status], .alert").first).to_contain_text("ลงนามแล้ว ๒ เรื่อง")
    shots(page, f"{tag}-done")
    with app.app_context():
        states = [db.session.get(Memo, m.id).state for m in memos]  # type: ignore[union-attr]
    assert states == [routing.pending(2), routing.pending(2), routing.pending(1)]
