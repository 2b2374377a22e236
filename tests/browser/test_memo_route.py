"""The memo's route as people use it: headless Chromium on a desktop and on a 360 px phone.

Every step leaves a full-page screenshot in ``tests/artifacts/<test>/`` for a
person to look at; the assertions check what a clerk or a signer would see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect
from sqlmodel import select

from tests.factories import make_route
from workflow.demo.seed import PEOPLE, SEED_SUBJECT
from workflow.extensions import db
from workflow.memos import commands
from workflow.models import Decision, Memo, MemoCreate, Organization, Position
from workflow.thai import thai_digits

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "locale": "th-TH"}
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "th-TH",
}
NAME = {username: full_name for username, full_name, _, _ in PEOPLE}
TITLE = {username: title for username, _, _, title in PEOPLE}
SIGNERS = ("head", "deputy", "permsec", "chief")
CHAIN_PHRASES = {
    "head": "เพื่อโปรดพิจารณา",
    "deputy": "เพื่อโปรดพิจารณา",
    "permsec": "เห็นควรนำเรียนนายกเพื่อโปรดทราบ",
    "chief": "อนุมัติ",
}
APPROVE = "ลงนาม/เห็นชอบ"



class Shots:
    """Numbered full-page screenshots of one test: 01-clerk-inbox.png, 02-clerk-memo.png, ..."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        for old in folder.glob("*.png"):
            old.unlink()
        self.taken: list[str] = []

    def __call__(self, page: Page, name: str) -> None:
        filename = f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=self.folder / filename, full_page=True)
        self.taken.append(filename)

    def element(self, locator: Any, name: str) -> None:
        """Just one part of the page, where the full page is too tall to read."""
        filename = f"{len(self.taken) + 1:02d}-{name}.png"
        locator.screenshot(path=self.folder / filename)
        self.taken.append(filename)


def _act(app: Any, memo_id: int, username: str, action: str, comment: str = "") -> None:
    """Move the memo along through the web form without a browser, to set up a starting point."""
    client = app.test_client()
    client.post("/login", data={"username": username, "password": "demo"})
    response = client.post(f"/memos/{memo_id}/act", data={"action": action, "comment": comment})
    assert response.status_code == 302, response.text


def _open_tab(page: Page, label: str) -> None:
    page.locator("nav.tabs a.tab", has_text=label).click()
    expect(page.locator("nav.tabs .tab.active")).to_contain_text(label)


def _memo_link(page: Page, subject: str) -> Any:
    return page.locator(".memo-item .memo-link").filter(has_text=subject)


def _state(page: Page) -> Any:
    return page.get_by_test_id("memo-state")


def _panel(page: Page) -> Any:
    return page.get_by_test_id("action-panel")


def _action_button(page: Page, label: str) -> Any:
    return _panel(page).locator(".actions").get_by_role("button", name=label, exact=True)


def _pick_phrase(page: Page, phrase: str, *, phone: bool = False) -> None:
    chip = _panel(page).locator(f'.chip[data-phrase="{phrase}"]')
    if phone:
        chip.tap()
    else:
        chip.click()


def _confirm(page: Page, shots: Shots, name: str, *, quote: str | None = None) -> Response:
    """The confirmation dialog is up: photograph it, press ยืนยัน, return the POST's response."""
    dialog = page.locator("dialog[data-confirm-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-confirm-text]")).to_contain_text("ยืนยัน")
    if quote is not None:
        expect(dialog.locator("[data-confirm-comment]")).to_have_text(quote)
    shots(page, name)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        dialog.locator("[data-confirm-ok]").click()
    page.wait_for_load_state("load")
    return posted.value


def _assert_done(page: Page, response: Response) -> None:
    """The action went through: the POST redirected back to the memo page."""
    error = page.get_by_test_id("action-error")
    refusal = error.inner_text() if error.count() else ""
    assert response.status == 302, f"{response.status} {refusal}"


