"""Accessibility (issue #15): axe-core on every page, and a memo approved with the keyboard alone.

``test_no_serious_accessibility_violations`` opens each page of the app as the person who
uses it, on a desktop and on a 360 px phone, runs axe-core (vendored, see ``axe.py``) and
fails on any violation of impact serious or critical, or on a page wider than the screen.
It writes the counts per page to ``tests/artifacts/<test>/axe-summary.json`` (with the
lesser violations and axe's "needs review", for a person to read) and a screenshot of every
page, the whole page on the phone.

``test_signer_approves_with_the_keyboard_only`` signs in, opens the waiting memo, writes
the endorsement and approves it with Tab, Enter and typing only (past the menu by the
skip link), and checks that every element the focus lands on shows a visible focus ring.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import col, select

from tests.browser import axe
from tests.browser.test_memo_route import APPROVE, DESKTOP, PHONE
from tests.support.clients import ApiClient
from workflow.demo.seed import SEED_SUBJECT
from workflow.extensions import db
from workflow.models import Memo, MemoVersion, Notification
from workflow.platform import offices

PLATFORM_ADMIN, PLATFORM_PASSWORD = "root", "ผู้ดูแลกลาง-2569"

pytestmark = pytest.mark.browser

SCREENS = {"desktop": DESKTOP, "phone": PHONE}
CHIEF = "นายกองค์การบริหารส่วนตำบลท่าตูม"
APPROVED_SUBJECT = "ขออนุมัติจัดซื้อวัสดุสำนักงาน"
RETURNED_SUBJECT = "ขอความเห็นชอบแผนการฝึกอบรมบุคลากร ประจำปี ๒๕๖๙"
DRAFT_SUBJECT = "ขออนุญาตใช้ห้องประชุมสภา"
SEND_BACK_REASON = "ส่งกลับแก้ไข เนื่องจากยังไม่ได้แนบกำหนดการ"


@dataclass
class Office:
    """The demo office with something on every page: a memo at each stage, an appointment,
    an office day and a failed email."""

    pending: int  # the seed memo, waiting for the head (step 1)
    approved: int  # approved by all four signers, numbered
    returned: int  # sent back to the clerk by the head
    draft: int  # the clerk's draft, not yet submitted
    document_hash: str  # the approved memo's hash, as its QR code carries it
    ids: dict[str, int] = field(default_factory=dict)


def _memo(api: ApiClient, subject: str) -> int:
    created = api.call("POST", "/memos", "clerk", json={
        "subject": subject, "addressee": CHIEF,
        "body": "<p>ด้วยสำนักปลัดมีความจำเป็นต้องดำเนินการตามเรื่องนี้</p>"
                "<p>จึงเรียนมาเพื่อโปรดพิจารณา</p>"})
    assert created.status_code == 201, created.json
    return int(created.json["id"])


def _act(api: ApiClient, memo_id: int, username: str, action: str, comment: str = "") -> None:
    response = api.act(memo_id, username, action, comment)
    assert response.status_code == 200, response.json


def _post(app: Flask, username: str, path: str, data: dict[str, str]) -> None:
    """Submit a web form as ``username``: the admin's pages are set up as the admin sets them."""
    client = app.test_client()
    client.post("/login", data={"username": username, "password": "demo"})
    response = client.post(path, data=data)
    assert response.status_code == 302, response.text


