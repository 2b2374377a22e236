"""Routes with a parallel group and a budget condition in the browser (issue #14), at desktop
and 360 px: the clerk drafts a procurement memo with its amount, กองคลัง and กองช่าง give
their opinions, ปลัด sends it back to the กองคลัง step, it comes back up and นายก approves;
a small one ends at ปลัด. axe-core looks at the pages on the way."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser import axe
from tests.browser.test_memo_route import (
    APPROVE,
    _act,
    _action_button,
    _assert_done,
    _confirm,
    _panel,
    _pick_phrase,
    _scroll_width,
    _state,
)
from workflow.demo.seed import PROCUREMENT

pytestmark = pytest.mark.browser

SUBJECT = "ขออนุมัติจัดซื้อครุภัณฑ์คอมพิวเตอร์ ประจำปีงบประมาณ ๒๕๗๐"


def _draft(page: Page, amount: str) -> int:
    """The clerk drafts the memo on the procurement route with ``amount`` and submits it."""
    page.goto("/memos/new")
    page.fill("#subject", SUBJECT)
    page.select_option("#route_id", label=PROCUREMENT + " (จัดซื้อจัดจ้าง)")
    expect(page.locator("#amount")).to_have_attribute("required", "")
    page.fill("#amount", amount)
    page.fill("#memo_type", "จัดซื้อจัดจ้าง")
    page.locator("textarea#body").evaluate("(t) => t.value = '<p>รายละเอียดตามแนบ</p>'")
    page.get_by_role("button", name="บันทึกและเสนอ").click()
    page.locator("dialog[data-confirm-dialog] [data-confirm-ok]").click()
    expect(_state(page)).to_have_attribute("data-state", "pending_1")
    match = re.search(r"/memos/(\d+)", page.url)
    assert match
    return int(match.group(1))


def _approve(page: Page, memo_id: int, phrase: str, shots: Any, tag: str, phone: bool,
             state: str) -> None:
    page.goto(f"/memos/{memo_id}")
    expect(_panel(page)).to_be_visible()
    _pick_phrase(page, phrase, phone=phone)
    _action_button(page, APPROVE).click()
    _assert_done(page, _confirm(page, shots, f"{tag}-confirm", quote=phrase))
    expect(_state(page)).to_have_attribute("data-state", state)


def _route(page: Page) -> Any:
    return page.get_by_test_id("route")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_procurement_memo_goes_through_both_divisions_and_back_to_finance(
        app: Flask, demo: dict[str, int], sign_in: Any, shots: Any, phone: bool) -> None:
    tag = "phone" if phone else "desktop"
    clerk = sign_in("clerk", phone=phone)
    memo_id = _draft(clerk, "250,000")
    route = _route(clerk)
    expect(route.locator("[data-step='2'] [data-testid=step-rule]")).to_have_text(
        "ความเห็นร่วม ๒ ตำแหน่ง · ต้องเห็นชอบทุกตำแหน่ง")
    expect(route.locator("[data-step='4'] [data-testid=step-when]")).to_have_text(
        "ใช้กับบันทึกนี้ เพราะจำนวนเงินเกิน ๑๐๐,๐๐๐ บาท")
    expect(clerk.get_by_test_id("memo-facts")).to_contain_text("จำนวนเงิน ๒๕๐,๐๐๐ บาท")
    if phone:
        assert _scroll_width(clerk) <= 360
    shots(clerk, f"{tag}-clerk-submitted")
    assert not axe.blocking(axe.run(clerk)["violations"])

    _act(app, memo_id, "head", "approve", "เพื่อโปรดพิจารณาให้ความเห็น")
    finance = sign_in("kongklang", phone=phone)
    _approve(finance, memo_id, "เห็นชอบ", shots, f"{tag}-finance", phone, "pending_2")
    # Still at the group: กองคลัง has signed, กองช่าง is deciding.
    members = _route(finance).locator("[data-step='2'] .step-member")
    expect(members.nth(0)).to_contain_text("ลงนามแล้ว")
    expect(members.nth(1)).to_contain_text("กำลังพิจารณา")
    shots(finance, f"{tag}-finance-signed")
    works = sign_in("kongchang", phone=phone)
    _approve(works, memo_id, "เห็นชอบ", shots, f"{tag}-works", phone, "pending_3")

    permsec = sign_in("permsec", phone=phone)
    permsec.goto(f"/memos/{memo_id}")
    target = permsec.get_by_test_id("target-step")
    expect(target.locator("option")).to_have_count(3)  # the drafter, step 1, step 2
    target.select_option("2")
    permsec.locator("textarea[data-comment]").fill("โปรดตรวจสอบราคากลางกับกองคลังอีกครั้ง")
    if phone:
        _panel(permsec).scroll_into_view_if_needed()
        assert _scroll_width(permsec) <= 360
    shots(permsec, f"{tag}-permsec-send-back")
    assert not axe.blocking(axe.run(permsec)["violations"])
    _action_button(permsec, "ส่งกลับแก้ไข").click()
    _assert_done(permsec, _confirm(permsec, shots, f"{tag}-permsec-confirm"))
    expect(_state(permsec)).to_have_attribute("data-state", "pending_2")
    expect(permsec.locator(".flash-success")).to_have_text("ส่งกลับให้ลำดับที่เลือกพิจารณาใหม่แล้ว")
    shots(permsec, f"{tag}-permsec-sent-back")

    _approve(finance, memo_id, "เห็นชอบ", shots, f"{tag}-finance-again", phone, "pending_2")
    _approve(works, memo_id, "เห็นชอบ", shots, f"{tag}-works-again", phone, "pending_3")
    _act(app, memo_id, "permsec", "approve", "เห็นควรอนุมัติ")
    chief = sign_in("chief", phone=phone)
    _approve(chief, memo_id, "อนุมัติ", shots, f"{tag}-chief", phone, "approved")
    endorsements = chief.get_by_test_id("endorsements").locator(".endorsement")
    expect(endorsements).to_have_count(8)  # every pass kept, in the order given
    if phone:
        assert _scroll_width(chief) <= 360
    shots(chief, f"{tag}-chief-approved")


def test_a_small_procurement_memo_ends_at_the_permanent_secretary(
        app: Flask, demo: dict[str, int], sign_in: Any, shots: Any) -> None:
    clerk = sign_in("clerk")
    memo_id = _draft(clerk, "๕๐,๐๐๐")
    chief_step = _route(clerk).locator("[data-step='4']")
    expect(chief_step).to_have_class(re.compile("step-skipped"))
    expect(chief_step.get_by_test_id("step-when")).to_have_text(
        "ไม่ใช้กับบันทึกนี้ — ใช้เมื่อจำนวนเงินเกิน ๑๐๐,๐๐๐ บาท")
    shots(clerk, "clerk-small-submitted")
    _act(app, memo_id, "head", "approve", "เพื่อโปรดพิจารณา")
    _act(app, memo_id, "kongklang", "approve", "เห็นชอบ")
    _act(app, memo_id, "kongchang", "approve", "เห็นชอบ")
    permsec = sign_in("permsec")
    _approve(permsec, memo_id, "อนุมัติ", shots, "permsec", False, "approved")
    shots(permsec, "permsec-approved")