def _scroll_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.browser
def test_seed_memo_chain_in_browser(sign_in, demo, shots):
    """The clerk submits the seed memo and the four signers endorse and approve it in turn."""
    memo_id = demo["memo_id"]

    clerk = sign_in("clerk")
    _open_tab(clerk, "ที่ฉันส่ง/ร่าง")
    expect(_memo_link(clerk, SEED_SUBJECT)).to_contain_text("ร่าง")
    shots(clerk, "clerk-inbox")
    _memo_link(clerk, SEED_SUBJECT).click()
    expect(clerk).to_have_url(re.compile(rf"/memos/{memo_id}$"))
    expect(_state(clerk)).to_have_attribute("data-state", "draft")
    expect(clerk.get_by_test_id("memo-subject")).to_have_text(SEED_SUBJECT)
    shots(clerk, "clerk-memo")
    _action_button(clerk, "เสนอ").click()
    _assert_done(clerk, _confirm(clerk, shots, "confirm-dialog"))
    expect(_state(clerk)).to_have_attribute("data-state", "pending_1")
    expect(clerk.locator(".flash-success")).to_have_text("เสนอบันทึกข้อความแล้ว")
    shots(clerk, "clerk-submitted")

    for step, signer in enumerate(SIGNERS, start=1):
        phone = signer == "head"
        tag = f"{signer}-phone" if phone else signer
        page = sign_in(signer, phone=phone)
        active = page.locator("nav.tabs .tab.active")
        expect(active).to_contain_text("รอฉันพิจารณา")
        expect(active.locator(".badge")).to_have_text("๑")
        expect(page.get_by_test_id("waiting-count")).to_have_text("๑")
        expect(_memo_link(page, SEED_SUBJECT)).to_contain_text(
            f"รอพิจารณา ลำดับที่ {thai_digits(step)}")
        if phone:
            assert _scroll_width(page) <= 360
        shots(page, f"{tag}-inbox")

        _memo_link(page, SEED_SUBJECT).click()
        expect(_state(page)).to_have_attribute("data-state", f"pending_{step}")
        expect(page.get_by_test_id("route").locator(".route-step.current")).to_contain_text(
            TITLE[signer])
        expect(_panel(page)).to_be_visible()
        if phone:
            _panel(page).scroll_into_view_if_needed()
            assert _scroll_width(page) <= 360
        shots(page, f"{tag}-memo")

        phrase = CHAIN_PHRASES[signer]
        _pick_phrase(page, phrase, phone=phone)
        expect(_panel(page).locator("textarea[data-comment]")).to_have_value(phrase)
        _action_button(page, APPROVE).click()
        _assert_done(page, _confirm(page, shots, f"{tag}-confirm", quote=phrase))
        final = "approved" if signer == "chief" else f"pending_{step + 1}"
        expect(_state(page)).to_have_attribute("data-state", final)
        expect(page.locator(".flash-success")).to_have_text("ลงนามแล้ว")
        expect(page.get_by_test_id("action-panel")).to_have_count(0)
        shots(page, f"{tag}-approved")

    endorsements = page.get_by_test_id("endorsements").locator(".endorsement")
    expect(endorsements).to_have_count(4)
    expect(endorsements.locator(".endorsement-text")).to_have_text(
        [CHAIN_PHRASES[s] for s in SIGNERS])
    expect(endorsements.locator(".endorsement-by")).to_have_text(
        [f"({NAME[s]})" for s in SIGNERS])
    expect(endorsements.locator(".endorsement-pos")).to_have_text([TITLE[s] for s in SIGNERS])

    clerk_phone = sign_in("clerk", phone=True)
    clerk_phone.goto(f"/memos/{memo_id}")
    expect(_state(clerk_phone)).to_have_attribute("data-state", "approved")
    expect(clerk_phone.get_by_test_id("endorsements").locator(".endorsement")).to_have_count(4)
    assert _scroll_width(clerk_phone) <= 360
    shots(clerk_phone, "clerk-phone-approved")