@pytest.fixture
def office(app: Flask, demo: dict[str, int]) -> Office:
    api = ApiClient(app.test_client())
    pending = demo["memo_id"]
    _act(api, pending, "clerk", "submit")

    approved = _memo(api, APPROVED_SUBJECT)
    _act(api, approved, "clerk", "submit")
    for signer, comment in (("head", "เพื่อโปรดพิจารณา"), ("deputy", "เพื่อโปรดพิจารณา"),
                            ("permsec", "เห็นควรอนุมัติ"), ("chief", "อนุมัติ")):
        _act(api, approved, signer, "approve", comment)

    returned = _memo(api, RETURNED_SUBJECT)
    _act(api, returned, "clerk", "submit")
    _act(api, returned, "head", "send_back", SEND_BACK_REASON)

    draft = _memo(api, DRAFT_SUBJECT)

    _post(app, "admin", "/admin/office-days",
          {"day": "๓๑/๑๒/๒๕๗๐", "kind": "holiday", "note": "วันหยุดพิเศษของสำนักงาน"})
    _post(app, "admin", "/appointments", {
        "position_id": str(_position_of(app, demo["user_permsec"])),
        "acting_user_id": str(demo["user_deputy"]), "capacity": "acting",
        "order_no": "๑๒๓/๒๕๖๙", "starts_on": "๑/๑/๒๕๗๐", "ends_on": "๑๕/๑/๒๕๗๐",
        "note": "ปลัดลาพักผ่อน"})

    with app.app_context():  # the installation's own administrator, for /platform
        offices.create_platform_admin(username=PLATFORM_ADMIN, full_name="นายกลาง ดูแลระบบ",
                                      email="root@example.com", password=PLATFORM_PASSWORD)
    with app.app_context(), db.write() as session:
        first = session.exec(select(Notification).order_by(col(Notification.id))).first()
        assert first is not None
        first.status = "failed"
        first.attempts = 5
        first.last_error = "SMTP 554 ปฏิเสธผู้รับ"
        memo = session.get(Memo, approved)
        assert memo is not None and memo.state == "approved"
        version = session.exec(select(MemoVersion).where(
            MemoVersion.memo_id == approved, MemoVersion.revision == memo.revision)).one()
        document_hash = version.content_hash
    return Office(pending=pending, approved=approved, returned=returned, draft=draft,
                  document_hash=document_hash, ids=demo)


def _position_of(app: Flask, user_id: int) -> int:
    from workflow.models import Position

    with app.app_context():
        position = db.session.exec(select(Position).where(Position.holder_id == user_id)).one()
        assert position.id is not None
        return position.id


# -- what a person does on a page before axe looks at it --------------------------------------

def _login_refused(page: Page) -> None:
    page.fill("#username", "head")
    page.fill("#password", "not-the-password")
    page.get_by_role("button", name="เข้าสู่ระบบ", exact=True).click()
    page.wait_for_load_state("load")


def _new_memo_refused(page: Page) -> None:
    """Save an empty draft: the server's messages under the fields (the browser's own check
    of ``required`` is switched off to reach them)."""
    page.evaluate("() => document.querySelector('[data-memo-form]').noValidate = true")
    page.get_by_role("button", name="บันทึกร่าง", exact=True).click()
    page.wait_for_load_state("load")
    expect(page.locator(".field-error").first).to_be_visible()


def _endorsing(page: Page) -> None:
    """The approve / send back form in use: a phrase picked, the reason typed."""
    panel = page.get_by_test_id("action-panel")
    panel.locator('.chip[data-phrase="ส่งกลับแก้ไข เนื่องจาก…"]').click()
    page.keyboard.type("ยังไม่ได้แนบรายงานผลไตรมาสที่ ๒")
    expect(panel.locator("textarea[data-comment]")).to_have_value(re.compile("ไตรมาส"))


def _confirming(page: Page) -> None:
    """The confirmation dialog over the memo, as the signer is about to approve."""
    panel = page.get_by_test_id("action-panel")
    panel.locator('.chip[data-phrase="เพื่อโปรดพิจารณา"]').click()
    panel.locator(".actions").get_by_role("button", name=APPROVE, exact=True).click()
    expect(page.locator("dialog[data-confirm-dialog]")).to_be_visible()


def _refused(button: str) -> Callable[[Page], None]:
    """Send the form empty: the server's messages under its fields."""
    def send(page: Page) -> None:
        page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state("load")
        expect(page.locator(".field-error").first).to_be_visible()
    return send


def _search_open(page: Page) -> None:
    expect(page.locator(".memo-search details")).to_have_attribute("open", "")


