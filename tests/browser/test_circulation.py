"""Circulation in the browser (issue #14, point 4), at desktop and 360 px: the chief approves
the seed memo and circulates it to all staff; the clerk and the head each press ทราบ in their
เวียนทราบ tab; the memo page then lists who has acknowledged and who has not. axe-core looks
at the memo page and the tab on the way; at 360 px nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser import axe
from tests.browser.test_memo_route import (
    APPROVE,
    NAME,
    _act,
    _action_button,
    _assert_done,
    _confirm,
    _memo_link,
    _open_tab,
    _pick_phrase,
    _scroll_width,
    _state,
)
from workflow.demo.seed import SEED_SUBJECT

pytestmark = pytest.mark.browser

# Everyone of the demo office but the chief, who circulates.
STAFF = ("clerk", "head", "deputy", "permsec", "admin", "auditor")


def _no_sideways_scroll(page: Page, phone: bool) -> None:
    if phone:
        assert _scroll_width(page) <= 360, _scroll_width(page)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_chief_circulates_to_all_staff_and_two_acknowledge(
        app: Flask, demo: dict[str, int], sign_in: Any, shots: Any, phone: bool) -> None:
    memo_id = demo["memo_id"]
    tag = "phone" if phone else "desktop"
    _act(app, memo_id, "clerk", "submit")
    for signer in ("head", "deputy", "permsec"):
        _act(app, memo_id, signer, "approve", "เพื่อโปรดพิจารณา")

    chief = sign_in("chief", phone=phone)
    chief.goto(f"/memos/{memo_id}")
    _pick_phrase(chief, "อนุมัติ", phone=phone)
    _action_button(chief, APPROVE).click()
    _assert_done(chief, _confirm(chief, shots, f"{tag}-chief-approve", quote="อนุมัติ"))
    expect(_state(chief)).to_have_attribute("data-state", "approved")

    section = chief.get_by_test_id("circulation")
    form = chief.get_by_test_id("circulate-form")
    expect(form).to_be_visible()
    form.get_by_label("บุคลากรทั้งหมดของหน่วยงาน").check()
    section.scroll_into_view_if_needed()
    _no_sideways_scroll(chief, phone)
    shots(chief, f"{tag}-chief-circulate-form")
    shots.element(section, f"{tag}-chief-circulate-form-section")
    assert not axe.blocking(axe.run(chief)["violations"])
    form.get_by_role("button", name="แจ้งเวียน", exact=True).click()
    response = _confirm(chief, shots, f"{tag}-chief-circulate-confirm")
    assert response.status == 302
    expect(chief.locator(".flash-success")).to_contain_text("แจ้งเวียนแล้ว ๘ คน")
    expect(section.get_by_test_id("acknowledged-count")).to_have_text("รับทราบแล้ว ๐ จาก ๘ คน")
    shots(chief, f"{tag}-chief-circulated")

    for username in ("clerk", "head"):
        page = sign_in(username, phone=phone)
        tab = page.locator("nav.tabs a.tab", has_text="เวียนทราบ")
        expect(tab.get_by_test_id("circulated-count")).to_have_text("๑")
        _open_tab(page, "เวียนทราบ")
        expect(_memo_link(page, SEED_SUBJECT)).to_be_visible()
        _no_sideways_scroll(page, phone)
        shots(page, f"{tag}-{username}-tab")
        if username == "clerk":
            assert not axe.blocking(axe.run(page)["violations"])
        page.get_by_role("button", name=f"ทราบ: {SEED_SUBJECT}").click()
        expect(page.locator(".flash-success")).to_have_text("บันทึกการรับทราบแล้ว")
        expect(page.get_by_test_id("acknowledged-at")).to_contain_text("ทราบแล้ว")
        expect(tab.get_by_test_id("circulated-count")).to_have_count(0)
        _no_sideways_scroll(page, phone)
        shots(page, f"{tag}-{username}-acknowledged")

    # A stale tab's second press: no error page, no second acknowledgement.
    stale = sign_in("deputy", phone=phone)
    stale.goto(f"/memos/{memo_id}")
    stale.get_by_test_id("acknowledge-form").get_by_label("หมายเหตุ (ถ้ามี)").fill("ทราบ ขอบคุณ")
    stale.get_by_test_id("acknowledge-form").scroll_into_view_if_needed()
    shots.element(stale.get_by_test_id("circulation"), f"{tag}-deputy-acknowledge-form")
    stale.get_by_test_id("acknowledge-form").get_by_role("button", name="ทราบ").click()
    expect(stale.get_by_test_id("my-acknowledgement")).to_contain_text("ท่านกดทราบแล้วเมื่อ")
    stale.go_back()
    stale.reload()
    expect(stale.get_by_test_id("my-acknowledgement")).to_be_visible()

    chief.reload()
    acknowledged = chief.get_by_test_id("acknowledged")
    waiting = chief.get_by_test_id("not-acknowledged")
    for username in ("clerk", "head", "deputy"):
        expect(acknowledged).to_contain_text(NAME[username])
    for username in ("permsec", "admin", "auditor"):
        expect(waiting).to_contain_text(NAME[username])
        expect(acknowledged).not_to_contain_text(NAME[username])
    expect(acknowledged).to_contain_text("“ทราบ ขอบคุณ”")
    expect(waiting).to_contain_text("ยังไม่เปิดอ่าน")
    expect(section.get_by_test_id("acknowledged-count")).to_have_text("รับทราบแล้ว ๓ จาก ๘ คน")
    section.scroll_into_view_if_needed()
    _no_sideways_scroll(chief, phone)
    shots(chief, f"{tag}-chief-acknowledgements")
    shots.element(section, f"{tag}-chief-section")
    assert not axe.blocking(axe.run(chief)["violations"])