@pytest.mark.browser
def test_send_back_and_resubmit_in_browser(app, demo, sign_in, shots):
    """The ปลัด sends the memo back with a reason; the clerk revises and resubmits it to the head."""
    memo_id = demo["memo_id"]
    _act(app, memo_id, "clerk", "submit")
    _act(app, memo_id, "head", "approve", "เพื่อโปรดพิจารณา")
    _act(app, memo_id, "deputy", "approve", "เพื่อโปรดพิจารณา")
    reason = "ยังไม่ได้แนบรายงานผลไตรมาสที่ ๒"

    permsec = sign_in("permsec")
    _memo_link(permsec, SEED_SUBJECT).click()
    expect(_state(permsec)).to_have_attribute("data-state", "pending_3")
    _pick_phrase(permsec, "ส่งกลับแก้ไข เนื่องจาก…")
    # The chip selects its "…" so that typing replaces it with the reason.
    permsec.keyboard.type(reason)
    comment = f"ส่งกลับแก้ไข เนื่องจาก{reason}"
    expect(_panel(permsec).locator("textarea[data-comment]")).to_have_value(comment)
    shots(permsec, "permsec-reason")
    _action_button(permsec, "ส่งกลับแก้ไข").click()
    _assert_done(permsec, _confirm(permsec, shots, "permsec-confirm", quote=comment))
    expect(_state(permsec)).to_have_attribute("data-state", "returned")
    expect(permsec.get_by_test_id("endorsements").locator(".action-send_back")).to_contain_text(
        comment)
    shots(permsec, "permsec-sent-back")

    clerk = sign_in("clerk", phone=True)
    _open_tab(clerk, "ที่ฉันส่ง/ร่าง")
    expect(_memo_link(clerk, SEED_SUBJECT).locator(".state")).to_have_text("ส่งกลับแก้ไข")
    shots(clerk, "clerk-phone-mine-returned")
    _memo_link(clerk, SEED_SUBJECT).click()
    expect(_state(clerk)).to_have_attribute("data-state", "returned")
    clerk.get_by_role("link", name="แก้ไขบันทึก").click()
    expect(clerk).to_have_url(re.compile(rf"/memos/{memo_id}/edit$"))
    expect(clerk.locator(".flash-warning")).to_contain_text(comment)
    expect(clerk.locator(".flash-warning")).to_contain_text(NAME["permsec"])
    expect(clerk.locator("[data-editor]")).to_be_visible()
    new_subject = f"{SEED_SUBJECT} (แก้ไขครั้งที่ ๑)"
    clerk.fill("#subject", new_subject)
    assert _scroll_width(clerk) <= 360
    shots(clerk, "clerk-phone-editor")
    clerk.get_by_role("button", name="บันทึกและเสนอ", exact=True).click()
    _assert_done(clerk, _confirm(clerk, shots, "clerk-phone-confirm"))
    expect(clerk).to_have_url(re.compile(rf"/memos/{memo_id}$"))
    expect(clerk.locator(".flash-success")).to_have_text("เสนอบันทึกข้อความใหม่แล้ว")
    expect(_state(clerk)).to_have_attribute("data-state", "pending_1")
    expect(clerk.get_by_test_id("memo-subject")).to_have_text(new_subject)
    shots(clerk, "clerk-phone-resubmitted")

    head = sign_in("head")
    expect(head.locator("nav.tabs .tab.active .badge")).to_have_text("๑")
    expect(_memo_link(head, new_subject)).to_contain_text("รอพิจารณา ลำดับที่ ๑")
    shots(head, "head-inbox-again")
    _memo_link(head, new_subject).click()
    expect(_state(head)).to_have_attribute("data-state", "pending_1")
    expect(_action_button(head, APPROVE)).to_be_visible()
    # The new round starts the route afresh; the earlier send-back stays on the record.
    expect(head.get_by_test_id("route").locator(".route-step.current")).to_contain_text(
        TITLE["head"])
    expect(head.get_by_test_id("endorsements")).to_contain_text(comment)
    shots(head, "head-memo-again")


def _memo_off_deputys_route(app: Any, demo: dict[str, int]) -> int:
    """A memo the clerk sends on a short route, head -> chief, that skips the deputy."""
    with app.app_context():
        memo = commands.create_memo(
            actor_id=demo["user_clerk"],
            memo_create=MemoCreate(subject="ขออนุมัติจัดซื้อวัสดุสำนักงาน",
                                   addressee="นายกองค์การบริหารส่วนตำบลท่าตูม",
                                   body="<p>ด้วยสำนักปลัดมีความจำเป็นต้องจัดซื้อวัสดุสำนักงาน</p>"),
        )
        with db.write() as session:
            positions = [session.exec(
                select(Position).where(Position.holder_id == demo[f"user_{username}"])
            ).one() for username in ("head", "chief")]
            route = make_route(session, office=session.get(Organization, demo["org_id"]),
                               positions=positions, is_default=False,
                               name="สายการเสนอย่อ (หัวหน้าสำนักปลัด → นายก)")
            stored = session.get(Memo, memo.id)
            assert stored is not None
            stored.route_id = route.id or 0
    assert memo.id is not None
    _act(app, memo.id, "clerk", "submit")
    return memo.id


def _not_found(app: Any, demo: dict[str, int], sign_in: Callable[..., Page],
               shots: Shots) -> None:
    clerk = sign_in("clerk")
    response = clerk.goto("/memos/999999")
    assert response is not None and response.status == 404
    card = clerk.locator(".error-card")
    expect(card).to_have_attribute("data-status", "404")
    expect(card.locator(".error-code")).to_have_text("๔๐๔")
    expect(card.locator("h1")).to_have_text("ไม่พบหน้าที่ต้องการ")
    expect(card).to_contain_text("ไม่พบบันทึกข้อความนี้")
    expect(card.get_by_role("link", name="กลับหน้าหลัก")).to_be_visible()
    shots(clerk, "404-not-found")

    phone = sign_in("clerk", phone=True)
    response = phone.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(phone.locator(".error-card")).to_contain_text("ไม่พบหน้าที่ต้องการ")
    assert _scroll_width(phone) <= 360
    shots(phone, "404-phone-no-such-page")