def _import_preview(page: Page) -> None:
    csv = ("username,full_name,email,position,roles\n"
           "somsri,นางสมศรี ใจดี,somsri@example.com,นักวิชาการเงินและบัญชี,clerk\n"
           "bad name,,not-an-email,,\n")
    page.locator("#file").set_input_files(
        files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
    page.get_by_role("button", name="ตรวจสอบไฟล์").click()
    expect(page.get_by_test_id("import-errors")).to_be_visible()


@dataclass(frozen=True)
class Visit:
    name: str
    who: str | None  # None: not signed in
    path: Callable[[Office], str]
    status: int = 200
    then: Callable[[Page], None] | None = None


def _at(path: str) -> Callable[[Office], str]:
    return lambda _office: path


VISITS = (
    Visit("login", None, _at("/login")),
    Visit("login-refused", None, _at("/login"), then=_login_refused),
    Visit("password-forgot", None, _at("/password/forgot")),
    Visit("password-forgot-refused", None, _at("/password/forgot"),
          then=_refused("ส่งลิงก์ตั้งรหัสผ่านใหม่")),
    Visit("password-reset-expired", None, _at("/password/reset/no-such-token"), status=410),
    Visit("verify-genuine", None, lambda o: f"/verify/{o.document_hash}"),
    Visit("verify-unknown", None, _at(f"/verify/{'0' * 64}"), status=404),
    Visit("inbox-waiting", "head", _at("/inbox?tab=waiting")),
    Visit("inbox-mine", "clerk", _at("/inbox?tab=mine")),
    Visit("inbox-decided", "head", _at("/inbox?tab=decided")),
    Visit("inbox-empty", "permsec", _at("/inbox?tab=waiting")),
    Visit("search-results", "clerk", _at("/inbox?q=รายงาน&state=pending"), then=_search_open),
    Visit("search-nothing", "clerk", _at("/inbox?q=ไม่มีเรื่องนี้")),
    Visit("memo-new", "clerk", _at("/memos/new")),
    Visit("memo-new-refused", "clerk", _at("/memos/new"), then=_new_memo_refused),
    Visit("memo-edit-returned", "clerk", lambda o: f"/memos/{o.returned}/edit"),
    Visit("memo-drafter-draft", "clerk", lambda o: f"/memos/{o.draft}"),
    Visit("memo-drafter-pending", "clerk", lambda o: f"/memos/{o.pending}"),
    Visit("memo-drafter-returned", "clerk", lambda o: f"/memos/{o.returned}"),
    Visit("memo-signer", "head", lambda o: f"/memos/{o.pending}"),
    Visit("memo-signer-send-back", "head", lambda o: f"/memos/{o.pending}", then=_endorsing),
    Visit("memo-signer-confirm", "head", lambda o: f"/memos/{o.pending}", then=_confirming),
    Visit("memo-approved", "chief", lambda o: f"/memos/{o.approved}"),
    Visit("memo-print", "clerk", lambda o: f"/memos/{o.approved}/print"),
    Visit("memo-audit", "auditor", lambda o: f"/memos/{o.approved}/audit"),
    Visit("audit-search", "auditor", _at("/audit")),
    Visit("audit-search-filtered", "auditor", _at("/audit?action=memo_approved")),
    Visit("register", "clerk", _at("/register")),
    Visit("account", "head", _at("/account")),
    Visit("account-settings", "head", _at("/settings")),
    Visit("account-password", "head", _at("/account/password")),
    Visit("account-password-refused", "head", _at("/account/password"),
          then=_refused("บันทึกรหัสผ่านใหม่")),
    Visit("admin-hub", "admin", _at("/admin")),
    Visit("admin-people", "admin", _at("/admin/users")),
    Visit("admin-person", "admin", lambda o: f"/admin/users/{o.ids['user_clerk']}"),
    Visit("admin-import", "admin", _at("/admin/import")),
    Visit("admin-import-preview", "admin", _at("/admin/import"), then=_import_preview),
    Visit("admin-positions", "admin", _at("/admin/positions")),
    Visit("admin-routes", "admin", _at("/admin/routes")),
    Visit("admin-route-new", "admin", _at("/admin/routes/new")),
    Visit("admin-route-edit", "admin", lambda o: f"/admin/routes/{o.ids['route_id']}"),
    Visit("admin-appointments", "admin", _at("/appointments")),
    Visit("admin-office", "admin", _at("/admin/office")),
    Visit("admin-office-days", "admin", _at("/admin/office-days")),
    Visit("admin-office-days-refused", "admin", _at("/admin/office-days"), then=_refused("เพิ่ม")),
    Visit("admin-outbox", "admin", _at("/admin/outbox")),
    Visit("platform-offices", PLATFORM_ADMIN, _at("/platform/")),
    Visit("error-404", "clerk", _at("/memos/999999"), status=404),
    Visit("error-403", "deputy", lambda o: f"/memos/{o.draft}", status=403),
)


@pytest.fixture
def people(browser: Browser, live_server: str) -> Iterator[Callable[[str | None, str], Page]]:
    """One signed-in page per (person, screen), opened on first use."""
    contexts: list[BrowserContext] = []
    pages: dict[tuple[str | None, str], Page] = {}

    def page_of(who: str | None, screen: str) -> Page:
        if (who, screen) not in pages:
            context = browser.new_context(base_url=live_server, **SCREENS[screen])
            context.set_default_timeout(15_000)
            contexts.append(context)
            page = context.new_page()
            if who is not None:
                page.goto("/login")
                platform = who == PLATFORM_ADMIN
                page.fill("#office", "platform" if platform else "")
                page.fill("#username", who)
                page.fill("#password", PLATFORM_PASSWORD if platform else "demo")
                page.get_by_role("button", name="เข้าสู่ระบบ", exact=True).click()
                expect(page).to_have_url(re.compile(r"/platform/" if platform else r"/inbox"))
            pages[(who, screen)] = page
        return pages[(who, screen)]

    yield page_of
    for context in contexts:
        context.close()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_no_serious_accessibility_violations(office, people, artifacts, screen):
    """axe-core finds no serious or critical violation on any page, desktop or phone."""
    for old in artifacts.glob("*.png"):
        old.unlink()
    summary: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    for number, visit in enumerate(VISITS, start=1):
        page = people(visit.who, screen)
        response = page.goto(visit.path(office))
        assert response is not None and response.status == visit.status, (
            f"{visit.name}: {response and response.status}")
        if visit.then is not None:
            visit.then(page)
        result = axe.run(page)
        found = axe.blocking(result["violations"])
        summary[visit.name] = {
            "path": page.url.split("/", 3)[-1],
            "rules": len(found),
            "elements": axe.count_nodes(found),
            "violations": {v["id"]: len(v["nodes"]) for v in found},
            # For a person to look at; they do not fail the test.
            "lesser": {f"{v['id']} ({v['impact']})": len(v["nodes"])
                       for v in result["violations"] if v not in found},
            "needs_review": {v["id"]: [f"{' '.join(map(str, n['target']))}: "
                                       f"{(n.get('failureSummary') or '').splitlines()[-1:]}"
                                       for n in v["nodes"]] for v in result["incomplete"]},
        }
        # The whole page on a phone, the first screen on a desktop.
        page.screenshot(path=artifacts / f"{number:02d}-{visit.name}.png",
                        full_page=screen == "phone")
        if found:
            failures.append(f"{visit.name} ({page.url}):\n{axe.describe(found)}")
        # Nothing may widen the page past the screen: a phone would scroll it sideways.
        width = page.evaluate("document.documentElement.scrollWidth")
        summary[visit.name]["width"] = width
        if width > SCREENS[screen]["viewport"]["width"]:
            failures.append(f"{visit.name} ({page.url}): the page is {width} px wide")
        if visit.who is None:  # the anonymous pages leave no one signed in for the next
            page.context.clear_cookies()
    (artifacts / "axe-summary.json").write_text(
        json.dumps({"axe": axe.AXE_VERSION, "screen": screen, "pages": summary},
                   ensure_ascii=False, indent=1), encoding="utf-8")
    assert not failures, (f"{len(failures)} problems at {screen} width (axe serious or "
                          "critical, or a page wider than the screen):\n" + "\n".join(failures))


# -- the keyboard alone -----------------------------------------------------------------------

FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 300),
    classes: el.className || '',
    focusVisible: el.matches(':focus-visible'),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
    inDialog: !!el.closest('dialog[open]'),
  };
}"""

FOCUS_RULES_JS = """() => {
  const selectors = [];
  const walk = (rules) => {
    for (const rule of rules) {
      if (rule.selectorText && rule.selectorText.includes(':focus-visible')) {
        selectors.push(rule.selectorText);
      }
      if (rule.cssRules) walk(rule.cssRules);
    }
  };
  for (const sheet of document.styleSheets) walk(sheet.cssRules);
  return selectors;
}"""


class Keyboard:
    """Tab through a page as a keyboard user does, checking each focus stop is visible."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops: list[dict[str, Any]] = []

    def focused(self) -> dict[str, Any] | None:
        return self.page.evaluate(FOCUS_JS)  # type: ignore[no-any-return]

    def tab_to(self, wanted: Callable[[dict[str, Any]], bool], *, limit: int = 80) -> None:
        """Press Tab until ``wanted`` is focused, checking the focus ring of every stop."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            now = self.focused()
            assert now is not None, f"Tab left the page after {self.trail()}"
            self.stops.append(now)
            self.assert_visible(now)
            if wanted(now):
                return
        raise AssertionError(f"not reached in {limit} Tabs: {self.trail()}")

    def trail(self) -> str:
        return " | ".join(f"{s['tag']}#{s['id']} {s['text'][:30]}" for s in self.stops)

    @staticmethod
    def assert_visible(stop: dict[str, Any]) -> None:
        ring = ((stop["outlineStyle"] not in ("none", "") and stop["outlineWidth"] >= 2)
                or stop["boxShadow"] not in ("none", ""))
        assert stop["focusVisible"] and ring, f"no visible focus on {stop}"


def _is(text: str, tag: str | None = None) -> Callable[[dict[str, Any]], bool]:
    return lambda stop: text in stop["text"] and (tag is None or stop["tag"] == tag)


def test_signer_approves_with_the_keyboard_only(office, browser, live_server, artifacts):
    """The head signs in, opens the waiting memo, endorses and approves it: no mouse at all."""
    for old in artifacts.glob("*.png"):
        old.unlink()
    context = browser.new_context(base_url=live_server, **DESKTOP)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        keys = Keyboard(page)
        page.goto("/login")

        # A focus style for links and buttons is in the stylesheet, not left to the browser.
        rules = " ".join(page.evaluate(FOCUS_RULES_JS))
        assert re.search(r"(^|[\s,])a:focus-visible", rules), rules
        assert "button:focus-visible" in rules, rules

        # The username field has the focus as the page opens.
        assert (keys.focused() or {}).get("id") == "username"
        page.keyboard.type("head")
        keys.tab_to(lambda stop: stop["id"] == "password")
        page.keyboard.type("demo")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/inbox"))
        page.wait_for_load_state("load")
        expect(page.locator("nav.tabs .tab.active")).to_contain_text("รอฉันพิจารณา")

        keys.tab_to(_is(SEED_SUBJECT, "a"))
        page.screenshot(path=artifacts / "01-inbox-memo-focused.png")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(rf"/memos/{office.pending}$"))
        # The focus ring is read from computed styles: wait for the stylesheet, or a slow
        # machine reads the browser's default outline before app.css applies.
        page.wait_for_load_state("load")
        expect(page.get_by_test_id("memo-state")).to_have_attribute("data-state", "pending_1")

        # The first Tab reaches the skip link, which jumps past the menu to the page itself.
        keys.tab_to(_is("ข้ามไปยังเนื้อหาหลัก", "a"), limit=1)
        page.keyboard.press("Enter")
        assert (keys.focused() or {}).get("tag") == "main"

        endorsement = "เรียน รองปลัด อบต. เพื่อโปรดพิจารณา"
        keys.tab_to(lambda stop: stop["id"] == "comment")
        page.keyboard.type(endorsement)
        expect(page.locator("#comment")).to_have_value(endorsement)
        keys.tab_to(_is(APPROVE, "button"))
        page.screenshot(path=artifacts / "02-approve-focused.png")
        page.keyboard.press("Enter")

        dialog = page.locator("dialog[data-confirm-dialog]")
        expect(dialog).to_be_visible()
        expect(dialog.locator("[data-confirm-comment]")).to_have_text(endorsement)
        now = keys.focused()
        assert now is not None and now["inDialog"], f"the focus stayed behind the dialog: {now}"
        if "ยืนยัน" not in now["text"] or "ยกเลิก" in now["text"]:
            keys.tab_to(_is("ยืนยัน", "button"), limit=4)
        page.screenshot(path=artifacts / "03-confirm-focused.png")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.keyboard.press("Enter")
        page.wait_for_load_state("load")
        assert posted.value.status == 302, posted.value.status

        expect(page.get_by_test_id("memo-state")).to_have_attribute("data-state", "pending_2")
        expect(page.locator(".flash-success")).to_have_text("ลงนามแล้ว")
        expect(page.get_by_test_id("endorsements").locator(".endorsement-text")).to_have_text(
            [endorsement])
        expect(page.get_by_test_id("action-panel")).to_have_count(0)
        page.screenshot(path=artifacts / "04-approved.png", full_page=True)
        assert any(s["tag"] == "a" for s in keys.stops)
        assert any(s["tag"] == "button" for s in keys.stops)
    finally:
        context.close()