def _forbidden(app: Any, demo: dict[str, int], sign_in: Callable[..., Page],
               shots: Shots) -> None:
    off_route = _memo_off_deputys_route(app, demo)
    deputy = sign_in("deputy")
    response = deputy.goto(f"/memos/{off_route}")
    assert response is not None and response.status == 403
    card = deputy.locator(".error-card")
    expect(card).to_have_attribute("data-status", "403")
    expect(card.locator(".error-code")).to_have_text("๔๐๓")
    expect(card.locator("h1")).to_have_text("ไม่มีสิทธิ์เข้าถึง")
    expect(card).to_contain_text("ท่านไม่มีสิทธิ์เข้าถึงบันทึกข้อความนี้")
    expect(deputy.get_by_test_id("memo-subject")).to_have_count(0)
    shots(deputy, "403-not-on-route")

    # A draft not yet submitted is the drafter's working paper, even for the chief.
    chief = sign_in("chief", phone=True)
    response = chief.goto(f"/memos/{demo['memo_id']}")
    assert response is not None and response.status == 403
    expect(chief.locator(".error-card")).to_contain_text("ท่านไม่มีสิทธิ์เข้าถึงบันทึกข้อความนี้")
    expect(chief.get_by_test_id("memo-subject")).to_have_count(0)
    assert _scroll_width(chief) <= 360
    shots(chief, "403-phone-draft")


def _stale_tab(app: Any, demo: dict[str, int], sign_in: Callable[..., Page],
               shots: Shots) -> None:
    memo_id = demo["memo_id"]
    _act(app, memo_id, "clerk", "submit")
    first = sign_in("head")
    first.goto(f"/memos/{memo_id}")
    second = first.context.new_page()
    second.goto(f"/memos/{memo_id}")
    for tab in (first, second):
        expect(_state(tab)).to_have_attribute("data-state", "pending_1")
        _pick_phrase(tab, "เพื่อโปรดพิจารณา")
    _action_button(first, APPROVE).click()
    _assert_done(first, _confirm(first, shots, "409-first-tab-confirm"))
    expect(_state(first)).to_have_attribute("data-state", "pending_2")

    _action_button(second, APPROVE).click()
    response = _confirm(second, shots, "409-stale-tab-confirm")
    error = second.get_by_test_id("action-error")
    expect(error).to_have_text(
        "บันทึกนี้มีการเปลี่ยนแปลงหลังจากที่ท่านเปิดไว้ กรุณาตรวจสอบสถานะล่าสุดก่อนดำเนินการอีกครั้ง")
    assert response.status == 409
    expect(_state(second)).to_have_attribute("data-state", "pending_2")
    expect(second.get_by_test_id("endorsements").locator(".endorsement")).to_have_count(1)
    shots(second, "409-stale-tab")

    second.goto(f"/memos/{memo_id}")
    expect(_state(second)).to_have_attribute("data-state", "pending_2")
    expect(second.get_by_test_id("endorsements").locator(".endorsement")).to_have_count(1)
    with app.app_context():
        decisions = db.session.exec(
            select(Decision.action).where(Decision.memo_id == memo_id).order_by(Decision.id)
        ).all()
    assert decisions == ["submit", "approve"]


ERROR_CASES = {"not_found": _not_found, "forbidden": _forbidden, "stale_tab": _stale_tab}


@pytest.mark.browser
@pytest.mark.parametrize("case", [
    "not_found",
    "forbidden",
    "stale_tab",
])
def test_error_pages_in_thai(app, demo, sign_in, shots, case):
    """404, 403 and a stale tab's 409 are explained in Thai; the stale action changes nothing."""
    ERROR_CASES[case](app, demo, sign_in, shots)


@pytest.mark.browser
@pytest.mark.parametrize("screen", ["inbox", "memo", "editor", "new_memo"])
def test_phone_layout_has_no_horizontal_scroll(demo, sign_in, shots, screen):
    """At 360 px the inbox, the memo page and the editor fit the width without sideways scroll."""
    memo_id = demo["memo_id"]
    page = sign_in("clerk", phone=True)
    if screen == "inbox":
        _open_tab(page, "ที่ฉันส่ง/ร่าง")
        expect(_memo_link(page, SEED_SUBJECT)).to_be_visible()
    elif screen == "memo":
        page.goto(f"/memos/{memo_id}")
        expect(page.get_by_test_id("memo-subject")).to_have_text(SEED_SUBJECT)
        # The seed memo's wide table stays inside the paper (it may scroll in its own box).
        table = page.locator(".memo-body table").first
        box = table.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    else:
        path = f"/memos/{memo_id}/edit" if screen == "editor" else "/memos/new"
        response = page.goto(path)
        assert response is not None and response.status == 200
        expect(page.locator("[data-editor]")).to_be_visible()
        expect(page.locator("#subject")).to_be_visible()
    shots(page, f"phone-{screen.replace('_', '-')}")
    width = _scroll_width(page)
    assert width <= 360, f"the {screen} page is {width} px wide at 360 px"
